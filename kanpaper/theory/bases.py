"""Is it the B-spline, or the KAN? The Gram matrices of other one-input bases that KAN variants use (a question the
paper leaves open).

Theorem 4.1 bounds the condition number of one KAN layer's Hessian, which for independent inputs is built from the
Gram matrix ``M_lm = E[B_l(x) B_m(x)]`` of the basis on one input. Swap the B-splines for another basis and the same
layer, the same loss, has that basis's Gram matrix instead. :data:`~kanpaper.nn.bases.BASES` holds the bases of
common KAN variants, each on its own input domain; :func:`gram` integrates the Gram matrix
over uniform inputs by Gauss-Legendre quadrature on many subintervals (exact for the B-splines and the Chebyshev
and Fourier bases, accurate to rounding for the Gaussians).
"""

from __future__ import annotations

import numpy as np
import torch

from ..base.verdict import Verdict
from ..nn.bases import BASES, DOMAINS, evaluate_basis

__all__ = ["BASES", "DOMAINS", "gram", "condition_number", "slowest_oscillations", "flat_in_size",
           "grows_with_size"]


def gram(name: str, size: int, pieces: int = 400, order: int = 8) -> np.ndarray:
    """``(size, size)`` Gram matrix ``E[phi_l(x) phi_m(x)]`` of basis ``name`` for ``x`` uniform on its domain
    (:data:`DOMAINS`, else [0, 1]), by ``order``-point Gauss-Legendre on ``pieces`` equal subintervals."""
    low, high = DOMAINS.get(name, (0.0, 1.0))
    nodes, weights = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(low, high, pieces + 1)
    half = np.diff(edges)[:, None] / 2
    x = ((edges[:-1, None] + edges[1:, None]) / 2 + half * nodes).ravel()
    w = (half * weights).ravel() / (high - low)
    phi = _values(name, x, size)
    return phi.T @ (w[:, None] * phi)


def _values(name: str, x: np.ndarray, size: int) -> np.ndarray:
    """``(N, size)``: basis ``name`` at the points ``x (N,)`` (:func:`kanpaper.nn.bases.evaluate_basis`)."""
    return evaluate_basis(name, torch.as_tensor(x, dtype=torch.float64), size).numpy()


def condition_number(matrix: np.ndarray) -> float:
    """``lambda_max / lambda_min`` of a symmetric matrix (``inf`` when it is singular in float64: ``lambda_min``
    at or below ``n eps lambda_max``)."""
    values = np.linalg.eigvalsh(matrix)
    floor = matrix.shape[0] * np.finfo(np.float64).eps * values[-1]
    return float(values[-1] / values[0]) if values[0] > floor else float("inf")


def slowest_oscillations(name: str, size: int, count: int = 3, points: int = 4001) -> np.ndarray:
    """Sign changes of the ``count`` slowest eigenfunctions of the Gram matrix (about their mean) on ``points``
    points of the basis's domain: ``(count,)``. High counts: the slow directions are high frequencies."""
    values, vectors = np.linalg.eigh(gram(name, size))
    low, high = DOMAINS.get(name, (0.0, 1.0))
    functions = _values(name, np.linspace(low, high, points), size) @ vectors[:, :count]
    centred = functions - functions.mean(axis=0)
    signs = np.sign(centred)
    return ((signs[1:] * signs[:-1]) < 0).sum(axis=0)


def flat_in_size(sizes, conds, spread: float = 3.0, name: str = "") -> Verdict:
    """The condition number stays within a factor ``spread`` over the basis sizes (Theorem 4.1's property)."""
    conds = np.asarray(conds, dtype=np.float64)
    ratio = float(conds.max() / conds.min()) if np.isfinite(conds).all() else float("inf")
    return Verdict(f"{name}: the condition number is flat in the basis size", ratio <= spread,
                   f"{conds.min():.3g}-{conds.max():.3g} over sizes {min(sizes)}-{max(sizes)} ({ratio:.3g}x)",
                   f"within {spread:g}x")


def grows_with_size(sizes, conds, factor: float = 10.0, name: str = "") -> Verdict:
    """The condition number grows at least ``factor`` times from the smallest basis to the largest (or the Gram
    matrix turns singular in float64)."""
    conds = np.asarray(conds, dtype=np.float64)
    grown = float(conds[-1] / conds[0])
    return Verdict(f"{name}: the condition number grows with the basis size", grown >= factor,
                   f"{conds[0]:.3g} at size {sizes[0]} to {conds[-1]:.3g} at size {sizes[-1]}",
                   f">= {factor:g}x (or singular)")
