"""Spectral-bias theory (the paper's Section 4.1): Hessians of least-squares losses.

For one KAN layer without base term, ``y_q(x) = sum_p sum_m c[p, q, m] B_m(x_p)``,
and inputs uniform on ``[0, 1]^d``, the loss ``1/2 E[(y - f)^2]`` is quadratic in
the coefficients with Hessian (one output; ``d'`` outputs repeat it block-diagonally)::

    H = I_d (x) (M - v v^T) + 1 1^T (x) v v^T,   M_lm = int B_l B_m,   v_m = int B_m

computed here with Gauss-Legendre quadrature exact for piecewise polynomials.
For comparison, the Gram matrix of a two-layer ReLU network's outer layer with
neurons ``max(0, x - b_i)``, ``b_i = i / n``, in closed form.
"""

from __future__ import annotations

import numpy as np
import torch

from ..base.verdict import Verdict
from ..nn import splines
from ..nn.kan import KANLayer
from .rounding import gamma, unit_roundoff

__all__ = ["bspline_gram", "kan_hessian", "relu_gram", "sample_hessian", "autograd_hessian",
           "gradient_descent", "relu_features", "spline_features",
           "nonzero_condition_number", "sign_changes", "hessian_matches_autograd", "quadrature_matches",
           "zero_modes_are", "lambda_max_within_dimension", "sample_condition_converges",
           "descent_follows_eigenmodes", "kan_better_conditioned", "GRID_SPREAD", "EIGENVALUE_SPREAD",
           "DIMENSION_SPREAD", "MONTE_CARLO_TOLERANCE", "SAMPLE_CONDITION_TOLERANCE", "RELU_EXPONENT_TOLERANCE"]

# The tolerances of the claims about these Hessians (notebook 04 and the tests check the same ones):
GRID_SPREAD = 1.10                  # cond(H) over G = 5 ... 80: max / min below this
EIGENVALUE_SPREAD = 1.15            # G lambda_max and G lambda_min over G = 5 ... 80 (most of it at G = 5)
DIMENSION_SPREAD = 1.01             # G lambda_min at G = 80 over d = 1, 2, 4
MONTE_CARLO_TOLERANCE = 0.1         # the sample Hessian's error against N: a log-log slope within this of -1/2
SAMPLE_CONDITION_TOLERANCE = 0.05   # the sample Hessian's condition number from N = 30,000: relative to the population's
RELU_EXPONENT_TOLERANCE = 0.3       # the ReLU Gram's condition number against n: a log-log slope within this of 4


def bspline_gram(grid_size: int, k: int):
    """``(M, v)`` for pykan-style uniform knots on [0, 1] (``G + k`` functions), integrated over [0, 1].

    Returns:
        ``M``: ``(G + k, G + k)``; ``v``: ``(G + k,)``.
    """
    knots = splines.uniform_knots(1, grid_size, k, (0.0, 1.0))
    nodes, weights = splines.gauss_rule(k)                     # exact for degree 2k + 1
    edges = np.linspace(0.0, 1.0, grid_size + 1)
    lo, width = edges[:-1, None], np.diff(edges)[:, None]
    x = (lo + width * nodes).ravel()
    w = (width * weights).ravel()
    basis = splines.dense_basis(torch.as_tensor(x)[:, None], knots, k)[:, 0].numpy()   # (n_points, G+k)
    gram = basis.T @ (w[:, None] * basis)
    return gram, basis.T @ w


def kan_hessian(grid_size: int, k: int, d: int, d_out: int = 1) -> np.ndarray:
    """Exact Hessian of ``1/2 E[(y - f)^2]`` in the coefficients, ``(d' d (G+k), d' d (G+k))``.

    Coefficients are ordered (output, input, basis).
    """
    if d < 1 or d_out < 1:
        raise ValueError(f"need d >= 1 and d_out >= 1, got d={d}, d_out={d_out}")
    gram, v = bspline_gram(grid_size, k)
    outer = np.outer(v, v)
    one_output = np.kron(np.eye(d), gram - outer) + np.kron(np.ones((d, d)), outer)
    return np.kron(np.eye(d_out), one_output)


def relu_gram(n: int) -> np.ndarray:
    """``int_0^1 s(x - b_i) s(x - b_j) dx`` for ReLU ``s`` and ``b_i = i / n``, i = 0..n-1: ``(n, n)``."""
    b = np.arange(n) / n
    lo, hi = np.minimum.outer(b, b), np.maximum.outer(b, b)
    tail = 1 - hi
    return tail ** 3 / 3 + (hi - lo) * tail ** 2 / 2


