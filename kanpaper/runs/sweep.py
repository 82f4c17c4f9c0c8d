"""Sweeps: map a function over a list of configs, locally or on a Dask cluster.

Locally, runs go through joblib processes. With a Dask scheduler address (the ``scheduler`` argument, or
``$KANPAPER_DASK_SCHEDULER``, which ``make figures DASK_SCHEDULER=tcp://host:8786`` sets for every notebook),
each missing config is one Dask task: a worker runs it and writes it to the results cache (by absolute path:
a directory the workers share, for a sweep that must survive its client), and this process stores every result
it receives, so a worker lost mid-run costs only its own config (Dask reruns it elsewhere) and a rerun of the
sweep takes every finished config from the cache. With a results cache, each run is looked up first and stored
as soon as it finishes, so an interrupted sweep resumes where it stopped. :func:`run_sweep` starts the longest runs
first when told their expected costs, and sets each run's torch threads (``threads_per_job``), in a worker or in
this process. A local worker ends as soon as the process that started the sweep is gone (killed, even by
SIGKILL): it does not compute on, or write to a cache that a rerun also writes to; its run resumes from its last
checkpoint on the rerun.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from joblib import Parallel, delayed

from ..base import progress
from ..base.provenance import note_run
from .cache import ResultsCache, config_key

__all__ = ["SCHEDULER_ENV", "scheduler_address", "run_sweep"]

SCHEDULER_ENV = "KANPAPER_DASK_SCHEDULER"
CONNECT_TIMEOUT = "30s"      # how long to wait for the scheduler before saying it cannot be reached
PARENT_POLL_SECONDS = 0.5    # how often a local worker looks for the process that started its sweep
_watched: set[int] = set()   # in a worker: the sweep processes it already watches

Config = Mapping[str, Any]


def _run_one(fn: Callable[[Config], Mapping[str, Any]], config: Config,
             cache_dir: str | None, threads: int | None = None) -> dict[str, np.ndarray]:
    if threads is not None:
        torch.set_num_threads(threads)
    if cache_dir is None:
        return {k: np.asarray(v) for k, v in fn(config).items()}
    return ResultsCache(cache_dir).get_or_compute(config, fn)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # exists, someone else's
        return True
    return True


def _end_with(sweeper: int) -> None:
    """In a worker process: exit as soon as ``sweeper`` (the process that started the sweep) is gone, or this
    worker, started by it, is handed to another parent."""
    if os.getpid() == sweeper or sweeper in _watched:
        return
    _watched.add(sweeper)
    child = os.getppid() == sweeper

    def watch() -> None:
        while _alive(sweeper) and not (child and os.getppid() != sweeper):
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="kanpaper-end-with-sweep", daemon=True).start()


def _run_indexed(index: int, fn: Callable[[Config], Mapping[str, Any]], config: Config, cache_dir: str | None,
                 threads: int | None, sweeper: int) -> tuple[int, dict[str, np.ndarray]]:
    _end_with(sweeper)
    return index, _run_one(fn, config, cache_dir, threads)


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """This process on ``threads`` torch threads for the block (``None``: as it is)."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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


