"""Figure provenance: a saved figure is recorded with its hash, notebook, runs and commit, and a figure that is
new, changed or gone is found."""

import json
import re
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from kanpaper.analysis.figures import save_figure
from kanpaper.base import provenance
from kanpaper.runs.cache import ResultsCache, config_key

FIGURES = provenance.ROOT / "figures"


def small_figure():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def test_a_saved_figure_records_its_hash_notebook_and_the_runs_read_before_it(tmp_path):
    cache = ResultsCache(tmp_path / "cache")
    config = {"provenance test": 1}
    cache.store(config, {"x": np.arange(3)})
    cache.load(config)
    provenance.note_scale("smoke")
    paths = save_figure(small_figure(), "07_provenance_check", tmp_path / "figs")
    recorded = json.loads((tmp_path / "figs" / provenance.PROVENANCE_FILE).read_text())
    assert sorted(recorded) == ["07_provenance_check.pdf", "07_provenance_check.png"]
    for path in paths:
        entry = recorded[path.name]
        assert entry["sha256"] == provenance.sha256(path)
        assert entry["notebook"] == "07_grf_fig3_fig4.ipynb" and entry["scale"] == "smoke"
        assert config_key(config) in entry["runs"] and config_key(config) not in entry["archive"]
        assert entry["cell"] is None                     # outside a notebook
        assert entry["commit"] == provenance.commit()
        assert entry["cpu"] == provenance.cpu_model()
        assert entry["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert provenance.unaccounted(tmp_path / "figs") == []


def test_a_figure_without_provenance_a_changed_one_and_a_missing_one_are_found(tmp_path):
    save_figure(small_figure(), "no_notebook", tmp_path)
    assert json.loads((tmp_path / provenance.PROVENANCE_FILE).read_text())["no_notebook.png"]["notebook"] is None
    plt.close("all")
    small_figure().savefig(tmp_path / "stray.png")
    (tmp_path / "no_notebook.pdf").write_bytes(b"%PDF-1.4 changed")
    (tmp_path / "no_notebook.png").unlink()
    assert provenance.unaccounted(tmp_path) == ["stray.png: no provenance",
                                                "no_notebook.pdf: changed since its provenance was written",
                                                "no_notebook.png: in the provenance but not in " + str(tmp_path)]


def test_figures_of_one_record_share_a_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a/x.png", "b/x.png"):
        (tmp_path / name).write_bytes(b"png")
    with pytest.raises(ValueError, match="one folder"):
        provenance.record_figures([tmp_path / "a/x.png", tmp_path / "b/x.png"])


def test_every_committed_figure_has_its_provenance():
    """make figures writes PROVENANCE.json beside the figures; a figure committed without rerunning it (or
    edited by hand) fails here, and so does one whose entry does not say which CPU computed its runs."""
    for folder in [FIGURES] + [p for p in FIGURES.iterdir() if p.is_dir()]:
        assert provenance.unaccounted(folder) == [], folder
        entries = json.loads((folder / provenance.PROVENANCE_FILE).read_text())
        assert all(entry.get("cpu") and entry.get("cpu_capability") for entry in entries.values()), folder


def committed(path: str) -> str:
    """A file as committed at HEAD (the working copy where git is missing): ``make figures`` rewrites figures/ on
    whatever machine it runs, and the check below is about what the repository ships."""
    try:
        return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=provenance.ROOT, capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return (provenance.ROOT / path).read_text()


def test_each_notebooks_stored_outputs_come_from_the_machine_that_drew_its_figures():
    """A notebook's stored outputs (what a reader sees) and its committed figures must show the same machine's
    numbers: trained runs differ by CPU beyond the last bits (notebook 10's G = 100 KAN). The setup line of the
    stored outputs names the CPU; it must be the one in the provenance of every figure of that notebook."""
    entries = json.loads(committed(f"figures/{provenance.PROVENANCE_FILE}"))
    for path in sorted((provenance.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(committed(f"notebooks/{path.name}"))["cells"]
        text = "".join("".join(output.get("text", "")) for cell in cells for output in cell.get("outputs", []))
        found = re.search(r"^kanpaper \S+ on (.+) \((\w+)\), scale ", text, flags=re.M)
        assert found, f"{path.name}: no setup line naming the CPU in its stored outputs"
        drawn = {(e["cpu"], e["cpu_capability"]) for e in entries.values() if e["notebook"] == path.name}
        assert drawn <= {found.groups()}, f"{path.name}: outputs from {found.groups()}, figures from {drawn}"
