"""``make verify-archive``: does this checkout regenerate the committed paper-budget runs?

``python -m kanpaper.archive`` recomputes, for each experiment in ``results/paper/MANIFEST.json``, the cheapest
archived run that records the commit it was made at (``--all``: every archived run), for its first few steps
(:func:`kanpaper.runs.replay.prefix`; ``--whole``: the whole run), on one thread, and compares the arrays bit for
bit. It prints one row per run and exits non-zero if a run that records its commit does not regenerate. Runs
that record no commit were made before runs were pinned to one thread of every kind (torch's and the BLAS's); no
checkout is expected to give their bits, and they are listed as such.

``--coverage`` prints how many of each notebook's paper-budget runs the archive holds (the README quotes it);
``--pending`` lists the runs it does not hold, with how far each one's checkpoint got.

A run's bits are those of the code *and* of the CPU: another CPU model, or another instruction set for torch's
kernels (AVX-512 against AVX2), sums in another order and differs in the last bits from the first step. A run made
on another CPU is therefore compared with a *replay reference* for this CPU where one is committed
(``results/paper/replays/<cpu>/<key>.npz``: the run's first steps computed on such a CPU, written by
``--reference`` from a clean checkout), and otherwise listed as made elsewhere, with its largest difference.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .base.provenance import commit, numerics
from .base.settings import THREADS_PER_RUN
from .experiments.spec import describe, total_steps
from .notebook import ARCHIVE, archive_manifest, notebook_runs, paper_archive, runs_of
from .runs.cache import config_key
from .runs.replay import UNTIMED, Replay, recompute, replay
from .training.checkpoint import CorruptCheckpoint, checkpoint_dir, progress

__all__ = ["ArchivedRun", "archived_runs", "REFERENCES", "to_verify", "prefix_steps", "Verification",
           "verify", "record_reference", "update_manifest", "coverage", "coverage_table", "pending", "pending_table",
           "main"]

REFERENCES = ARCHIVE / "replays"

LBFGS_PREFIX_STEPS = 5        # L-BFGS runs: a few steps take seconds, and rounding differences show at the first
RECORDS_IN_PREFIX = 2         # Adam runs: this many recording intervals


@dataclass(frozen=True)
class ArchivedRun:
    """One run of the archive: its cache ``key``, its ``manifest`` line, and how to compute it."""

    key: str
    manifest: dict[str, Any]
    run: Callable[..., Any]
    config: dict[str, Any]

    @property
    def regenerable(self) -> bool:
        """Made at a recorded commit on one thread of every kind, or replayed identically at one since (``python
        -m kanpaper.archive --record``): a checkout should give its bits."""
        return "commit" in self.manifest or "replayed_at" in self.manifest

    @property
    def made_here(self) -> bool:
        """Made on this machine's numerics: the same CPU model, and the same instruction set where recorded."""
        here = numerics()
        return (self.manifest.get("machine", "").rsplit(", ", 1)[0] == here["cpu"]
                and self.manifest.get("cpu_capability", here["cpu_capability"]) == here["cpu_capability"])

    @property
    def reference(self) -> Path:
        """Where this CPU's replay reference of the run is (or would be) committed."""
        here = numerics()
        folder = re.sub(r"[^a-z0-9]+", "-", f"{here['cpu']} {here['cpu_capability']}".lower()).strip("-")
        return REFERENCES / folder / f"{self.key}.npz"

    @property
    def checkable_here(self) -> bool:
        """Its bits can be checked on this machine: made here, or with a replay reference for this CPU."""
        return self.made_here or self.reference.exists()


def archived_runs() -> list[ArchivedRun]:
    """Every run in the archive's manifest, in key order (each matched to the notebook run it is)."""
    manifest = archive_manifest()
    runs = {config_key(config): (fn, config) for fn, config in runs_of(None, "paper")}
    unknown = sorted(set(manifest) - set(runs))
    if unknown:
        raise ValueError(f"archived runs no notebook asks for at paper scale: {', '.join(unknown)}")
    return [ArchivedRun(key, manifest[key], *runs[key]) for key in sorted(manifest)]


def to_verify(runs: Sequence[ArchivedRun], every: bool = False) -> list[ArchivedRun]:
    """``runs`` if ``every``, else per experiment the regenerable run of least wall time, preferring one whose
    bits can be checked on this machine (experiments without a regenerable run: their cheapest run, shown as not
    expected to regenerate)."""
    if every:
        return list(runs)
    chosen = {}
    for archived in sorted(runs, key=lambda r: (not r.regenerable, not r.checkable_here, r.manifest["wall_seconds"])):
        chosen.setdefault(archived.manifest["experiment"], archived)
    return [chosen[name] for name in sorted(chosen)]


