"""The 1D waves experiment (the paper's Section 4.2, Figures 1 and 2) as a cacheable run.

``run_waves(config)`` trains ``repeats`` independent models (one batched
ensemble) on phased-wave targets and returns arrays: the learned fraction of
every target frequency at every recorded iteration, and the training loss.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from .cache import ResultsCache
from .data import WAVE_FREQUENCIES, phased_waves, random_phases, wave_amplitudes, wave_points
from .ensemble import Ensemble
from .fourier import learned_fraction
from .kan import KAN
from .mlp import MLP
from .checks import check_choice
from .sweep import run_mixed_sweep
from .training import GridSchedule, regression_loss, train

__all__ = ["build_model", "run_waves", "run_wave_sweep", "describe"]


def build_model(config: Mapping[str, Any], seed: int):
    """A KAN ``[1] + [W] * (D - 1) + [1]`` (k = 3, pykan defaults) or an MLP of depth D, width W."""
    kind = check_choice("model", config["model"], ("kan", "mlp"))
    width, depth = int(config["width"]), int(config["depth"])
    if depth < 1:
        raise ValueError(f"depth counts layers and must be >= 1, got {depth}")
    if kind == "kan":
        grid_size = int(config["grids"][0]) if config.get("grids") else int(config["grid_size"])
        return KAN([1] + [width] * (depth - 1) + [1], grid_size=grid_size, k=3,
                   grid_range=tuple(config.get("grid_range", (-1.0, 1.0))), seed=seed)
    return MLP.uniform(1, 1, width, depth, config.get("activation", "relu"), seed=seed)


def run_waves(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Train on the phased waves; config keys:

    ``model`` ("kan"/"mlp"), ``width``, ``depth``, ``grid_size`` (KAN), ``steps``,
    ``lr``, ``record_every``, ``repeats``, ``amplitudes`` ("equal"/"increasing"),
    ``seed`` (phases and initialisations), ``n_points``; optional ``grid_range``,
    ``activation``, and for KANs a grid schedule:

    - ``grids``: grid sizes ``[G0, G1, ...]``; the run is split into equal stages
      and the grid is extended to the next size (on the training inputs) at the
      start of each stage (without it the grid keeps ``grid_size``: the authors' run);
    - ``grid_updates``: if true, grids adapt to the training inputs (pykan's
      ``update_grid_from_samples``) at steps 0, 5, ..., 45 of every stage, so they
      cover the data instead of pykan's default ``[-1, 1]``.

    Returns:
        ``fraction``: ``(n_records, repeats, 10)`` learned fraction per frequency;
        ``steps``: ``(n_records,)``; ``loss``: ``(steps, repeats)``; ``phases``:
        ``(repeats, 10)``.
    """
    repeats, seed = int(config["repeats"]), int(config["seed"])
    amplitudes = wave_amplitudes(config["amplitudes"])
    phases = random_phases(repeats, len(WAVE_FREQUENCIES), seed=seed)
    x = wave_points(int(config["n_points"]))
    y = phased_waves(x, amplitudes, phases)                                   # (R, N)
    inputs = torch.as_tensor(x, dtype=torch.float64)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float64)[..., None]              # (R, N, 1)
    model = Ensemble([build_model(config, seed=seed * 1000 + r) for r in range(repeats)])
    steps = int(config["steps"])
    result = train(model, regression_loss(inputs, targets), steps, optimizer="adam",
                   lr=float(config["lr"]), schedule=_grid_schedule(config, inputs, steps),
                   record_every=int(config["record_every"]),
                   record_fn=lambda m: {"prediction": m(inputs)[..., 0]},
                   progress=progress, desc=describe(config))
    fraction = learned_fraction(result.records["prediction"], amplitudes, WAVE_FREQUENCIES)
    return {"fraction": fraction, "steps": result.record_steps, "loss": result.losses, "phases": phases}


def _grid_schedule(config: Mapping[str, Any], inputs: torch.Tensor, steps: int) -> GridSchedule | None:
    grids = [int(g) for g in config.get("grids") or ()]
    updates = bool(config.get("grid_updates", False))
    if config["model"] != "kan" or (len(grids) <= 1 and not updates):
        return None
    stages = max(len(grids), 1)
    if steps < stages:
        raise ValueError(f"{steps} steps cannot hold {stages} grid stages")
    sizes = grids or [int(config["grid_size"])]
    return GridSchedule.pykan(inputs, sizes, steps // stages, update_grid=updates)


def describe(config: Mapping[str, Any]) -> str:
    """A short label such as ``"KAN W10 D3 G10"``, ``"KAN W10 D3 G5-40 (data grid)"`` or ``"MLP W256 D10"``."""
    name = f"{config['model'].upper()} W{config['width']} D{config['depth']}"
    if config["model"] != "kan":
        return name
    grids = config.get("grids") or [config["grid_size"]]
    name += f" G{grids[0]}" + (f"-{grids[-1]}" if len(grids) > 1 else "")
    return name + (" (data grid)" if config.get("grid_updates") else "")


def run_wave_sweep(configs: Sequence[Mapping[str, Any]], cache: ResultsCache | None = None,
                   workers: int | None = None) -> list[dict[str, np.ndarray]]:
    """``[run_waves(c) for c in configs]`` through the results cache and the sweep runner:
    MLPs one at a time with all threads, KANs ``workers`` at a time (see :func:`run_mixed_sweep`)."""
    return run_mixed_sweep(run_waves, configs, lambda c: c["model"] == "kan", cache=cache, workers=workers)