def _on_cluster(address: str, fns: list[Callable], configs: list[Config], cache: ResultsCache | None,
                threads: int | None) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``(index, fns[index](configs[index]))`` in the order the cluster finishes them; stores each in ``cache``."""
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
                   for i, (fn, config) in enumerate(zip(fns, configs))}
        for future in as_completed(futures, loop=client.loop):
            index, result = futures[future], future.result()
            if cache is not None and cache.load(configs[index]) is None:   # the workers' cache need not be ours
                result = cache.store(configs[index], result)
            yield index, result
    finally:
        client.close()


def run_sweep(fn: Callable[[Config], Mapping[str, Any]] | Sequence[Callable[[Config], Mapping[str, Any]]],
              configs: Sequence[Config], *,
              n_jobs: int | None = None, cache: ResultsCache | None = None,
              backend: str | None = None, threads_per_job: int | None = None,
              show_progress: bool = False, scheduler: str | None = None,
              priority: Callable[[Config], float] | None = None,
              label: Callable[[Config], str] | None = None) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]``, in parallel, through the cache if given.

    Args:
        fn: a picklable (module-level) function from a config dict to a dict of arrays, or a list of them, one
            per config (runs of several experiments in one sweep).
        configs: JSON-serialisable dicts.
        n_jobs: local workers (joblib's meaning; default: 1 for a single config, else all cores); with 1 the
            runs share this process, one after another.
        cache: a :class:`ResultsCache`; cached runs are not recomputed.
        backend: a joblib backend name; ``None`` uses the active ``parallel_config``
            (local processes unless, e.g., the ``"dask"`` backend is active).
        threads_per_job: torch threads of each run, in a worker process or (``n_jobs == 1``) in this one for
            the run's duration. ``None`` leaves torch's default (on a cluster: the workers' environment).
        show_progress: a bar over the finished runs (:mod:`kanpaper.base.progress`) and a line for each, for runs
            that report nothing themselves (those in worker processes).
        scheduler: a Dask scheduler address (see :func:`scheduler_address`; ``None``: ``$KANPAPER_DASK_SCHEDULER``,
            and locally when that is unset). On a cluster ``n_jobs`` and ``backend`` are ignored.
        priority: a run's expected cost; the missing runs start in decreasing order of it (longest first, so
            that the last to finish is a short one). Default: the order of ``configs``.
        label: a run's name in the progress lines (default: its place in ``configs``).

    Returns:
        The results in the order of ``configs``.
    """
    configs = list(configs)
    fns = list(fn) if isinstance(fn, Sequence) else [fn] * len(configs)
    if len(fns) != len(configs):
        raise ValueError(f"one function per config expected: got {len(fns)} functions for {len(configs)} configs")
    if not configs:
        return []
    cache_dir = str(cache.directory) if cache is not None else None
    if cache is not None:
        found = [cache.load(c) for c in configs]
        missing = [i for i, f in enumerate(found) if f is None]
    else:
        found, missing = [None] * len(configs), list(range(len(configs)))
    if priority is not None:
        missing.sort(key=lambda i: -priority(configs[i]))
    if n_jobs is None:
        n_jobs = 1 if len(missing) <= 1 else -1
    if threads_per_job is not None and threads_per_job < 1:
        raise ValueError(f"threads_per_job must be >= 1 or None, got {threads_per_job}")
    address = scheduler_address(scheduler)
    if not missing:
        return found
    start = time.perf_counter()
    if address is not None:
        computed = ((missing[j], result) for j, result in
                    _on_cluster(address, [fns[i] for i in missing], [configs[i] for i in missing], cache,
                                threads_per_job))
    elif n_jobs == 1:
        computed = ((i, _run_one(fns[i], configs[i], cache_dir)) for i in missing)
    else:
        computed = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered")(
            delayed(_run_indexed)(i, fns[i], configs[i], cache_dir, threads_per_job, os.getpid()) for i in missing)
    with _torch_threads(threads_per_job if address is None and n_jobs == 1 else None):
        bar = progress.bar(computed, total=len(missing), desc="runs", enabled=show_progress)
        for done, (i, result) in enumerate(bar, 1):
            found[i] = result
            if cache is not None:
                note_run(config_key(configs[i]), cache.directory)     # computed by a worker: read here from it
            name = label(configs[i]) if label is not None else f"run {i + 1}"
            progress.report(f"{name}: done after {time.perf_counter() - start:.1f} s ({done} of {len(missing)})",
                            show_progress)
    where = f"on {address}" if address is not None else "in parallel" if n_jobs != 1 else "in this process"
    progress.report(f"{len(missing)} runs {where}: {time.perf_counter() - start:.1f} s", show_progress)
    return found