def prefix_steps(config: dict[str, Any]) -> int:
    """How many steps a replay recomputes: a few L-BFGS steps, or a few recording intervals of an Adam run."""
    every = config.get("record_every")
    return min(RECORDS_IN_PREFIX * every if every else LBFGS_PREFIX_STEPS, total_steps(config))


@dataclass(frozen=True)
class Verification:
    """A replay of an archived run and what it was held against: ``"archive"`` (made on this CPU), ``"reference"``
    (this CPU's replay reference) or ``"elsewhere"`` (made on another CPU, no reference: bits not expected)."""

    replay: Replay
    against: str

    @property
    def bitwise_expected(self) -> bool:
        return self.against != "elsewhere"


def verify(archived: ArchivedRun, whole: bool = False) -> Verification:
    """Replay ``archived`` (its first :func:`prefix_steps` steps, or the whole run) against the archive, or, for
    a run made on another CPU, against this CPU's replay reference where there is one."""
    stored = paper_archive().load(archived.config)
    if stored is None:
        raise FileNotFoundError(f"{archived.key}.npz is in the manifest but not in {ARCHIVE}")
    steps = None if whole else prefix_steps(archived.config)
    if archived.made_here:
        return Verification(replay(archived.run, archived.config, stored, steps), "archive")
    if archived.reference.exists():
        with np.load(archived.reference) as reference:
            arrays = {name: reference[name] for name in reference.files}
        if steps is None or int(arrays.pop("__steps__")) != steps:
            raise ValueError(f"{archived.reference} holds a replay of {steps} steps; compare it with a prefix "
                             f"of as many, not the whole run")
        arrays.pop("__commit__")
        return Verification(replay(archived.run, archived.config, arrays, steps, stored_is_prefix=True),
                            "reference")
    return Verification(replay(archived.run, archived.config, stored, steps), "elsewhere")


def record_reference(archived: ArchivedRun) -> Path:
    """Compute the first :func:`prefix_steps` steps of ``archived`` on this machine and commit-ready store them
    as this CPU's replay reference (from a clean checkout only: the reference stands for its commit's code)."""
    here = commit()
    if here.endswith("-dirty") or here == "unknown":
        raise RuntimeError(f"a replay reference is recorded from a clean checkout (this one is {here}): "
                           "commit or stash the code first")
    steps = prefix_steps(archived.config)
    arrays = {name: value for name, value in recompute(archived.run, archived.config, steps)[0].items()
              if name not in UNTIMED}
    archived.reference.parent.mkdir(parents=True, exist_ok=True)
    np.savez(archived.reference, __steps__=np.asarray(steps), __commit__=np.asarray(here), **arrays)
    return archived.reference


