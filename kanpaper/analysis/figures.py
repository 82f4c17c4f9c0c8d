"""Figures: the project style, deterministic PDF + PNG saving, and the paper's frequency heatmap.

Saved files carry no timestamps or software versions, so rerunning a notebook
with the same results rewrites identical bytes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

from ..base.provenance import record_figures

__all__ = ["STYLE", "style", "use_style", "save_figure", "tidy_log_axes", "heatmap_colormap",
           "plot_frequency_heatmap"]

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
    """Save ``fig`` as ``directory/name.pdf`` and ``directory/name.png``, and record where they come from in
    ``directory/PROVENANCE.json`` (:mod:`kanpaper.base.provenance`).

    Args:
        fig: the figure.
        name: file stem, letters, digits, ``-`` and ``_`` only.
        directory: created if missing.

    Log axes are tidied first (:func:`tidy_log_axes`).

    Returns:
        The two paths written.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"figure name must be a non-empty file stem of letters, digits, '-' or '_', got {name!r}")
    tidy_log_axes(fig)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, metadata in _METADATA.items():
        path = directory / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, metadata=metadata)
        paths.append(path)
    record_figures(paths)
    return paths


def tidy_log_axes(fig: plt.Figure) -> None:
    """Readable log axes: no labels on minor ticks (matplotlib labels them when an axis spans under about two
    decades, and they collide); on such short axes labelled major ticks at 1, 2 and 5 times the powers of ten, or
    at every integer multiple where that leaves fewer than two in view. Axes whose ticks a figure set itself
    (``set_xticks``: a fixed locator) keep them, without minor labels."""
    every_tick = dict(labelOnlyBase=False, minor_thresholds=(np.inf, np.inf))
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() != "log":
                continue
            low, high = sorted(limits)
            if isinstance(axis.get_major_locator(), LogLocator) and low > 0 and np.log10(high / low) < 2:
                for subs in ((1.0, 2.0, 5.0), np.arange(1.0, 10.0)):
                    locator = LogLocator(base=10, subs=subs)
                    ticks = locator.tick_values(low, high)
                    if ((ticks >= low) & (ticks <= high)).sum() >= 2:
                        break
                axis.set_major_locator(locator)
                axis.set_major_formatter(LogFormatterSciNotation(**every_tick))
            axis.set_minor_formatter(NullFormatter())


def heatmap_colormap() -> ListedColormap:
    """The paper's colour map, continuous (256 levels) as the authors drew it: seaborn
    ``cubehelix_palette(8, start=.5, rot=-.75, reverse=True, as_cmap=True)`` (with ``as_cmap`` the 8 is ignored)."""
    return sns.cubehelix_palette(8, start=0.5, rot=-0.75, reverse=True, as_cmap=True)


def plot_frequency_heatmap(ax: plt.Axes, values: np.ndarray, steps: Sequence[int], frequencies: Sequence[int],
                           *, title: str | None = None, colorbar: bool = True, label: str = "learned fraction",
                           log_steps: bool = False):
    """Heatmap of ``values`` (iterations x frequencies), iteration 0 at the bottom, fixed 0..1 scale.

    Args:
        values: ``(n_records, F)``.
        steps: ``(n_records,)`` iteration of each row (positive and increasing with ``log_steps``).
        frequencies: ``(F,)`` column labels.
        log_steps: a logarithmic iteration axis, each row spanning the geometric midpoints to its neighbours.

    Returns:
        The image (for a shared colour bar).
    """
    values = np.asarray(values, dtype=float)
    steps = np.asarray(steps)
    if values.shape != (len(steps), len(frequencies)):
        raise ValueError(f"values must be (len(steps), len(frequencies)) = {(len(steps), len(frequencies))}, "
                         f"got {values.shape}")
    if log_steps:
        if len(steps) < 2 or steps[0] <= 0 or (np.diff(steps) <= 0).any():
            raise ValueError("log_steps needs at least two positive, increasing steps")
        steps = steps.astype(np.float64)
        mids = np.sqrt(steps[1:] * steps[:-1])
        edges = np.concatenate([[steps[0] ** 2 / mids[0]], mids, [steps[-1] ** 2 / mids[-1]]])
        image = ax.pcolormesh(np.arange(len(frequencies) + 1) - 0.5, edges, values, cmap=heatmap_colormap(),
                              vmin=0.0, vmax=1.0)
        ax.set_yscale("log")
    else:
        step = steps[1] - steps[0] if len(steps) > 1 else 1
        extent = (-0.5, len(frequencies) - 0.5, steps[0] - step / 2, steps[-1] + step / 2)
        image = ax.imshow(values, aspect="auto", origin="lower", extent=extent, cmap=heatmap_colormap(),
                          vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(len(frequencies)), [str(f) for f in frequencies])
    ax.set_xlabel("frequency")
    ax.set_ylabel("iteration")
    ax.grid(False)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label)
    return image
