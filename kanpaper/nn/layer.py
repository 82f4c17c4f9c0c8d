"""Evaluating a KAN layer: the one place that decides how.

``y_q = sum_p w_b[p, q] b(x_p) + w_s[p, q] sum_m c[p, q, m] B_m(x_p)`` for one model or a stack of
them (an ensemble). On CPU, with the fused kernels built, the basis (on uniform or any knots) and
the coefficient contraction run in :mod:`kanpaper.nn.kernels`; otherwise (GPU, no build, ``torch.func``
transforms) in PyTorch operations from :mod:`kanpaper.nn.splines` and :func:`gather_contract` here. Both read the coefficients through the same padded numbering
(:func:`kanpaper.nn.splines.pad_basis`): ``k + 1`` zero rows on each side, so that the ``k + 1``
bases touched by any point, inside or outside the knots, are ``first .. first + k``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import kernels, splines

__all__ = ["BASES", "spline_layer", "gather_contract"]

BASES = {"silu": nn.functional.silu, "identity": lambda x: x, None: None}


def spline_layer(x: Tensor, knots: Tensor, coef: Tensor, scale_sp: Tensor, scale_base: Tensor | None,
                 k: int, base: str | None = "silu") -> Tensor:
    """The KAN layer as a function of its tensors, for one model or a stack of them.

    A leading member axis ``R`` (an ensemble) may be present on every tensor or
    on none; each member uses only its own parameters. On CPU the work runs in
    the fused kernels of :mod:`kanpaper.nn.kernels` when they are built; otherwise
    (GPU, no compiler, ``torch.func`` transforms) in PyTorch operations.

    Args:
        x: ``(*R, N, n_in)``.
        knots: ``(*R, n_in, G + 2k + 1)``.
        coef: ``(*R, n_in, n_out, G + k)``.
        scale_sp, scale_base: ``(*R, n_in, n_out)``; ``scale_base`` is None without a base term.
        k: degree. base: ``"silu"``, ``"identity"`` or None.

    Returns:
        ``(*R, N, n_out)``.
    """
    uniform = splines.is_uniform(knots)
    fused = kernels.usable(x, knots, coef)
    basis = None
    if fused and k <= kernels.MAX_BASIS_DEGREE:
        basis = kernels.uniform_basis(x, knots, k) if uniform else kernels.knot_basis(x, knots, k)
    first, values = basis or splines.local_basis(x, knots, k, uniform)        # (*R, N, n_in), (..., k+1)
    if fused:
        y = kernels.contract(values, first, kernels.table(coef, scale_sp, k))
    else:
        y = gather_contract(first, values, scale_sp.unsqueeze(-1) * coef, k, x.shape[-2])
    if scale_base is not None:
        y = y + BASES[base](x) @ scale_base
    return y


def gather_contract(first: Tensor, values: Tensor, scaled: Tensor, k: int, n_samples: int) -> Tensor:
    """:func:`kernels.contract` in PyTorch ops, from the unpadded ``scaled`` coefficients
    ``(*R, n_in, n_out, G+k)``: ``(*R, N, n_out)``."""
    n_in, n_out = scaled.shape[-3:-1]
    n_members = scaled.shape[:-3].numel()
    n_windows = scaled.shape[-1] + k + 2                                       # windows of k+1 padded bases
    if n_windows <= n_samples:
        # Few windows: copy every window of k+1 coefficient rows once, then gather one
        # whole window per sample and input (fewer, longer rows: cheaper index ops).
        windows = splines.pad_basis(scaled, k).unfold(-1, k + 1, 1)            # (*R, n_in, n_out, n_windows, k+1)
        table = windows.movedim(-3, -1).reshape(-1, (k + 1) * n_out)
        rows = first + _row_offsets(n_members, n_in, n_windows, 1, first.device).view(*scaled.shape[:-3], 1, n_in)
    else:
        # Many windows (G large against N): gather single rows, with one pass over the
        # coefficients (pad and transpose together) and no k+1-fold copy.
        table = nn.functional.pad(scaled.transpose(-1, -2), (0, 0, k + 1, k + 1)).reshape(-1, n_out)
        rows = first.unsqueeze(-1) + _row_offsets(n_members, n_in, n_windows + k, k + 1, first.device).view(
            *scaled.shape[:-3], 1, n_in, k + 1)
    picked = table.index_select(0, rows.reshape(-1)).view(-1, n_in * (k + 1), n_out)  # (R*N, n_in*(k+1), n_out)
    return torch.bmm(values.reshape(-1, 1, n_in * (k + 1)), picked).view(*first.shape[:-1], n_out)


_ROW_OFFSETS: dict[tuple, Tensor] = {}


def _row_offsets(n_members: int, n_in: int, rows_per_input: int, width: int, device) -> Tensor:
    """Rows ``r * n_in * rows_per_input + p * rows_per_input + j`` of a stacked table: ``(R, n_in, width)``."""
    key = (n_members, n_in, rows_per_input, width, str(device))
    if key not in _ROW_OFFSETS:
        member = torch.arange(n_members, device=device).view(-1, 1, 1) * (n_in * rows_per_input)
        feature = torch.arange(n_in, device=device).view(1, -1, 1) * rows_per_input
        _ROW_OFFSETS[key] = member + feature + torch.arange(width, device=device)
    return _ROW_OFFSETS[key]
