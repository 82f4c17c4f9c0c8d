"""Why the authors' training error jumps at their first grid extension (10 -> 20) where ours does not.

pykan 0.2.8's ``refine`` fits each layer's coefficients on the new grid by least squares at the model's last
forward input (after ``fit``: the test inputs) with ``torch.linalg.lstsq``, whose CPU default is LAPACK's gelsy.
Where a basis function of the new grid reaches none of those inputs (a hidden layer's activations on 1,000 test
points leave the edge of its grid empty) the design matrix has a zero column, and gelsy then returns a wrong rank
in PyTorch: the pivot array it is handed is never zeroed, so columns are held in place instead of pivoted and the
rank estimate stops at the first zero column (pytorch/pytorch issues 71222, 92537 and 187411). The coefficients of
that input come back truncated, all zero when the empty basis function is the first: a hidden unit's spline is
wiped, and the training error jumps. The failure depends on what memory the pivot array reuses, so pykan itself
does not repeat it from call to call. kanpaper solves with SciPy's gelsy, which zeroes the pivots: no jump.

:func:`run_first_extension` trains a Figure 3 KAN through its first grid stage as
:func:`~kanpaper.experiments.grf.run_grf` does, then extends the grid twice from the same state: as kanpaper does
(the correct minimum-norm fit) and with every pivot held (:func:`fixed_pivot_lstsq`, the failure's column-order
case), and takes the next training step from each. The step after the extension is what the authors' file records
at step ``steps_per_grid + 1``.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

import numpy as np
import torch
from torch import Tensor, nn

from ..nn import splines
from ..nn.kan import KAN, adapted_knots
from ..training import checkpoint as checkpoints
from ..training.loop import GridSchedule, regression_loss, rmse, train
from .grf import make_dataset
from .spec import ModelSpec, build_model, check_first_stage, describe

__all__ = ["empty_basis_functions", "fixed_pivot_lstsq", "extend_with_fixed_pivots", "run_first_extension",
           "EXTENSIONS"]

EXTENSIONS = ("exact", "fixed_pivots")      # how the first extension's least squares is solved


def _new_knots(layer, grid_size: int, samples: Tensor) -> Tensor:
    """The knots ``layer.extend(grid_size, samples)`` moves to: ``(n_in, grid_size + 2k + 1)``."""
    if layer.pykan == "0.2.8":
        return splines.interpolated_knots(layer.knots, layer.k, grid_size)
    return adapted_knots(samples, grid_size, layer.k, layer.grid_eps)


@torch.no_grad()
def empty_basis_functions(model: KAN, grid_size: int, samples: Tensor) -> list[Tensor]:
    """Per layer, which basis functions of the extended grid no sample reaches (a zero column of the layer's
    least-squares design).

    Args:
        samples: ``(N, n_0)`` model inputs the extension fits at.

    Returns:
        ``[(n_in, grid_size + k) bool]`` per layer, True where the basis function is zero at every sample.
    """
    found = []
    for layer, x in zip(model.layers, model.activations(samples)[:-1]):
        design = splines.dense_basis(x, _new_knots(layer, grid_size, x), layer.k)      # (N, n_in, n_basis)
        found.append((design != 0).sum(dim=0) == 0)
    return found


def fixed_pivot_lstsq(design: Tensor, target: Tensor) -> Tensor:
    """Least squares as gelsy solves it with every column held in place: a QR factorisation in column order, the
    rank cut at the first zero column (else full), the minimum-norm solution of the cut system.

    Args:
        design: ``(N, n)``; target: ``(N, m)``.

    Returns:
        ``(n, m)``; all zero when the first column is zero.
    """
    q, r = torch.linalg.qr(design)
    zero = (design == 0).all(dim=0).nonzero()
    rank = int(zero[0]) if len(zero) else design.shape[1]
    if rank == 0:
        return torch.zeros(design.shape[1], target.shape[1], dtype=target.dtype, device=target.device)
    return torch.linalg.pinv(r[:rank]) @ (q[:, :rank].T @ target)


@torch.no_grad()
def extend_with_fixed_pivots(model: KAN, grid_size: int, samples: Tensor) -> None:
    """:meth:`KAN.extend_grid` with each input's coefficients solved by :func:`fixed_pivot_lstsq` (in place;
    parameters are replaced: create a new optimizer afterwards)."""
    for layer, x in zip(model.layers, model.activations(samples)[:-1]):
        knots = _new_knots(layer, grid_size, x)
        target = layer.spline_edges(x)                                           # (N, n_in, n_out)
        design = splines.dense_basis(x, knots, layer.k)                          # (N, n_in, n_basis)
        coef = torch.stack([fixed_pivot_lstsq(design[:, p], target[:, p]).T for p in range(layer.n_in)])
        layer.knots = knots
        layer.coef = nn.Parameter(coef.to(layer.coef))


def run_first_extension(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """A Figure 3 KAN through its first grid stage, then its first extension solved each way of
    :data:`EXTENSIONS` and one training step after it.

    Config keys: those of a :func:`~kanpaper.experiments.grf.run_grf` KAN run (``grids`` with at least two
    stages), plus ``probe: "first_extension"``.

    Returns:
        ``train``: ``(steps_per_grid,)`` training RMSE of the first stage (the run's own first steps);
        ``empty``: ``(n_layers, max_in)`` number of basis functions of the extended grid that no extension sample
        reaches, per layer and input (-1: no such input); ``first_empty``: the same shape, the index of the first
        of them (-1: none); per extension way ``W``: ``after_W`` the training RMSE right after the extension and
        ``next_W`` after the step that follows (``(2,)`` train and test); ``seconds``.
    """
    if config.get("probe") != "first_extension":
        raise ValueError(f"a first-extension probe needs probe: 'first_extension', got {config.get('probe')!r}")
    spec = ModelSpec.from_dict(config["model"])
    if spec.kind != "kan":
        raise ValueError(f"the first-extension probe trains a KAN, got a {spec.kind}")
    grids = [int(g) for g in config["grids"]]
    if len(grids) < 2:
        raise ValueError(f"the probe needs at least two grid stages, got grids {grids}")
    steps = int(config["steps_per_grid"])
    data = make_dataset(int(config["n_points"]), int(config["dim"]), float(config["sigma"]), int(config.get("seed", 0)),
                        None if config.get("anchors") is None else int(config["anchors"]))
    x, y, xt, yt = (data[name] for name in ("train_input", "train_label", "test_input", "test_label"))
    samples = xt if config.get("extension_inputs", "train") == "test" else x
    model = build_model(spec)
    check_first_stage(config, spec)
    loss = regression_loss(x, y)
    first = train(model, loss, steps, optimizer="lbfgs", schedule=GridSchedule.pykan(x, grids[:1], steps),
                  metrics_fn=lambda m: {"train": rmse(m, x, y)}, progress=progress,
                  desc=describe(config, problem=True) + ", first stage")
    empty = empty_basis_functions(model, grids[1], samples)
    width = max(e.shape[0] for e in empty)
    counts, firsts = np.full((len(empty), width), -1), np.full((len(empty), width), -1)
    for layer, e in enumerate(empty):
        counts[layer, :e.shape[0]] = e.sum(dim=1).numpy()
        firsts[layer, :e.shape[0]] = [int(row.nonzero()[0]) if row.any() else -1 for row in e]
    result = {"train": first.metrics["train"], "empty": counts, "first_empty": firsts, "seconds": first.seconds}
    for way in EXTENSIONS:
        extended = copy.deepcopy(model)
        if way == "exact":
            extended.extend_grid(grids[1], samples)
        else:
            extend_with_fixed_pivots(extended, grids[1], samples)
        result[f"after_{way}"] = np.asarray(float(rmse(extended, x, y)))
        with checkpoints.active(None):        # one step: nothing to resume
            train(extended, loss, 1, optimizer="lbfgs", schedule=GridSchedule(x, updates={0}), progress=False)
        result[f"next_{way}"] = np.array([float(rmse(extended, x, y)), float(rmse(extended, xt, yt))])
    return result
