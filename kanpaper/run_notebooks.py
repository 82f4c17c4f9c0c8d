"""Run notebooks headless with papermill: ``python -m kanpaper.run_notebooks NB [NB ...]``.

Each notebook runs in its own directory with the ``scale``, ``figures_dir`` and
``cache_dir`` parameters injected; the executed copy goes to ``--out-dir``. A
failing notebook stops the run with exit status 1 and a message naming the
notebook, the failing cell and the error. Runs report one line each
(:mod:`kanpaper.base.progress`), and the kernel's start-up warnings are silenced.

``python -m kanpaper.run_notebooks --runs-only NB [NB ...]`` computes the runs the notebooks ask for
(:func:`kanpaper.notebook.notebook_runs`) into the results cache and executes nothing: ``make figures`` does it first,
so that all of them share one pool, longest first (one notebook's runs alone leave cores idle at their end, and
the notebooks' own work runs on one core), and the notebooks then read them from the cache.

``python -m kanpaper.run_notebooks --check-runs NB [NB ...]`` checks that list against what the notebooks
did ask for: after they ran into an empty results cache (``make test`` does this at ``smoke``), the cache must
hold exactly the listed runs.

``python -m kanpaper.run_notebooks --clean NB [NB ...]`` tidies stored notebooks in place (``make
refresh-notebooks`` does it after executing them): no stderr or progress-widget output, no execution
timestamps, and the kernel metadata this environment's kernel writes, so that opening a notebook in JupyterLab
leaves it unmodified.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .base import progress, settings
from .base.settings import SCALES
from .runs import sweep

KERNEL = "python3"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def run_notebook(notebook: Path, out_dir: Path, scale: str, figures_dir: Path, cache_dir: Path,
                 timeout: int) -> None:
    import papermill

    notebook = notebook.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    here = notebook.parent
    parameters = {
        "scale": scale,
        "figures_dir": os.path.relpath(figures_dir.resolve(), here),
        "cache_dir": os.path.relpath(cache_dir.resolve(), here),
    }
    papermill.execute_notebook(str(notebook), str(out_dir / notebook.name), parameters=parameters,
                               kernel_name=KERNEL, cwd=str(here), execution_timeout=timeout,
                               log_output=False, progress_bar=False,
                               extra_arguments=["--IPKernelApp.log_level=ERROR"])


def compute_runs(notebooks: list[Path], scale: str, cache_dir: Path) -> None:
    """Every run of ``notebooks`` at ``scale`` missing from ``cache_dir``, in one pool (see the module docstring)."""
    from .notebook import runs_of
    from .runs.cache import ResultsCache
    from .runs.pool import run_groups

    start = time.perf_counter()
    run_groups([(fn, [config]) for fn, config in runs_of([nb.stem for nb in notebooks], scale)],
               cache=ResultsCache(cache_dir))
    count = f"{len(notebooks)} notebook{'s' if len(notebooks) != 1 else ''}"
    print(f"run_notebooks: the runs of {count} are in {cache_dir} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)


def check_runs(notebooks: list[Path], scale: str, cache_dir: Path) -> list[str]:
    """What differs between the runs ``notebook_runs`` lists for ``notebooks`` at ``scale`` and the runs in
    ``cache_dir`` (filled by those notebooks from empty): one line per run listed but never asked for, or asked
    for but not listed."""
    from .experiments.spec import describe
    from .notebook import runs_of
    from .runs.cache import ResultsCache, config_key

    listed = {config_key(c): c for _, c in runs_of([nb.stem for nb in notebooks], scale)}
    stored = ResultsCache(cache_dir).configs()
    return ([f"listed, never asked for by a notebook: {describe(listed[key], problem=True)}"
             for key in listed.keys() - stored.keys()]
            + [f"asked for by a notebook, not listed in notebook.notebook_runs: {describe(stored[key], problem=True)}"
               for key in stored.keys() - listed.keys()])


def clean_notebook(path: Path) -> int:
    """Tidy a stored notebook in place (see the module docstring); returns the number of outputs removed."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager

    nb = nbformat.read(path, as_version=4)
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    nb.metadata["kernelspec"] = {"display_name": spec.display_name, "language": spec.language, "name": KERNEL}
    nb.metadata.pop("widgets", None)
    removed = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
                and WIDGET_VIEW not in o.get("data", {})]
        removed += len(cell.outputs) - len(kept)
        cell.outputs = kept
    nbformat.write(nb, path)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--clean", action="store_true", help="tidy stored notebooks in place instead of running")
    parser.add_argument("--runs-only", action="store_true",
                        help="compute the notebooks' runs into the cache (one pool), execute nothing")
    parser.add_argument("--check-runs", action="store_true",
                        help="check that the cache holds exactly the runs listed for the notebooks")
    parser.add_argument("--scale", choices=SCALES, default="default")
    parser.add_argument("--out-dir", type=Path, default=Path("build/executed"))
    parser.add_argument("--figures-dir", type=Path, default=Path("figures"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/results"))
    parser.add_argument("--timeout", type=int, default=7200, help="seconds allowed per cell")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: $KANPAPER_DEVICE, else cpu)")
    parser.add_argument("--dask-scheduler", default=None,
                        help="run the sweeps on this Dask scheduler, e.g. tcp://host:8786 (default: "
                             "$KANPAPER_DASK_SCHEDULER, else locally)")
    args = parser.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError

    os.environ.setdefault(progress.ENV_VAR, "lines")      # kernels inherit it: one line per finished run
    if not args.clean:         # checked here, before any notebook starts; the kernels inherit both settings
        try:
            os.environ[settings.DEVICE_ENV] = str(settings.resolve_device(args.device))
            os.environ[sweep.SCHEDULER_ENV] = sweep.scheduler_address(args.dask_scheduler) or ""
        except (ValueError, RuntimeError) as error:
            print(f"run_notebooks: {error}", file=sys.stderr)
            return 2

    missing = [notebook for notebook in args.notebooks if not notebook.is_file()]
    if missing:
        print(f"run_notebooks: no such notebook: {missing[0]}", file=sys.stderr)
        return 2
    if args.runs_only:
        compute_runs(args.notebooks, args.scale, args.cache_dir)
        return 0
    if args.check_runs:
        problems = check_runs(args.notebooks, args.scale, args.cache_dir)
        for problem in problems:
            print(f"run_notebooks: {problem}", file=sys.stderr)
        print(f"run_notebooks: {args.cache_dir} holds {'not ' if problems else ''}exactly the runs listed for "
              f"{len(args.notebooks)} notebooks at {args.scale}", file=sys.stderr if problems else sys.stdout)
        return 1 if problems else 0
    for notebook in args.notebooks:
        if args.clean:
            print(f"run_notebooks: cleaned {notebook} ({clean_notebook(notebook)} outputs removed)")
            continue
        where = os.environ[settings.DEVICE_ENV] + (f", sweeps on {os.environ[sweep.SCHEDULER_ENV]}"
                                               if os.environ[sweep.SCHEDULER_ENV] else "")
        print(f"run_notebooks: {notebook} (scale {args.scale}, {where})", flush=True)
        try:
            run_notebook(notebook, args.out_dir, args.scale, args.figures_dir, args.cache_dir, args.timeout)
        except PapermillExecutionError as error:
            print(f"run_notebooks: FAILED {notebook}: cell {error.cell_index} (execution count "
                  f"{error.exec_count}) raised {error.ename}: {error.evalue}\n"
                  f"  the executed copy is {args.out_dir / notebook.name}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
