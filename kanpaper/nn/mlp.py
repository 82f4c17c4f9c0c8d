"""Multilayer perceptrons of the paper: ReLU, ReLU^k (sigma_k) and tanh.

"Depth D" counts linear layers: D - 1 hidden layers of width W. Weights and
biases follow PyTorch's default ``nn.Linear`` initialisation,
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, drawn from an explicit generator.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..base.checks import check_inputs, generator, members_inputs

__all__ = ["MLP", "activation_function", "activation_power"]


def activation_power(name: str) -> int | None:
    """The K of a ``"reluK"`` activation name (``"relu"``: 1), or None for any other name.

    Raises:
        ValueError: ``"relu0"`` (K must be >= 1).
    """
    match = re.fullmatch(r"relu(\d*)", str(name))
    if match is None:
        return None
    power = int(match.group(1) or 1)
    if power < 1:
        raise ValueError(f"ReLU power must be >= 1, got {name!r}")
    return power


class ReluPower:
    """``max(0, x) ** power``: an activation object rather than a closure, so that a model holding it pickles
    (a checkpoint saves the model whole)."""

    def __init__(self, power: int):
        self.power = power

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) ** self.power

    def __repr__(self) -> str:
        return f"ReluPower({self.power})"


def activation_function(name: str):
    """``"relu"``, ``"relu2"``, ``"relu3"``, ... (max(0, x)^k), ``"tanh"`` or ``"silu"``."""
    if name == "tanh":
        return torch.tanh
    if name == "silu":
        return nn.functional.silu
    power = activation_power(name)
    if power == 1:
        return torch.relu
    if power is not None:
        return ReluPower(power)
    raise ValueError(f"unknown activation {name!r}; allowed: 'relu', 'reluK' (K >= 1, e.g. 'relu3'), 'tanh', 'silu'")


class MLP(nn.Module):
    """A fully connected network ``x -> A_L sigma(... sigma(A_1 x))``.

    Args:
        widths: ``[n_0, n_1, ..., n_L]`` (L linear layers).
        activation: see :func:`activation_function`.
        seed: int or ``torch.Generator``.
        dtype, device: float64 by default.

    Shapes: ``(N, n_0) -> (N, n_L)``.
    """

    def __init__(self, widths: Sequence[int], activation: str = "relu", *,
                 seed: int | torch.Generator | None = 0, dtype=torch.float64, device=None):
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must list at least two positive sizes, got {widths!r}")
        self.activation = activation
        self._act = activation_function(activation)
        gen = generator(seed, device)
        self.linears = nn.ModuleList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layer = nn.Linear(fan_in, fan_out, dtype=dtype, device=device)
            bound = 1.0 / np.sqrt(fan_in)
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=gen)
                layer.bias.uniform_(-bound, bound, generator=gen)
            self.linears.append(layer)

    @property
    def widths(self) -> list[int]:
        return [self.linears[0].in_features] + [layer.out_features for layer in self.linears]

    def forward(self, x: Tensor, check: bool = True) -> Tensor:
        if check:
            check_inputs(x, self.widths[0], self.linears[0].weight.dtype)
        for layer in self.linears[:-1]:
            x = self._act(layer(x))
        return self.linears[-1](x)

    @staticmethod
    def stacked_transposed(name: str) -> bool:
        """Whether :meth:`forward_stacked` multiplies by the transpose of parameter ``name`` (the weights)."""
        return name.endswith("weight")

    def forward_stacked(self, state: dict[str, Tensor], x: Tensor) -> Tensor:
        """R networks of this shape at once: ``state`` and shapes as :meth:`kanpaper.KAN.forward_stacked`."""
        n_members = state["linears.0.weight"].shape[0]
        x = members_inputs(x, self.widths[0], n_members, state["linears.0.weight"].dtype)
        last = len(self.linears) - 1
        for i in range(last + 1):
            weight, bias = state[f"linears.{i}.weight"], state[f"linears.{i}.bias"]
            x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
            if i < last:
                x = self._act(x)
        return x
