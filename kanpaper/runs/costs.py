"""What a run costs before it runs: per-step costs measured on this machine, cached, and the estimates built on them.

A run's wall time is ``fixed + steps x per_step``, plus a set-up its data needs once per process (sampling a GRF
field), shared by the runs on the same data. All are measured by running the
run's own function on its own config with a shrunk budget (``probe``): one step per grid stage from a cold start,
then one and three steps per stage warm (Adam steps, cheaper: 5 and 25), so the difference of the warm runs
gives the step, and the cold run the set-up. For L-BFGS runs the estimate is no bound either way: a probe's early
steps take all 20 iterations where a converged run's later steps can stop early, but a probe of three steps per
stage makes only the first of a stage's grid updates (a run makes one every five steps), and a late step's line
search can take more evaluations. Every run is measured on one thread, as it runs (several at a time, one thread
each). Runs that differ only in what does not change the work (seeds, phases, amplitudes, learning rate, field
smoothness, frequency) share one measurement. Measurements are kept in a JSON file per
machine, torch, kanpaper version, device and threads per run (``$KANPAPER_COSTS``, default ``.cache/costs/``), so
a machine is calibrated once.

:func:`estimate_runs` turns measurements into the wall time of a list of runs as
:func:`~kanpaper.runs.pool.run_groups` schedules them (longest first onto the core that frees first), and
:func:`announce` says it before a pool starts. The cost model knows no experiment: the caller that measures hands
in how to make a run start cold (``StepCosts(cold_start=...)``); ``make estimate`` (:mod:`kanpaper.estimate`)
builds its report on it.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from ..base.provenance import cpu_model
from ..base.settings import THREADS_PER_RUN, resolve_device
from ..base.version import __version__
from ..experiments.spec import is_kan, total_steps
from .cache import config_key

__all__ = ["ENV_VAR", "Run", "probe", "machine", "StepCosts", "estimate_runs", "expected_seconds", "announce",
           "format_seconds"]

ENV_VAR = "KANPAPER_COSTS"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".cache" / "costs"
# config keys that change a run's numbers but not its work
COST_NEUTRAL = ("seed", "amplitudes", "lr", "sigma", "k")

Run = tuple[Callable, Mapping[str, Any]]          # a run function and its config


def probe(config: Mapping[str, Any], steps_per_stage: int) -> dict[str, Any]:
    """``config`` with ``steps_per_stage`` steps in each grid stage (a KAN keeps its stages, so that grid
    extensions are measured; an MLP keeps one stage: its work does not depend on them), recording only at its
    start and end (records cost the same in every probe, and a run's every hundredth step is negligible)."""
    probed = copy.deepcopy(dict(config))
    if not is_kan(probed) and probed.get("grids"):
        probed["grids"] = probed["grids"][:1]
    if "steps_per_grid" in probed:
        probed["steps_per_grid"] = steps_per_stage
    else:
        probed["steps"] = steps_per_stage * max(len(probed.get("grids") or ()), 1)
        if "record_every" in probed:
            probed["record_every"] = probed["steps"]
    return probed


def _signature(fn: Callable, config: Mapping[str, Any]) -> str:
    """The key of a run's measured costs: the config without what does not change the work."""
    work = {key: value for key, value in config.items() if key not in COST_NEUTRAL}
    work["model"] = {**config["model"], "seed": 0}
    for key in ("steps", "steps_per_grid", "record_every"):
        work.pop(key, None)
    return f"{fn.__module__}.{fn.__name__}:{config_key(work)}"


def _setup_signature(fn: Callable, config: Mapping[str, Any]) -> str:
    """The key of a run's data set-up: runs on the same data with any model share it."""
    data = {key: value for key, value in config.items()
            if key not in COST_NEUTRAL + ("model", "steps", "steps_per_grid", "record_every", "grids",
                                              "extension_inputs")}
    return f"setup:{fn.__module__}.{fn.__name__}:{config_key(data)}"


def machine() -> str:
    """This machine in words: CPU model and core count."""
    return f"{cpu_model()}, {os.cpu_count()} cores"


class StepCosts:
    """Measured ``(fixed, per_step)`` seconds of runs on this machine and device, kept in a JSON file."""

    def __init__(self, directory: str | os.PathLike | None = None, device: str | None = None,
                 cold_start: Callable[[], None] | None = None):
        """``cold_start``: called before a run whose data set-up is not yet measured, so that it is measured
        from a cold start as a fresh process runs it (``kanpaper.experiments.grf.forget_fields``)."""
        self.cold_start = cold_start
        self.device = str(resolve_device(device))
        self.context = {"machine": machine(), "torch": torch.__version__, "kanpaper": __version__,
                        "device": self.device, "threads_per_run": THREADS_PER_RUN}
        name = hashlib.sha256(json.dumps(self.context, sort_keys=True).encode()).hexdigest()[:16]
        self.path = Path(directory or os.environ.get(ENV_VAR) or DEFAULT_DIR) / f"{name}.json"
        self.entries: dict[str, dict[str, float]] = {}
        if self.path.exists():
            self.entries = json.loads(self.path.read_text())["entries"]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"context": self.context, "entries": self.entries}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def measured(self, fn: Callable, config: Mapping[str, Any]) -> bool:
        return _signature(fn, config) in self.entries and _setup_signature(fn, config) in self.entries

    def measure(self, fn: Callable, config: Mapping[str, Any]) -> dict[str, float]:
        """``{"fixed": s, "per_step": s}`` of ``fn(config)``, measured now unless already kept."""
        if not self.measured(fn, config):
            self._time(fn, config)
            self._save()
        return self.entries[_signature(fn, config)]

    def setup_seconds(self, fn: Callable, config: Mapping[str, Any]) -> float:
        """Seconds of the data set-up of ``fn(config)`` (once per process for all runs on that data)."""
        self.measure(fn, config)
        return self.entries[_setup_signature(fn, config)]["seconds"]

    def _time(self, fn: Callable, config: Mapping[str, Any]) -> None:
        threads = torch.get_num_threads()
        torch.set_num_threads(THREADS_PER_RUN)
        setup = _setup_signature(fn, config)
        try:
            if setup not in self.entries and self.cold_start is not None:
                self.cold_start()                          # the cold run sets up its data, as a fresh run does
            short, long = (5, 25) if "steps" in config else (1, 3)        # Adam runs count "steps"
            cold = self._seconds(fn, probe(config, short))
            one, three = self._seconds(fn, probe(config, short)), self._seconds(fn, probe(config, long))
        finally:
            torch.set_num_threads(threads)
        steps_one, steps_three = total_steps(probe(config, short)), total_steps(probe(config, long))
        per_step = max(three - one, 0.0) / (steps_three - steps_one)
        self.entries[_signature(fn, config)] = {"fixed": max(one - steps_one * per_step, 0.0), "per_step": per_step}
        self.entries.setdefault(setup, {"seconds": max(cold - one, 0.0)})

    @staticmethod
    def _seconds(fn: Callable, config: Mapping[str, Any]) -> float:
        start = time.perf_counter()
        fn(config, progress=False)
        return time.perf_counter() - start

    def run_seconds(self, fn: Callable, config: Mapping[str, Any]) -> float:
        """Estimated wall time of ``fn(config)`` on this machine (measuring its kind of run if needed)."""
        cost = self.measure(fn, config)
        return cost["fixed"] + total_steps(config) * cost["per_step"]


