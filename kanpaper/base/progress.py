"""Progress of long runs, in the form that suits where they run.

``$KANPAPER_PROGRESS`` chooses: ``"bar"`` (default) draws a progress bar (a widget in JupyterLab, text in a
terminal); ``"lines"`` prints one line per finished run and nothing while it runs (headless runs:
``make figures`` and ``make test`` set it, so logs and executed notebooks stay quiet); ``"off"`` prints nothing.
"""

from __future__ import annotations

import os
from typing import Iterable

from tqdm.auto import tqdm

from .checks import check_choice

__all__ = ["ENV_VAR", "MODES", "mode", "bar", "report"]

ENV_VAR = "KANPAPER_PROGRESS"
MODES = ("bar", "lines", "off")


def mode() -> str:
    """The progress mode: ``$KANPAPER_PROGRESS`` if set, else ``"bar"``."""
    return check_choice(ENV_VAR, os.environ.get(ENV_VAR, "bar").strip().lower(), MODES)


def bar(iterable: Iterable, *, total: int | None = None, desc: str | None = None, enabled: bool = True) -> tqdm:
    """``iterable`` wrapped in a progress bar, drawn only in ``"bar"`` mode and when ``enabled``; it disappears
    when done (a finished run reports through :func:`report`)."""
    return tqdm(iterable, total=total, desc=desc, disable=not enabled or mode() != "bar", leave=False,
                mininterval=1.0)


def report(line: str, enabled: bool = True) -> None:
    """Print ``line`` (one finished run) in ``"lines"`` mode when ``enabled``."""
    if enabled and mode() == "lines":
        print(line, flush=True)
