"""Replaying a stored run: does this checkout still compute the bits an archived run holds?

A paper-budget run takes minutes to hours, but its first steps take seconds, and a training step depends only on
the steps before it. :func:`prefix` shortens a run's config to its first steps (an MLP: fewer steps; a KAN: the
first grid stage, shortened); :func:`replay` computes that short run and compares its per-step arrays with the
stored run's first steps, bit for bit. Rounding-level differences grow quickly under L-BFGS, so a replay that
matches for a few steps is strong evidence that the whole run would; :func:`replay` with ``steps=None`` recomputes
the whole run and compares every array but its wall time.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..base.settings import THREADS_PER_RUN
from ..experiments.spec import total_steps

__all__ = ["prefix", "recompute", "Replay", "replay", "UNTIMED"]

UNTIMED = ("seconds",)       # arrays of a run that are wall times, not numbers it computes


def prefix(config: Mapping[str, Any], steps: int) -> dict[str, Any]:
    """``config`` cut to its first ``steps`` training steps, computing those steps exactly as the whole run does.

    Runs with ``steps`` (Adam runs, the efficiency MLPs) keep their recording interval, so ``steps`` must be a
    multiple of it; runs trained in grid stages keep only the first stage, with ``steps`` of its steps (a first-extension probe also
    the next grid size, which it extends to after them)."""
    whole = total_steps(config)
    if not 1 <= steps <= whole:
        raise ValueError(f"a prefix needs 1 to {whole} steps (the run's), got {steps}")
    short = copy.deepcopy(dict(config))
    if "steps_per_grid" in short:
        if steps > short["steps_per_grid"]:
            raise ValueError(f"a prefix stays within the first grid stage: at most {short['steps_per_grid']} "
                             f"steps, got {steps}")
        # the first stage; a probe of the first grid extension keeps the grid it extends to
        short["grids"] = list(short["grids"])[:2 if short.get("probe") == "first_extension" else 1]
        short["steps_per_grid"] = steps
    else:
        every = short.get("record_every")
        if every and steps % every:
            raise ValueError(f"a prefix of a run recorded every {every} steps needs a multiple of {every}, "
                             f"got {steps}")
        short["steps"] = steps
    return short


@dataclass(frozen=True)
class Replay:
    """How a recomputed run (or prefix) compares with the stored one.

    Attributes:
        steps: training steps recomputed (the whole run's when it was recomputed whole).
        compared: names of the arrays compared.
        identical: every compared array equal bit for bit (NaNs where the stored run has NaNs).
        max_abs_diff: the largest absolute difference over the compared arrays (0.0 when identical).
        first_diff: per differing array, the first index (along its first axis) that differs.
        seconds: wall time of the recomputation.
    """

    steps: int
    compared: tuple[str, ...]
    identical: bool
    max_abs_diff: float
    first_diff: dict[str, int]
    seconds: float


def _differences(new: np.ndarray, old: np.ndarray) -> tuple[float, int | None]:
    """The largest absolute difference (inf where one holds a NaN and the other not) and the first index along
    axis 0 that differs (``None``: identical) of two arrays of one shape."""
    new, old = np.atleast_1d(new), np.atleast_1d(old)
    same = new == old
    if new.dtype.kind in "fc":
        same |= np.isnan(new) & np.isnan(old)
    if same.all():
        return 0.0, None
    gap = np.abs(new.astype(float) - old.astype(float))[~same]
    worst = float(gap.max()) if np.isfinite(gap).all() else float("inf")
    return worst, int(np.argmax(~same.reshape(len(same), -1).all(axis=1)))


def recompute(run: Callable[..., Mapping[str, Any]], config: Mapping[str, Any],
              steps: int | None = None) -> tuple[dict[str, np.ndarray], float]:
    """``run(config)``'s arrays (of its first ``steps`` steps: :func:`prefix`; ``None``: the whole run), computed
    on :data:`~kanpaper.base.settings.THREADS_PER_RUN` torch threads as every run is, and the seconds it took."""
    config_now = config if steps is None else prefix(config, steps)
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS_PER_RUN)
    start = time.perf_counter()
    try:
        arrays = {name: np.asarray(value) for name, value in run(config_now, progress=False).items()}
    finally:
        torch.set_num_threads(threads)
    return arrays, time.perf_counter() - start


def replay(run: Callable[..., Mapping[str, Any]], config: Mapping[str, Any], stored: Mapping[str, np.ndarray],
           steps: int | None = None, stored_is_prefix: bool = False) -> Replay:
    """Recompute ``run(config)``'s first ``steps`` steps (``None``: the whole run) and compare with ``stored``.

    A prefix compares the arrays that are shorter in it than in ``stored`` (the per-step and per-record
    trajectories, over the prefix's length); arrays of the same length there are constants or final states
    and are not compared. A whole run, or a prefix compared with a stored prefix of as many steps
    (``stored_is_prefix``: a replay reference), compares every stored array except :data:`UNTIMED`. It computes
    on :data:`~kanpaper.base.settings.THREADS_PER_RUN` torch threads, as every run is computed."""
    new, seconds = recompute(run, config, steps)
    compared, worst, first = [], 0.0, {}
    for name, old in stored.items():
        if name.startswith("__") or name in UNTIMED or name not in new:
            continue
        old, fresh = np.asarray(old), new[name]
        if steps is not None and not stored_is_prefix:
            if fresh.ndim == 0 or old.ndim == 0 or len(fresh) >= len(old):
                continue
            old = old[:len(fresh)]
        if fresh.shape != old.shape:
            raise ValueError(f"array {name!r}: recomputed shape {fresh.shape}, stored {old.shape}")
        compared.append(name)
        gap, index = _differences(fresh, old)
        worst = max(worst, gap)
        if index is not None:
            first[name] = index
    if not compared:
        raise ValueError("nothing to compare: the recomputed run has none of the stored run's trajectories")
    return Replay(total_steps(config if steps is None else prefix(config, steps)), tuple(compared), not first, worst,
                  first, seconds)
