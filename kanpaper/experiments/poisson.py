"""The 1D Poisson problem of the paper's Section 4.4 (Figure 5), solved by the Deep Ritz method.

``-u'' = f`` on ``(-1, 1)``, ``u(-1) = u(1) = 0``, with
``f(x) = pi^2 (k sin(k pi x) + sin(pi x))`` and exact solution
``u*(x) = sin(k pi x) / k + sin(pi x)``: a smooth part plus a component of
frequency ``k`` whose amplitude falls like ``1/k`` while its derivative does not.

The Deep Ritz loss on ``N`` equispaced points ``x_i`` of ``[-1, 1]`` is
``w * mean(u'^2 / 2 - f u) + u(-1)^2 + u(1)^2`` (``w = 0.01`` as in the
authors' script); the PINN variant replaces the mean by ``mean((u'' + f)^2)``.
Derivatives come from autograd through the model.

Errors against ``u*`` are taken on the same points: ``l2`` is the root mean
square of ``u - u*``, ``h1`` of ``u' - u*'`` (the H1 seminorm). The authors'
result files hold the *squares* of these (a mean squared error), so both are kept.
The final model is also measured off the collocation points, at the midpoints
between them (``l2_off``, ``h1_off``), where nothing held it to the solution.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import Tensor, nn

from ..base.checks import check_choice
from ..base.settings import resolve_device
from ..training.loop import GridSchedule, train
from .spec import ModelSpec, build_model, check_first_stage, describe, total_steps

__all__ = ["exact_solution", "exact_derivative", "source", "collocation_points", "midpoints", "derivatives",
           "deep_ritz_loss", "pinn_loss", "solution_errors", "published_normalisers", "run_poisson"]

LOSSES = ("ritz", "pinn")


def _check_k(k: float) -> float:
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"the frequency k must be a positive number, got {k!r}")
    return float(k)


def exact_solution(x: Tensor, k: float) -> Tensor:
    """``u*(x) = sin(k pi x) / k + sin(pi x)``; any shape."""
    k = _check_k(k)
    return torch.sin(k * np.pi * x) / k + torch.sin(np.pi * x)


def exact_derivative(x: Tensor, k: float) -> Tensor:
    """``u*'(x) = pi cos(k pi x) + pi cos(pi x)``; any shape."""
    k = _check_k(k)
    return np.pi * (torch.cos(k * np.pi * x) + torch.cos(np.pi * x))


def source(x: Tensor, k: float) -> Tensor:
    """``f = -u*'' = pi^2 (k sin(k pi x) + sin(pi x))``; any shape."""
    k = _check_k(k)
    return np.pi ** 2 * (k * torch.sin(k * np.pi * x) + torch.sin(np.pi * x))


def collocation_points(n_points: int, dtype=torch.float64, device=None) -> Tensor:
    """``(n_points, 1)`` equispaced points of ``[-1, 1]``, endpoints included."""
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    return torch.linspace(-1.0, 1.0, n_points, dtype=dtype, device=device)[:, None]


def midpoints(x: Tensor) -> Tensor:
    """``(N - 1, 1)`` midpoints between consecutive points of ``x`` ``(N, 1)``: where a model is tested off the
    collocation points."""
    return (x[1:] + x[:-1]) / 2


def derivatives(model: nn.Module, x: Tensor, order: int = 1, create_graph: bool = True) -> list[Tensor]:
    """``[u, u', ...]`` up to ``order`` at ``x`` (``(N, 1)``), each ``(N, 1)``, by autograd."""
    if x.ndim != 2 or x.shape[1] != 1:
        raise ValueError(f"x must have shape (N, 1), got {tuple(x.shape)}")
    x = x.detach().requires_grad_(True)
    out = [model(x)]
    for _ in range(order):
        out.append(torch.autograd.grad(out[-1].sum(), x, create_graph=create_graph)[0])
    return out


def _boundary(model: nn.Module, x: Tensor) -> Tensor:
    ends = torch.tensor([[-1.0], [1.0]], dtype=x.dtype, device=x.device)
    return (model(ends) ** 2).sum()


def deep_ritz_loss(x: Tensor, k: float, weight: float = 0.01) -> Callable[[nn.Module], Tensor]:
    """model -> ``weight * mean(u'^2 / 2 - f u) + u(-1)^2 + u(1)^2`` on the points ``x`` ``(N, 1)``."""
    f = source(x, k)

    def loss(model: nn.Module) -> Tensor:
        u, du = derivatives(model, x, order=1)
        return weight * (0.5 * du ** 2 - f * u).mean() + _boundary(model, x)
    return loss


