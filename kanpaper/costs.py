"""What a run costs before it runs: per-step costs measured on this machine, cached, and the estimates built on them.

A run's wall time is ``fixed + steps x per_step``, plus a set-up its data needs once per process (sampling a GRF
field: about a minute for 5,000 points), shared by the runs on the same data. All are measured by running the
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
:func:`~kanpaper.experiments.run_groups` schedules them (longest first onto the core that frees first);
:func:`estimate_notebooks` adds each notebook's own work (plots, exact fields) to its runs, and ``make estimate``
(``python -m kanpaper.costs --scale paper``) prints it beside the total of ``make figures``, which computes every
notebook's runs (:func:`missing_runs`) in one pool first.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import heapq
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from . import __version__, grf, paper
from .cache import ResultsCache, config_key
from .devices import ENV_VAR as DEVICE_ENV, resolve_device
from .experiments import THREADS_PER_RUN, is_kan
from .scales import SCALES, resolve_scale

__all__ = ["ENV_VAR", "OWN_WORK_SECONDS", "total_steps", "probe", "StepCosts", "estimate_runs",
           "expected_seconds", "estimate_notebooks", "missing_runs", "announce", "format_seconds"]

ENV_VAR = "KANPAPER_COSTS"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".cache" / "costs"
# config keys that change a run's numbers but not its work
COST_NEUTRAL = ("seed", "amplitudes", "lr", "sigma", "k")

Run = tuple[Callable, Mapping[str, Any]]          # a run function and its config


# Each notebook's own work (everything but its runs: exact fields, sampler checks, spline fits, plots, the kernel's
# start), in seconds: its wall time in one `make figures` at `default` from an empty results cache, less the wall
# time its runs reported, on the 2-core CI machine (AMD EPYC, torch 2.13.0), kanpaper 0.2.0.
OWN_WORK_SECONDS = {"00_overview": 16, "01_mlp_to_kan": 29, "02_kan_to_mlp": 21, "03_approximation_rates": 26,
                    "04_spectral_bias_theory": 33, "05_waves_fig1_fig2": 23, "06_waves_hyperparameters": 33,
                    "07_grf_fig3_fig4": 74, "08_grf_overfitting": 119, "09_poisson_fig5": 25,
                    "10_kan_vs_mlp_parameters": 15, "11_guidance": 14}


def total_steps(config: Mapping[str, Any]) -> int:
    """Optimizer steps of a run: ``len(grids) x steps_per_grid`` for staged runs, else ``steps``."""
    if "steps_per_grid" in config:
        return len(config["grids"]) * int(config["steps_per_grid"])
    return int(config["steps"])


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
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0] if names else platform.processor() or platform.machine()}, {os.cpu_count()} cores"


class StepCosts:
    """Measured ``(fixed, per_step)`` seconds of runs on this machine and device, kept in a JSON file."""

    def __init__(self, directory: str | os.PathLike | None = None, device: str | None = None):
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
            if setup not in self.entries:
                grf.forget_fields()                        # the cold run samples its field, as a fresh run does
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
    """Wall seconds of ``runs`` (``(fn, config)`` pairs) scheduled as :func:`~kanpaper.experiments.run_groups`
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


def estimate_notebooks(scale: str | None = None, costs: StepCosts | None = None,
                       cache: ResultsCache | None = None, notebooks: Sequence[str] | None = None) -> list[dict]:
    """One row per notebook: its runs (total, and still to compute: not in ``cache``, nor asked for by an
    earlier notebook), their estimated seconds as the notebook computes them (each of its
    ``run_experiments`` calls one pool), the notebook's own work, and the total."""
    scale = resolve_scale(scale)
    costs = costs or StepCosts()
    runs = paper.notebook_runs(scale)
    names = notebooks or sorted(OWN_WORK_SECONDS)
    seen: set[str] = set()
    rows = []
    for name in names:
        total = todo = 0
        seconds = 0.0
        for fn, configs in runs.get(name, []):
            keys = [config_key(c) for c in configs]
            missing = [(fn, c) for c, key in zip(configs, keys)
                       if key not in seen and (cache is None or cache.load(c) is None)]
            seen.update(keys)
            total, todo = total + len(configs), todo + len(missing)
            seconds += estimate_runs(missing, costs)
        own = OWN_WORK_SECONDS.get(name, 0.0)
        rows.append({"notebook": name, "runs": total, "to_compute": todo, "runs_seconds": seconds,
                     "own_seconds": own, "seconds": seconds + own})
    return rows


