"""Run notebooks headless with papermill: ``python -m kanpaper.run_notebooks NB [NB ...]``.

Each notebook runs in its own directory with the ``scale``, ``figures_dir`` and
``cache_dir`` parameters injected; the executed copy goes to ``--out-dir``. A
failing notebook stops the run with exit status 1 and a message naming the
notebook, the failing cell and the error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .scales import SCALES


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
                               kernel_name="python3", cwd=str(here), execution_timeout=timeout,
                               log_output=False, progress_bar=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--scale", choices=SCALES, default="default")
    parser.add_argument("--out-dir", type=Path, default=Path("build/executed"))
    parser.add_argument("--figures-dir", type=Path, default=Path("figures"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/results"))
    parser.add_argument("--timeout", type=int, default=7200, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError

    for notebook in args.notebooks:
        if not notebook.is_file():
            print(f"run_notebooks: no such notebook: {notebook}", file=sys.stderr)
            return 2
        print(f"run_notebooks: {notebook} (scale {args.scale})", flush=True)
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
