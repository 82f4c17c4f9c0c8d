"""Argument checks and the randomness policy shared by every model and experiment.

Errors say what was wrong and what is allowed. Randomness comes only from explicit
seeds or ``torch.Generator`` objects: nothing in kanpaper draws from, or seeds, a
global RNG.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["generator", "check_inputs", "members_inputs", "check_choice"]


def generator(seed: int | torch.Generator | None, device=None) -> torch.Generator:
    """``seed`` itself if it is a generator, else a new generator seeded with it."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        raise ValueError("pass a seed (int) or a torch.Generator; kanpaper never draws from the global RNG")
    return torch.Generator(device=device or "cpu").manual_seed(int(seed))


def check_inputs(x: Tensor, n_in: int, dtype: torch.dtype | None = None) -> None:
    """Raise unless ``x`` is a finite ``(N, n_in)`` tensor (of ``dtype``, the model's, if given)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(x).__name__}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"inputs are {x.dtype} but the model computes in {dtype}: cast the inputs "
                        f"(x.to({dtype})) or the model (model.to({x.dtype}))")
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"inputs must have shape (N, {n_in}), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("inputs contain NaN or infinite values")


def members_inputs(x: Tensor, n_in: int, n_members: int, dtype: torch.dtype | None = None) -> Tensor:
    """Check ``(N, n_in)`` or ``(R, N, n_in)`` inputs (of ``dtype`` if given) and return them as
    ``(R, N, n_in)`` (no copy)."""
    if isinstance(x, Tensor) and x.ndim == 3:
        if x.shape[0] != n_members:
            raise ValueError(f"inputs of shape (R, N, {n_in}) need R = {n_members} members, got {tuple(x.shape)}")
        check_inputs(x.flatten(0, 1), n_in, dtype)
        return x
    check_inputs(x, n_in, dtype)
    return x.expand(n_members, *x.shape)


def check_choice(name: str, value: Any, allowed) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError naming both."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(repr, allowed))}")
    return value