def pinn_loss(x: Tensor, k: float, weight: float = 0.01) -> Callable[[nn.Module], Tensor]:
    """model -> ``weight * mean((u'' + f)^2) + u(-1)^2 + u(1)^2`` on the points ``x`` ``(N, 1)``."""
    f = source(x, k)

    def loss(model: nn.Module) -> Tensor:
        _, _, d2u = derivatives(model, x, order=2)
        return weight * ((d2u + f) ** 2).mean() + _boundary(model, x)
    return loss


def solution_errors(model: nn.Module, x: Tensor, k: float) -> dict[str, Tensor]:
    """Root-mean-square errors of ``u`` (``"l2"``) and ``u'`` (``"h1"``) against the exact solution at ``x``."""
    u, du = derivatives(model, x, order=1, create_graph=False)
    return {"l2": (u - exact_solution(x, k)).pow(2).mean().sqrt().detach(),
            "h1": (du - exact_derivative(x, k)).pow(2).mean().sqrt().detach()}


def published_normalisers(k: float) -> tuple[float, float]:
    """What the published Figure 5 divides the RMS errors by: ``(sqrt((k^2 + 1) / 2), pi)``.

    The authors' PNGs (``PDE_drm_1d/scale_{k}.png``, the paper's Figure 5) do not plot their files' values
    (MSE) nor their square roots (what their ``plot.ipynb`` draws), but the RMS errors normalised: H1 by
    ``RMS(u*') = pi``, L2 by ``RMS(f) / pi^2 = RMS(k sin(k pi x) + sin(pi x)) = sqrt((k^2 + 1) / 2)``. Read off
    the PNGs against the files: final points at k = 2, 16, 32 (L2 1.6x, 11x, 22x and H1 3.1x below the RMS)
    and the first point at k = 16 (an MLP near zero: L2 0.06 = RMS(u*) / 11.3, H1 1.0).
    """
    k = _check_k(k)
    return float(np.sqrt((k * k + 1.0) / 2.0)), float(np.pi)


def run_poisson(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Solve the problem with one model; config keys:

    ``model`` (a :class:`~kanpaper.experiments.spec.ModelSpec` dict, one input and one output), ``k``
    (frequency), ``loss`` ("ritz"/"pinn"), ``n_points``, ``grids`` and ``steps_per_grid`` (KAN: grid
    sizes, the first the spec's, and L-BFGS steps at each; the MLP trains ``len(grids) * steps_per_grid``
    steps with one optimizer, as the authors' script does); optional ``weight`` (0.01),
    ``update_every`` (5), ``update_until`` (50).

    KAN grids adapt to the points at steps 0, 5, ..., 50 of every stage (:meth:`GridSchedule.poisson`),
    and the L-BFGS optimizer (pykan's settings) is re-created after each update and extension. Trains on
    :func:`~kanpaper.base.settings.resolve_device`.

    Returns:
        ``l2``, ``h1``: ``(steps,)`` RMS errors after each step; ``loss``: ``(steps,)``;
        ``x``: ``(N,)``; ``u``, ``du``: ``(N,)`` the final solution and its derivative;
        ``l2_off``, ``h1_off``: 0-d, the final model's RMS errors at the ``N - 1`` midpoints;
        ``diverged_at``: step of a non-finite loss, -1 if none.
    """
    spec = ModelSpec.from_dict(config["model"])
    if spec.widths[0] != 1 or spec.widths[-1] != 1:
        raise ValueError(f"the 1D Poisson problem needs widths [1, ..., 1], got {list(spec.widths)}")
    k = _check_k(float(config["k"]))
    kind = check_choice("loss", config.get("loss", "ritz"), LOSSES)
    x = collocation_points(int(config["n_points"]), device=resolve_device())
    loss_fn = (deep_ritz_loss if kind == "ritz" else pinn_loss)(x, k, float(config.get("weight", 0.01)))
    model = build_model(spec, device=x.device)
    schedule = None
    if spec.kind == "kan":
        schedule = GridSchedule.poisson(x, check_first_stage(config, spec), int(config["steps_per_grid"]),
                                        update_every=int(config.get("update_every", 5)),
                                        update_until=int(config.get("update_until", 50)))
    result = train(model, loss_fn, total_steps(config), optimizer="lbfgs", schedule=schedule,
                   reset_optimizer_on_update=True, metrics_fn=lambda m: solution_errors(m, x, k),
                   progress=progress, desc=describe(config, problem=True))
    u, du = derivatives(model, x, order=1, create_graph=False)
    off = solution_errors(model, midpoints(x), k)
    return {"l2": result.metrics["l2"], "h1": result.metrics["h1"], "loss": result.losses,
            "x": x[:, 0].cpu().numpy(), "u": u[:, 0].detach().cpu().numpy(), "du": du[:, 0].detach().cpu().numpy(),
            "l2_off": off["l2"].cpu().numpy(), "h1_off": off["h1"].cpu().numpy(), "diverged_at": result.diverged_at}
