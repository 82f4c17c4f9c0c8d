"""Sweeps: map a function over a list of configs, locally or on a Dask cluster.

Locally, runs go through joblib processes. With a Dask scheduler address (the ``scheduler`` argument, or
``$KANPAPER_DASK_SCHEDULER``, which ``make figures DASK_SCHEDULER=tcp://host:8786`` sets for every notebook),
each missing config is one Dask task: a worker runs it and writes it to the results cache (by absolute path:
a directory the workers share, for a sweep that must survive its client), and this process stores every result
it receives, so a worker lost mid-run costs only its own config (Dask reruns it elsewhere) and a rerun of the
sweep takes every finished config from the cache. With a results cache, each run is looked up first and stored
as soon as it finishes, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from joblib import Parallel, delayed

from . import progress
from .cache import ResultsCache, config_key

__all__ = ["SCHEDULER_ENV", "scheduler_address", "run_sweep", "run_mixed_sweep"]

SCHEDULER_ENV = "KANPAPER_DASK_SCHEDULER"
CONNECT_TIMEOUT = "30s"      # how long to wait for the scheduler before saying it cannot be reached

Config = Mapping[str, Any]


def _run_one(fn: Callable[[Config], Mapping[str, Any]], config: Config,
             cache_dir: str | None, threads: int | None = None) -> dict[str, np.ndarray]:
    if threads is not None:
        torch.set_num_threads(threads)
    if cache_dir is None:
        return {k: np.asarray(v) for k, v in fn(config).items()}
    return ResultsCache(cache_dir).get_or_compute(config, fn)


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The Dask scheduler to run sweeps on: ``scheduler`` if given, else ``$KANPAPER_DASK_SCHEDULER``;
    ``None`` (or an empty string) runs locally."""
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV, "")
    scheduler = str(scheduler).strip()
    if scheduler and "://" not in scheduler:
        raise ValueError(f"a Dask scheduler is an address such as tcp://host:8786, got {scheduler!r}")
    return scheduler or None


def _task_name(fn: Callable, config: Config) -> str:
    name = getattr(getattr(fn, "func", fn), "__name__", "run")
    return f"kanpaper-{name}-{config_key(config)}"


def _on_cluster(address: str, fn: Callable, configs: list[Config], cache: ResultsCache | None,
                threads: int | None) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``(index, fn(configs[index]))`` in the order the cluster finishes them; stores each in ``cache``."""
    try:
        from distributed import Client, as_completed
    except ImportError as error:
        raise RuntimeError(f"running sweeps on the Dask scheduler {address} needs dask.distributed "
                           "(pip install 'kanpaper[cluster]')") from error
    try:
        client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except OSError as error:
        raise RuntimeError(f"cannot reach the Dask scheduler at {address} ({error}); start one "
                           f"(dask scheduler) or unset {SCHEDULER_ENV}") from error
    cache_dir = str(Path(cache.directory).resolve()) if cache is not None else None
    try:
        futures = {client.submit(_run_one, fn, config, cache_dir, threads, key=_task_name(fn, config)): i
                   for i, config in enumerate(configs)}
        for future in as_completed(futures, loop=client.loop):
            index, result = futures[future], future.result()
            if cache is not None and cache.load(configs[index]) is None:   # the workers' cache need not be ours
                result = cache.store(configs[index], result)
            yield index, result
    finally:
        client.close()


def run_sweep(fn: Callable[[Config], Mapping[str, Any]], configs: Sequence[Config], *,
              n_jobs: int | None = None, cache: ResultsCache | None = None,
              backend: str | None = None, threads_per_job: int | None = None,
              show_progress: bool = False, scheduler: str | None = None) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]``, in parallel, through the cache if given.

    Args:
        fn: a picklable (module-level) function from a config dict to a dict of arrays.
        configs: JSON-serialisable dicts.
        n_jobs: local workers (joblib's meaning; default: 1 for a single config, else all cores).
        cache: a :class:`ResultsCache`; cached runs are not recomputed.
        backend: a joblib backend name; ``None`` uses the active ``parallel_config``
            (local processes unless, e.g., the ``"dask"`` backend is active).
        threads_per_job: torch threads in each worker process (e.g. 1 with
            ``n_jobs`` = cores: small KANs gain more from parallel runs than from
            threads). ``None`` leaves torch's default; ignored when ``n_jobs == 1``
            (runs then share this process).
        show_progress: a bar over the finished runs (:mod:`kanpaper.progress`), for runs that report nothing
            themselves (those in worker processes).
        scheduler: a Dask scheduler address (see :func:`scheduler_address`; ``None``: ``$KANPAPER_DASK_SCHEDULER``,
            and locally when that is unset). On a cluster ``n_jobs`` and ``backend`` are ignored, and
            ``threads_per_job=None`` leaves the workers' torch threads as their environment sets them.

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
    address = scheduler_address(scheduler)
    if missing:
        start = time.perf_counter()
        if address is not None:
            computed = ((missing[j], result) for j, result in
                        _on_cluster(address, fn, [configs[i] for i in missing], cache, threads_per_job))
        else:
            threads = threads_per_job if n_jobs != 1 else None
            computed = zip(missing, Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")(
                delayed(_run_one)(fn, configs[i], cache_dir, threads) for i in missing))
        for i, result in progress.bar(computed, total=len(missing), desc="parallel runs", enabled=show_progress):
            found[i] = result
        where = f"on {address}" if address is not None else "in parallel"
        progress.report(f"{len(missing)} runs {where}: {time.perf_counter() - start:.1f} s", show_progress)
    return found


def run_mixed_sweep(fn: Callable[..., Mapping[str, Any]], configs: Sequence[Config],
                    in_parallel: Callable[[Config], bool], *, cache: ResultsCache | None = None,
                    workers: int | None = None, scheduler: str | None = None) -> list[dict[str, np.ndarray]]:
    """Like :func:`run_sweep`, for a mix of heavy and light runs.

    Configs with ``in_parallel(config)`` false (e.g. wide MLPs, whose matrix
    products use all of torch's threads) run one at a time in this process with
    a progress bar; the others (e.g. small KANs, bound by per-operation overhead)
    run ``workers`` at a time (default: all cores) with one thread each, unless
    only one of them is left to compute.
    ``fn(config, progress=...)`` must accept a ``progress`` keyword. Runs of an experiment (configs with a
    ``"model"``) are announced first, with their estimated time where :mod:`kanpaper.costs` has measured this
    machine. On a Dask cluster (``scheduler``, see
    :func:`run_sweep`) every config is one task, heavy or light.
    """
    configs = list(configs)
    if configs and all("model" in c for c in configs):          # an experiment's runs: say what they will cost
        from .costs import announce
        todo = [c for c in configs if cache is None or cache.load(c) is None]
        if todo:
            print(announce(getattr(fn, "func", fn), todo, in_parallel, workers), flush=True)
    if scheduler_address(scheduler) is not None:
        return run_sweep(partial(fn, progress=False), configs, cache=cache, show_progress=True, scheduler=scheduler)
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
