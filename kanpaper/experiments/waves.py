"""The 1D waves experiment (the paper's Section 4.2, Figures 1 and 2): its targets, and the run.

The targets (Rahaman et al. 2019 setting): ``f(x) = sum_i A_i sin(2 pi k_i x + 2 pi phi_i)`` with
``k = 5, 10, ..., 50`` on ``N`` equispaced points of ``[0, 1)`` (endpoint excluded), so each frequency falls
exactly on FFT bin ``k_i``. Phases are drawn from an explicit generator (the authors' scripts left them unseeded
or re-seeded).

``run_waves(config)`` trains ``repeats`` independent models (one batched ensemble) on phased-wave targets and
returns arrays: the learned fraction of every target frequency at every recorded iteration, and the training loss
at those iterations (not at every step: a paper-budget MLP's 80,000 steps of ten repeats would be 6.4 MB a run).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from ..analysis.fourier import learned_fraction
from ..base.checks import check_choice
from ..base.settings import resolve_device
from ..nn.ensemble import Ensemble
from ..theory.conversions import kan_to_mlp
from ..training.loop import GridSchedule, regression_loss, train
from .spec import ModelSpec, build_model, check_first_stage, describe

__all__ = ["WAVE_FREQUENCIES", "wave_amplitudes", "wave_points", "random_phases", "phased_waves", "wave_targets",
           "run_waves"]

WAVE_FREQUENCIES = tuple(range(5, 55, 5))


def wave_amplitudes(kind: str, n: int = len(WAVE_FREQUENCIES)) -> np.ndarray:
    """``"equal"``: A_i = 1 (Figure 1); ``"increasing"``: A_i = 0.1 i (Figure 2). Shape ``(n,)``."""
    check_choice("amplitude kind", kind, ("equal", "increasing"))
    return np.ones(n) if kind == "equal" else 0.1 * np.arange(1, n + 1)


def wave_points(n_points: int = 200) -> np.ndarray:
    """``(n_points,)`` equispaced points of ``[0, 1)``."""
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    return np.arange(n_points) / n_points


def random_phases(n_repeats: int, n_frequencies: int = len(WAVE_FREQUENCIES), seed: int = 0) -> np.ndarray:
    """``(n_repeats, n_frequencies)`` phases in ``[0, 1)`` from ``default_rng(seed)``."""
    return np.random.default_rng(seed).random((n_repeats, n_frequencies))


def phased_waves(x: np.ndarray, amplitudes, phases, frequencies=WAVE_FREQUENCIES) -> np.ndarray:
    """Sum of sines at ``x``.

    Args:
        x: ``(N,)`` points.
        amplitudes: ``(F,)``; phases: ``(F,)`` or ``(R, F)`` in cycles; frequencies: ``(F,)``.

    Returns:
        ``(N,)`` or ``(R, N)``.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    phases = np.asarray(phases, dtype=float)
    frequencies = np.asarray(frequencies, dtype=float)
    if not amplitudes.shape == frequencies.shape == phases.shape[-1:]:
        raise ValueError(f"amplitudes {amplitudes.shape}, phases {phases.shape} and frequencies "
                         f"{frequencies.shape} must agree in their last axis")
    angle = 2 * np.pi * (np.multiply.outer(np.asarray(x, dtype=float), frequencies) + phases[..., None, :])
    return (amplitudes * np.sin(angle)).sum(axis=-1)


