"""KANs against MLPs at equal parameter counts, as a cacheable experiment.

The abstract's consequence of Theorem 3.3: "KANs with a large grid size may be more efficient than MLPs at
approximating certain functions". The target ``f(x, y) = exp(sin(pi x) + y^2)`` on ``[-1, 1]^2`` (Liu et al.
2024's example) is a KAN ``[2, 1, 1]`` with smooth edges, so a KAN approximates it at the spline rate in its
parameter count, ``P^-(k+1)``; the ReLU^k MLP that computes the same KAN (Theorem 3.3) needs about G times as many
parameters, and MLPs trained on it are measured beside both.

A run's config: ``model`` (a :class:`~kanpaper.experiments.spec.ModelSpec` dict with 2 inputs and 1 output),
``target`` (a key of :data:`TARGETS`), ``n_train``, ``n_test``, ``seed`` (of the sample points), and either
``grids`` + ``steps_per_grid`` (a KAN: pykan's ``fit`` per grid size with grid extension between stages) or
``steps`` (an MLP). Both train with pykan's L-BFGS.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import Tensor

from ..base.checks import check_choice
from ..base.settings import resolve_device
from ..theory.conversions import parameter_count
from ..training.loop import GridSchedule, regression_loss, rmse, train
from .spec import ModelSpec, build_model, check_first_stage, describe, total_steps

__all__ = ["TARGETS", "make_dataset", "stage_parameters", "run_efficiency"]


def _exp_sin_square(x: Tensor) -> Tensor:
    return torch.exp(torch.sin(np.pi * x[:, :1]) + x[:, 1:] ** 2)


# name -> (input dimension, f: (N, d) -> (N, 1))
TARGETS: dict[str, tuple[int, Callable[[Tensor], Tensor]]] = {"exp_sin_square": (2, _exp_sin_square)}


def make_dataset(target: str, n_train: int, n_test: int, seed: int = 0) -> dict[str, Tensor]:
    """Uniform points of ``[-1, 1]^d`` (train first, then test, from one seeded generator) and the target there.

    Returns:
        float64 ``train_input (n_train, d)``, ``train_label (n_train, 1)``, ``test_input``, ``test_label``.
    """
    check_choice("target", target, tuple(TARGETS))
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    dim, fn = TARGETS[target]
    gen = torch.Generator().manual_seed(int(seed))
    x = torch.rand(n_train + n_test, dim, generator=gen, dtype=torch.float64) * 2 - 1
    y = fn(x)
    return {"train_input": x[:n_train], "train_label": y[:n_train],
            "test_input": x[n_train:], "test_label": y[n_train:]}


def stage_parameters(config: Mapping[str, Any]) -> np.ndarray:
    """Trainable parameters of the model at the end of each stage: ``(len(grids),)`` for a KAN (coefficients,
    ``w_b`` and ``w_s`` of every edge at that grid size), ``(1,)`` for an MLP."""
    spec = ModelSpec.from_dict(config["model"])
    if spec.kind == "mlp":
        return np.array([parameter_count(build_model(spec))])
    return np.array([parameter_count(build_model(replace(spec, grid_size=int(g)))) for g in config["grids"]])


def run_efficiency(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Fit one model to the target (config keys: see the module docstring).

    Returns:
        ``train``, ``test``: ``(steps,)`` RMSE after each step (NaN after a divergence); ``stage_ends``:
        ``(n_stages,)`` index of each stage's last step; ``parameters``: ``(n_stages,)`` (see
        :func:`stage_parameters`); ``diverged_at``; ``seconds``.
    """
    spec = ModelSpec.from_dict(config["model"])
    data = make_dataset(config["target"], int(config["n_train"]), int(config["n_test"]), int(config.get("seed", 0)))
    device = resolve_device()
    x, y, xt, yt = (data[name].to(device) for name in ("train_input", "train_label", "test_input", "test_label"))
    if spec.widths[0] != x.shape[1] or spec.widths[-1] != 1:
        raise ValueError(f"target {config['target']!r} needs widths [{x.shape[1]}, ..., 1], got {list(spec.widths)}")
    steps = total_steps(config)
    if spec.kind == "kan":
        grids, per_grid = check_first_stage(config, spec), int(config["steps_per_grid"])
        schedule = GridSchedule.pykan(x, grids, per_grid)
        stage_ends = np.arange(1, len(grids) + 1) * per_grid - 1
    else:
        schedule, stage_ends = None, np.array([steps - 1])
    model = build_model(spec, device=device)
    result = train(model, regression_loss(x, y), steps, optimizer="lbfgs", schedule=schedule,
                   metrics_fn=lambda m: {"train": rmse(m, x, y), "test": rmse(m, xt, yt)},
                   progress=progress, desc=describe(config, problem=True))
    return {"train": result.metrics["train"], "test": result.metrics["test"], "stage_ends": stage_ends,
            "parameters": stage_parameters(config), "diverged_at": result.diverged_at,
            "seconds": np.asarray(result.seconds)}
