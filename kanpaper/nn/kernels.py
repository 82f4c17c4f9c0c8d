"""Fused CPU kernels of the KAN layer, compiled from ``kernels.cpp`` when kanpaper is installed.

The pure PyTorch layer (``layer.spline_layer``) spends most of an ensemble's step
moving gathered coefficients through memory: ``(R, N, n_in, k + 1, n_out)``
values written, read and scattered back. These kernels compute the same sums
without materialising them, and evaluate the basis in one pass:

- ``contract``: ``y[r,n,o] = sum_{i,c} v[r,n,i,c] t[r,i,first[r,n,i]+c,o]``;
- its adjoints ``gather_dot`` (into ``v``) and ``scatter_outer`` (into ``t``), which
  form a closed family under differentiation, so gradients of any order (the
  Deep Ritz loss differentiates through ``u'``) stay inside the three kernels;
- ``uniform_basis``: the ``k + 1`` values of the basis, or of its ``d``-th
  derivative, on equally spaced knots; its backward is the next derivative;
- ``knot_basis``: the basis on any increasing knots (after a grid update) and its
  first derivative, the backward; gradients of higher order differentiate the
  PyTorch recursion of :mod:`kanpaper.nn.splines` instead.

The kernels are built by ``setup.py`` at install (``make venv``), in two variants:
``_kernels_default`` for any CPU and ``_kernels_avx512``; the import picks the one
that matches the CPU capability PyTorch reports (``ATEN_CPU_CAPABILITY`` forces it
down). Importing never compiles anything. Where no build exists (no compiler at
install), or with ``KANPAPER_KERNELS=0`` in the environment, the layer uses its
pure PyTorch path, which computes the same numbers (to rounding) more slowly.
Every output element is summed by one thread in a fixed order, so results do
not depend on the number of threads.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import warnings

import numpy as np
import torch
from torch import Tensor

from . import splines

__all__ = ["available", "disabled", "usable", "uniform_basis", "knot_basis", "table", "contract", "MAX_BASIS_DEGREE"]

MAX_BASIS_DEGREE = 15   # the basis kernels keep k + 1 values in registers (kMaxBasis in kernels.cpp)


_enabled = os.environ.get("KANPAPER_KERNELS", "1") != "0"


def variant() -> str:
    """The build this CPU runs: ``"avx512"`` where PyTorch reports AVX-512, else ``"default"``."""
    return "avx512" if torch.backends.cpu.get_cpu_capability().lower() == "avx512" else "default"


@functools.cache
def _extension():
    """The compiled module for this CPU (the portable build if the matching one is missing), or None."""
    errors = []
    for name in dict.fromkeys([variant(), "default"]):
        try:
            return importlib.import_module(f"{__package__}._kernels_{name}")
        except ImportError as error:    # not built at install, or built against another torch
            errors.append(f"{name}: {error}")
    warnings.warn("kanpaper: fused CPU kernels unavailable, using the pure PyTorch layer (same results, slower). "
                  "They are built when kanpaper is installed with torch present (`make venv`, or `pip install "
                  "--no-build-isolation -e .` with a C++ compiler). " + "; ".join(errors)[:400])
    return None


def available() -> bool:
    """Whether the fused kernels are switched on and were built at install."""
    return _enabled and _extension() is not None


@contextlib.contextmanager
def disabled():
    """Run the layers on their pure PyTorch path inside this block (comparisons, benchmarks)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def usable(x: Tensor, knots: Tensor, coef: Tensor) -> bool:
    """Whether a layer with these tensors can run on the kernels: CPU, one floating
    dtype, knots without gradient, and no ``torch.func`` transform active (vmap,
    grad), which the kernels do not implement."""
    return (x.device.type == "cpu" and coef.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64) and x.dtype == coef.dtype == knots.dtype
            and not knots.requires_grad and not torch._C._are_functorch_transforms_active()
            and available())


@functools.cache
def _pieces(k: int, order: int, dtype) -> Tensor:
    """``(k+1, k+1)``: coefficients in ``u`` of the ``order``-th ``u``-derivative of the
    cardinal pieces (see ``splines.cardinal_pieces``)."""
    pieces = splines.cardinal_pieces(k)
    for _ in range(order):
        pieces = np.vstack([pieces[1:] * np.arange(1, k + 1)[:, None], np.zeros((1, k + 1))])
    return torch.as_tensor(pieces, dtype=dtype)


