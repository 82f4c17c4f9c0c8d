"""The companion's plumbing: set-up files agree, notebooks fail loudly, figures are deterministic."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib
import nbformat
import yaml

from kanpaper import run_notebooks

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


def test_browser_check_says_when_it_skips():
    script = ROOT / "scripts" / "check_lab_in_browser.py"
    env = {k: v for k, v in os.environ.items() if k != "CHROMIUM"} | {"PATH": "/nonexistent"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "browser check SKIPPED: no chromium" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([sys.executable, str(script), "--require-browser"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 1 and "SKIPPED" in done.stdout


