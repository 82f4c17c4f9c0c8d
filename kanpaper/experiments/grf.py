"""Gaussian random field regression (the paper's Section 4.3, Figures 3 and 4).

The target is one sample of a zero-mean Gaussian random field on ``[-1, 1]^d``
with covariance ``exp(-|x - y|^2 / (2 sigma^2))``, drawn as the authors drew it:
a truncated Karhunen-Loeve expansion on the sample points themselves.

``exact_field`` follows their recipe step by step (legacy NumPy stream seeded
with 0: the points, then the normal coefficients; eigenpairs of the kernel
matrix above ``0.1 * lambda_max``, at most ``int(d^3 / sigma^2)`` of them; each
eigenvector's sign fixed by its first entry). Its kernel matrix is ``n x n``:
50,000 points would need 20 GB. ``nystrom_field`` samples the same field at any
number of points with memory ``O(m^2 + chunk * m)``: the truncated expansion is
computed on ``m`` anchor points and extended to the others through the kernel
(the Nystrom extension of the eigenvectors), which is the exact sample at the
anchors themselves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import scipy.linalg
import torch

from ..base.checks import check_choice
from ..base.settings import resolve_device, single_threaded_blas
from ..training.loop import GridSchedule, regression_loss, rmse, train
from .spec import ModelSpec, build_model, check_first_stage, describe, total_steps

__all__ = ["GRFData", "forget_fields", "rbf_kernel", "truncated_kl", "exact_field", "nystrom_field", "kl_covariance",
           "nystrom_covariance", "make_dataset", "run_grf"]

CUTOFF = 0.1     # keep eigenvalues above CUTOFF * lambda_max
TRAIN_SHARE = 0.8


def _check_field(dim: int, sigma: float) -> None:
    if int(dim) != dim or dim < 1:
        raise ValueError(f"the dimension must be a positive integer, got {dim!r}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"the length scale sigma must be positive, got {sigma!r}")


def rbf_kernel(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    """``exp(-|a_i - b_j|^2 / (2 sigma^2))``: ``(n, d), (m, d) -> (n, m)``."""
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-0.5 * np.maximum(sq, 0.0) / sigma ** 2)


def max_modes(dim: int, sigma: float) -> int:
    """The authors' cap on the number of eigenpairs: ``int(d^3 / sigma^2)``."""
    return int(dim ** 3 / sigma ** 2)


