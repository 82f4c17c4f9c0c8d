"""Section 3 of the paper, measured: spline rates in C^m, deep KANs for composed targets, deep ReLU networks.

- :func:`spline_sup_errors`: the least-squares degree-k spline of a smooth function on a uniform grid of size G,
  and its sup errors in C^0 ... C^k (the rate behind KANs: ``G^-(k+1-m)`` in C^m).
- :func:`composed_kan`: a KAN ``[d, 1, 1]`` for ``f(x) = outer(sum_p inner_p(x_p))`` built as the approximation
  theorem's proof builds it, every edge replaced by a spline fit of the function it stands for.
- :func:`sawtooth_square_network`: Yarotsky's deep ReLU network for ``x^2`` on ``[0, 1]`` (error ``4^-(L+1)``
  with L hidden layers of width 4), a deep network with a known rate to convert into a KAN.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from ..base.verdict import Verdict
from ..nn import splines
from ..nn.kan import KAN
from ..nn.mlp import MLP
from .rounding import unit_roundoff

__all__ = ["SAMPLES_PER_INTERVAL", "least_squares_spline", "evaluate_spline", "spline_sup_errors", "composed_kan",
           "sawtooth_square_network", "SAWTOOTH_PARAMETER_RATIO", "sawtooth_kan_matches", "kan_parameters_within",
           "RATE_TOLERANCE"]

RATE_TOLERANCE = 0.3         # a fitted log-log rate counts as the theorem's when within this of it
SAMPLES_PER_INTERVAL = 40   # least-squares samples per grid interval: the fit is the L2 projection to ~1e-3


def least_squares_spline(fn: Callable[[Tensor], Tensor], grid_size: int, k: int,
                         interval=(-1.0, 1.0)) -> tuple[Tensor, Tensor]:
    """Least-squares degree-k spline of ``fn`` on the uniform grid of size G over ``interval``.

    Args:
        fn: ``(N,)`` -> ``(N,)``, float64.

    Returns:
        ``(knots, coef)``: ``(1, G + 2k + 1)`` and ``(1, 1, G + k)``.
    """
    knots = splines.uniform_knots(1, grid_size, k, interval)
    x = torch.linspace(*map(float, interval), SAMPLES_PER_INTERVAL * grid_size + 1, dtype=torch.float64)
    return knots, splines.fit_coefficients(x[:, None], fn(x)[:, None, None], knots, k, ridge=0.0)


def evaluate_spline(knots: Tensor, coef: Tensor, k: int, x: Tensor) -> Tensor:
    """One-input, one-output spline at ``x``: knots ``(1, G + 2k + 1)``, coef ``(1, 1, G + k)``, ``(N,)`` -> ``(N,)``."""
    return torch.einsum("npm,pqm->npq", splines.dense_basis(x[:, None], knots, k), coef)[:, 0, 0]


def spline_sup_errors(derivatives: Callable[[Tensor, int], Tensor], grid_size: int, k: int,
                      n_probe: int = 20000) -> np.ndarray:
    """Sup errors on ``[-1, 1]`` of the least-squares spline of f and of its derivatives.

    Args:
        derivatives: ``(x, m)`` -> ``f^(m)(x)``, ``(N,)`` -> ``(N,)``, for m = 0 ... k.
        n_probe: equally spaced probe points (the right end excluded: a derivative of order k jumps at knots).

    Returns:
        ``(k + 1,)``: ``max |f^(m) - s^(m)|`` over the probe points, m = 0 ... k.
    """
    knots, coef = least_squares_spline(lambda x: derivatives(x, 0), grid_size, k)
    probe = torch.linspace(-1, 1, n_probe + 1, dtype=torch.float64)[:-1]
    errors = []
    for m in range(k + 1):
        errors.append(float((evaluate_spline(knots, coef, k - m, probe) - derivatives(probe, m)).abs().max()))
        if m < k:
            knots, coef = splines.differentiate(knots, coef, k - m)
    return np.array(errors)


def composed_kan(inner: Sequence[Callable[[Tensor], Tensor]], outer: Callable[[Tensor], Tensor],
                 grid_size: int, k: int) -> KAN:
    """A KAN ``[d, 1, 1]`` (no base term) for ``x -> outer(sum_p inner[p](x_p))`` on ``[-1, 1]^d``.

    Layer 1's edge p is the least-squares spline of ``inner[p]`` on ``[-1, 1]``; layer 2's edge is that of
    ``outer`` on the exact range of layer 1's output (the sum of the edges' ranges, measured on a fine grid),
    so both layers are approximated at the spline rate and the composition inherits it.

    Args:
        inner: d functions ``(N,)`` -> ``(N,)``; outer: ``(N,)`` -> ``(N,)``.
    """
    d = len(inner)
    kan = KAN([d, 1, 1], grid_size, k, base=None, seed=0)
    first, second = kan.layers
    fine = torch.linspace(-1, 1, 20001, dtype=torch.float64)
    low = high = 0.0
    with torch.no_grad():
        for p, fn in enumerate(inner):
            knots, coef = least_squares_spline(fn, grid_size, k)
            first.knots[p] = knots[0]
            first.coef[p] = coef[0]
            values = evaluate_spline(knots, coef, k, fine)
            low, high = low + float(values.min()), high + float(values.max())
        first.scale_sp.fill_(1.0)
        second.knots, coef = least_squares_spline(outer, grid_size, k, (low, high))
        second.coef.copy_(coef)
        second.scale_sp.fill_(1.0)
    return kan


def sawtooth_square_network(depth: int) -> MLP:
    """Yarotsky's (2017) ReLU network for ``x^2`` on ``[0, 1]``: widths ``[1, 4, ..., 4, 1]``, ``depth`` hidden layers.

    With the hat ``g(y) = 2 relu(y) - 4 relu(y - 1/2) + 2 relu(y - 1)`` and ``g_s`` its s-fold composition,
    ``f_L(x) = x - sum_{s=1}^{L} g_s(x) / 4^s`` is the piecewise-linear interpolant of ``x^2`` at the multiples
    of ``2^-L``, so ``max |f_L - x^2| = 4^-(L+1)``. Hidden layer s holds ``relu(g_{s-1} - c)``, c = 0, 1/2, 1,
    and ``relu(f_{s-1}) = f_{s-1}`` (``f_{s-1} >= x^2 >= 0``; ``g_0 = f_0 = x``).

    Returns:
        a float64 ReLU :class:`~kanpaper.MLP`, ``(N, 1)`` -> ``(N, 1)``; ``20 L - 7`` parameters.
    """
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth counts hidden layers and must be an integer >= 1, got {depth!r}")
    mlp = MLP([1] + [4] * depth + [1], "relu", seed=0)
    hat = torch.tensor([2.0, -4.0, 2.0], dtype=torch.float64)
    shifts = torch.tensor([0.0, -0.5, -1.0, 0.0], dtype=torch.float64)
    with torch.no_grad():
        for index, linear in enumerate(mlp.linears):
            linear.weight.zero_()
            linear.bias.zero_()
            if index == 0:                       # x -> [relu(x), relu(x - 1/2), relu(x - 1), relu(x)]
                linear.weight[:, 0] = 1.0
                linear.bias.copy_(shifts)
                continue
            update = -hat / 4.0 ** index         # f_s = f_{s-1} - g_s / 4^s, g_s = hat . first three units
            if index < depth:
                linear.weight[:3, :3] = hat.expand(3, 3)
                linear.bias.copy_(shifts)
                linear.weight[3, :3] = update
                linear.weight[3, 3] = 1.0
            else:
                linear.weight[0, :3] = update
                linear.weight[0, 3] = 1.0
    return mlp


# KAN / ReLU parameters of the converted sawtooth network as L grows: a k = 1, G = 2 edge has G + k = 3 coefficients
# and a scale, against one weight per ReLU connection
SAWTOOTH_PARAMETER_RATIO = 64 / 20


def sawtooth_kan_matches(depth: int, relu_error: float, kan_gap: float) -> Verdict:
    """The KAN converted from the depth-L sawtooth network keeps its rate: the network's sup error on [0, 1] is
    ``4^-(L+1)`` (to 1e-9 relative) and the KAN is within ``100 2^L u`` of the network (per layer about 50 u of
    rounding: 4 edges, weights up to 4; doubled by every later hat function, whose Lipschitz constant is 2)."""
    exact, allowed = 4.0 ** -(depth + 1), 100 * 2.0 ** depth * unit_roundoff(torch.float64)
    return Verdict(f"L = {depth}: the KAN has the ReLU network's error", bool(abs(relu_error / exact - 1) < 1e-9
                                                                           and kan_gap <= allowed),
                   f"ReLU error {relu_error:.9g}, |KAN - ReLU| {kan_gap:.2g}",
                   f"ReLU error 4^-(L+1) = {exact:.9g}, |KAN - ReLU| <= 100 2^L u = {allowed:.2g}")


def kan_parameters_within(ratios, factor: float = SAWTOOTH_PARAMETER_RATIO) -> Verdict:
    """The KAN needs at most ``factor`` times the ReLU network's parameters at every depth (``ratios``: ``(n,)``)."""
    ratios = np.asarray(ratios, dtype=np.float64)
    return Verdict("the KAN needs a bounded multiple of the ReLU network's parameters", bool(ratios.max() <= factor),
                   f"KAN / ReLU parameters up to {ratios.max():.3f}", f"<= {factor:g}")