def wave_targets(config: Mapping[str, Any], members: list[int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training set of a waves config (keys ``n_points``, ``amplitudes``, ``repeats``, ``seed``): points
    ``x (N,)``, amplitudes ``(10,)``, phases ``(R, 10)`` and targets ``(R, N)``, for every repeat or for the
    repeats ``members`` only (then ``R = len(members)``)."""
    amplitudes = wave_amplitudes(config["amplitudes"])
    phases = random_phases(int(config["repeats"]), len(WAVE_FREQUENCIES), seed=int(config["seed"]))
    if members is not None:
        phases = phases[members]
    x = wave_points(int(config["n_points"]))
    return x, amplitudes, phases, phased_waves(x, amplitudes, phases)


def run_waves(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Train on the phased waves; config keys:

    ``model`` (a :class:`~kanpaper.experiments.spec.ModelSpec` dict, one input and one output), ``steps``,
    ``lr``, ``record_every``, ``repeats``, ``amplitudes`` ("equal"/"increasing"), ``seed`` (phases),
    ``n_points``; for KANs optionally a grid schedule:

    - ``grids``: grid sizes ``[G0, G1, ...]`` (``G0`` the spec's grid size); the run is split into equal
      stages and the grid is extended to the next size (on the training inputs) at the start of each
      stage (without it the grid keeps its size: the authors' run);
    - ``grid_updates``: if true, grids adapt to the training inputs (pykan's
      ``update_grid_from_samples``) at steps 0, 5, ..., 45 of every stage, so they
      cover the data instead of pykan's default ``[-1, 1]``.

    Beyond the paper, optionally (absent: the figures' runs):

    - ``converted``: ``"mlp"``: each KAN of ``model`` (no base term, ``k >= 1``) is turned into the ReLU^k MLP that
      computes the same function (Theorem 3.3, :func:`~kanpaper.theory.conversions.kan_to_mlp`), and that MLP is
      trained: the same start, another parameterisation;
    - ``optimizer``: ``"lbfgs"``: pykan's L-BFGS (``steps`` of up to 20 iterations each) instead of Adam; L-BFGS
      couples all parameters, so such a run trains one repeat, ``member``;
    - ``member``: train repeat ``member`` alone (its phases and initialisation as in the run of all ``repeats``).

    Repeat ``r`` is initialised from seed ``1000 * spec.seed + r``. Trains on
    :func:`~kanpaper.base.settings.resolve_device`.

    Returns:
        ``fraction``: ``(n_records, repeats, 10)`` learned fraction per frequency;
        ``steps``: ``(n_records,)``; ``loss``: ``(n_loss, repeats)``, the training loss at the recorded steps
        before the last (``steps[:n_loss]``, those a training step evaluates); ``final_loss``: ``(repeats,)``, the
        loss at the last training step; ``phases``: ``(repeats, 10)`` (``repeats`` is 1 for a ``member`` run).
        With L-BFGS also ``evaluations``: ``(n_records,)``, the loss-and-gradient evaluations done by each record.
    """
    spec = ModelSpec.from_dict(config["model"])
    if spec.widths[0] != 1 or spec.widths[-1] != 1:
        raise ValueError(f"the waves are a 1D regression: widths must start and end with 1, got {list(spec.widths)}")
    repeats = int(config["repeats"])
    members = _members(config, repeats)
    optimizer = config.get("optimizer", "adam")
    check_choice("optimizer", optimizer, ("adam", "lbfgs"))
    if optimizer == "lbfgs" and len(members) != 1:
        raise ValueError("L-BFGS couples all parameters, so an L-BFGS waves run trains one repeat: set 'member'")
    x, amplitudes, phases, y = wave_targets(config, members)                  # y: (R, N)
    device = resolve_device()
    inputs = torch.as_tensor(x, dtype=torch.float64, device=device)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float64, device=device)[..., None]   # (R, N, 1)
    if optimizer == "lbfgs":
        model = _build(config, spec, spec.seed * 1000 + members[0], device)
        loss_fn, evaluations = _counting(regression_loss(inputs, targets[0]))
    else:
        model = Ensemble([_build(config, spec, spec.seed * 1000 + r, device) for r in members])
        loss_fn, evaluations = regression_loss(inputs, targets), None
    steps = int(config["steps"])
    result = train(model, loss_fn, steps, optimizer=optimizer,
                   lr=float(config["lr"]), schedule=_grid_schedule(config, spec, inputs, steps),
                   record_every=int(config["record_every"]),
                   record_fn=lambda m: {"prediction": m(inputs)[..., 0]},
                   metrics_fn=evaluations, progress=progress, desc=describe(config, problem=True))
    predictions = result.records["prediction"]
    losses = result.losses
    if optimizer == "lbfgs":                                  # one member: give it the repeats axis
        predictions, losses = predictions[:, None], losses[:, None]
    fraction = learned_fraction(predictions, amplitudes, WAVE_FREQUENCIES)
    recorded = np.asarray(result.record_steps)
    out = {"fraction": fraction, "steps": recorded, "loss": losses[recorded[recorded < steps]],
           "final_loss": losses[-1], "phases": phases}
    if optimizer == "lbfgs":
        done = np.concatenate([[0], np.cumsum(result.metrics["evaluations"])])    # evaluations after each step
        out["evaluations"] = done[recorded].astype(np.int64)
    return out


def _members(config: Mapping[str, Any], repeats: int) -> list[int]:
    """The repeats a run trains: all, or ``config["member"]`` alone."""
    if "member" not in config:
        return list(range(repeats))
    member = config["member"]
    if not isinstance(member, int) or not 0 <= member < repeats:
        raise ValueError(f"member must be a repeat index in 0..{repeats - 1}, got {member!r}")
    return [member]


def _build(config: Mapping[str, Any], spec: ModelSpec, seed: int, device) -> torch.nn.Module:
    """Repeat ``seed``'s model: the spec's, or with ``converted = "mlp"`` the ReLU^k MLP equal to its KAN."""
    converted = config.get("converted")
    if converted is None:
        return build_model(spec, seed=seed, device=device)
    check_choice("converted", converted, ("mlp",))
    if spec.kind != "kan" or config.get("grids") or config.get("grid_updates"):
        raise ValueError("converted = 'mlp' turns a KAN of fixed grid into its MLP: the model must be a KAN without "
                         "grid stages or grid updates")
    return kan_to_mlp(build_model(spec, seed=seed)).to(device)


def _counting(loss_fn):
    """``loss_fn`` counted, and a metrics function giving the evaluations each L-BFGS step made (its closure's;
    the step's final loss evaluation, without a gradient, not counted). Per step, so a resumed run counts right."""
    calls = [0]

    def counted(model):
        calls[0] += 1
        return loss_fn(model)

    def evaluations(model):
        made, calls[0] = calls[0] - 1, 0
        return {"evaluations": made}
    return counted, evaluations


def _grid_schedule(config: Mapping[str, Any], spec: ModelSpec, inputs: torch.Tensor,
                   steps: int) -> GridSchedule | None:
    grids = check_first_stage(config, spec)
    updates = bool(config.get("grid_updates", False))
    if spec.kind != "kan" or (len(grids) <= 1 and not updates):
        return None
    stages = max(len(grids), 1)
    if steps < stages:
        raise ValueError(f"{steps} steps cannot hold {stages} grid stages")
    return GridSchedule.pykan(inputs, grids or [spec.grid_size], steps // stages, update_grid=updates)
