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
from .ensemble import Ensemble
from .fourier import learned_fraction
from .kan import KAN
from .mlp import MLP
from .scales import check_choice
from .training import regression_loss, train

__all__ = ["build_model", "run_waves"]


def build_model(config: Mapping[str, Any], seed: int):
    """A KAN ``[1] + [W] * (D - 1) + [1]`` (k = 3, pykan defaults) or an MLP of depth D, width W."""
    kind = check_choice("model", config["model"], ("kan", "mlp"))
    width, depth = int(config["width"]), int(config["depth"])
    if depth < 1:
        raise ValueError(f"depth counts layers and must be >= 1, got {depth}")
    if kind == "kan":
        return KAN([1] + [width] * (depth - 1) + [1], grid_size=int(config["grid_size"]), k=3,
                   grid_range=tuple(config.get("grid_range", (-1.0, 1.0))), seed=seed)
    return MLP.uniform(1, 1, width, depth, config.get("activation", "relu"), seed=seed)


def run_waves(config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Train on the phased waves; config keys:

    ``model`` ("kan"/"mlp"), ``width``, ``depth``, ``grid_size`` (KAN), ``steps``,
    ``lr``, ``record_every``, ``repeats``, ``amplitudes`` ("equal"/"increasing"),
    ``seed`` (phases and initialisations), ``n_points``; optional ``grid_range``,
    ``activation``, ``progress``.

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
    result = train(model, regression_loss(inputs, targets), int(config["steps"]), optimizer="adam",
                   lr=float(config["lr"]), record_every=int(config["record_every"]),
                   record_fn=lambda m: {"prediction": m(inputs)[..., 0]},
                   progress=bool(config.get("progress", True)), desc=f"{config['model']} waves")
    fraction = learned_fraction(result.records["prediction"], amplitudes, WAVE_FREQUENCIES)
    return {"fraction": fraction, "steps": result.record_steps, "loss": result.losses, "phases": phases}
