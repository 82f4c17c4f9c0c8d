"""One-input bases of KAN variants, and a float64 layer built on any of them (a question the paper leaves open:
is it the B-spline, or the KAN?).

:data:`BASES` maps a name to a function ``(x (...,), size) -> (..., size)`` that evaluates ``size`` basis functions
at every input, on the basis's own domain (:data:`DOMAINS`, else [0, 1]): pykan's cubic B-splines, Gaussian radial
functions (FastKAN-style, width tied to the centre spacing, or fixed), Chebyshev polynomials (plain, or after
``tanh`` without input normalisation, ChebyKAN-style) and a Fourier basis. :class:`BasisLayer` is one KAN layer on
such a basis, ``y_q = sum_p sum_m c[p, q, m] phi_m(x_p)``: no base term, no grid, nothing trainable but ``c``.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable

import torch
from torch import Tensor, nn

from . import splines

__all__ = ["BASES", "DOMAINS", "evaluate_basis", "BasisLayer"]


def _bspline(x: Tensor, size: int) -> Tensor:
    """Cubic B-splines of ``size - 3`` uniform intervals on [0, 1] (pykan's basis), zero outside."""
    knots = splines.uniform_knots(1, size - 3, 3, (0.0, 1.0)).to(x.device)
    flat = x.reshape(-1, 1)
    return splines.dense_basis(flat, knots, 3)[:, 0].reshape(*x.shape, size)


def _gaussians(width_over_spacing: float) -> Callable[[Tensor, int], Tensor]:
    def basis(x: Tensor, size: int) -> Tensor:
        centres = torch.linspace(0.0, 1.0, size, dtype=x.dtype, device=x.device)
        width = width_over_spacing / (size - 1)
        return torch.exp(-(((x.unsqueeze(-1) - centres) / width) ** 2))
    basis.__doc__ = f"``size`` Gaussians centred evenly on [0, 1], width {width_over_spacing:g} x their spacing."
    return basis


def _gaussians_fixed_width(x: Tensor, size: int) -> Tensor:
    """Width 1, centres spread over [-2, 2] (a fixed-width RBF layer's default)."""
    centres = torch.linspace(-2.0, 2.0, size, dtype=x.dtype, device=x.device)
    return torch.exp(-((x.unsqueeze(-1) - centres) ** 2))


def _chebyshev(x: Tensor, size: int) -> Tensor:
    """``T_0 ... T_{size-1}`` on [-1, 1]."""
    degrees = torch.arange(size, dtype=x.dtype, device=x.device)
    return torch.cos(degrees * torch.arccos(x.clamp(-1.0, 1.0)).unsqueeze(-1))


def _chebyshev_after_tanh(x: Tensor, size: int) -> Tensor:
    """``T_j(tanh(x))`` (ChebyKAN-style, no input normalisation)."""
    return _chebyshev(torch.tanh(x), size)


def _fourier(x: Tensor, size: int) -> Tensor:
    """``1, cos(2 pi j x), sin(2 pi j x)`` on [0, 1], the first ``size``."""
    index = torch.arange(size, device=x.device)
    j = ((index + 1) // 2).to(x.dtype)
    phase = (index % 2 == 0).to(x.dtype) * (math.pi / 2)
    return torch.sin(2 * math.pi * j * x.unsqueeze(-1) + phase)


BASES: dict[str, Callable[[Tensor, int], Tensor]] = {
    "cubic B-spline": _bspline,
    "Gaussian, width = spacing": _gaussians(1.0),
    "Gaussian, width = 2 x spacing": _gaussians(2.0),
    "Gaussian, fixed width 1 on [-2, 2]": _gaussians_fixed_width,
    "Chebyshev on [-1, 1]": _chebyshev,
    "Chebyshev after tanh, inputs in [0, 1]": _chebyshev_after_tanh,
    "Fourier": _fourier,
}
DOMAINS = {"Gaussian, fixed width 1 on [-2, 2]": (-2.0, 2.0), "Chebyshev on [-1, 1]": (-1.0, 1.0)}
MIN_SIZE = 4


def evaluate_basis(name: str, x: Tensor, size: int) -> Tensor:
    """The ``size`` functions of basis ``name`` at ``x (...,)``: ``(..., size)``, in ``x``'s dtype."""
    if name not in BASES:
        raise ValueError(f"unknown basis {name!r}; allowed: {', '.join(map(repr, BASES))}")
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < MIN_SIZE:
        raise ValueError(f"a basis here has at least {MIN_SIZE} functions, got {size!r}")
    return BASES[name](x, int(size))


class BasisLayer(nn.Module):
    """One KAN layer on basis ``basis``: ``y_q = sum_p sum_m coef[p, q, m] phi_m(x_p)``, float64.

    Its Hessian under the mean squared loss is the basis's Gram matrix on the inputs (times the identity on the
    outputs), whatever the basis, so the layer trains as its basis is conditioned.

    Args:
        n_in, n_out: widths.
        basis: a key of :data:`BASES`.
        size: basis functions per input.
        noise_scale: initial coefficients are ``noise_scale * N(0, 1) / size`` (pykan's scale of spline noise).
        seed: initialisation seed (a generator of its own; the global one is left alone).

    Shapes: ``x`` ``(N, n_in)`` -> ``(N, n_out)``; ``coef`` ``(n_in, n_out, size)``.
    """

    def __init__(self, n_in: int, n_out: int, basis: str, size: int, noise_scale: float = 0.3, seed: int = 0):
        super().__init__()
        evaluate_basis(basis, torch.zeros(1, dtype=torch.float64), size)          # checks the name and size
        if n_in < 1 or n_out < 1:
            raise ValueError(f"widths must be >= 1, got n_in={n_in}, n_out={n_out}")
        self.basis, self.size = basis, int(size)
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(n_in, n_out, size, generator=generator, dtype=torch.float64)
        self.coef = nn.Parameter(noise * noise_scale / size)

    def features(self, x: Tensor) -> Tensor:
        """``(N, n_in, size)``: every basis function at every input."""
        return BASES[self.basis](x, self.size)

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("npm,pqm->nq", self.features(x), self.coef)

    def forward_stacked(self, state: dict[str, Tensor], x: Tensor) -> Tensor:
        """R layers at once (:class:`~kanpaper.nn.ensemble.Ensemble`): ``state["coef"]`` ``(R, n_in, n_out, size)``,
        ``x`` ``(N, n_in)`` shared or ``(R, N, n_in)`` -> ``(R, N, n_out)``."""
        features = self.features(x)
        pattern = "npm,rpqm->rnq" if x.ndim == 2 else "rnpm,rpqm->rnq"
        return torch.einsum(pattern, features, state["coef"])
