"""The notebook runner behind make figures: bad settings refused before any run, failures loud, an interrupted
make figures resumed, the runs it computes first the runs the notebooks ask for."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from kanpaper import run_notebooks

ROOT = Path(__file__).resolve().parents[1]


def test_run_notebooks_rejects_a_bad_device_before_running(tmp_path, capsys):
    notebook = tmp_path / "00_never_runs.ipynb"
    notebook.write_text("{}")
    assert run_notebooks.main(["--device", "tpu", str(notebook)]) == 2
    assert "allowed: cpu, cuda, cuda:N" in capsys.readouterr().err


def test_make_figures_fails_on_a_failing_notebook_and_resumes(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    log = tmp_path / "log.txt"
    _notebook(nbs / "00_ok.ipynb", f"open({str(log)!r}, 'a').write('ok ' + scale + '\\n')")
    _notebook(nbs / "01_fail.ipynb", f"open({str(log)!r}, 'a').write('fail\\n')\nraise ValueError('boom')")
    args = ["make", "--no-print-directory", "-C", str(ROOT), "figures", f"NB_DIR={nbs}", "SCALE=smoke",
            f"RUN_DIR={tmp_path / 'run'}", f"FIGURES_DIR={tmp_path / 'fig'}", f"CACHE_DIR={tmp_path / 'cache'}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    for attempt in (1, 2):
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode != 0
        assert "01_fail.ipynb" in done.stderr and "ValueError: boom" in done.stderr
        assert "cell" in done.stderr
        assert "without encryption" not in done.stderr      # the kernel's start-up warning is silenced
    # the finished notebook ran once, at the requested scale; the failing one was retried
    assert log.read_text().splitlines() == ["ok smoke", "fail", "fail"]
    assert (tmp_path / "run" / "00_ok.ok").exists() and not (tmp_path / "run" / "01_fail.ok").exists()


def test_run_notebooks_rejects_unknown_scale():
    done = subprocess.run([sys.executable, "-m", "kanpaper.run_notebooks", "--scale", "huge", "x.ipynb"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice: 'huge'" in done.stderr


def test_make_figures_computes_the_listed_runs_first_and_checks_the_list(tmp_path, capsys):
    """``--runs-only`` fills the cache with a notebook's listed runs; ``--check-runs`` says when the cache and
    the list differ either way (a listed run no notebook asked for, or a run asked for but not listed)."""
    from kanpaper.experiments import paper
    from kanpaper.runs.cache import ResultsCache

    notebook, cache = ROOT / "notebooks" / "09_poisson_fig5.ipynb", tmp_path / "cache"
    args = ["--scale", "smoke", "--cache-dir", str(cache), str(notebook)]
    assert run_notebooks.main(["--runs-only", *args]) == 0
    listed = list(paper.figure_5_configs("ritz", "smoke").values()) + list(paper.figure_5_seed_configs("smoke").values())
    assert all(ResultsCache(cache).load(c) is not None for c in listed)
    assert run_notebooks.main(["--check-runs", *args]) == 0
    assert "holds exactly the runs listed for 1 notebooks at smoke" in capsys.readouterr().out
    extra = {**listed[0], "n_points": 7}
    ResultsCache(cache).store(extra, {"x": [0.0]})
    ResultsCache(cache).path(listed[1]).unlink()
    assert run_notebooks.main(["--check-runs", *args]) == 1
    err = capsys.readouterr().err
    assert "asked for by a notebook, not listed in notebook.notebook_runs: KAN W10 D2 G20-40 k=2" in err
    assert "listed, never asked for by a notebook: " in err and "holds not exactly" in err


def test_clean_notebook_removes_what_runs_leave_behind(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {"state": {}}
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="progress\n"),
                    nbformat.v4.new_output("display_data", data={run_notebooks.WIDGET_VIEW: {"model_id": "x"},
                                                                 "text/plain": "HBox()"}),
                    nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert run_notebooks.clean_notebook(path) == 2
    cleaned = nbformat.read(path, as_version=4)
    assert [o.get("text") for o in cleaned.cells[0].outputs] == ["1\n"]
    assert "execution" not in cleaned.cells[0].metadata and "widgets" not in cleaned.metadata
    assert cleaned.metadata["kernelspec"]["name"] == "python3"


def _notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('scale = "default"\nfigures_dir = "."\ncache_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
