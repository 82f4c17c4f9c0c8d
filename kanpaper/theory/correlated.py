"""Theorem 4.1 with dependent inputs (a question the paper leaves open): one KAN layer's Hessian when its inputs
are correlated.

The theorem takes the inputs independent and uniform on ``[0, 1]``, so the Hessian's cross-input blocks are the
outer products of the basis means and its condition number stays flat in G. Here the inputs follow a Gaussian
copula with equicorrelation ``rho``: ``x_p = Phi(z_p)``, ``z ~ N(0, C)``, ``C = (1 - rho) I + rho 1 1^T``. Each
input is still uniform on ``[0, 1]``; only their dependence changes, and with it the cross blocks
``E[B_l(x_p) B_m(x_r)]``, computed here from samples (:func:`~kanpaper.theory.hessian.sample_hessian`). The map
``x -> Phi(L^{-1} Phi^{-1}(x))`` (``L`` the Cholesky factor of ``C``) makes the inputs independent again
(:func:`decorrelate`).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import ndtr, ndtri
from torch import Tensor

from ..base.verdict import Verdict
from ..nn import splines
from ..nn.kan import KANLayer
from .hessian import sign_changes

__all__ = ["copula_inputs", "decorrelate", "slow_directions", "condition_grows_with_correlation",
           "slowest_directions_are_differences", "decorrelation_restores"]


def _correlation(d: int, rho: float) -> np.ndarray:
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"correlated inputs need d >= 2, got {d!r}")
    if not -1.0 / (d - 1) < rho < 1.0:
        raise ValueError(f"an equicorrelation of {d} inputs lies in (-1/{d - 1}, 1), got {rho}")
    return np.full((d, d), float(rho)) + (1.0 - rho) * np.eye(d)


def copula_inputs(n: int, d: int, rho: float, generator: np.random.Generator) -> Tensor:
    """``(n, d)`` inputs, each uniform on ``[0, 1]``, from a Gaussian copula with equicorrelation ``rho``."""
    cholesky = np.linalg.cholesky(_correlation(d, rho))
    return torch.from_numpy(ndtr(generator.standard_normal((n, d)) @ cholesky.T))


def decorrelate(x: Tensor, rho: float) -> Tensor:
    """``(N, d)`` copula inputs with equicorrelation ``rho`` mapped to independent uniform ones:
    ``Phi(L^{-1} Phi^{-1}(x))``."""
    cholesky = np.linalg.cholesky(_correlation(x.shape[1], rho))
    z = ndtri(x.numpy())
    return torch.from_numpy(ndtr(np.linalg.solve(cholesky, z.T).T))


def slow_directions(hessian: np.ndarray, layer: KANLayer, count: int, points: int = 2001, rtol: float = 1e-10):
    """The ``count`` eigendirections of smallest nonzero eigenvalue (one output), as functions of each input.

    Args:
        hessian: ``(d n, d n)`` for a layer with one output, coefficients ordered (input, basis).
        layer: the layer (its knots on ``[0, 1]``).

    Returns:
        ``(eigenvalues (count,) over the largest, coefficient blocks (count, d, n), sign changes (count, d) of each
        input's function on ``points`` points of [0, 1] about its mean)``.
    """
    if layer.n_out != 1:
        raise ValueError(f"slow directions are those of a one-output layer, got {layer.n_out} outputs")
    values, vectors = np.linalg.eigh(hessian)
    keep = np.nonzero(values > rtol * values[-1])[0][:count]
    blocks = vectors[:, keep].T.reshape(len(keep), layer.n_in, -1)
    grid = torch.linspace(0.0, 1.0, points, dtype=torch.float64)[:, None].expand(-1, layer.n_in).contiguous()
    basis = splines.dense_basis(grid, layer.knots, layer.k).numpy()            # (points, d, n)
    functions = np.einsum("xpn,cpn->cpx", basis, blocks)
    wiggles = sign_changes(functions - functions.mean(axis=-1, keepdims=True))
    return values[keep] / values[-1], blocks, wiggles


def condition_grows_with_correlation(rhos, conds, factor: float = 5.0, rising_from: float = 0.5,
                                     name: str = "") -> Verdict:
    """The condition number rises with the correlation at every step from ``rho = rising_from`` on (below it the
    change is within the Monte Carlo noise of a sample Hessian), and the last is at least ``factor`` times the
    first (``rhos`` increasing)."""
    rhos, conds = np.asarray(rhos, dtype=np.float64), np.asarray(conds, dtype=np.float64)
    if rhos.ndim != 1 or rhos.shape != conds.shape or len(rhos) < 2 or (np.diff(rhos) <= 0).any():
        raise ValueError(f"need increasing correlations and one condition number each, got {rhos} and {conds}")
    strong = conds[rhos >= rising_from]
    rises = bool(len(strong) >= 2 and (np.diff(strong) > 0).all())
    return Verdict(f"{name}the condition number grows with the input correlation",
                   rises and conds[-1] >= factor * conds[0],
                   f"{conds[0]:.3g} at rho = {rhos[0]:g} to {conds[-1]:.3g} at rho = {rhos[-1]:g} "
                   f"({conds[-1] / conds[0]:.3g}x), rising at every step from rho = {rising_from:g}: {rises}",
                   f"rising from rho = {rising_from:g}, and >= {factor:g}x")


def slowest_directions_are_differences(blocks, threshold: float = 0.1, name: str = "") -> Verdict:
    """Along each given slow direction the inputs' functions cancel: the norm of their sum is at most
    ``threshold`` of what it would be were they equal (``|sum_p c_p| / sqrt(d sum_p |c_p|^2)``, 0 for
    ``f(x_1) - f(x_2)``, 1 for ``f(x_1) + f(x_2)``). Such a direction changes contrasts between the inputs, which
    correlated inputs barely see."""
    blocks = np.asarray(blocks, dtype=np.float64)
    if blocks.ndim != 3 or blocks.shape[1] < 2:
        raise ValueError(f"expected (directions, d >= 2, basis) coefficient blocks, got shape {blocks.shape}")
    d = blocks.shape[1]
    share = np.linalg.norm(blocks.sum(axis=1), axis=-1) / np.sqrt(d * (blocks ** 2).sum(axis=(1, 2)))
    return Verdict(f"{name}the slowest directions are differences of the inputs' functions",
                   bool((share <= threshold).all()),
                   "the inputs' functions summed, relative to equal ones: " + ", ".join(f"{v:.2g}" for v in share),
                   f"each <= {threshold:g}")


def decorrelation_restores(cond_restored: float, cond_independent: float, tolerance: float = 0.2,
                           name: str = "") -> Verdict:
    """After :func:`decorrelate` the condition number is that of independent inputs, within ``tolerance``
    (relative: both are sample Hessians, each off its population value by Monte Carlo noise)."""
    gap = abs(cond_restored / cond_independent - 1.0)
    return Verdict(f"{name}decorrelating the inputs restores the independent condition number", gap <= tolerance,
                   f"{cond_restored:.3g} against {cond_independent:.3g} ({gap:.1%} apart)",
                   f"within {tolerance:.0%}")