class _UniformBasis(torch.autograd.Function):
    """``(first, values)`` of the ``order``-th derivative of the basis; backward: :class:`_BasisDot`."""

    @staticmethod
    def forward(ctx, x, origin, spacing, n_knots, k, order):
        first, values = _extension().uniform_basis(x, origin, spacing, _pieces(k, order, x.dtype), n_knots, order)
        ctx.save_for_backward(x, origin, spacing)
        ctx.n_knots, ctx.k, ctx.order = n_knots, k, order
        ctx.mark_non_differentiable(first)
        return first, values

    @staticmethod
    def backward(ctx, _, grad):
        x, origin, spacing = ctx.saved_tensors
        d_x = _BasisDot.apply(x, grad, origin, spacing, ctx.n_knots, ctx.k, ctx.order + 1)
        return d_x, None, None, None, None, None


class _BasisDot(torch.autograd.Function):
    """``sum_c weights[..., c] * B_c^(order)(x)``: ``(R, N, n_in)``."""

    @staticmethod
    def forward(ctx, x, weights, origin, spacing, n_knots, k, order):
        ctx.save_for_backward(x, weights, origin, spacing)
        ctx.n_knots, ctx.k, ctx.order = n_knots, k, order
        if order > k:   # the (k+1)-th derivative of a degree-k piece is zero
            return torch.zeros_like(x)
        return _extension().uniform_basis_dot(x, origin, spacing, _pieces(k, order, x.dtype), n_knots, order,
                                              weights.contiguous())

    @staticmethod
    def backward(ctx, grad):
        x, weights, origin, spacing = ctx.saved_tensors
        args = (origin, spacing, ctx.n_knots, ctx.k)
        d_x = grad * _BasisDot.apply(x, weights, *args, ctx.order + 1) if ctx.needs_input_grad[0] else None
        d_weights = None
        if ctx.needs_input_grad[1]:
            d_weights = grad.unsqueeze(-1) * _UniformBasis.apply(x, *args, ctx.order)[1]
        return d_x, d_weights, None, None, None, None, None


class _KnotBasis(torch.autograd.Function):
    """``(first, values)`` of the basis on any knots; backward: the x-derivatives the kernel returned with
    them, or, while the gradient's own graph is built (``create_graph``), the PyTorch recursion differentiated,
    whose derivatives of every order are exact."""

    @staticmethod
    def forward(ctx, x, knots, k):
        first, values, slopes = _extension().knot_basis(x, knots, k + 1)
        ctx.save_for_backward(x, knots, slopes)
        ctx.k = k
        ctx.mark_non_differentiable(first)
        return first, values

    @staticmethod
    def backward(ctx, _, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None
        x, knots, slopes = ctx.saved_tensors
        if torch.is_grad_enabled():
            values = splines.local_basis(x, knots, ctx.k, uniform=False)[1]
            if not values.requires_grad:    # k = 0: piecewise constant
                return torch.zeros_like(x), None, None
            return torch.autograd.grad(values, x, grad, create_graph=True)[0], None, None
        return (grad * slopes).sum(-1), None, None


class _Contract(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values, first, table):
        ctx.save_for_backward(values, first, table)
        return _extension().contract(values.contiguous(), first, table.contiguous())

    @staticmethod
    def backward(ctx, grad):
        values, first, table = ctx.saved_tensors
        d_values = _GatherDot.apply(grad, first, table, values.shape[-1]) if ctx.needs_input_grad[0] else None
        d_table = _ScatterOuter.apply(values, grad, first, table.shape[2]) if ctx.needs_input_grad[2] else None
        return d_values, None, d_table


class _GatherDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad, first, table, width):
        ctx.save_for_backward(grad, first, table)
        return _extension().gather_dot(grad.contiguous(), first, table.contiguous(), width)

    @staticmethod
    def backward(ctx, g):
        grad, first, table = ctx.saved_tensors
        d_grad = _Contract.apply(g, first, table) if ctx.needs_input_grad[0] else None
        d_table = _ScatterOuter.apply(g, grad, first, table.shape[2]) if ctx.needs_input_grad[2] else None
        return d_grad, None, d_table, None


class _ScatterOuter(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values, grad, first, n_rows):
        ctx.save_for_backward(values, grad, first)
        return _extension().scatter_outer(values.contiguous(), grad.contiguous(), first, n_rows)

    @staticmethod
    def backward(ctx, g):
        values, grad, first = ctx.saved_tensors
        d_values = _GatherDot.apply(grad, first, g, values.shape[-1]) if ctx.needs_input_grad[0] else None
        d_grad = _Contract.apply(values, first, g) if ctx.needs_input_grad[1] else None
        return d_values, d_grad, None, None


