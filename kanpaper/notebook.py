"""The one set-up call every notebook makes after its parameters cell.

A notebook's parameters cell holds ``scale``, ``figures_dir`` and ``cache_dir`` as ``None``; papermill
(``make figures``) overrides them, and ``None`` falls back to the environment (``KANPAPER_SCALE``,
``KANPAPER_FIGURES``, ``KANPAPER_CACHE``: how ``make test`` and JupyterLab reach a notebook), then to the
defaults below, so the scale has one home: :func:`kanpaper.scales.resolve_scale`. By default a notebook run
interactively writes its figures to ``build/figures/<scale>/``: only ``make figures`` writes the committed
``figures/``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .cache import ResultsCache
from .figures import use_style
from .paper import budget
from .scales import resolve_scale

__all__ = ["Session", "setup", "ARCHIVE", "paper_archive"]

FIGURES_ENV, CACHE_ENV = "KANPAPER_FIGURES", "KANPAPER_CACHE"
DEFAULT_FIGURES, DEFAULT_CACHE = "../build/figures/{scale}", "../.cache/results"     # relative to notebooks/
ARCHIVE = Path(__file__).resolve().parents[1] / "results" / "paper"    # the committed paper-scale runs


def paper_archive() -> ResultsCache:
    """The committed results archive of paper-scale runs (``results/paper/``, filled by
    ``scripts/archive_paper_runs.py``): a notebook at any scale reads the paper's budgets from it."""
    return ResultsCache(ARCHIVE)


@dataclass
class Session:
    """What a notebook runs with.

    Attributes:
        scale: the run scale.
        budget: the experiment's budget at that scale (empty without an experiment).
        figures_dir: where figures are saved.
        cache: the results cache of finished runs.
        started: ``time.perf_counter()`` at set-up.
    """

    scale: str
    budget: dict[str, Any]
    figures_dir: Path
    cache: ResultsCache
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since set-up."""
        return time.perf_counter() - self.started

    def runtime(self) -> str:
        return f"notebook runtime: {self.elapsed():.0f} s at scale {self.scale}"


def setup(scale: str | None = None, figures_dir: str | None = None, cache_dir: str | None = None,
          experiment: str | None = None) -> Session:
    """Resolve the scale and directories, apply the figure style, start the clock, print what runs.

    Args:
        scale, figures_dir, cache_dir: the parameters cell's values (``None``: from the environment).
        experiment: a key of :data:`kanpaper.paper.BUDGETS` whose budget the notebook uses.
    """
    scale = resolve_scale(scale)
    session = Session(scale, budget(experiment, scale) if experiment else {},
                      Path(figures_dir or os.environ.get(FIGURES_ENV, DEFAULT_FIGURES.format(scale=scale))),
                      ResultsCache(cache_dir or os.environ.get(CACHE_ENV, DEFAULT_CACHE)))
    use_style()
    print(f"kanpaper {__version__}, scale {scale}" + (f": {session.budget}" if session.budget else ""))
    return session