def missing_runs(scale: str | None = None, cache: ResultsCache | None = None,
                 notebooks: Sequence[str] | None = None) -> list[Run]:
    """Every run the ``notebooks`` (default: all) ask for at ``scale`` and ``cache`` lacks, each once: what
    ``make figures`` computes in one pool before it executes the notebooks."""
    return [(fn, c) for fn, c in paper.runs_of(notebooks, resolve_scale(scale))
            if cache is None or cache.load(c) is None]


def announce(runs: Sequence[Run], workers: int | None = None) -> str:
    """What is about to run and, where this machine's step costs are measured (``make estimate``; nothing is
    measured here), how long it should take."""
    costs = StepCosts()
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''} to compute"
    if not all(costs.measured(fn, c) for fn, c in runs):
        return f"{count} on {costs.device} (no estimate: `make estimate` measures this machine's step costs)"
    seconds = estimate_runs(runs, costs, workers)
    return f"{count} on {costs.device}: about {format_seconds(seconds)} (step costs measured on this machine)"


def format_seconds(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"3.4 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Estimated wall time of every notebook (make estimate)")
    parser.add_argument("--scale", choices=SCALES, default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: $KANPAPER_DEVICE, else cpu)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="results cache whose runs count as done (default: none, an empty cache)")
    args = parser.parse_args(argv)
    scale = resolve_scale(args.scale)
    try:
        costs = StepCosts(device=args.device)
    except (ValueError, RuntimeError) as error:
        print(f"estimate: {error}", file=sys.stderr)
        return 2
    os.environ[DEVICE_ENV] = costs.device        # the probes train where the notebooks will
    todo = [c for fn, c in missing_runs(scale) if not costs.measured(fn, c)]
    if todo:
        print(f"measuring step costs for {scale} on {costs.device} (once per machine; kept in {costs.path})...",
              flush=True)
    cache = ResultsCache(args.cache_dir) if args.cache_dir else None
    rows = estimate_notebooks(scale, costs, cache)
    print(f"\nEstimated wall time of the notebooks at {scale} on {costs.context['machine']}, "
          f"{costs.device}, one thread per run, torch {costs.context['torch']}"
          + (f", with the runs in {args.cache_dir} done" if cache else ", from an empty results cache") + "\n")
    print("| notebook | runs (to compute) | runs | own work | total |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['notebook']} | {row['runs']} ({row['to_compute']}) | {format_seconds(row['runs_seconds'])} "
              f"| {format_seconds(row['own_seconds'])} | {format_seconds(row['seconds'])} |")
    print(f"| **all** | {sum(r['runs'] for r in rows)} ({sum(r['to_compute'] for r in rows)}) | "
          f"{format_seconds(sum(r['runs_seconds'] for r in rows))} | {format_seconds(sum(r['own_seconds'] for r in rows))} "
          f"| **{format_seconds(sum(r['seconds'] for r in rows))}** |")
    pooled = estimate_runs(missing_runs(scale, cache), costs)
    own = sum(r["own_seconds"] for r in rows)
    print(f"\n`make figures` computes every notebook's runs first, in one pool: {format_seconds(pooled)}, then the "
          f"notebooks' own work, {format_seconds(own)}: **{format_seconds(pooled + own)}** in all. (The table's "
          "runs are each notebook's computed by itself, as in JupyterLab.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
