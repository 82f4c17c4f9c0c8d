"""Sweeps: map a function over a list of configs, locally or on a cluster.

Runs go through joblib: local processes by default; inside
``joblib.parallel_config(backend="dask")`` (with a ``dask.distributed.Client``
connected) the same call runs on a Dask cluster. With a results cache, each run
is looked up first and stored as soon as it finishes, so an interrupted sweep
resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from joblib import Parallel, delayed

from . import progress
from .cache import ResultsCache

__all__ = ["run_sweep", "run_mixed_sweep"]

Config = Mapping[str, Any]


def _run_one(fn: Callable[[Config], Mapping[str, Any]], config: Config,
             cache_dir: str | None, threads: int | None = None) -> dict[str, np.ndarray]:
    if threads is not None:
        torch.set_num_threads(threads)
    if cache_dir is None:
        return {k: np.asarray(v) for k, v in fn(config).items()}
    return ResultsCache(cache_dir).get_or_compute(config, fn)


def run_sweep(fn: Callable[[Config], Mapping[str, Any]], configs: Sequence[Config], *,
              n_jobs: int | None = None, cache: ResultsCache | None = None,
              backend: str | None = None, threads_per_job: int | None = None,
              show_progress: bool = False) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]``, in parallel, through the cache if given.

    Args:
        fn: a picklable (module-level) function from a config dict to a dict of arrays.
        configs: JSON-serialisable dicts.
        n_jobs: workers (joblib's meaning; default: 1 for a single config, else all cores).
        cache: a :class:`ResultsCache`; cached runs are not recomputed.
        backend: a joblib backend name; ``None`` uses the active ``parallel_config``
            (local processes unless, e.g., the ``"dask"`` backend is active).
        threads_per_job: torch threads in each worker process (e.g. 1 with
            ``n_jobs`` = cores: small KANs gain more from parallel runs than from
            threads). ``None`` leaves torch's default; ignored when ``n_jobs == 1``
            (runs then share this process).
        show_progress: a bar over the finished runs (:mod:`kanpaper.progress`), for runs that report nothing
            themselves (those in worker processes).

    Returns:
        The results in the order of ``configs``.
    """
    configs = list(configs)
    if not configs:
        return []
    cache_dir = str(cache.directory) if cache is not None else None
    if cache is not None:
        found = [cache.load(c) for c in configs]
        missing = [i for i, f in enumerate(found) if f is None]
    else:
        found, missing = [None] * len(configs), list(range(len(configs)))
    if n_jobs is None:
        n_jobs = 1 if len(missing) <= 1 else -1
    if threads_per_job is not None and threads_per_job < 1:
        raise ValueError(f"threads_per_job must be >= 1 or None, got {threads_per_job}")
    threads = threads_per_job if n_jobs != 1 else None
    if missing:
        start = time.perf_counter()
        computed = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")(
            delayed(_run_one)(fn, configs[i], cache_dir, threads) for i in missing)
        for i, result in zip(missing, progress.bar(computed, total=len(missing), desc="parallel runs",
                                                   enabled=show_progress)):
            found[i] = result
        progress.report(f"{len(missing)} runs in parallel: {time.perf_counter() - start:.1f} s", show_progress)
    return found


def run_mixed_sweep(fn: Callable[..., Mapping[str, Any]], configs: Sequence[Config],
                    in_parallel: Callable[[Config], bool], *, cache: ResultsCache | None = None,
                    workers: int | None = None) -> list[dict[str, np.ndarray]]:
    """Like :func:`run_sweep`, for a mix of heavy and light runs.

    Configs with ``in_parallel(config)`` false (e.g. wide MLPs, whose matrix
    products use all of torch's threads) run one at a time in this process with
    a progress bar; the others (e.g. small KANs, bound by per-operation overhead)
    run ``workers`` at a time (default: all cores) with one thread each, unless
    only one of them is left to compute.
    ``fn(config, progress=...)`` must accept a ``progress`` keyword.
    """
    configs = list(configs)
    workers = workers or os.cpu_count() or 1
    results: list[dict[str, np.ndarray] | None] = [None] * len(configs)
    for parallel in (False, True):
        index = [i for i, c in enumerate(configs) if bool(in_parallel(c)) == parallel]
        if cache is not None:      # a lone missing run gets this process and all its threads
            missing = sum(cache.load(configs[i]) is None for i in index)
            parallel = parallel and missing > 1
        jobs = workers if parallel else 1
        runs = run_sweep(partial(fn, progress=not parallel), [configs[i] for i in index], cache=cache,
                         n_jobs=jobs, threads_per_job=1 if parallel else None, show_progress=parallel)
        for i, run in zip(index, runs):
            results[i] = run
    return results
