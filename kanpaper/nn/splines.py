"""B-spline bases on per-input knot vectors, evaluated locally.

Conventions follow pykan 0.2.5: an input has ``G`` grid intervals, extended by
``k`` knots on each side with the same spacing, so its knot vector ``t`` holds
``G + 2k + 1`` knots and spans ``G + k`` basis functions ``B_0 .. B_{G+k-1}`` of
degree ``k`` (``B_m`` is supported on ``[t_m, t_{m+k+1})``). Intervals are
half-open; outside ``[t_0, t_{G+2k})`` every basis function is zero.

Only the ``k + 1`` basis functions that are nonzero at a point are evaluated:
``local_basis`` returns the index of the first of them and their values, so the
work per sample does not depend on ``G``. Every step is an ordinary
differentiable torch operation (the interval index is held fixed), so
derivatives in ``x`` of any order are exact within each interval.

Shapes: ``x`` is ``(N, n_in)``; ``knots`` is ``(n_in, G + 2k + 1)``;
coefficients are ``(n_in, n_out, G + k)`` as in pykan.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from torch import Tensor, nn

from ..base.checks import check_choice
from ..base.settings import single_threaded_blas

__all__ = [
    "extend_knots",
    "uniform_knots",
    "knots_are_uniform",
    "is_uniform",
    "cardinal_pieces",
    "local_basis",
    "pad_basis",
    "dense_basis",
    "fit_coefficients",
    "interpolated_knots",
    "refine_knots",
    "refine_coefficients",
    "differentiate",
    "gauss_rule",
    "gauss_points",
]

SOLVERS = ("normal", "lstsq")                 # fit_coefficients: pykan 0.2.5-0.2.7, pykan 0.2.8


def _check_degree(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        raise ValueError(f"spline degree k must be an integer >= 0, got {k!r}")


def extend_knots(interior: Tensor, k: int) -> Tensor:
    """Extend interior knots by ``k`` knots on each side (pykan's rule).

    The spacing of the added knots is ``(last - first) / G``.

    Args:
        interior: ``(n_in, G + 1)`` increasing knots per input.
        k: spline degree.

    Returns:
        ``(n_in, G + 2k + 1)`` knots.
    """
    _check_degree(k)
    n_intervals = interior.shape[-1] - 1
    h = (interior[..., -1:] - interior[..., :1]) / n_intervals
    left, right = [], []
    for _ in range(k):  # repeated steps, as pykan does, so knots agree bit for bit
        left.insert(0, (left[0] if left else interior[..., :1]) - h)
        right.append((right[-1] if right else interior[..., -1:]) + h)
    return torch.cat([*left, interior, *right], dim=-1)


def uniform_knots(n_in: int, grid_size: int, k: int, grid_range=(-1.0, 1.0),
                  dtype=torch.float64, device=None) -> Tensor:
    """Uniform extended knots, the same for every input.

    Returns:
        ``(n_in, grid_size + 2k + 1)`` knots.
    """
    if not isinstance(grid_size, (int, np.integer)) or isinstance(grid_size, bool) or grid_size < 1:
        raise ValueError(f"grid size G must be an integer >= 1, got {grid_size!r}")
    lo, hi = float(grid_range[0]), float(grid_range[1])
    if not hi > lo:
        raise ValueError(f"grid_range must be (low, high) with low < high, got {tuple(grid_range)!r}")
    interior = torch.linspace(lo, hi, grid_size + 1, dtype=dtype, device=device)
    return extend_knots(interior.expand(n_in, grid_size + 1), k)


def knots_are_uniform(knots: Tensor, rtol: float = 1e-12) -> bool:
    """Whether every input's knots are equally spaced (to ``rtol`` of the spacing)."""
    gaps = knots.diff(dim=-1)
    h = gaps.mean(dim=-1, keepdim=True)
    return bool(((gaps - h).abs() <= rtol * h.abs()).all())


def is_uniform(knots: Tensor) -> bool:
    """:func:`knots_are_uniform`, remembered on the knot tensor until it is modified in place.

    Layers ask this on every forward pass; the answer is recomputed only for new knots
    (a new tensor, or the same one after an in-place write, which bumps its version).
    Inside ``torch.vmap`` the question is asked of the whole stack (every member uniform),
    since a per-member answer would be data-dependent control flow.
    """
    while torch._C._functorch.is_batchedtensor(knots):
        knots = torch._C._functorch.get_unwrapped(knots)
    cached = getattr(knots, "_kanpaper_uniform", None)
    if cached is not None and cached[0] == knots._version:
        return cached[1]
    answer = knots_are_uniform(knots)
    knots._kanpaper_uniform = (knots._version, answer)
    return answer


def cardinal_pieces(k: int) -> np.ndarray:
    """Polynomial pieces of the uniform (cardinal) B-spline of degree k.

    Returns ``M`` of shape ``(k + 1, k + 1)`` with ``M[p, j]`` the coefficient of
    ``u**p`` in the value of ``B_{i-k+j}`` at ``x = t_i + u h``, ``u`` in [0, 1).
    """
    from numpy.polynomial import Polynomial as P

    # pieces[r] = piece of N_d on [r, r+1) as a polynomial in u = s - r
    pieces = [P([1.0])]
    for d in range(1, k + 1):
        new = []
        for r in range(d + 1):
            term = P([0.0])
            if r <= d - 1:
                term = term + P([r, 1.0]) / d * pieces[r]
            if r >= 1:
                term = term + P([d + 1 - r, -1.0]) / d * pieces[r - 1]
            new.append(term)
        pieces = new
    matrix = np.zeros((k + 1, k + 1))
    for j in range(k + 1):  # basis B_{i-k+j} sits on its piece r = k - j
        coefs = pieces[k - j].coef
        matrix[: len(coefs), j] = coefs
    return matrix


_CARDINAL_CACHE: dict[tuple, Tensor] = {}


def _cardinal_matrix(k: int, dtype, device) -> Tensor:
    key = (k, dtype, str(device))
    if key not in _CARDINAL_CACHE:
        _CARDINAL_CACHE[key] = torch.as_tensor(cardinal_pieces(k), dtype=dtype, device=device)
    return _CARDINAL_CACHE[key]


def _interval_uniform(x: Tensor, knots: Tensor):
    """Interval index and local coordinate in [0, 1) on uniform knots, O(1) per sample."""
    t0 = knots[..., 0].unsqueeze(-2)                                         # (..., 1, n_in)
    h = ((knots[..., -1] - knots[..., 0]) / (knots.shape[-1] - 1)).unsqueeze(-2)
    s = (x - t0) / h
    interval = torch.floor(s.detach())
    return interval.long(), s - interval


def _powers(u: Tensor, k: int) -> Tensor:
    """``(..., k + 1)``: ``1, u, u^2, ..., u^k`` (products, so every derivative in ``u`` is exact)."""
    columns = [torch.ones_like(u), u][: k + 1]
    while len(columns) <= k:
        columns.append(columns[-1] * u)
    return torch.stack(columns, dim=-1)


def local_basis(x: Tensor, knots: Tensor, k: int, uniform: bool | None = None):
    """The ``k + 1`` possibly nonzero B-spline values at each input.

    Basis functions are numbered with ``k + 1`` zero "phantom" functions
    padded on each side (see :func:`pad_basis`): padded index ``r`` is basis
    ``B_{r-k-1}``. A point in interval ``[t_i, t_{i+1})`` touches padded
    indices ``i + 1 .. i + k + 1``. Points outside the knots are sent to the
    padding, so no masking is needed and every value is finite.

    Args:
        x: ``(*B, N, n_in)`` points, with optional leading batch axes ``B``
            (the members of an ensemble) shared with ``knots``.
        knots: ``(*B, n_in, G + 2k + 1)`` increasing knots.
        k: degree.
        uniform: use the O(1) closed form for equally spaced knots. ``None``
            asks :func:`is_uniform` (computed once per knot tensor).

    Returns:
        ``(first, values)``: ``first`` is ``(*B, N, n_in)`` long, the padded index
        of the first touched basis; ``values`` is ``(*B, N, n_in, k + 1)``.
    """
    n_knots = knots.shape[-1]
    if uniform is None:
        uniform = is_uniform(knots)
    if uniform:
        interval, u = _interval_uniform(x, knots)
        values = _powers(u, k) @ _cardinal_matrix(k, x.dtype, x.device)
    else:
        interval = torch.searchsorted(knots, x.detach().transpose(-1, -2).contiguous(), right=True)
        interval = interval.transpose(-1, -2) - 1
        values = _de_boor(x, knots, interval, k)
    return interval.clamp(-1, n_knots - 1) + 1, values


def pad_basis(coef: Tensor, k: int) -> Tensor:
    """Pad the last (basis) axis with ``k + 1`` zeros on each side: ``(..., G+k) -> (..., G+3k+2)``."""
    return nn.functional.pad(coef, (k + 1, k + 1))


def _de_boor(x: Tensor, knots: Tensor, interval: Tensor, k: int) -> Tensor:
    """Cox-de Boor recursion restricted to the k+1 bases nonzero on ``interval``."""
    h_lo = knots[..., 1:2] - knots[..., :1]
    h_hi = knots[..., -1:] - knots[..., -2:-1]
    pad = torch.arange(1, k + 2, dtype=knots.dtype, device=knots.device)
    padded = torch.cat([knots[..., :1] - h_lo * pad.flip(0), knots, knots[..., -1:] + h_hi * pad], dim=-1)
    # window[..., s] = t_{i-k+s}, s = 0 .. 2k+1 (offset k+1 for the padding)
    offsets = torch.arange(2 * k + 2, device=x.device)
    where = (interval + 1).unsqueeze(-1) + offsets          # searchsorted gives -1 .. n_knots-1
    window = torch.gather(padded.unsqueeze(-3).expand(*where.shape[:-1], padded.shape[-1]), -1, where)
    xe = x.unsqueeze(-1)
    values = torch.ones_like(xe)
    for d in range(1, k + 1):
        t_lo = window[..., k - d: k + 2]          # t_m,     m = i-d .. i+1
        t_hi = window[..., k: k + d + 2]          # t_{m+d}
        w = (xe - t_lo) / (t_hi - t_lo)
        prev = nn.functional.pad(values, (1, 1))
        values = w[..., :-1] * prev[..., :-1] + (1 - w[..., 1:]) * prev[..., 1:]
    return values


def dense_basis(x: Tensor, knots: Tensor, k: int, uniform: bool | None = None) -> Tensor:
    """All ``G + k`` basis values per input (for least squares and Hessians).

    Returns:
        ``(N, n_in, G + k)``.
    """
    n_basis = knots.shape[1] - k - 1
    first, values = local_basis(x, knots, k, uniform)
    index = first.unsqueeze(-1) + torch.arange(k + 1, device=x.device)
    out = torch.zeros(*x.shape, n_basis + 2 * k + 2, dtype=values.dtype, device=values.device)
    return out.scatter_add(-1, index, values)[..., k + 1: k + 1 + n_basis]


def fit_coefficients(x: Tensor, y: Tensor, knots: Tensor, k: int, ridge: float = 1e-8,
                     solver: str = "normal") -> Tensor:
    """Least-squares spline coefficients: ``sum_m c[p, q, m] B_m(x_p) ~ y[:, p, q]``, solved as pykan does.

    ``solver="normal"`` (pykan 0.2.5 to 0.2.7): per input, the normal equations with an absolute ridge,
    ``c = pinv(X^T X + ridge I) X^T y`` (``curve2coef``, ``lamb = 1e-8``): the ridge keeps intervals without
    samples well posed (the initial fit has G + 1 points for G + k coefficients), and the same regulariser and
    solver give pykan's coefficients to rounding. ``solver="lstsq"`` (pykan 0.2.8): LAPACK's ``gelsy`` on ``X``
    itself, no ridge (the minimum-norm solution where ``X`` is rank deficient), on the CPU whatever the device
    (CUDA's solver takes full-rank systems only), by SciPy, whose results repeat to the bit. The design matrix
    ``X`` is shared by all outputs of an input.

    Args:
        x: ``(N, n_in)`` sample points.
        y: ``(N, n_in, n_out)`` target values per edge.
        knots: ``(n_in, G + 2k + 1)``.
        k: degree.
        ridge: absolute Tikhonov weight of ``"normal"`` (0: plain least squares, for full-rank fits).
        solver: ``"normal"`` or ``"lstsq"``.

    Returns:
        ``(n_in, n_out, G + k)`` coefficients, in the dtype of ``y``.
    """
    if x.ndim != 2 or y.ndim != 3 or y.shape[:2] != x.shape:
        raise ValueError(f"expected x (N, n_in) and y (N, n_in, n_out), got {tuple(x.shape)} and {tuple(y.shape)}")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    check_choice("least-squares solver", solver, SOLVERS)
    design = dense_basis(x.double(), knots.double(), k).permute(1, 0, 2)     # (n_in, N, n_basis)
    if solver == "lstsq":
        # SciPy's LAPACK (its own OpenBLAS) with PyTorch's rank cutoff eps * max(N, n_basis): MKL's gelsy, which
        # torch.linalg.lstsq calls, does not repeat its last bits from call to call, and L-BFGS amplifies them;
        # on one BLAS thread, so that the bits do not follow the process's thread count either
        design_np, rhs = design.cpu().numpy(), y.double().permute(1, 0, 2).cpu().numpy()
        cutoff = np.finfo(np.float64).eps * max(design_np.shape[1:])
        with single_threaded_blas():
            coef = np.stack([scipy.linalg.lstsq(a, b, cond=cutoff, lapack_driver="gelsy")[0]
                             for a, b in zip(design_np, rhs)])                # (n_in, n_basis, n_out)
        return torch.from_numpy(coef).permute(0, 2, 1).to(device=y.device, dtype=y.dtype).contiguous()
    gram = design.transpose(1, 2) @ design                                    # (n_in, n_basis, n_basis)
    rhs = design.transpose(1, 2) @ y.double().permute(1, 0, 2)                # (n_in, n_basis, n_out)
    gram = gram + ridge * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    # One pseudo-inverse per input, not one batched call: PyTorch's batched LAPACK calls run on several
    # threads at once after torch.set_num_threads(n > 1), which MKL does not survive (pytorch issues
    # 141358, 142815: "DLASWP" errors, wrong pivots, hangs).
    coef = torch.stack([torch.linalg.pinv(g) @ r for g, r in zip(gram, rhs)])  # (n_in, n_basis, n_out)
    return coef.permute(0, 2, 1).to(y.dtype).contiguous()


def interpolated_knots(knots: Tensor, k: int, grid_size: int) -> Tensor:
    """pykan 0.2.8's knots for a grid extension: the old interior knots, read as a piecewise-linear function
    of ``[-1, 1]`` (knot ``j`` of ``G`` at ``-1 + 2j/G``), sampled at ``grid_size + 1`` equally spaced points,
    then re-extended. Independent of the samples; nested in the old knots where ``grid_size`` is a multiple of G.

    Args:
        knots: ``(n_in, G + 2k + 1)``.

    Returns:
        ``(n_in, grid_size + 2k + 1)``.
    """
    if not isinstance(grid_size, (int, np.integer)) or grid_size < 1:
        raise ValueError(f"grid size must be an integer >= 1, got {grid_size!r}")
    interior = knots[:, k: knots.shape[1] - k]                                 # (n_in, G+1)
    old = interior.shape[1] - 1
    position = torch.linspace(0, old, grid_size + 1, dtype=knots.dtype, device=knots.device)
    left = position.floor().long().clamp(max=old - 1)
    frac = position - left
    new = interior[:, left] + frac * (interior[:, left + 1] - interior[:, left])
    return extend_knots(new, k)


def refine_knots(knots: Tensor, k: int, factor: int) -> Tensor:
    """Split every interior interval into ``factor`` equal parts, then re-extend.

    Returns:
        ``(n_in, factor * G + 2k + 1)`` knots whose grid domain equals the old one.
    """
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"refinement factor must be an integer >= 1, got {factor!r}")
    interior = knots[:, k: knots.shape[1] - k]
    fractions = torch.arange(factor, dtype=knots.dtype, device=knots.device) / factor
    left, gap = interior[:, :-1], interior.diff(dim=1)
    fine = (left.unsqueeze(-1) + gap.unsqueeze(-1) * fractions).flatten(1)
    return extend_knots(torch.cat([fine, interior[:, -1:]], dim=1), k)


