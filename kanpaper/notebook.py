"""What a notebook runs with: the one set-up call it makes after its parameters cell, and the runs it asks for.

A notebook's parameters cell holds ``scale``, ``figures_dir`` and ``cache_dir`` as ``None``; papermill
(``make figures``) overrides them, and ``None`` falls back to the environment (``KANPAPER_SCALE``,
``KANPAPER_FIGURES``, ``KANPAPER_CACHE``: how ``make test`` and JupyterLab reach a notebook), then to the
defaults below, so the scale has one home: :func:`kanpaper.base.settings.resolve_scale`. By default a notebook run
interactively writes its figures to ``build/figures/<scale>/``: only ``make figures`` writes the committed
``figures/``.

:func:`notebook_runs` lists the runs each notebook asks for (``make figures`` computes them all in one pool before
it executes the notebooks, ``make estimate`` times them, ``make test`` checks the list against what the notebooks
asked for).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .analysis.figures import use_style
from .base.provenance import note_scale, numerics
from .base.settings import resolve_scale
from .base.version import __version__
from .experiments import efficiency, first_extension, grf, paper, poisson, waves
from .experiments.paper import budget
from .runs.cache import ResultsCache, config_key

__all__ = ["Session", "setup", "ARCHIVE", "paper_archive", "archive_manifest", "pykan_first_extension",
           "superseded_archive", "notebook_runs", "runs_of"]

FIGURES_ENV, CACHE_ENV = "KANPAPER_FIGURES", "KANPAPER_CACHE"
DEFAULT_FIGURES, DEFAULT_CACHE = "../build/figures/{scale}", "../.cache/results"     # relative to notebooks/
ARCHIVE = Path(__file__).resolve().parents[1] / "results" / "paper"    # the committed paper-scale runs


def paper_archive() -> ResultsCache:
    """The committed results archive of paper-scale runs (``results/paper/``, filled by
    ``scripts/archive_paper_runs.py``): a notebook at any scale reads the paper's budgets from it."""
    return ResultsCache(ARCHIVE)


def archive_manifest() -> dict[str, dict[str, Any]]:
    """The archive's manifest (``results/paper/MANIFEST.json``): per cache key, how the run was made (its commit,
    machine, threads, ``wall_seconds`` and versions)."""
    return json.loads((ARCHIVE / "MANIFEST.json").read_text())


def pykan_first_extension() -> dict | None:
    """pykan 0.2.8 itself at the first grid extension of Figure 3's KANs (``results/pykan/first_extension.json``,
    written by ``scripts/pykan_first_extension.py``: ``{"about": versions and machine, "runs": {label: ...}}``),
    or None where it was not run."""
    path = ARCHIVE.parent / "pykan" / "first_extension.json"
    return json.loads(path.read_text()) if path.exists() else None


def superseded_archive() -> ResultsCache:
    """Archived runs that were computed again (``results/paper/superseded/``): the same configurations as the
    archive's, made on another thread count and CPU, so a run and its superseded twin are rounding apart, the
    yardstick for how far rounding alone moves a run's end."""
    return ResultsCache(ARCHIVE / "superseded")


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
    """Resolve the scale and directories, apply the figure style, start the clock, print what runs and on which
    CPU (the stored outputs then say which machine's numbers they show); the scale goes into the provenance of the
    figures the notebook saves.

    Args:
        scale, figures_dir, cache_dir: the parameters cell's values (``None``: from the environment).
        experiment: a key of :data:`kanpaper.experiments.paper.BUDGETS` whose budget the notebook uses.
    """
    scale = resolve_scale(scale)
    note_scale(scale)
    session = Session(scale, budget(experiment, scale) if experiment else {},
                      Path(figures_dir or os.environ.get(FIGURES_ENV, DEFAULT_FIGURES.format(scale=scale))),
                      ResultsCache(cache_dir or os.environ.get(CACHE_ENV, DEFAULT_CACHE)))
    use_style()
    machine = numerics()
    print(f"kanpaper {__version__} on {machine['cpu']} ({machine['cpu_capability']}), scale {scale}"
          + (f": {session.budget}" if session.budget else ""))
    return session


def notebook_runs(scale: str | None = None) -> dict[str, list[tuple[Callable, list[dict[str, Any]]]]]:
    """The runs each notebook asks for at ``scale``, one ``(run function, configs)`` pair per
    ``run_experiments`` call it makes: ``{notebook: [(fn, configs), ...]}`` (notebooks without runs left out).
    ``make figures`` computes them all in one pool before the notebooks run; ``make estimate`` times them."""
    kan_sweep, mlp_sweep = paper.waves_sweep_configs(scale)
    grf_runs = [(grf.run_grf, list(paper.figure_3_configs(scale).values()))]
    return {
        "00_overview": [(waves.run_waves, paper.overview_configs(scale))],
        "05_waves_fig1_fig2": [(waves.run_waves, paper.figure_1_configs(a, scale)) for a in ("equal", "increasing")],
        "06_waves_hyperparameters": [(waves.run_waves, kan_sweep), (waves.run_waves, mlp_sweep),
                                     (waves.run_waves, list(paper.grid_extension_configs(scale).values()))],
        "07_grf_fig3_fig4": grf_runs + [
            (first_extension.run_first_extension, list(paper.first_extension_configs(scale).values())),
            # our seed spread at the paper's budget (below it the runs are too short to be a yardstick)
            (grf.run_grf, list(paper.figure_3_seed_configs(scale).values()) if resolve_scale(scale) == "paper"
             else [])],
        "08_grf_overfitting": [(grf.run_grf, list(paper.overfitting_configs(scale).values()))],
        "09_poisson_fig5": [(poisson.run_poisson, list(paper.figure_5_configs("ritz", scale).values())),
                            (poisson.run_poisson, list(paper.figure_5_seed_configs(scale).values()))],
        "10_kan_vs_mlp_parameters": [(efficiency.run_efficiency, list(paper.efficiency_configs(scale).values()))],
        "11_guidance": grf_runs,
        "14_beyond_parameterisation_and_optimizer": [
            (waves.run_waves, list(paper.twin_configs(scale).values())),
            (waves.run_waves, list(paper.adam_against_lbfgs_configs(scale).values()))],
        "15_beyond_exact_refinement": [(grf.run_grf, list(paper.refinement_configs(scale).values()))],
    }


def runs_of(notebooks: Sequence[str] | None = None, scale: str | None = None) -> list[tuple[Callable, dict[str, Any]]]:
    """Every ``(run function, config)`` the ``notebooks`` (names without ``.ipynb``; default: all) ask for at
    ``scale``, each run once (by :func:`kanpaper.runs.cache.config_key`), in :func:`notebook_runs` order."""
    runs: dict[str, tuple[Callable, dict[str, Any]]] = {}
    for name, groups in notebook_runs(scale).items():
        if notebooks is None or name in notebooks:
            runs.update((config_key(c), (fn, c)) for fn, configs in groups for c in configs)
    return list(runs.values())
