"""The 1D waves experiment (the paper's Section 4.2, Figures 1 and 2) as a cacheable run.

``run_waves(config)`` trains ``repeats`` independent models (one batched
ensemble) on phased-wave targets and returns arrays: the learned fraction of
every target frequency at every recorded iteration, and the training loss.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from .data import WAVE_FREQUENCIES, phased_waves, random_phases, wave_amplitudes, wave_points
from .devices import resolve_device
from .ensemble import Ensemble
from .experiments import ModelSpec, build_model, describe
from .fourier import learned_fraction
from .training import GridSchedule, regression_loss, train

__all__ = ["run_waves"]


def run_waves(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Train on the phased waves; config keys:

    ``model`` (a :class:`~kanpaper.experiments.ModelSpec` dict, one input and one output), ``steps``,
    ``lr``, ``record_every``, ``repeats``, ``amplitudes`` ("equal"/"increasing"), ``seed`` (phases),
    ``n_points``; for KANs optionally a grid schedule:

    - ``grids``: grid sizes ``[G0, G1, ...]`` (``G0`` the spec's grid size); the run is split into equal
      stages and the grid is extended to the next size (on the training inputs) at the start of each
      stage (without it the grid keeps its size: the authors' run);
    - ``grid_updates``: if true, grids adapt to the training inputs (pykan's
      ``update_grid_from_samples``) at steps 0, 5, ..., 45 of every stage, so they
      cover the data instead of pykan's default ``[-1, 1]``.

    Repeat ``r`` is initialised from seed ``1000 * spec.seed + r``. Trains on :func:`~kanpaper.devices.resolve_device`.

    Returns:
        ``fraction``: ``(n_records, repeats, 10)`` learned fraction per frequency;
        ``steps``: ``(n_records,)``; ``loss``: ``(steps, repeats)``; ``phases``:
        ``(repeats, 10)``.
    """
    spec = ModelSpec.from_dict(config["model"])
    if spec.widths[0] != 1 or spec.widths[-1] != 1:
        raise ValueError(f"the waves are a 1D regression: widths must start and end with 1, got {list(spec.widths)}")
    repeats = int(config["repeats"])
    amplitudes = wave_amplitudes(config["amplitudes"])
    phases = random_phases(repeats, len(WAVE_FREQUENCIES), seed=int(config["seed"]))
    x = wave_points(int(config["n_points"]))
    y = phased_waves(x, amplitudes, phases)                                   # (R, N)
    device = resolve_device()
    inputs = torch.as_tensor(x, dtype=torch.float64, device=device)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float64, device=device)[..., None]   # (R, N, 1)
    model = Ensemble([build_model(spec, seed=spec.seed * 1000 + r, device=device) for r in range(repeats)])
    steps = int(config["steps"])
    result = train(model, regression_loss(inputs, targets), steps, optimizer="adam",
                   lr=float(config["lr"]), schedule=_grid_schedule(config, spec, inputs, steps),
                   record_every=int(config["record_every"]),
                   record_fn=lambda m: {"prediction": m(inputs)[..., 0]},
                   progress=progress, desc=describe(config))
    fraction = learned_fraction(result.records["prediction"], amplitudes, WAVE_FREQUENCIES)
    return {"fraction": fraction, "steps": result.record_steps, "loss": result.losses, "phases": phases}


def _grid_schedule(config: Mapping[str, Any], spec: ModelSpec, inputs: torch.Tensor,
                   steps: int) -> GridSchedule | None:
    grids = [int(g) for g in config.get("grids") or ()]
    updates = bool(config.get("grid_updates", False))
    if spec.kind != "kan" or (len(grids) <= 1 and not updates):
        return None
    if grids and grids[0] != spec.grid_size:
        raise ValueError(f"the first grid stage ({grids[0]}) must be the model's grid size ({spec.grid_size})")
    stages = max(len(grids), 1)
    if steps < stages:
        raise ValueError(f"{steps} steps cannot hold {stages} grid stages")
    return GridSchedule.pykan(inputs, grids or [spec.grid_size], steps // stages, update_grid=updates)
