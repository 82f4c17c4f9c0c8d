"""The switches of a machine, not of a run: the run scale, the device, and the threads of each run.

None of them is part of a run's config (nor of its key in the results cache).

- **Scale** (``$KANPAPER_SCALE``, ``make figures SCALE=...``): one switch from a seconds-long smoke run to the
  paper's budgets. ``smoke`` keeps every code path but shrinks budgets so that all notebooks run in CI in minutes;
  ``default`` keeps the phenomena the paper reports at a cost that fits a laptop; ``paper`` uses the authors'
  settings exactly. The budgets of each scale are in :mod:`kanpaper.experiments.paper`, next to the
  configurations they budget.
- **Device** (``$KANPAPER_DEVICE``, ``make figures DEVICE=cuda``): where the experiments train, the CPU by default.
  Like the number of threads it changes results only by rounding. Models are initialised on the CPU from their
  seed and then moved, so a seed gives the same initial model on every device; on CUDA the layers run on PyTorch
  operations (the fused kernels are CPU code), in float64 as on the CPU.
- **Threads per run**: every run computes on one torch thread wherever it runs (:mod:`kanpaper.runs.pool`), so
  that its numbers do not depend on how many runs are computed beside it; the NumPy and SciPy linear algebra inside
  a run (sampling a field, fitting a spline) runs on one BLAS thread (:func:`single_threaded_blas`) whatever
  ``OMP_NUM_THREADS`` says.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import threadpoolctl
import torch

from .checks import check_choice

__all__ = ["SCALES", "SCALE_ENV", "resolve_scale", "DEVICE_ENV", "DEVICE_TYPES", "resolve_device",
           "THREADS_PER_RUN", "single_threaded_blas"]

SCALES = ("smoke", "default", "paper")
SCALE_ENV = "KANPAPER_SCALE"
DEVICE_ENV = "KANPAPER_DEVICE"
DEVICE_TYPES = ("cpu", "cuda")
THREADS_PER_RUN = 1


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """NumPy's and SciPy's BLAS and LAPACK on one thread for the block, whatever the process was started with.

    OpenBLAS splits the sums of a product between its threads, so without this the last bits of a sampled field
    or a fitted spline follow ``OMP_NUM_THREADS`` (and the cores of the machine), and L-BFGS amplifies them into
    visibly different runs."""
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run: ``scale`` if given, else ``$KANPAPER_SCALE``, else ``"default"``."""
    if scale is None:
        scale = os.environ.get(SCALE_ENV, "default")
    return check_choice("scale", str(scale).strip().lower(), SCALES)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``device`` if given, else ``$KANPAPER_DEVICE``, else the CPU.

    Raises:
        ValueError: not ``cpu``, ``cuda`` or ``cuda:N``, or ``N`` beyond the GPUs present.
        RuntimeError: CUDA asked for where this torch build or machine has none.
    """
    if device is None:
        device = os.environ.get(DEVICE_ENV, "").strip() or "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {device!r}; allowed: cpu, cuda, cuda:N") from error
    if resolved.type not in DEVICE_TYPES:
        raise ValueError(f"device {device!r} is not supported; allowed: cpu, cuda, cuda:N")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {device!r} asked for (argument, ${DEVICE_ENV} or make DEVICE=), but this "
                               f"torch ({torch.__version__}) sees no CUDA GPU; install a CUDA build of torch on a GPU "
                               "machine, or run on the CPU")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                             f"numbered 0..{torch.cuda.device_count() - 1}")
    return resolved
