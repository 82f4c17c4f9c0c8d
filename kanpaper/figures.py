"""Figures: the project style and deterministic PDF + PNG saving.

Saved files carry no timestamps or software versions, so rerunning a notebook
with the same results rewrites identical bytes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["STYLE", "style", "use_style", "save_figure"]

STYLE = Path(__file__).with_name("kanpaper.mplstyle")

_METADATA = {
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "png": {"Software": None},
}


@contextmanager
def style():
    """Context manager applying the project style (nothing global is changed on import)."""
    with mpl.style.context(str(STYLE)):
        yield


def use_style() -> None:
    """Apply the project style for the rest of the session (for notebooks)."""
    mpl.style.use(str(STYLE))


def save_figure(fig: plt.Figure, name: str, directory: str | os.PathLike) -> list[Path]:
    """Save ``fig`` as ``directory/name.pdf`` and ``directory/name.png``.

    Args:
        fig: the figure.
        name: file stem, letters, digits, ``-`` and ``_`` only.
        directory: created if missing.

    Returns:
        The two paths written.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"figure name must be a non-empty file stem of letters, digits, '-' or '_', got {name!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, metadata in _METADATA.items():
        path = directory / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, metadata=metadata)
        paths.append(path)
    return paths
