"""Where a figure comes from: the notebook cell that saved it, the runs it rests on, the code that drew it.

Every figure saved by :func:`kanpaper.analysis.figures.save_figure` gets an entry in ``PROVENANCE.json`` beside
it, keyed by file name: its SHA-256, the notebook (by the figure's two-digit prefix) and code cell that saved it,
the scale, the results-cache keys of every run the process had read or computed by then (those in the committed
archive ``results/paper/`` listed apart: their manifest lines say how and where each was made), the kanpaper
version, the commit, and the CPU model and instruction set that computed them (:func:`numerics`: a run's bits are
the CPU's too, so a figure drawn on another CPU may show runs that differ in their last bits, or more where
training amplifies them). A notebook runs in a process of its own, so "the runs read by then" are the runs of that
notebook up to that cell: a superset of what one figure draws, never less.

``make figures`` therefore leaves ``figures/PROVENANCE.json`` describing every figure it wrote, and
``tests/base/test_provenance.py`` fails on a committed figure without an entry or whose bytes no longer match it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Iterable

import torch

from .version import __version__

__all__ = ["PROVENANCE_FILE", "ROOT", "note_scale", "note_run", "runs_read", "commit", "cpu_model", "numerics",
           "sha256", "record_figures", "unaccounted"]

PROVENANCE_FILE = "PROVENANCE.json"
ROOT = Path(__file__).resolve().parents[2]          # the checkout: notebooks/, results/paper/
_ARCHIVE = ROOT / "results" / "paper"
_read: dict[str, bool] = {}                         # cache key -> whether it was read from the archive
_scale: list[str] = []                              # the scale the notebook set up with (kanpaper.notebook.setup)


def note_scale(scale: str) -> None:
    """Remember the scale this process's notebook runs at."""
    _scale[:] = [scale]


def note_run(key: str, directory: str | os.PathLike) -> None:
    """Remember that this process read (or computed and stored) the run ``key`` from the cache in ``directory``."""
    _read[key] = _read.get(key, False) or Path(directory).resolve() == _ARCHIVE.resolve()


def runs_read() -> dict[str, list[str]]:
    """``{"runs": keys, "archive": keys}``: every run this process has read or computed so far, sorted; the
    archive's apart."""
    return {"runs": sorted(key for key, archived in _read.items() if not archived),
            "archive": sorted(key for key, archived in _read.items() if archived)}


def commit() -> str:
    """The checkout's commit, with "-dirty" when tracked files other than the outputs of runs and notebooks (the
    archive's data, the figures) differ from it ("unknown" outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results/paper", ":(exclude)figures"], cwd=ROOT, capture_output=True,
                               text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def cpu_model() -> str:
    """This machine's CPU model, as the system names it."""
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine()


def numerics() -> dict[str, str]:
    """What fixes a run's bits besides the code and the thread count: the CPU model and the instruction set
    torch's kernels dispatch to (``ATEN_CPU_CAPABILITY`` overrides it)."""
    return {"cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cell() -> int | None:
    """The execution count of the running notebook cell (the n-th code cell when a notebook runs top to
    bottom, as papermill runs it), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else int(shell.execution_count)


def _notebook(name: str) -> str | None:
    """The notebook whose number a figure's name starts with (``07_grf_fields`` -> ``07_grf_fig3_fig4.ipynb``)."""
    found = sorted((ROOT / "notebooks").glob(f"{name[:2]}_*.ipynb")) if name[:2].isdigit() else []
    return found[0].name if len(found) == 1 else None


def record_figures(paths: Iterable[str | os.PathLike]) -> dict[str, dict[str, Any]]:
    """Add (or replace) the entries of the figure files ``paths``, all in one folder, in that folder's
    ``PROVENANCE.json``, under a lock (notebooks run side by side). Returns the entries written, by file name."""
    paths = [Path(p) for p in paths]
    folders = {path.parent.resolve() for path in paths}
    if len(folders) != 1:
        raise ValueError(f"figures of one record live in one folder, got {sorted(map(str, folders))}")
    here, made, machine = commit(), runs_read(), numerics()
    entries = {path.name: {"sha256": sha256(path), "notebook": _notebook(path.stem), "cell": _cell(),
                           "scale": _scale[0] if _scale else None, **made, "kanpaper": __version__, "commit": here,
                           **machine}
               for path in paths}
    folder = folders.pop()
    target = folder / PROVENANCE_FILE
    with open(folder / f".{PROVENANCE_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = json.loads(target.read_text()) if target.exists() else {}
        known.update(entries)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")
        os.replace(tmp, target)
    return entries


def unaccounted(folder: str | os.PathLike) -> list[str]:
    """What ``folder``'s ``PROVENANCE.json`` does not account for: each figure file (PNG, PDF) without an entry
    or whose bytes no longer match its entry's SHA-256, and each entry whose file is gone."""
    folder = Path(folder)
    target = folder / PROVENANCE_FILE
    known = json.loads(target.read_text()) if target.exists() else {}
    figures = sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".pdf"))
    problems = [f"{name}: no provenance" for name in figures if name not in known]
    problems += [f"{name}: changed since its provenance was written" for name in figures
                 if name in known and sha256(folder / name) != known[name]["sha256"]]
    problems += [f"{name}: in the provenance but not in {folder}" for name in sorted(set(known) - set(figures))]
    return problems