class _Table(torch.autograd.Function):
    @staticmethod
    def forward(ctx, coef, scale, pad):
        ctx.save_for_backward(coef, scale)
        ctx.pad = pad
        return _extension().make_table(coef.contiguous(), scale.contiguous(), pad)

    @staticmethod
    def backward(ctx, grad):
        coef, scale = ctx.saved_tensors
        d_coef, d_scale = _TableBackward.apply(grad, coef, scale, ctx.pad)
        return d_coef, d_scale, None


class _TableBackward(torch.autograd.Function):
    """``(d_coef, d_scale) = (scale * L^T g, sum_b coef * L^T g)`` with ``L`` the pad-and-transpose of ``_Table``."""

    @staticmethod
    def forward(ctx, grad, coef, scale, pad):
        ctx.save_for_backward(grad, coef, scale)
        ctx.pad = pad
        return tuple(_extension().table_backward(grad.contiguous(), coef.contiguous(), scale.contiguous(), pad))

    @staticmethod
    def backward(ctx, a, b):
        grad, coef, scale = ctx.saved_tensors
        a = torch.zeros_like(coef) if a is None else a
        b = torch.zeros_like(scale) if b is None else b
        d_grad = _Table.apply(a, scale, ctx.pad) + _Table.apply(coef, b, ctx.pad)
        d_coef = _TableBackward.apply(grad, coef, b, ctx.pad)[0]
        d_scale = _TableBackward.apply(grad, a, scale, ctx.pad)[1]
        return d_grad, d_coef, d_scale, None


def table(coef: Tensor, scale: Tensor, k: int) -> Tensor:
    """``scale * coef`` padded with ``k + 1`` zero rows each side and laid out as rows of
    outputs, the table :func:`contract` reads.

    Args:
        coef: ``(*R, n_in, n_out, G + k)``; scale: ``(*R, n_in, n_out)``.

    Returns:
        ``(*R, n_in, G + 3k + 2, n_out)``.
    """
    lead, (n_in, n_out, n_basis) = coef.shape[:-3], coef.shape[-3:]
    flat = _Table.apply(coef.reshape(-1, n_in, n_out, n_basis), scale.reshape(-1, n_in, n_out), k + 1)
    return flat.view(*lead, n_in, n_basis + 2 * k + 2, n_out)


def uniform_basis(x: Tensor, knots: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """:func:`splines.local_basis` on uniform knots, in one kernel.

    Args:
        x: ``(*R, N, n_in)``; knots: ``(*R, n_in, G + 2k + 1)``, equally spaced.

    Returns:
        ``first`` ``(*R, N, n_in)`` long and ``values`` ``(*R, N, n_in, k + 1)``.
    """
    n_knots = knots.shape[-1]
    origin = knots[..., 0].reshape(-1, knots.shape[-2]).contiguous()
    spacing = ((knots[..., -1] - knots[..., 0]) / (n_knots - 1)).reshape(origin.shape).contiguous()
    flat = x.reshape(origin.shape[0], -1, x.shape[-1]).contiguous()
    first, values = _UniformBasis.apply(flat, origin, spacing, n_knots, k, 0)
    return first.view(x.shape), values.view(*x.shape, k + 1)


def knot_basis(x: Tensor, knots: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """:func:`splines.local_basis` on any increasing knots, in one kernel (``None`` from a build that predates it).

    Args:
        x: ``(*R, N, n_in)``; knots: ``(*R, n_in, G + 2k + 1)``, increasing.

    Returns:
        ``first`` ``(*R, N, n_in)`` long and ``values`` ``(*R, N, n_in, k + 1)``.
    """
    if not hasattr(_extension(), "knot_basis"):
        return None
    flat_knots = knots.reshape(-1, *knots.shape[-2:]).contiguous()
    flat = x.reshape(flat_knots.shape[0], -1, x.shape[-1]).contiguous()
    first, values = _KnotBasis.apply(flat, flat_knots, k)
    return first.view(x.shape), values.view(*x.shape, k + 1)


def contract(values: Tensor, first: Tensor, table: Tensor) -> Tensor:
    """``y[..., n, o] = sum_{i,c} values[..., n, i, c] * table[..., i, first[..., n, i] + c, o]``.

    Args:
        values: ``(*R, N, n_in, k+1)``; first: ``(*R, N, n_in)`` long;
        table: ``(*R, n_in, P, n_out)`` (padded coefficient rows per input).

    Returns:
        ``(*R, N, n_out)``.
    """
    n_members = table.shape[:-3].numel()
    n_in, n_rows, n_out = table.shape[-3:]
    y = _Contract.apply(values.reshape(n_members, -1, n_in, values.shape[-1]),
                        first.reshape(n_members, -1, n_in).contiguous(),
                        table.reshape(n_members, n_in, n_rows, n_out))
    return y.view(*first.shape[:-1], n_out)
