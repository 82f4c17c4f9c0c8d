"""The spline KAN of the paper, computing what pykan 0.2.5 computes (or, with ``pykan="0.2.8"``, pykan 0.2.8).

A KAN layer maps ``x`` of shape ``(N, n_in)`` to ``y`` of shape ``(N, n_out)``::

    y_q = sum_p  w_b[p, q] * b(x_p)  +  w_s[p, q] * sum_m c[p, q, m] B_m(x_p)

with ``b`` = SiLU (pykan's default), the identity, or absent (``base=None``:
the ``w_b = 0`` setting of the paper's theorems). ``c`` has shape
``(n_in, n_out, G + k)``, ``w_b`` and ``w_s`` ``(n_in, n_out)``; knots are per input,
``(n_in, G + 2k + 1)``, shared by all outputs of that input.

Differences from pykan, on purpose: randomness comes from an explicit seed or
``torch.Generator`` (pykan re-seeds the global RNGs on every construction); the
samples for grid updates and extensions are an explicit argument (pykan 0.2.5
refits on the last forward input); only the ``k + 1`` nonzero basis functions
are evaluated per input.

pykan 0.2.8 changed three numerics, and the authors' GRF runs (Figures 3-4) follow them: ``w_s`` starts at
``1 / sqrt(n_in)`` (not 1), least squares are solved by ``lstsq`` without a ridge (not the ridged normal
equations), and a grid extension interpolates the old knots instead of placing new ones from the samples
(the samples still fit the coefficients). ``pykan="0.2.8"`` selects them; the default is 0.2.5's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from . import splines
from ..base.checks import check_choice, check_inputs, generator, members_inputs
from .layer import BASES, spline_layer

__all__ = ["KANLayer", "KAN", "adapted_knots", "PYKAN_RELEASES"]

PYKAN_RELEASES = ("0.2.5", "0.2.8")           # whose numerics a KAN follows (see the module docstring)


def adapted_knots(samples: Tensor, grid_size: int, k: int, grid_eps: float = 0.02) -> Tensor:
    """pykan's data-adapted knots: ``grid_eps`` x uniform + (1 - grid_eps) x quantiles.

    Per input, the ``G + 1`` interior knots mix the uniform grid on
    ``[min, max]`` of the samples with the sorted samples at positions
    ``int(N / G * r)``, r = 0..G-1, and the maximum; then ``k`` knots are added
    each side with spacing ``(last - first) / G``.

    Args:
        samples: ``(N, n_in)``.

    Returns:
        ``(n_in, G + 2k + 1)``.
    """
    if not 0.0 <= grid_eps <= 1.0:
        raise ValueError(f"grid_eps must lie in [0, 1], got {grid_eps}")
    n = samples.shape[0]
    if n < 2:
        raise ValueError(f"a grid update needs at least 2 samples, got {n}")
    ordered = torch.sort(samples, dim=0).values
    positions = [int(n / grid_size * r) for r in range(grid_size)] + [n - 1]
    quantile = ordered[positions].T                                           # (n_in, G+1)
    h = (quantile[:, -1:] - quantile[:, :1]) / grid_size
    uniform = quantile[:, :1] + h * torch.arange(grid_size + 1, dtype=samples.dtype, device=samples.device)
    interior = grid_eps * uniform + (1 - grid_eps) * quantile
    if bool((interior.diff(dim=1) <= 0).any()):
        raise ValueError("samples are constant along an input: cannot place a grid there")
    return splines.extend_knots(interior, k)


class KANLayer(nn.Module):
    """One KAN layer. See the module docstring for the formula.

    Args:
        n_in, n_out: input and output widths.
        grid_size: number of grid intervals G (>= 1).
        k: spline degree (>= 0; 3 is cubic).
        grid_range: interval covered by the initial uniform grid.
        base: ``"silu"``, ``"identity"`` or ``None`` (no base term, w_b = 0).
        noise_scale: coefficients fit ``(U[0,1) - 1/2) * noise_scale / G`` at the grid points.
        scale_base_mu, scale_base_sigma: ``w_b = (mu + sigma * U(-1, 1)) / sqrt(n_in)``.
        scale_sp: initial ``w_s``.
        grid_eps: uniform share of data-adapted grids.
        seed: int or ``torch.Generator`` for the initial draws.
        pykan: ``"0.2.5"`` or ``"0.2.8"``, whose numerics to follow (module docstring).
        dtype, device: of parameters and knots (float64 by default).
    """

    def __init__(self, n_in: int, n_out: int, grid_size: int = 5, k: int = 3, *,
                 grid_range=(-1.0, 1.0), base: str | None = "silu", noise_scale: float = 0.5,
                 scale_base_mu: float = 0.0, scale_base_sigma: float = 1.0, scale_sp: float = 1.0,
                 grid_eps: float = 0.02, seed: int | torch.Generator | None = 0, pykan: str = "0.2.5",
                 dtype=torch.float64, device=None):
        super().__init__()
        check_choice("pykan release", pykan, PYKAN_RELEASES)
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if base not in BASES:
            raise ValueError(f"unknown base {base!r}; allowed: 'silu', 'identity', None")
        knots = splines.uniform_knots(n_in, grid_size, k, grid_range, dtype=dtype, device=device)
        gen = generator(seed, device)
        self.n_in, self.n_out, self.k, self.base, self.grid_eps = int(n_in), int(n_out), int(k), base, grid_eps
        self.pykan = pykan
        self.register_buffer("knots", knots)
        noise = (torch.rand(grid_size + 1, n_in, n_out, generator=gen, dtype=dtype, device=device) - 0.5)
        noise = noise * noise_scale / grid_size
        grid_points = knots[:, k: k + grid_size + 1].T                         # (G+1, n_in)
        coef = self._fit(grid_points, noise, knots)
        self.coef = nn.Parameter(coef)
        draw = torch.rand(n_in, n_out, generator=gen, dtype=dtype, device=device) * 2 - 1
        if base is not None:
            self.scale_base = nn.Parameter((scale_base_mu + scale_base_sigma * draw) / np.sqrt(n_in))
        else:
            self.register_parameter("scale_base", None)
        if pykan == "0.2.8":
            scale_sp = scale_sp / np.sqrt(n_in)
        self.scale_sp = nn.Parameter(torch.full((n_in, n_out), float(scale_sp), dtype=dtype, device=device))

    @property
    def grid_size(self) -> int:
        return self.knots.shape[1] - 2 * self.k - 1

    @property
    def uniform(self) -> bool:
        """Whether every input's knots are equally spaced (a property of the knots, computed once per knot tensor)."""
        return splines.is_uniform(self.knots)

    def extra_repr(self) -> str:
        return f"{self.n_in} -> {self.n_out}, G={self.grid_size}, k={self.k}, base={self.base}, pykan={self.pykan}"

    def forward(self, x: Tensor) -> Tensor:
        """``(N, n_in)`` -> ``(N, n_out)``."""
        return spline_layer(x, self.knots, self.coef, self.scale_sp, self.scale_base, self.k, self.base)

    def spline_edges(self, x: Tensor) -> Tensor:
        """The spline part of every edge, without ``w_s``: ``(N, n_in)`` -> ``(N, n_in, n_out)``."""
        basis = splines.dense_basis(x, self.knots, self.k)
        return torch.einsum("npm,pqm->npq", basis, self.coef)

    @torch.no_grad()
    def set_knots(self, knots: Tensor, samples: Tensor) -> None:
        """Move to new knots, refitting ``coef`` by least squares at ``samples``.

        With the same grid size, ``coef`` is updated in place, so an optimizer
        keeps its state (as in pykan's ``fit``); otherwise it is replaced.

        Args:
            knots: ``(n_in, G' + 2k + 1)``; samples: ``(N, n_in)`` inputs of this layer.
        """
        target = self.spline_edges(samples)
        self.knots = knots.to(self.knots)
        self._set_coef(self._fit(samples, target, self.knots))

    def _fit(self, x: Tensor, y: Tensor, knots: Tensor) -> Tensor:
        """Least-squares coefficients as this layer's pykan release solves them (:func:`splines.fit_coefficients`)."""
        return splines.fit_coefficients(x, y, knots, self.k, solver="lstsq" if self.pykan == "0.2.8" else "normal")

    def _set_coef(self, coef: Tensor) -> None:
        """In place when the shape is unchanged (an optimizer keeps tracking it), else a new Parameter."""
        if coef.shape == self.coef.shape:
            self.coef.copy_(coef)
        else:
            self.coef = nn.Parameter(coef)

    def update_grid(self, samples: Tensor, grid_size: int | None = None) -> None:
        """pykan's ``update_grid_from_samples`` (optionally to a new grid size)."""
        self.set_knots(adapted_knots(samples, grid_size or self.grid_size, self.k, self.grid_eps), samples)

    def extend(self, grid_size: int, samples: Tensor) -> None:
        """pykan's grid extension to ``grid_size`` intervals, coefficients fitted to the old splines at ``samples``
        ``(N, n_in)``: knots placed from the samples (0.2.5) or interpolated from the old knots (0.2.8)."""
        if self.pykan == "0.2.8":
            self.set_knots(splines.interpolated_knots(self.knots, self.k, grid_size), samples)
        else:
            self.update_grid(samples, grid_size)

    @torch.no_grad()
    def refine(self, factor: int) -> None:
        """Split every interval into ``factor`` parts; exact on the grid domain."""
        new_knots = splines.refine_knots(self.knots, self.k, factor)
        coef = splines.refine_coefficients(self.knots, self.coef, new_knots, self.k)
        self.knots = new_knots
        self._set_coef(coef)


