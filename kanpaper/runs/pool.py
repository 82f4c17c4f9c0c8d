"""Lists of runs computed through the results cache: in worker processes, longest first, one thread each.

:func:`run_experiments` is ``[fn(c) for c in configs]`` for one experiment's run function ``fn``;
:func:`run_groups` does the same for several experiments' lists in one pool (what ``make figures`` runs before
the notebooks). A run found in the cache is loaded; the missing ones go through :func:`~kanpaper.runs.sweep.run_sweep`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..base.settings import THREADS_PER_RUN
from ..experiments.spec import describe
from .cache import ResultsCache, config_key
from .costs import announce, expected_seconds
from .sweep import run_sweep, scheduler_address

__all__ = ["run_experiments", "run_groups"]

Config = Mapping[str, Any]


def run_experiments(fn: Callable[..., Mapping[str, Any]], configs: Sequence[Config], *,
                    cache: ResultsCache | None = None, workers: int | None = None,
                    scheduler: str | None = None) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]`` through the results cache, every missing run on one torch thread.

    The runs go ``workers`` at a time (default: all cores) into worker processes, longest first (by this
    machine's measured step costs where ``make estimate`` has measured them, else MLPs before KANs), each
    reported when it finishes; with ``workers=1``, or one run to compute, they run in this process with their
    own progress bars. On a Dask cluster (``scheduler`` or ``$KANPAPER_DASK_SCHEDULER``) every run is one task.
    One thread per run wherever it runs (:data:`~kanpaper.base.settings.THREADS_PER_RUN`): a run's numbers do not
    depend on how many runs are computed beside it (the thread count changes how sums are split, so their
    rounding), and on a small machine single-thread runs side by side get through more work than one run on all
    cores (the README has the measurement). The runs are announced first, with their estimated time where
    :mod:`kanpaper.runs.costs` has measured this machine. ``fn(config, progress=...)`` is an experiment's run function.
    """
    return run_groups([(fn, configs)], cache=cache, workers=workers, scheduler=scheduler)[0]


def run_groups(groups: Sequence[tuple[Callable[..., Mapping[str, Any]], Sequence[Config]]], *,
               cache: ResultsCache | None = None, workers: int | None = None,
               scheduler: str | None = None) -> list[list[dict[str, np.ndarray]]]:
    """:func:`run_experiments` of every ``(fn, configs)`` in ``groups``, all missing runs in one pool (longest
    first across groups, so no core waits for the end of a group); a run asked for twice is computed once.
    Returns one list of results per group, in the order of its configs."""
    runs = {config_key(c): (fn, c) for fn, configs in groups for c in configs}
    todo = [(fn, c) for fn, c in runs.values() if cache is None or cache.load(c) is None]
    if todo:
        print(announce(todo, workers), flush=True)
    inline = scheduler_address(scheduler) is None and (workers == 1 or len(todo) <= 1)
    results = run_sweep([partial(fn, progress=inline) for fn, _ in runs.values()], [c for _, c in runs.values()],
                        n_jobs=1 if inline else workers or -1, cache=cache, threads_per_job=THREADS_PER_RUN,
                        show_progress=not inline, scheduler=scheduler, priority=expected_seconds(todo),
                        label=_label)
    by_key = dict(zip(runs, results))
    return [[by_key[config_key(c)] for c in configs] for _, configs in groups]


def _label(config: Mapping[str, Any]) -> str:
    return describe(config, problem=True)
