"""Where the experiments train: CPU by default, a CUDA GPU with ``$KANPAPER_DEVICE`` (``make figures DEVICE=cuda``).

The device is a setting of the machine, not of a run: it is not part of a run's config (nor of its key in the
results cache), like the number of threads, which also changes results only by rounding. Models are
initialised on the CPU from their seed and then moved, so a seed gives the same initial model on every device;
on CUDA the layers run on PyTorch operations (the fused kernels are CPU code), in float64 as on the CPU.
"""

from __future__ import annotations

import os

import torch

__all__ = ["ENV_VAR", "DEVICE_TYPES", "resolve_device"]

ENV_VAR = "KANPAPER_DEVICE"
DEVICE_TYPES = ("cpu", "cuda")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``device`` if given, else ``$KANPAPER_DEVICE``, else the CPU.

    Raises:
        ValueError: not ``cpu``, ``cuda`` or ``cuda:N``, or ``N`` beyond the GPUs present.
        RuntimeError: CUDA asked for where this torch build or machine has none.
    """
    if device is None:
        device = os.environ.get(ENV_VAR, "").strip() or "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {device!r}; allowed: cpu, cuda, cuda:N") from error
    if resolved.type not in DEVICE_TYPES:
        raise ValueError(f"device {device!r} is not supported; allowed: cpu, cuda, cuda:N")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {device!r} asked for (argument, ${ENV_VAR} or make DEVICE=), but this torch "
                               f"({torch.__version__}) sees no CUDA GPU; install a CUDA build of torch on a GPU "
                               "machine, or run on the CPU")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                             f"numbered 0..{torch.cuda.device_count() - 1}")
    return resolved