def estimate_runs(runs: Sequence[Run], costs: StepCosts, workers: int | None = None) -> float:
    """Wall seconds of ``runs`` (``(fn, config)`` pairs) scheduled as :func:`~kanpaper.runs.pool.run_groups`
    runs them: longest first onto whichever of ``workers`` (default: all cores) frees first (one after another
    with ``workers=1``); plus each distinct data set-up once (a lower bound where parallel workers repeat it).
    Each run's time is measured alone on one thread: beside another it runs up to 1.3x slower on a 2-core machine."""
    workers = workers or os.cpu_count() or 1
    setups = {_setup_signature(fn, c): costs.setup_seconds(fn, c) for fn, c in runs}
    free = [0.0] * min(workers, max(len(runs), 1))
    for seconds in sorted((costs.run_seconds(fn, c) for fn, c in runs), reverse=True):
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return sum(setups.values()) + max(free)


def expected_seconds(runs: Sequence[Run]) -> Callable[[Mapping[str, Any]], float]:
    """A run's expected cost (given its config), to start the longest first: its estimated seconds where this
    machine's step costs of every one of ``runs`` are measured (nothing is measured here), else 1 for an MLP and
    0 for a KAN (an MLP's dense products are the larger work at every scale of the paper)."""
    costs = StepCosts()
    if runs and all(costs.measured(fn, c) for fn, c in runs):
        seconds = {config_key(c): costs.run_seconds(fn, c) for fn, c in runs}
        return lambda config: seconds[config_key(config)]
    return lambda config: 0.0 if is_kan(config) else 1.0


def format_seconds(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"3.4 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def announce(runs: Sequence[Run], workers: int | None = None) -> str:
    """What is about to run and, where this machine's step costs are measured (``make estimate``; nothing is
    measured here), how long it should take."""
    costs = StepCosts()
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''} to compute"
    if not all(costs.measured(fn, c) for fn, c in runs):
        return f"{count} on {costs.device} (no estimate: `make estimate` measures this machine's step costs)"
    seconds = estimate_runs(runs, costs, workers)
    return f"{count} on {costs.device}: about {format_seconds(seconds)} (step costs measured on this machine)"