def sample_hessian(layer: KANLayer, x: torch.Tensor) -> torch.Tensor:
    """Closed-form Hessian of ``1/2 mean((y - f)^2)`` for the sample ``x`` ``(N, d)``:
    ``(Phi^T Phi / N)`` per output, ordered (input, output, basis) like ``layer.coef``."""
    if layer.scale_base is not None:
        raise ValueError("the theorem's layer has no base term: build it with base=None")
    phi = splines.dense_basis(x, layer.knots, layer.k)                       # (N, d, n)
    phi = phi.reshape(x.shape[0], -1)                                         # (N, d n)
    n_basis, d, d_out = layer.coef.shape[-1], layer.n_in, layer.n_out
    per_output = (phi.T @ phi / x.shape[0]).reshape(d, n_basis, d, n_basis)
    scale = layer.scale_sp.detach()                                           # (d, d_out)
    hess = torch.einsum("pmrl,pq,rs,qs->pqmrsl", per_output, scale, scale, torch.eye(d_out, dtype=phi.dtype))
    size = d * d_out * n_basis
    return hess.reshape(size, size)


def autograd_hessian(layer: KANLayer, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Hessian of ``1/2 mean over samples of sum over outputs (y - f)^2`` w.r.t. ``layer.coef``, by autograd."""
    coef = layer.coef.detach().clone()

    def loss(c):
        y = torch.func.functional_call(layer, {"coef": c}, (x,))
        return 0.5 * ((y - target) ** 2).sum(-1).mean()

    size = coef.numel()
    return torch.autograd.functional.hessian(loss, coef).reshape(size, size)


def nonzero_condition_number(matrix: np.ndarray, rtol: float | None = None):
    """``(lambda_max / lambda_min over eigenvalues > rtol * lambda_max, number of eigenvalues below)``.

    ``rtol`` defaults to ``n * eps`` (numpy's ``matrix_rank`` rule): a symmetric eigensolver is backward stable,
    so an exact zero eigenvalue of an ``n x n`` matrix is computed within a small multiple of ``eps * lambda_max``.
    """
    eig = np.linalg.eigvalsh(matrix)
    if rtol is None:
        rtol = matrix.shape[0] * np.finfo(matrix.dtype).eps
    big = eig > rtol * eig[-1]
    return eig[-1] / eig[big].min(), int((~big).sum())


def sign_changes(values: np.ndarray) -> np.ndarray:
    """Sign changes along the last axis (ignoring exact zeros): oscillation of a sampled function."""
    signs = np.sign(values)
    signs = np.where(signs == 0, np.nan, signs)
    flips = signs[..., 1:] * signs[..., :-1] < 0
    return flips.sum(axis=-1)


def gradient_descent(features: np.ndarray, target: np.ndarray, steps) -> np.ndarray:
    """Gradient descent on ``1/2 mean((features @ c - target)^2)`` from ``c = 0`` with step ``eta = 1 / lambda_max``,
    its iterates in closed form, so that any step count costs the same (a log-time axis up to 1e10 steps).

    With ``H = features^T features / N = V diag(lambda) V^T`` and ``b = features^T target / N``, step ``t`` gives
    ``c_t = sum_i (1 - (1 - eta lambda_i)^t) / lambda_i (v_i . b) v_i`` (``t eta (v_i . b) v_i`` where
    ``lambda_i = 0``), each factor evaluated as ``-expm1(t log1p(-eta lambda_i)) / lambda_i`` to keep its digits
    when ``eta lambda_i`` is tiny and ``t`` huge.

    Args:
        features: ``(N, P)``; target: ``(N,)``; steps: ``(S,)`` non-negative step counts.

    Returns:
        ``(S, N)`` predictions ``features @ c_t``.
    """
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or (steps < 0).any():
        raise ValueError(f"steps must be a 1D array of non-negative step counts, got {steps!r}")
    n = features.shape[0]
    lam, vectors = np.linalg.eigh(features.T @ features / n)
    rate = 1.0 / lam[-1]
    shrink = np.clip(rate * lam, 0.0, 1.0)                     # eta lambda_i in [0, 1] (rounding can leave it)
    with np.errstate(divide="ignore", invalid="ignore"):       # eta lambda = 1: log1p(-1) = -inf, gone after one step
        decayed = -np.expm1(steps[:, None] * np.log1p(-shrink))    # (S, P): 1 - (1 - eta lambda)^t
    decayed[steps == 0] = 0.0
    factor = np.where(shrink > 0, decayed / np.where(shrink > 0, lam, 1.0), steps[:, None] * rate)
    coef = (factor * (vectors.T @ (features.T @ target / n))) @ vectors.T     # (S, P)
    return coef @ features.T


def relu_features(x: np.ndarray, n: int) -> np.ndarray:
    """``max(0, x - i / n)``, i = 0..n-1, at ``x`` ``(N,)``: ``(N, n)``."""
    return np.maximum(0.0, np.subtract.outer(x, np.arange(n) / n))


def spline_features(x: np.ndarray, grid_size: int, k: int) -> np.ndarray:
    """The ``G + k`` B-splines of uniform knots on [0, 1] at ``x`` ``(N,)``: ``(N, G + k)``."""
    knots = splines.uniform_knots(1, grid_size, k, (0.0, 1.0))
    return splines.dense_basis(torch.as_tensor(x, dtype=torch.float64)[:, None], knots, k)[:, 0].numpy()


# ---- the claims of the Hessian analysis as verdicts

def hessian_matches_autograd(layer: KANLayer, x: torch.Tensor, closed: torch.Tensor, auto: torch.Tensor) -> Verdict:
    """The closed-form sample Hessian ``closed`` equals autograd's ``auto`` (both ``(P, P)``, for ``layer`` at
    ``x`` ``(N, d)``) to rounding: each sums N products of basis values (each within about ``(4k + 4) u`` of
    exact, values <= 1) times ``w_s^2``, so an entry errs by at most ``gamma_{N+4k+6} max w_s^2`` on either side."""
    allowed = 2 * gamma(x.shape[0] + 4 * layer.k + 6, x.dtype) * float(layer.scale_sp.detach().abs().max()) ** 2
    measured = float((closed - auto).abs().max())
    return Verdict(f"d = {layer.n_in}, d' = {layer.n_out}, G = {layer.grid_size}, k = {layer.k}: the closed-form "
                   "Hessian is autograd's", measured <= allowed, f"largest entry difference {measured:.2g}",
                   f"<= 2 gamma_(N+4k+6) max w_s^2 = {allowed:.2g}")


def quadrature_matches(sample: np.ndarray, population: np.ndarray, tolerance: float) -> Verdict:
    """A quadrature-rule sample Hessian equals the population Hessian to the rule's own error ``tolerance`` (a
    discretisation error, far above rounding: state it from the rule, e.g. ``h^2 max|f''| / 24`` for midpoints)."""
    measured = float(np.abs(sample - population).max())
    return Verdict("the sample Hessian on a quadrature grid is the population Hessian", measured < tolerance,
                   f"largest entry difference {measured:.2g}", f"< {tolerance:g}")


def zero_modes_are(zero_modes: int, expected: int, case: str) -> Verdict:
    """A Hessian has exactly ``expected`` zero eigenvalues (``d'(d - 1)``: one constant per extra input and
    output can move between edges without changing the layer)."""
    return Verdict(f"{case}: zero modes", zero_modes == expected, f"{zero_modes}", f"d'(d - 1) = {expected}")


def lambda_max_within_dimension(scaled_largest, d: int, case: str = "") -> Verdict:
    """``G lambda_max <= d`` at every grid size (``scaled_largest``: ``(n,)`` values of ``G lambda_max``); the
    B-splines sum to one, so ``v^T H v <= d |v|^2 / G`` up to rounding (``1e-12`` relative)."""
    scaled_largest = np.asarray(scaled_largest, dtype=np.float64)
    return Verdict(f"{case}G lambda_max is at most d", bool(scaled_largest.max() <= d * (1 + 1e-12)),
                   f"up to {scaled_largest.max():.4f}", f"<= d = {d}")


def sample_condition_converges(sample_conds, population_cond: float, within: float) -> Verdict:
    """The sample Hessians' condition numbers (any shape) are within ``within`` (relative) of the population's."""
    sample_conds = np.asarray(sample_conds, dtype=np.float64)
    worst = float(np.abs(sample_conds / population_cond - 1).max())
    return Verdict("the sample Hessian's condition number is the population's", worst < within,
                   f"up to {worst:.2%} away from {population_cond:.0f}", f"within {within:.0%}")


def descent_follows_eigenmodes(components: np.ndarray, predicted: np.ndarray, n_samples: int, k: int) -> Verdict:
    """Gradient descent on a least-squares KAN layer moves each Hessian eigencomponent of the coefficient error as
    ``(1 - eta lambda_i)^t``: ``components`` and ``predicted`` are ``(steps + 1, P)``. Each step's gradient errs by
    ``gamma_{N+4k+6} eta ||H|| ||e|| <= (N + 4k + 6) u ||e_0||``; the errors add over the steps."""
    steps = components.shape[0] - 1
    deviation = float(np.abs(components - predicted).max())
    allowed = steps * (n_samples + 4 * k + 6) * unit_roundoff(torch.float64) * float(np.linalg.norm(components[0]))
    return Verdict(f"every eigencomponent follows (1 - eta lambda_i)^t for {steps} steps", deviation <= allowed,
                   f"largest deviation {deviation:.2g}", f"<= steps (N + 4k + 6) u ||e_0|| = {allowed:.2g}")


def kan_better_conditioned(kan_eigenvalues, relu_eigenvalues, kan_floor: float = 1e-4,
                           relu_ceiling: float = 1e-6) -> Verdict:
    """The KAN layer's smallest eigenvalue is above ``kan_floor`` times its largest, the ReLU Gram's below
    ``relu_ceiling`` times its largest (eigenvalues: ``(n,)``, ascending)."""
    kan = float(kan_eigenvalues[0] / kan_eigenvalues[-1])
    relu = float(relu_eigenvalues[0] / relu_eigenvalues[-1])
    return Verdict("the KAN layer is far better conditioned than the ReLU layer", kan > kan_floor and relu < relu_ceiling,
                   f"smallest / largest eigenvalue: KAN {kan:.2g}, ReLU {relu:.2g}",
                   f"KAN > {kan_floor:g}, ReLU < {relu_ceiling:g}")