def update_manifest(path: Path, key: str, entry: dict[str, Any] | None) -> None:
    """Set the manifest line of ``key`` to ``entry`` (``None``: remove it), under a lock, so that concurrent
    archive runs keep each other's lines."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = json.loads(path.read_text()) if path.exists() else {}
        if entry is None:
            manifest.pop(key, None)
        else:
            manifest[key] = entry
        path.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")


def _paper_runs() -> dict[str, dict[str, dict[str, Any]]]:
    """Per notebook, its paper-budget runs by cache key, each once, in the order the notebook asks for them."""
    return {notebook: {config_key(config): config for _, configs in calls for config in configs}
            for notebook, calls in notebook_runs("paper").items()}


def coverage() -> list[dict[str, Any]]:
    """Per notebook, its paper-budget runs and how many the archive holds: ``notebook``, ``runs``,
    ``archived``, ``hours`` (their wall time, a resumed run's parts added), ``machines``."""
    manifest = archive_manifest()
    rows = []
    for notebook, runs in _paper_runs().items():
        held = [manifest[key] for key in runs if key in manifest]
        rows.append({"notebook": notebook, "runs": len(runs), "archived": len(held),
                     "hours": sum(line["wall_seconds"] for line in held) / 3600,
                     "machines": sorted({line["machine"].rsplit(", ", 1)[0] for line in held})})
    return rows


def coverage_table() -> str:
    """:func:`coverage` as the table ``--coverage`` prints (and the README quotes): one line per notebook."""
    rows = coverage()
    width = max(len(row["notebook"]) for row in rows) + 2
    lines = [f"{'notebook':<{width}} {'archived':>9} {'wall hours':>10}  made on"]
    lines += [f"{row['notebook']:<{width}} {row['archived']:>4} / {row['runs']:<3} {row['hours']:>10.1f}  "
              f"{', '.join(row['machines']) or '-'}" for row in rows]
    return "\n".join(lines)


def pending() -> list[dict[str, Any]]:
    """The paper-budget runs the archive does not hold, per notebook in its order: ``notebook``, ``run`` (its
    label), ``key``, ``steps`` (all of them) and ``progress`` (:func:`~kanpaper.training.checkpoint.progress` of its
    checkpoint: None where the run has not started here, the error's text where no checkpoint file is intact)."""
    manifest = archive_manifest()
    rows = []
    for notebook, runs in _paper_runs().items():
        for key, config in runs.items():
            if key in manifest:
                continue
            try:
                state = progress(key)
            except CorruptCheckpoint as error:
                state = str(error)
            label = describe(config, problem=True) + (f", {config['n_points']:,} points" if "n_points" in config
                                                       else "")
            rows.append({"notebook": notebook, "run": label, "key": key, "steps": total_steps(config),
                         "progress": state})
    return rows


def pending_table(now: float | None = None) -> str:
    """:func:`pending` as ``--pending`` prints it: one line per run, with its checkpoint's step, the compute so far,
    the time still to go at that pace and when the checkpoint was written (``now``: seconds since the epoch)."""
    now = time.time() if now is None else now
    rows = pending()
    width = max([len(row["run"]) for row in rows] + [3])
    lines = [f"{len(rows)} paper-budget runs not archived (checkpoints in {checkpoint_dir()})"]
    notebook = None
    for row in rows:
        if row["notebook"] != notebook:
            notebook = row["notebook"]
            lines.append(notebook)
        state = row["progress"]
        if state is None:
            status = "not started"
        elif isinstance(state, str):
            status = f"checkpoint unusable ({state}): it restarts from scratch"
        else:
            to_go = state["seconds"] / max(state["done"], 1) * (row["steps"] - state["done"])
            status = (f"step {state['done']:,} of {row['steps']:,}, {state['seconds'] / 3600:.2f} h computed, "
                      f"about {to_go / 3600:.1f} h to go at that pace; saved {(now - state['saved']) / 60:.0f} min ago")
        lines.append(f"  {row['run']:<{width}}  {status}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("--all", action="store_true", help="every archived run (default: the cheapest per "
                                                           "experiment)")
    parser.add_argument("--whole", action="store_true", help="recompute whole runs, not their first steps")
    parser.add_argument("--record", action="store_true",
                        help="note in the manifest, for each run that records no commit and replays identically, "
                             "the commit and steps of the replay")
    parser.add_argument("--coverage", action="store_true",
                        help="print, per notebook, how many of its paper-budget runs the archive holds, and stop")
    parser.add_argument("--pending", action="store_true",
                        help="print the paper-budget runs not archived, with how far their checkpoints got, and "
                             "stop")
    parser.add_argument("--reference", action="store_true",
                        help="write this CPU's replay reference of each chosen run made on another CPU (from a "
                             "clean checkout), then verify against it")
    args = parser.parse_args(argv)
    if args.coverage:
        print(coverage_table())
        return 0
    if args.pending:
        print(pending_table())
        return 0
    here = commit()
    torch.set_num_threads(THREADS_PER_RUN)
    failed = 0
    print(f"this machine: {numerics()['cpu']}, torch kernels {numerics()['cpu_capability']}")
    print(f"{'experiment':<11} {'run':<44} {'key':<8} {'made at':<8} {'against':<9} {'steps':>6} "
          f"{'identical':<15} {'max |diff|':>10} {'seconds':>7}")
    for archived in to_verify(archived_runs(), args.all):
        if args.reference and archived.regenerable and not archived.made_here:
            print(f"reference written: {record_reference(archived)}", flush=True)
        checked = verify(archived, args.whole)
        result = checked.replay
        made = archived.manifest.get("commit", archived.manifest.get("replayed_at", "-"))[:8]
        if result.identical:
            verdict = "yes"
        elif not archived.regenerable:
            verdict = "no (expected)"
        elif not checked.bitwise_expected:
            verdict = "no (other CPU)"
        else:
            verdict = "NO"
        failed += verdict == "NO"
        if (args.record and result.identical and checked.against == "archive" and "commit" not in archived.manifest
                and not here.endswith("-dirty")):
            update_manifest(ARCHIVE / "MANIFEST.json", archived.key,
                            {**archived.manifest, "replayed_at": here, "replayed_steps": result.steps})
        print(f"{archived.manifest['experiment']:<11} {archived.manifest['run'][:44]:<44} {archived.key[:8]:<8} "
              f"{made:<8} {checked.against:<9} {result.steps:>6} {verdict:<15} {result.max_abs_diff:>10.2g} "
              f"{result.seconds:>7.1f}", flush=True)
    if failed:
        print(f"{failed} run(s) made at a recorded commit do not regenerate", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
