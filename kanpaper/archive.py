"""``make verify-archive``: does this checkout regenerate the committed paper-budget runs?

``python -m kanpaper.archive`` recomputes, for each experiment in ``results/paper/MANIFEST.json``, the cheapest
archived run that records the commit it was made at (``--all``: every archived run), for its first few steps
(:func:`kanpaper.runs.replay.prefix`; ``--whole``: the whole run), on one thread, and compares the arrays bit for
bit. It prints one row per run and exits non-zero if a run that records its commit does not regenerate. Runs
that record no commit were made before runs were pinned to one thread of every kind (torch's and the BLAS's); no
checkout is expected to give their bits, and they are listed as such.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from .base.settings import THREADS_PER_RUN
from .experiments.spec import total_steps
from .notebook import ARCHIVE, paper_archive, runs_of
from .runs.cache import config_key
from .runs.replay import Replay, replay

__all__ = ["ArchivedRun", "archived_runs", "to_verify", "prefix_steps", "verify", "commit", "update_manifest",
           "main"]

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


def archived_runs() -> list[ArchivedRun]:
    """Every run in the archive's manifest, in key order (each matched to the notebook run it is)."""
    manifest = json.loads((ARCHIVE / "MANIFEST.json").read_text())
    runs = {config_key(config): (fn, config) for fn, config in runs_of(None, "paper")}
    unknown = sorted(set(manifest) - set(runs))
    if unknown:
        raise ValueError(f"archived runs no notebook asks for at paper scale: {', '.join(unknown)}")
    return [ArchivedRun(key, manifest[key], *runs[key]) for key in sorted(manifest)]


def to_verify(runs: Sequence[ArchivedRun], every: bool = False) -> list[ArchivedRun]:
    """``runs`` if ``every``, else per experiment the regenerable run of least wall time (experiments without
    one: their cheapest run, shown as not expected to regenerate)."""
    if every:
        return list(runs)
    chosen = {}
    for archived in sorted(runs, key=lambda r: (not r.regenerable, r.manifest["wall_seconds"])):
        chosen.setdefault(archived.manifest["experiment"], archived)
    return [chosen[name] for name in sorted(chosen)]


def prefix_steps(config: dict[str, Any]) -> int:
    """How many steps a replay recomputes: a few L-BFGS steps, or a few recording intervals of an Adam run."""
    every = config.get("record_every")
    return min(RECORDS_IN_PREFIX * every if every else LBFGS_PREFIX_STEPS, total_steps(config))


def verify(archived: ArchivedRun, whole: bool = False) -> Replay:
    """Replay ``archived`` (its first :func:`prefix_steps` steps, or the whole run) against the archive."""
    stored = paper_archive().load(archived.config)
    if stored is None:
        raise FileNotFoundError(f"{archived.key}.npz is in the manifest but not in {ARCHIVE}")
    return replay(archived.run, archived.config, stored, None if whole else prefix_steps(archived.config))


def commit() -> str:
    """The checkout's commit, with "-dirty" when tracked files differ from it ("unknown" outside git)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("--all", action="store_true", help="every archived run (default: the cheapest per "
                                                           "experiment)")
    parser.add_argument("--whole", action="store_true", help="recompute whole runs, not their first steps")
    parser.add_argument("--record", action="store_true",
                        help="note in the manifest, for each run that records no commit and replays identically, "
                             "the commit and steps of the replay")
    args = parser.parse_args(argv)
    here = commit()
    torch.set_num_threads(THREADS_PER_RUN)
    failed = 0
    print(f"{'experiment':<11} {'run':<44} {'key':<8} {'made at':<8} {'steps':>6} {'identical':<9} "
          f"{'max |diff|':>10} {'seconds':>7}")
    for archived in to_verify(archived_runs(), args.all):
        result = verify(archived, args.whole)
        made = archived.manifest.get("commit", archived.manifest.get("replayed_at", "-"))[:8]
        verdict = "yes" if result.identical else ("NO" if archived.regenerable else "no (expected)")
        failed += archived.regenerable and not result.identical
        if args.record and result.identical and "commit" not in archived.manifest and not here.endswith("-dirty"):
            update_manifest(ARCHIVE / "MANIFEST.json", archived.key,
                            {**archived.manifest, "replayed_at": here, "replayed_steps": result.steps})
        print(f"{archived.manifest['experiment']:<11} {archived.manifest['run'][:44]:<44} {archived.key[:8]:<8} "
              f"{made:<8} {result.steps:>6} {verdict:<9} {result.max_abs_diff:>10.2g} {result.seconds:>7.1f}",
              flush=True)
    if failed:
        print(f"{failed} run(s) made at a recorded commit do not regenerate", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