def refine_coefficients(knots: Tensor, coef: Tensor, new_knots: Tensor, k: int) -> Tensor:
    """Coefficients on ``new_knots`` of the same splines, exactly on the grid domain.

    Requires the new interior knots to contain the old ones (knot insertion):
    then every old spline lies in the new spline space on ``[t_k, t_{G+k}]`` and
    a least-squares fit at ``k + 1`` Gauss points per new interval recovers it
    to rounding error.

    Args:
        knots: ``(n_in, G + 2k + 1)``; coef: ``(n_in, n_out, G + k)``;
        new_knots: ``(n_in, G' + 2k + 1)`` with nested interior knots.

    Returns:
        ``(n_in, n_out, G' + k)``.
    """
    old_interior = knots[:, k: knots.shape[1] - k]
    new_interior = new_knots[:, k: new_knots.shape[1] - k]
    gaps = (old_interior.unsqueeze(-1) - new_interior.unsqueeze(1)).abs().amin(dim=-1)
    span = (old_interior[:, -1] - old_interior[:, 0]).unsqueeze(1)
    if bool((gaps > 1e-12 * span).any()) or not torch.allclose(new_interior[:, [0, -1]], old_interior[:, [0, -1]]):
        raise ValueError("new knots do not nest the old ones on the same grid domain; "
                         "use a least-squares refit from samples (KAN.extend_grid) instead")
    points = gauss_points(new_knots, k).T                                    # (n_points, n_in)
    basis = dense_basis(points, knots, k)                                     # (n_points, n_in, G+k)
    values = torch.einsum("npm,pqm->npq", basis, coef)
    return fit_coefficients(points, values, new_knots, k, ridge=0.0)