def truncated_kl(points: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of the kernel matrix on ``points`` ``(n, d)`` above ``CUTOFF * lambda_max``.

    Returns:
        ``(eigenvalues (r,), eigenvectors (n, r))`` in ascending order (as ARPACK's
        ``eigsh`` returns them), each eigenvector signed so its first entry is >= 0.
    """
    n, dim = points.shape
    kernel = rbf_kernel(points, points, sigma)
    top = min(max_modes(dim, sigma), n)
    values, vectors = scipy.linalg.eigh(kernel, subset_by_index=(n - top, n - 1))
    keep = values > CUTOFF * values[-1]
    values, vectors = values[keep], vectors[:, keep]
    return values, vectors * np.where(vectors[0] < 0, -1.0, 1.0)


@dataclass
class GRFData:
    """Points ``x`` ``(n, d)`` and field values ``y`` ``(n,)``, with the number of KL modes used."""

    x: np.ndarray
    y: np.ndarray
    modes: int


def exact_field(n_points: int, dim: int, sigma: float, seed: int = 0) -> GRFData:
    """The authors' sampler: ``n_points`` uniform points of ``[-1, 1]^d`` and the truncated KL sample on them."""
    _check_field(dim, sigma)
    rng = np.random.RandomState(seed)           # the stream of np.random.seed(seed), without touching it
    x = rng.rand(n_points, dim) * 2 - 1
    values, vectors = truncated_kl(x, sigma)
    xi = rng.normal(size=(len(values), 1))[:, 0]
    return GRFData(x, vectors @ (np.sqrt(values) * xi), len(values))


def nystrom_field(n_points: int, dim: int, sigma: float, seed: int = 0, anchors: int = 5000,
                  chunk: int = 5000) -> GRFData:
    """The same field at ``n_points`` points, from the truncated KL expansion on ``anchors`` of them.

    Draws come in the order ``anchors`` points, KL coefficients, remaining points, so
    the anchors (the first points) and the field there are exactly
    ``exact_field(anchors, ...)``. With ``v_j``, ``lambda_j`` the kept eigenpairs on
    the anchors ``X_m``, ``f(x) = sum_j k(x, X_m) v_j xi_j / sqrt(lambda_j)``, which is
    ``sum_j sqrt(lambda_j) v_j xi_j`` at the anchors (the Nystrom extension of the
    eigenvectors). Memory: the ``anchors^2`` kernel plus ``chunk x anchors`` at a time.
    """
    _check_field(dim, sigma)
    if not 1 <= anchors <= n_points:
        raise ValueError(f"anchors must lie in 1..n_points = {n_points}, got {anchors}")
    rng = np.random.RandomState(seed)
    x_m = rng.rand(anchors, dim) * 2 - 1
    values, vectors = truncated_kl(x_m, sigma)
    xi = rng.normal(size=(len(values), 1))[:, 0]
    x = np.concatenate([x_m, rng.rand(n_points - anchors, dim) * 2 - 1])
    weights = vectors @ (xi / np.sqrt(values))                                # (anchors,)
    y = np.concatenate([rbf_kernel(x[s:s + chunk], x_m, sigma) @ weights for s in range(0, n_points, chunk)])
    return GRFData(x, y, len(values))


def kl_covariance(points: np.ndarray, sigma: float) -> np.ndarray:
    """Covariance ``(n, n)`` of the truncated KL field on ``points``: ``V diag(lambda) V^T``."""
    values, vectors = truncated_kl(points, sigma)
    return (vectors * values) @ vectors.T


def nystrom_covariance(points: np.ndarray, sigma: float, anchors: int) -> np.ndarray:
    """Covariance ``(n, n)`` of the Nystrom field on ``points`` built from its first ``anchors`` points."""
    values, vectors = truncated_kl(points[:anchors], sigma)
    features = rbf_kernel(points, points[:anchors], sigma) @ (vectors / np.sqrt(values))   # (n, r)
    return features @ features.T


@functools.lru_cache(maxsize=4)
def _field(n_points: int, dim: int, sigma: float, seed: int, anchors: int | None) -> GRFData:
    """The sample (on one BLAS thread: the same bits in every process), kept for the next model trained on the
    same field in this process."""
    with single_threaded_blas():
        if anchors is None:
            return exact_field(n_points, dim, sigma, seed)
        return nystrom_field(n_points, dim, sigma, seed, anchors)


def forget_fields() -> None:
    """Drop the fields kept by :func:`make_dataset`, so that the next one is sampled afresh (timing a cold run)."""
    _field.cache_clear()


def make_dataset(n_points: int, dim: int, sigma: float, seed: int = 0, anchors: int | None = None) -> dict:
    """The authors' split: first 80% train, last 20% test, labels divided by the std of the train labels.

    ``anchors=None`` uses the exact sampler; otherwise the Nystrom one.

    Returns:
        dict of float64 tensors ``train_input (n_train, d)``, ``train_label (n_train, 1)``,
        ``test_input``, ``test_label``, and ``modes`` (int).
    """
    field = _field(n_points, dim, sigma, seed, anchors)
    n_train = int(TRAIN_SHARE * n_points)
    y = field.y / np.std(field.y[:n_train])
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    return {"train_input": as_t(field.x[:n_train]), "train_label": as_t(y[:n_train, None]),
            "test_input": as_t(field.x[n_train:]), "test_label": as_t(y[n_train:, None]), "modes": field.modes}


def run_grf(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Fit one model to one field; config keys:

    ``model`` (a :class:`~kanpaper.experiments.spec.ModelSpec` dict with ``dim`` inputs and one output),
    ``dim``, ``sigma``, ``n_points``, ``grids`` (KAN: sizes of the grid-extension stages, the first the
    spec's; the MLPs train ``len(grids) * steps_per_grid`` steps), ``steps_per_grid``; optional
    ``anchors`` (Nystrom sampler), ``seed`` (the field's), ``extension_inputs`` (KAN: ``"train"``, the default,
    or ``"test"``, as pykan's ``refine`` after ``fit`` does: the inputs the extended grids' coefficients are
    fitted at; never the labels), ``extension`` (KAN: ``"refit"``, pykan's and the default, or ``"insertion"``,
    exact knot insertion on nested grids), ``update_at_extension`` (KAN: false skips the grid update pykan makes
    right after each extension, so that an exact insertion keeps the function).

    KANs train as pykan's ``fit`` with ``refine`` between stages: L-BFGS, grids
    updated from the training inputs at steps 0, 5, ..., 45 of each stage, the
    grid extended at each new stage. MLPs train with a
    fresh L-BFGS every step, as the authors' script does. Trains on :func:`~kanpaper.base.settings.resolve_device`.

    Returns:
        ``train``, ``test``: ``(steps,)`` root-mean-square errors after each step (NaN
        after a divergence); ``diverged_at``; ``modes``; ``seconds``.
    """
    spec = ModelSpec.from_dict(config["model"])
    dim = int(config["dim"])
    if spec.widths[0] != dim or spec.widths[-1] != 1:
        raise ValueError(f"a field on [-1, 1]^{dim} needs widths [{dim}, ..., 1], got {list(spec.widths)}")
    anchors = config.get("anchors")
    data = make_dataset(int(config["n_points"]), dim, float(config["sigma"]),
                        int(config.get("seed", 0)), None if anchors is None else int(anchors))
    device = resolve_device()
    x, y, xt, yt = (data[name].to(device) for name in ("train_input", "train_label", "test_input", "test_label"))
    model = build_model(spec, device=device)
    is_kan = spec.kind == "kan"
    extension_inputs = check_choice("extension_inputs", config.get("extension_inputs", "train"), ("train", "test"))
    schedule = GridSchedule.pykan(x, check_first_stage(config, spec), int(config["steps_per_grid"]),
                                  extension_samples=xt if extension_inputs == "test" else None,
                                  extension=config.get("extension", "refit"),
                                  update_at_extension=bool(config.get("update_at_extension", True))) if is_kan else None
    result = train(model, regression_loss(x, y), total_steps(config), optimizer="lbfgs",
                   schedule=schedule, fresh_optimizer_every_step=not is_kan,
                   metrics_fn=lambda m: {"train": rmse(m, x, y), "test": rmse(m, xt, yt)},
                   progress=progress, desc=describe(config, problem=True))
    return {"train": result.metrics["train"], "test": result.metrics["test"], "diverged_at": result.diverged_at,
            "modes": np.asarray(data["modes"]), "seconds": np.asarray(result.seconds)}
