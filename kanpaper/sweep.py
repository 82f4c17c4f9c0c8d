"""Sweeps: map a function over a list of configs, locally or on a cluster.

Runs go through joblib: local processes by default; inside
``joblib.parallel_config(backend="dask")`` (with a ``dask.distributed.Client``
connected) the same call runs on a Dask cluster. With a results cache, each run
is looked up first and stored as soon as it finishes, so an interrupted sweep
resumes where it stopped.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed

from .cache import ResultsCache

__all__ = ["run_sweep"]

Config = Mapping[str, Any]


def _run_one(fn: Callable[[Config], Mapping[str, Any]], config: Config,
             cache_dir: str | None) -> dict[str, np.ndarray]:
    if cache_dir is None:
        return {k: np.asarray(v) for k, v in fn(config).items()}
    return ResultsCache(cache_dir).get_or_compute(config, fn)


def run_sweep(fn: Callable[[Config], Mapping[str, Any]], configs: Sequence[Config], *,
              n_jobs: int | None = None, cache: ResultsCache | None = None,
              backend: str | None = None, verbose: int = 0) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]``, in parallel, through the cache if given.

    Args:
        fn: a picklable (module-level) function from a config dict to a dict of arrays.
        configs: JSON-serialisable dicts.
        n_jobs: workers (joblib's meaning; default: 1 for a single config, else all cores).
        cache: a :class:`ResultsCache`; cached runs are not recomputed.
        backend: a joblib backend name; ``None`` uses the active ``parallel_config``
            (local processes unless, e.g., the ``"dask"`` backend is active).

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
    if missing:
        computed = Parallel(n_jobs=n_jobs, backend=backend, verbose=verbose)(
            delayed(_run_one)(fn, configs[i], cache_dir) for i in missing)
        for i, result in zip(missing, computed):
            found[i] = result
    return found