class KAN(nn.Module):
    """A stack of KAN layers, initialised as pykan's ``KAN(width=..., seed=...)``.

    With the same ``seed`` (an int) and default settings, the initial splines
    are pykan 0.2.5's (its constructor draws from the global RNG seeded with
    ``seed``; we draw the same sequence from our own generator).

    Args:
        widths: ``[n_0, n_1, ..., n_L]``.
        grid_size: G, the same for every layer. k: spline degree.
        base: ``"silu"`` (pykan), ``"identity"`` or ``None`` (no base term).
        noise_scale: 0.3 as pykan's KAN; others as :class:`KANLayer`.
        seed: int or ``torch.Generator``; default 1, pykan's default.
        pykan: ``"0.2.5"`` or ``"0.2.8"``, whose numerics to follow (module docstring).

    Example:
        >>> model = KAN([1, 10, 1], grid_size=10)
        >>> model(torch.zeros(5, 1, dtype=torch.float64)).shape
        torch.Size([5, 1])
    """

    def __init__(self, widths: Sequence[int], grid_size: int = 3, k: int = 3, *,
                 grid_range=(-1.0, 1.0), base: str | None = "silu", noise_scale: float = 0.3,
                 scale_base_mu: float = 0.0, scale_base_sigma: float = 1.0, grid_eps: float = 0.02,
                 seed: int | torch.Generator | None = 1, pykan: str = "0.2.5", dtype=torch.float64, device=None):
        super().__init__()
        widths = list(widths)
        if len(widths) < 2:
            raise ValueError(f"widths needs at least an input and an output size, got {widths!r}")
        gen = generator(seed, device)
        self.layers = nn.ModuleList(
            KANLayer(a, b, grid_size, k, grid_range=grid_range, base=base, noise_scale=noise_scale,
                     scale_base_mu=scale_base_mu, scale_base_sigma=scale_base_sigma,
                     grid_eps=grid_eps, seed=gen, pykan=pykan, dtype=dtype, device=device)
            for a, b in zip(widths[:-1], widths[1:]))

    @property
    def widths(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def grid_size(self) -> int:
        return self.layers[0].grid_size

    @property
    def k(self) -> int:
        return self.layers[0].k

    def forward(self, x: Tensor, check: bool = True) -> Tensor:
        """``(N, n_0)`` -> ``(N, n_L)``. ``check=False`` skips the input checks."""
        if check:
            check_inputs(x, self.widths[0], self.layers[0].coef.dtype)
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_stacked(self, state: dict[str, Tensor], x: Tensor) -> Tensor:
        """The forward pass of R models of this shape at once (an :class:`~kanpaper.Ensemble`).

        Args:
            state: this model's ``state_dict`` names mapped to stacked tensors ``(R, ...)``.
            x: ``(N, n_0)``, shared by all members, or ``(R, N, n_0)``.

        Returns:
            ``(R, N, n_L)``.
        """
        n_members = state["layers.0.coef"].shape[0]
        x = members_inputs(x, self.widths[0], n_members, state["layers.0.coef"].dtype)
        for i, layer in enumerate(self.layers):
            x = spline_layer(x, state[f"layers.{i}.knots"], state[f"layers.{i}.coef"],
                             state[f"layers.{i}.scale_sp"], state.get(f"layers.{i}.scale_base"),
                             layer.k, layer.base)
        return x

    def activations(self, x: Tensor) -> list[Tensor]:
        """Inputs of every layer and the output: ``[(N, n_0), ..., (N, n_L)]``."""
        acts = [x]
        for layer in self.layers:
            acts.append(layer(acts[-1]))
        return acts

    @torch.no_grad()
    def update_grid(self, samples: Tensor) -> None:
        """pykan's grid update: layer l adapts to the inputs produced by the
        already-updated layers before it, preserving its splines at them.

        Args:
            samples: ``(N, n_0)`` model inputs.
        """
        check_inputs(samples, self.widths[0])
        x = samples
        for layer in self.layers:
            layer.update_grid(x)
            x = layer(x)

    @torch.no_grad()
    def extend_grid(self, grid_size: int, samples: Tensor) -> None:
        """Grid extension as pykan's ``refine``: every layer gets ``grid_size``
        intervals (:meth:`KANLayer.extend`), and coefficients fitted to its old
        splines at its inputs (computed by the model before the change).
        Parameters are replaced: create a new optimizer afterwards.
        """
        check_inputs(samples, self.widths[0])
        if grid_size < self.grid_size:
            raise ValueError(f"grid extension goes to a larger grid: asked {grid_size} < current {self.grid_size}")
        for layer, x in zip(self.layers, self.activations(samples)[:-1]):
            layer.extend(grid_size, x)

    def refine_grid(self, factor: int) -> None:
        """Exact grid extension by knot insertion: G -> factor x G, every interval split."""
        for layer in self.layers:
            layer.refine(factor)
