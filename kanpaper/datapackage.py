"""The data the repository ships, as one Frictionless data package: ``datapackage.json`` at the top.

Three kinds of file: the authors' per-step result files (``kanpaper/analysis/reference_data/``, converted, their
terms in its ``DATA.md``), the runs of the committed archive (``results/paper/``, computed here, its card in
``results/paper/README.md``) and pykan's own results at the first grid extension (``results/pykan/``). Every file
is one resource with its size, its SHA-256 and what it is.
``python -m kanpaper.datapackage`` writes the package; ``make test`` checks that it lists every data file and
that every hash holds, so an archive that gains or changes a run without the package saying so fails.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from .base.version import __version__

__all__ = ["ROOT", "PACKAGE_FILE", "data_files", "data_package", "write", "main"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FILE = ROOT / "datapackage.json"
REFERENCE_DIR = Path("kanpaper/analysis/reference_data")
ARCHIVE_DIR = Path("results/paper")
PYKAN_DIR = Path("results/pykan")
AUTHORS_REPOSITORY = "https://github.com/RoyWangyx/spectral_bias-KAN"


def data_files() -> list[Path]:
    """Every shipped data file, relative to the repository root, sorted."""
    found = [*(ROOT / REFERENCE_DIR).glob("*.json.gz"), *(ROOT / ARCHIVE_DIR).glob("*.npz"),
             ROOT / ARCHIVE_DIR / "MANIFEST.json", *(ROOT / ARCHIVE_DIR / "superseded").glob("*.npz"),
             *(ROOT / ARCHIVE_DIR / "replays").glob("*/*.npz"), *(ROOT / PYKAN_DIR).glob("*.json")]
    superseded_manifest = ROOT / ARCHIVE_DIR / "superseded" / "MANIFEST.json"
    if superseded_manifest.exists():
        found.append(superseded_manifest)
    return sorted(path.relative_to(ROOT) for path in found)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _describe(relative: Path, manifests: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    """Name, title, description and sources of one file."""
    if relative.parent == REFERENCE_DIR:
        experiment = relative.name.split(".")[0]
        return {"title": f"The authors' per-step result files for {experiment}, converted to JSON",
                "description": "provenance (repository, commit, note) and one series per result file: its path "
                               "in the authors' repository, what it measures, its unit and its values, value i "
                               "after step i + 1 (see DATA.md beside it)",
                "sources": [{"title": "RoyWangyx/spectral_bias-KAN", "path": AUTHORS_REPOSITORY}],
                "licenses": [{"name": "no-licence", "title": "The authors' repository carries no licence: "
                                                            "see DATA.md"}]}
    if relative.parent == PYKAN_DIR:
        return {"title": "pykan 0.2.8 itself at the first grid extension of Figure 3's KANs",
                "description": "written by scripts/pykan_first_extension.py: the versions and machine (about), and "
                               "per run the empty basis functions at the refine, the training RMSE before and after "
                               "it three ways (pykan's, exact, held pivots) and pykan's logged steps 100 and 101"}
    if relative.name == "MANIFEST.json":
        return {"title": "Manifest of the runs beside it",
                "description": "one line per run, by cache key: the run, its experiment, wall time, machine, "
                               "threads, load average, commit (or the commit it was replayed at), versions"}
    if relative.parent.parent.name == "replays":
        line = manifests.get(ARCHIVE_DIR, {}).get(relative.stem, {})
        return {"title": f"Replay reference of {line.get('run', relative.stem)} on {relative.parent.name}",
                "description": "the first steps of an archived run computed on this CPU from a clean checkout "
                               "(__commit__, __steps__): what the run's bits are checked against on such a CPU"}
    line = manifests.get(relative.parent, {}).get(relative.stem, {})
    made = line.get("commit") or (f"replayed at {line['replayed_at']}" if "replayed_at" in line else "no commit")
    where = "superseded run (the same config computed before runs were pinned to one BLAS thread)" \
        if relative.parent.name == "superseded" else "archived run"
    return {"title": f"{line.get('run', relative.stem)} ({line.get('experiment', '?')})",
            "description": f"{where}: the arrays of one paper-budget run with its config (__config__) and "
                           f"digest (__digest__); {made}"}


def data_package() -> dict[str, Any]:
    """The package as it should be now: one resource per file of :func:`data_files`."""
    manifests = {}
    for directory in (ARCHIVE_DIR, ARCHIVE_DIR / "superseded"):
        path = ROOT / directory / "MANIFEST.json"
        if path.exists():
            manifests[directory] = json.loads(path.read_text())
    resources = []
    for relative in data_files():
        path = ROOT / relative
        name = relative.as_posix().replace("/", "-").replace("_", "-").lower().rsplit(".", 1)[0].replace(".", "-")
        resources.append({"name": name, "path": relative.as_posix(), "bytes": path.stat().st_size,
                          "hash": f"sha256:{_sha256(path)}", **_describe(relative, manifests)})
    return {"name": "kanpaper-data", "title": "kanpaper: reference data and paper-budget runs",
            "version": __version__,
            "description": "The authors' per-step results (reference data) and the runs kanpaper computed at the "
                           "paper's budgets, each file with its SHA-256.",
            "licenses": [{"name": "MIT", "title": "kanpaper's own runs; the reference data are not covered (see "
                                                  "kanpaper/analysis/reference_data/DATA.md)"}],
            "resources": resources}


def write() -> None:
    """Write :func:`data_package` to ``datapackage.json``."""
    PACKAGE_FILE.write_text(json.dumps(data_package(), indent=1) + "\n")


def main() -> int:
    write()
    print(f"{PACKAGE_FILE.name}: {len(data_package()['resources'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
