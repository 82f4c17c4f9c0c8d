"""The companion's plumbing: set-up files agree, notebooks fail loudly, figures are deterministic."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib
import nbformat
import pytest
import yaml

from kanpaper import run_notebooks
from kanpaper.figures import save_figure, style
from kanpaper.scales import SCALES, resolve_scale

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_agrees_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11" and project["requires-python"] == ">=3.11"
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    editable = next(p for p in pip if p.startswith("-e "))
    extras = set(re.fullmatch(r"-e \.\[(.*)\]", editable).group(1).split(","))
    assert extras == set(project["optional-dependencies"])
    torch_pin = next(p for p in pip if p.startswith("torch"))
    makefile = (ROOT / "Makefile").read_text()
    assert f"TORCH_SPEC  ?= {torch_pin}" in makefile
    assert any(d.startswith("torch") for d in project["dependencies"])


def test_readme_shows_the_two_commands_and_every_notebook():
    readme = (ROOT / "README.md").read_text()
    assert "make figures" in readme and "make test" in readme
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert notebook.name in readme, f"README table misses {notebook.name}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_notebooks_are_clean_for_nbval():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        assert sum("parameters" in t for t in tags) == 1, path.name
        assert not any("injected-parameters" in t for t in tags), path.name
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
                assert cell.execution_count is not None, f"{path.name}: checked cell was never run"


def test_stored_notebooks_are_as_jupyterlab_saves_them():
    # opening a notebook must not modify it: the kernel metadata is what this environment's kernel writes, and
    # nothing a run leaves behind (stderr, progress widgets, timestamps) is stored
    from jupyter_client.kernelspec import KernelSpecManager

    display_name = KernelSpecManager().get_kernel_spec("python3").display_name
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["display_name"] == display_name, \
            f"{path.name}: kernel {nb.metadata['kernelspec']['display_name']!r}, the venv's is {display_name!r}"
        assert "widgets" not in nb.metadata, path.name
        for i, cell in enumerate(nb.cells):
            assert "execution" not in cell.metadata, f"{path.name} cell {i}: execution timestamps stored"
            for output in cell.get("outputs", []):
                assert output.get("name") != "stderr", f"{path.name} cell {i}: stderr output stored"
                assert run_notebooks.WIDGET_VIEW not in output.get("data", {}), f"{path.name} cell {i}: a widget"


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


def test_scales():
    assert resolve_scale("Smoke") == "smoke" and SCALES == ("smoke", "default", "paper")
    with pytest.raises(ValueError, match="unknown scale 'huge'; allowed: 'smoke', 'default', 'paper'"):
        resolve_scale("huge")


def test_scale_from_environment(monkeypatch):
    monkeypatch.setenv("KANPAPER_SCALE", "paper")
    assert resolve_scale() == "paper"
    monkeypatch.setenv("KANPAPER_SCALE", "nonsense")
    with pytest.raises(ValueError, match="allowed"):
        resolve_scale()


def test_figures_are_deterministic(tmp_path):
    import matplotlib.pyplot as plt

    def draw(directory):
        with style():
            fig, ax = plt.subplots()
            ax.plot([0, 1, 2], [1, 0, 2], label="a")
            ax.legend()
            paths = save_figure(fig, "demo", directory)
            plt.close(fig)
        return paths

    first, second = draw(tmp_path / "a"), draw(tmp_path / "b")
    assert [p.suffix for p in first] == [".pdf", ".png"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    assert b"CreationDate" not in first[0].read_bytes()
    with pytest.raises(ValueError, match="file stem"):
        save_figure(plt.figure(), "../escape", tmp_path)


def test_short_log_axes_get_readable_ticks(tmp_path):
    import matplotlib.pyplot as plt

    with style():
        fig, (short, long, shorter, fixed) = plt.subplots(1, 4)
        fixed.semilogx([5, 40], [0, 1])
        fixed.set_xticks([5, 10, 20, 40], ["5", "10", "20", "40"])     # ticks a figure sets are kept
        short.semilogy([1, 2], [120.0, 900.0])          # under one decade: matplotlib would label minor ticks
        long.semilogy([1, 2], [1e-6, 1e2])
        shorter.semilogy([1, 2], [0.52, 1.09])          # 1, 2, 5 x 10^k leave one tick in view: every integer
        save_figure(fig, "ticks", tmp_path)
        in_view = [t.get_text() for t in shorter.yaxis.get_majorticklabels()
                   if t.get_text() and 0.52 <= t.get_position()[1] <= 1.09]
        minor = [t.get_text() for t in short.yaxis.get_minorticklabels() if t.get_text()]
        major = [t.get_text() for t in short.yaxis.get_majorticklabels()
                 if t.get_text() and 120 <= t.get_position()[1] <= 900]
        long_minor = [t.get_text() for t in long.yaxis.get_minorticklabels() if t.get_text()]
        kept = [t.get_text() for t in fixed.xaxis.get_majorticklabels()]
        fixed_minor = [t.get_text() for t in fixed.xaxis.get_minorticklabels() if t.get_text()]
        plt.close(fig)
    assert minor == [] and long_minor == [], f"minor tick labels {minor}, {long_minor}; required none"
    assert len(major) >= 2, f"major tick labels within [120, 900]: {major}; required at least two (200, 500)"
    assert len(in_view) >= 2, f"major tick labels within [0.52, 1.09]: {in_view}; required at least two"
    assert kept == ["5", "10", "20", "40"], f"ticks set by the figure became {kept}"
    assert fixed_minor == [], f"minor tick labels beside the figure's own ticks: {fixed_minor}; required none"


def _notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('scale = "default"\nfigures_dir = "."\ncache_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


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


def test_browser_check_says_when_it_skips():
    script = ROOT / "scripts" / "check_lab_in_browser.py"
    env = {k: v for k, v in os.environ.items() if k != "CHROMIUM"} | {"PATH": "/nonexistent"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "browser check SKIPPED: no chromium" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([sys.executable, str(script), "--require-browser"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 1 and "SKIPPED" in done.stdout


def test_make_figures_computes_the_listed_runs_first_and_checks_the_list(tmp_path, capsys):
    """``--runs-only`` fills the cache with a notebook's listed runs; ``--check-runs`` says when the cache and
    the list differ either way (a listed run no notebook asked for, or a run asked for but not listed)."""
    from kanpaper import paper
    from kanpaper.cache import ResultsCache

    notebook, cache = ROOT / "notebooks" / "09_poisson_fig5.ipynb", tmp_path / "cache"
    args = ["--scale", "smoke", "--cache-dir", str(cache), str(notebook)]
    assert run_notebooks.main(["--runs-only", *args]) == 0
    listed = list(paper.figure_5_configs("ritz", "smoke").values())
    assert all(ResultsCache(cache).load(c) is not None for c in listed)
    assert run_notebooks.main(["--check-runs", *args]) == 0
    assert "holds exactly the runs listed for 1 notebooks at smoke" in capsys.readouterr().out
    extra = {**listed[0], "n_points": 7}
    ResultsCache(cache).store(extra, {"x": [0.0]})
    ResultsCache(cache).path(listed[1]).unlink()
    assert run_notebooks.main(["--check-runs", *args]) == 1
    err = capsys.readouterr().err
    assert "asked for by a notebook, not listed in paper.notebook_runs: KAN W10 D2 G20-40 k=2" in err
    assert "listed, never asked for by a notebook: " in err and "holds not exactly" in err