def differentiate(knots: Tensor, coef: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The derivative of degree-k splines as degree-(k - 1) splines on the same interior knots.

    ``d/dx sum_m c_m B_{m,k}(x) = sum_j c'_j B_{j,k-1}(x)`` with
    ``c'_j = k (c_{j+1} - c_j) / (t_{j+k+1} - t_{j+1})``, exact on the grid domain ``[t_k, t_{G+k}]``
    (the two end terms the formula leaves out live outside it). Apply m times for the m-th derivative.

    Args:
        knots: ``(n_in, G + 2k + 1)``; coef: ``(n_in, n_out, G + k)``; k >= 1.

    Returns:
        ``(knots', coef')``: ``(n_in, G + 2k - 1)`` (the outermost knot dropped each side) and
        ``(n_in, n_out, G + k - 1)``.
    """
    _check_degree(k)
    if k < 1:
        raise ValueError("a degree-0 spline is piecewise constant: its derivative is not a spline of degree >= 0")
    if coef.shape[-1] != knots.shape[1] - k - 1:
        raise ValueError(f"coef has {coef.shape[-1]} coefficients per edge; knots {tuple(knots.shape)} "
                         f"of degree {k} need {knots.shape[1] - k - 1}")
    spans = (knots[:, k + 1: -1] - knots[:, 1: -k - 1]).unsqueeze(1)          # (n_in, 1, G + k - 1)
    return knots[:, 1:-1].contiguous(), k * coef.diff(dim=-1) / spans


def gauss_rule(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k + 1``-point Gauss-Legendre rule on ``[0, 1]`` (exact for polynomials of degree ``2k + 1``: the
    product of two degree-k spline pieces): nodes ``(k + 1,)`` and weights ``(k + 1,)``, summing to 1."""
    nodes, weights = np.polynomial.legendre.leggauss(k + 1)
    return (nodes + 1) / 2, weights / 2


def gauss_points(knots: Tensor, k: int) -> Tensor:
    """The :func:`gauss_rule` nodes in every interval of the grid domain.

    Args:
        knots: ``(n_in, G + 2k + 1)``.

    Returns:
        ``(n_in, G (k + 1))``.
    """
    interior = knots[:, k: knots.shape[1] - k]
    nodes = torch.as_tensor(gauss_rule(k)[0], dtype=knots.dtype, device=knots.device)
    return (interior[:, :-1].unsqueeze(-1) + interior.diff(dim=1).unsqueeze(-1) * nodes).flatten(1)
