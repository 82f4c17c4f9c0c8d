"""``make estimate``: the estimated wall time of every notebook at a scale, from this machine's step costs.

``python -m kanpaper.estimate --scale paper`` measures the step costs of every kind of run the notebooks ask for
(once per machine, :class:`~kanpaper.runs.costs.StepCosts`), then prints one row per notebook (its runs as the
notebook computes them, plus its own work: plots, exact fields) beside the total of ``make figures``, which
computes every notebook's runs (:func:`missing_runs`) in one pool first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from .base.settings import DEVICE_ENV, SCALES, resolve_scale
from .experiments.grf import forget_fields
from .notebook import notebook_runs, runs_of
from .runs.cache import ResultsCache, config_key
from .runs.costs import Run, StepCosts, estimate_runs, format_seconds

__all__ = ["OWN_WORK_SECONDS", "estimate_notebooks", "missing_runs", "main"]

# Each notebook's own work (everything but its runs: exact fields, sampler checks, spline fits, plots, the kernel's
# start), in seconds: its wall time in one `make figures` at `default` from an empty results cache, less the wall
# time its runs reported, on the 2-core CI machine (AMD EPYC, torch 2.13.0), kanpaper 0.2.0.
OWN_WORK_SECONDS = {"00_overview": 16, "01_mlp_to_kan": 29, "02_kan_to_mlp": 21, "03_approximation_rates": 26,
                    "04_spectral_bias_theory": 33, "05_waves_fig1_fig2": 23, "06_waves_hyperparameters": 33,
                    "07_grf_fig3_fig4": 74, "08_grf_overfitting": 119, "09_poisson_fig5": 25,
                    "10_kan_vs_mlp_parameters": 15, "11_guidance": 14,
                    "12_beyond_correlated_inputs": 10,   # 12-14: measured alone on an Intel Xeon (2 cores)
                    "13_beyond_other_bases": 31, "14_beyond_parameterisation_and_optimizer": 12,
                    "15_beyond_exact_refinement": 12}



def estimate_notebooks(scale: str | None = None, costs: StepCosts | None = None,
                       cache: ResultsCache | None = None, notebooks: Sequence[str] | None = None) -> list[dict]:
    """One row per notebook: its runs (total, and still to compute: not in ``cache``, nor asked for by an
    earlier notebook), their estimated seconds as the notebook computes them (each of its
    ``run_experiments`` calls one pool), the notebook's own work, and the total."""
    scale = resolve_scale(scale)
    costs = costs or StepCosts(cold_start=forget_fields)
    runs = notebook_runs(scale)
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
    return [(fn, c) for fn, c in runs_of(notebooks, resolve_scale(scale))
            if cache is None or cache.load(c) is None]



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Estimated wall time of every notebook (make estimate)")
    parser.add_argument("--scale", choices=SCALES, default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: $KANPAPER_DEVICE, else cpu)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="results cache whose runs count as done (default: none, an empty cache)")
    args = parser.parse_args(argv)
    scale = resolve_scale(args.scale)
    try:
        costs = StepCosts(device=args.device, cold_start=forget_fields)
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
