"""Run the paper's budgets (``SCALE=paper``) into the committed results archive, one configuration at a time.

Usage: python scripts/archive_paper_runs.py poisson [--models kan mlp] [--ks 32 16] [--seeds]
       python scripts/archive_paper_runs.py grf --fields 3,0.125 3,0.25 --models kan2 kan3 kan4 [--replace-unrecorded]
       python scripts/archive_paper_runs.py grf --seeds [--fields 3,0.125] [--models kan3]   (the KANs from
                                                                                 paper.GRF_SEEDS)
       python scripts/archive_paper_runs.py first-extension [--fields 3,0.5] [--models kan2]   (the probes of
                                                                                 notebook 07, Section 9)
       python scripts/archive_paper_runs.py waves --amplitudes equal --runs 0 1   (Figures 1-2: runs 0-2 the MLPs,
                                                                                 3-6 the KANs, in figure order)
       python scripts/archive_paper_runs.py refinement [--fields 2,1.0] [--models kan4] [--extensions refit]
                                                                                 (notebook 15: refit against exact
                                                                                 knot insertion)
       python scripts/archive_paper_runs.py sweep [--models mlp kan]      (notebook 06: the Section 4.2 sweep and
                                                                                 the grid-extension runs)
       python scripts/archive_paper_runs.py overfitting [--models kan3] [--fields 3,0.125] [--points 50000]
                                                                                 (notebook 08: the overfitting study)

Within one call the runs go longest first (by steps times weights, MLPs before KANs), so that two calls started
side by side, one per core, finish close together.

Every finished run lands in ``results/paper/`` (the results cache of ``make figures SCALE=paper``, which then
replots without recomputing) and gets a line in ``results/paper/MANIFEST.json``: the run, its cache key,
its wall time, the machine and the instruction set torch's kernels ran (a run's bits are the CPU's too), the
thread count (one since kanpaper computes every run on one thread; two for the runs archived before), the load
average at its end (above the core count: the wall time was taken on a shared machine and is an upper bound), the
commit it ran at and the versions. Runs already in the archive are skipped, and a run killed midway resumes from
its checkpoint (``$KANPAPER_CHECKPOINTS``, outside the checkout; see ``kanpaper.training.checkpoint``) to the bits
an uninterrupted run gives: its manifest line then says so, with the step it resumed at and the seconds before
and after (the wall time is their sum: elapsed time, a paused process included). Several can run at once (one per
core, as ``make figures`` computes runs): each adds its lines to the manifest under a lock.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from datetime import datetime, timezone

import numpy as np
import torch

from kanpaper import __version__
from kanpaper.experiments import first_extension, grf, paper, poisson, waves
from kanpaper.runs.cache import config_key
from kanpaper.runs.costs import machine
from kanpaper.base.settings import THREADS_PER_RUN
from kanpaper.experiments.spec import describe, is_kan, total_steps
from kanpaper.archive import update_manifest
from kanpaper.base.provenance import commit
from kanpaper.notebook import paper_archive, runs_of
from kanpaper.training import checkpoint as checkpoints

def configs(args) -> list[tuple[str, dict, callable]]:
    if args.experiment == "poisson" and args.seeds:
        seeded = paper.figure_5_seed_configs("paper")
        return [(f"{describe(c)} k={k} seed={seed}", c, poisson.run_poisson) for (k, seed), c in seeded.items()
                if k in (args.ks or [k])]
    if args.experiment == "poisson":
        ks = args.ks or paper.budget("poisson", "paper")["ks"]
        models = args.models or ["kan", "mlp"]
        configs = paper.figure_5_configs("ritz", "paper")
        return [(f"{describe(configs[m, k])} k={k}", configs[m, k], poisson.run_poisson) for m in models for k in ks]
    if args.experiment == "waves":
        found = []
        for amplitudes in args.amplitudes or ["equal", "increasing"]:
            figure = paper.figure_1_configs(amplitudes, "paper")
            for i in (args.runs if args.runs is not None else range(len(figure))):
                found.append((f"{describe(figure[i])} {amplitudes} amplitudes", figure[i], waves.run_waves))
        return found
    if args.experiment == "sweep":
        return sorted([(f"{describe(c)} equal amplitudes (Section 4.2 sweep)", c, run)   # 05's runs among them
                       for run, c in runs_of(["06_waves_hyperparameters"], "paper")
                       if ("kan" if is_kan(c) else "mlp") in (args.models or ["kan", "mlp"])], key=_longest_first)
    fields = [tuple(float(v) for v in f.split(",")) for f in args.fields]
    if args.experiment == "overfitting":
        return sorted([(f"{describe(c)} d={paper.OVERFITTING_DIM} sigma={s} {n:,} points", c, grf.run_grf)
                       for (name, s, n), c in paper.overfitting_configs("paper").items()
                       if name in (args.models or [name]) and (paper.OVERFITTING_DIM, s) in (fields or [(paper.OVERFITTING_DIM, s)])
                       and n in (args.points or [n])], key=_longest_first)
    if args.experiment == "refinement":
        return sorted([(f"{describe(c)} d={d} sigma={s} {extension}", c, grf.run_grf)
                       for (d, s, name, extension), c in paper.refinement_configs("paper").items()
                       if (d, s) in (fields or [(d, s)]) and name in (args.models or [name])
                       and extension in (args.extensions or [extension])],
                      key=lambda found: -len(found[1]["model"]["widths"]))              # the deepest (longest) first
    if args.experiment == "first-extension":
        return [(f"{describe(c)} d={d} sigma={s} first-extension probe", c, first_extension.run_first_extension)
                for (d, s, name), c in paper.first_extension_configs("paper").items()
                if (d, s) in (fields or [(d, s)]) and name in (args.models or [name])]
    if args.seeds:
        return [(f"{describe(c)} d={d} sigma={s} seed={seed}", c, grf.run_grf)
                for (d, s, name, seed), c in paper.figure_3_seed_configs("paper").items()
                if (d, s) in (fields or [(d, s)]) and name in (args.models or [name])]
    return [(f"{describe(c)} d={int(d)} sigma={s}", c, grf.run_grf)
            for (d, s, name), c in paper.figure_3_configs("paper").items()
            if (d, s) in fields and name in (args.models or paper.GRF_MODELS)]


def _longest_first(found: tuple[str, dict, callable]) -> tuple:
    """Sort key: MLPs (dense products, the longer runs at every budget of the paper) before KANs, then by
    steps times points times weights (a KAN's edges times its grid size), largest first; a rough order, not an
    estimate."""
    config = found[1]
    widths = config["model"]["widths"]
    weights = sum(a * b for a, b in zip(widths, widths[1:])) * config.get("n_points", 1)
    if is_kan(config):
        weights *= config["model"]["grid_size"]                 # a KAN edge's coefficients grow with its grid
    return (is_kan(config), -total_steps(config) * weights)


def supersede(path: Path, manifest_path: Path, key: str, entry: dict) -> None:
    """Move an archived run and its manifest line to ``superseded/`` beside the archive (kept: the same
    configuration computed twice, by rounding apart, measures how far rounding alone moves a run)."""
    superseded = path.parent / "superseded"
    superseded.mkdir(exist_ok=True)
    update_manifest(superseded / "MANIFEST.json", key, entry)
    os.replace(path, superseded / path.name)
    update_manifest(manifest_path, key, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=("poisson", "grf", "waves", "first-extension", "refinement",
                                                         "sweep", "overfitting"))
    parser.add_argument("--fields", nargs="*", default=[], help="GRF fields as d,sigma")
    parser.add_argument("--models", nargs="*", default=None,
                        help="GRF models (default: all five), or Poisson / sweep models kan / mlp (default: both)")
    parser.add_argument("--points", nargs="*", type=int, default=None,
                        help="overfitting: training set sizes (default: both, 5000 and 50000)")
    parser.add_argument("--ks", nargs="*", type=int, default=None, help="Poisson frequencies (default: all)")
    parser.add_argument("--seeds", action="store_true",
                        help="the KAN(s) from the four further seeds (paper.FIGURE_5_SEEDS, paper.GRF_SEEDS on "
                             "paper.GRF_SEED_FIELDS), not the runs of Figure 5 or 3")
    parser.add_argument("--extensions", nargs="*", choices=paper.EXTENSIONS, default=None,
                        help="refinement: which ways to extend the grid (default all)")
    parser.add_argument("--amplitudes", nargs="*", choices=("equal", "increasing"), default=None,
                        help="waves: Figure 1 (equal) and/or Figure 2 (increasing); default both")
    parser.add_argument("--runs", nargs="*", type=int, default=None,
                        help="waves: which of each figure's runs (0-2 the MLPs, 3-6 the KANs); default all")
    parser.add_argument("--replace-unrecorded", action="store_true",
                        help="recompute archived runs whose manifest line records no commit (made before "
                             "commits were recorded and runs pinned to one BLAS thread, so that no checkout "
                             "regenerates them); the old entry moves to results/paper/superseded/")
    args = parser.parse_args()
    torch.set_num_threads(THREADS_PER_RUN)        # as make figures computes a run, so that a rerun gives its bits
    cache = paper_archive()
    manifest_path = cache.directory / "MANIFEST.json"
    for label, config, run in configs(args):
        key = config_key(config)
        if cache.load(config) is not None:
            entry = json.loads(manifest_path.read_text()).get(key, {})
            if not (args.replace_unrecorded and "commit" not in entry):
                print(f"in the archive: {label}")
                continue
            supersede(cache.path(config), manifest_path, key, entry)
            print(f"superseded (no commit recorded): {label}")
        saved = checkpoints.for_run(key).load()      # a run resumed: the part before counts in its wall time
        start = time.perf_counter()
        result = cache.get_or_compute(config, lambda c: run(c, progress=False))
        seconds = time.perf_counter() - start
        diverged = int(np.asarray(result.get("diverged_at", -1)))
        before = float(saved["seconds"]) if saved else 0.0
        resumed = {"resumed_at_step": int(saved["done"]), "seconds_before_resume": round(before, 1),
                   "seconds_after_resume": round(seconds, 1)} if saved else {}
        update_manifest(manifest_path, key, {
            "run": label, "experiment": args.experiment, "wall_seconds": round(before + seconds, 1),
            "diverged_at": diverged, "machine": machine(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(),
            "load_average_1min": round(os.getloadavg()[0], 2),   # > cores: the machine was shared
            "resumed_from_checkpoint": bool(saved), **resumed, "commit": commit(),
            "kanpaper": __version__, "torch": torch.__version__,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        print(f"{label}: {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
