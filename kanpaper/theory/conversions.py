"""Section 3 of the paper: exact conversions between ReLU^k MLPs and KANs.

MLP -> KAN (Theorem 3.2 as checked here). A ``sigma_k`` MLP ``x -> A_L s(... s(A_1 x + b_1) ...) + b_L``
becomes a KAN without base term, degree-k B-splines, grid size 2 and the same
depth L: layer 1 has the linear edges ``A_1[q, p] x_p + b_1[q] / n_in``; layer l > 1
has the edges ``A_l[q, p] s(y_p) + b_l[q] / n_in``. A linear function and ``s(y) =
max(0, y)^k`` on ``[-R, R]`` both lie in the span of the k + 2 B-splines of the grid
``{-R, 0, R}`` (G = 2), so every edge is represented exactly once ``R`` bounds the
pre-activation, which interval arithmetic over the input box provides.

KAN -> MLP (Theorem 3.3 as checked here). A degree-k B-spline is a combination of
k + 2 truncated powers ``sigma_k(x - t_j)`` at its knots (divided differences), for
every real x. So the ``G + 2k + 1`` units ``sigma_k(x_p - t_{p, j})``, one per knot of
input p and shared by all outputs of that input, represent every edge of a layer:
one hidden layer of ``n_in (G + 2k + 1)`` units per KAN layer, width about
``(G + k) W``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ..base.verdict import Verdict
from ..nn import splines
from ..nn.kan import KAN
from ..nn.mlp import MLP, activation_power

__all__ = ["parameter_count", "mlp_to_kan", "kan_to_mlp", "relu_power", "preactivation_bounds", "random_bounded_kan",
           "truncated_power_weights", "polynomial_gap", "ratio_grows_linearly", "stays_above_gap"]


def parameter_count(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def relu_power(mlp: MLP) -> int:
    """The k of a ``sigma_k = max(0, x)^k`` MLP; raises for other activations."""
    k = activation_power(mlp.activation)
    if k is None:
        raise ValueError(f"the conversions cover ReLU^k MLPs (activation 'relu' or 'reluK'); got {mlp.activation!r}: "
                         "only a piecewise polynomial activation is a spline")
    return k


def _sigma(x: Tensor, k: int) -> Tensor:
    return torch.relu(x) ** k


def preactivation_bounds(mlp: MLP, low, high) -> list[tuple[Tensor, Tensor]]:
    """Sound bounds ``(lo, hi)`` on every pre-activation ``z_l = A_l a_{l-1} + b_l`` (interval arithmetic).

    Args:
        low, high: the input box ``a_0``, floats or ``(n_0,)`` tensors.

    Returns:
        ``[(lo_1, hi_1), ..., (lo_L, hi_L)]``, each ``(n_l,)``.
    """
    k = relu_power(mlp)
    dtype = mlp.linears[0].weight.dtype
    lo = torch.as_tensor(low, dtype=dtype).expand(mlp.widths[0]).clone()
    hi = torch.as_tensor(high, dtype=dtype).expand(mlp.widths[0]).clone()
    if not bool((hi > lo).all()):
        raise ValueError("the input box needs low < high in every coordinate")
    bounds = []
    with torch.no_grad():
        for layer in mlp.linears:
            w, b = layer.weight, layer.bias
            z_lo = w.clamp(min=0) @ lo + w.clamp(max=0) @ hi + b
            z_hi = w.clamp(min=0) @ hi + w.clamp(max=0) @ lo + b
            bounds.append((z_lo, z_hi))
            lo, hi = _sigma(z_lo, k), _sigma(z_hi, k)      # sigma_k is nondecreasing
    return bounds


def _exact_fit(knots: Tensor, k: int, edge_fn) -> Tensor:
    """Coefficients of functions known to lie in the spline space (least squares at Gauss points)."""
    points = splines.gauss_points(knots, k).T
    return splines.fit_coefficients(points, edge_fn(points), knots, k, ridge=0.0)


def mlp_to_kan(mlp: MLP, low=-1.0, high=1.0) -> KAN:
    """A KAN (no base term, degree k, G = 2, same depth) equal to the ReLU^k ``mlp`` on the box ``[low, high]^n_0``."""
    k = relu_power(mlp)
    dtype = mlp.linears[0].weight.dtype
    box_lo = torch.as_tensor(low, dtype=dtype).expand(mlp.widths[0])
    box_hi = torch.as_tensor(high, dtype=dtype).expand(mlp.widths[0])
    bounds = preactivation_bounds(mlp, low, high)
    kan = KAN(mlp.widths, grid_size=2, k=k, base=None, seed=0, dtype=dtype)
    with torch.no_grad():
        for index, (layer, linear) in enumerate(zip(kan.layers, mlp.linears)):
            weight, bias = linear.weight.T, linear.bias                   # (n_in, n_out), (n_out,)
            n_in = weight.shape[0]
            if index == 0:   # linear edges on the input box
                margin = 1e-9 * (box_hi - box_lo)
                interior = torch.stack([box_lo - margin, (box_lo + box_hi) / 2, box_hi + margin], dim=1)
                edge = lambda x, w=weight, b=bias: x.unsqueeze(-1) * w + b / n_in   # noqa: E731
            else:            # sigma_k edges on [-R, R] around the previous pre-activation; sigma_k bends at 0
                lo, hi = bounds[index - 1]
                radius = torch.maximum(lo.abs(), hi.abs()).clamp_min(1e-12) * (1 + 1e-9)
                interior = torch.stack([-radius, torch.zeros_like(radius), radius], dim=1)
                edge = lambda x, w=weight, b=bias: _sigma(x, k).unsqueeze(-1) * w + b / n_in  # noqa: E731
            layer.knots = splines.extend_knots(interior, k)
            layer.scale_sp.fill_(1.0)
            layer.coef.copy_(_exact_fit(layer.knots, k, edge))
    return kan


def truncated_power_weights(knots: Tensor, k: int) -> Tensor:
    """``beta`` with ``B_m(x) = sum_j beta[p, m, j] sigma_k(x - t_{p, j})`` for every real x.

    The divided-difference formula of a B-spline:
    ``B_m(x) = (t_{m+k+1} - t_m) (-1)^{k+1} sum_{j=0}^{k+1} sigma_k(x - t_{m+j}) / prod_{i != j} (t_{m+j} - t_{m+i})``.

    Args:
        knots: ``(n_in, G + 2k + 1)`` strictly increasing.

    Returns:
        ``(n_in, G + k, G + 2k + 1)``.
    """
    n_in, n_knots = knots.shape
    n_basis = n_knots - k - 1
    beta = torch.zeros(n_in, n_basis, n_knots, dtype=knots.dtype)
    for m in range(n_basis):
        window = knots[:, m: m + k + 2]                                         # (n_in, k+2)
        gaps = window.unsqueeze(-1) - window.unsqueeze(-2)                       # t_j - t_i
        gaps = gaps + torch.eye(k + 2, dtype=knots.dtype)                        # ignore i == j
        scale = (window[:, -1] - window[:, 0]) * (-1) ** (k + 1)
        beta[:, m, m: m + k + 2] = scale.unsqueeze(-1) / gaps.prod(dim=-1)
    return beta


def kan_to_mlp(kan: KAN) -> MLP:
    """A ReLU^k MLP equal to ``kan`` (no base term, degree k >= 1) for every input.

    Layer l of the KAN becomes ``n_l (G + 2k + 1)`` hidden units ``sigma_k(x_p - t_{p, j})``, one per knot
    of input p (shared by all its outputs): every B-spline is a combination of k + 2 of them. The linear
    map after the units combines them into the KAN's outputs and, merged with the next layer's shifts,
    feeds the next hidden layer.
    """
    k = kan.k
    if any(layer.scale_base is not None for layer in kan.layers):
        raise ValueError("a KAN with a base term (SiLU) is not a piecewise polynomial, so no ReLU^k MLP "
                         "computes it exactly; build the KAN with base=None")
    if k < 1:
        raise ValueError("k = 0 splines are step functions, not ReLU^k networks; need k >= 1")
    dtype = kan.layers[0].coef.dtype
    hidden = [layer.n_in * layer.knots.shape[1] for layer in kan.layers]
    mlp = MLP([kan.widths[0], *hidden, kan.widths[-1]], "relu" if k == 1 else f"relu{k}", seed=0, dtype=dtype)
    with torch.no_grad():
        combine_prev = None   # (n_in -> n_prev_hidden) output map of the previous layer, to merge
        for index, layer in enumerate(kan.layers):
            n_in, n_units = layer.n_in, layer.knots.shape[1]
            select = torch.zeros(n_in * n_units, n_in, dtype=dtype)              # unit (p, j) reads x_p
            select[torch.arange(n_in * n_units), torch.arange(n_in).repeat_interleave(n_units)] = 1.0
            linear_in = mlp.linears[index]
            linear_in.weight.copy_(select if combine_prev is None else select @ combine_prev)
            linear_in.bias.copy_(-layer.knots.reshape(-1))
            coef = layer.coef * layer.scale_sp.unsqueeze(-1)                     # (n_in, n_out, G+k)
            weights = coef @ truncated_power_weights(layer.knots, k)             # (n_in, n_out, n_units)
            combine_prev = weights.permute(1, 0, 2).reshape(layer.n_out, n_in * n_units)
        mlp.linears[-1].weight.copy_(combine_prev)
        mlp.linears[-1].bias.zero_()
    return mlp


def random_bounded_kan(widths, grid_size: int, k: int, seed: int) -> KAN:
    """A random KAN without base term (N(0, 1) coefficients, uniform grids) whose every layer's
    inputs, for model inputs in [-1, 1], stay on that layer's grid domain: the setting of the
    KAN -> MLP theorem. Each grid covers ``[-R, R]`` with ``R`` the bound
    ``sum_p |w_s| max_m |c|`` of the previous layer (B-splines are nonnegative and sum to <= 1).
    """
    gen = torch.Generator().manual_seed(seed)
    kan = KAN(widths, grid_size=grid_size, k=k, base=None, seed=seed)
    radius = 1.0
    with torch.no_grad():
        for layer in kan.layers:
            layer.knots = splines.uniform_knots(layer.n_in, grid_size, k, (-radius, radius))
            layer.coef.copy_(torch.randn(layer.coef.shape, generator=gen, dtype=layer.coef.dtype))
            radius = float((layer.scale_sp.abs() * layer.coef.abs().amax(-1)).sum(0).max()) * 1.001
    return kan


def polynomial_gap(x: np.ndarray, y: np.ndarray) -> float:
    """A lower bound on ``max_i |y_i - p(x_i)|`` over every polynomial ``p`` of degree ``len(x) - 2``.

    With ``m = len(x) - 1``, the divided difference ``y[x_0, ..., x_m] = sum_i y_i / w_i`` (``w_i = prod_{j != i}
    (x_i - x_j)``) vanishes for every polynomial of degree below ``m``, so ``|y[x_0..x_m]| <= max_i |y_i - p(x_i)|
    sum_i 1 / |w_i|``: the gap is at least ``|sum_i y_i / w_i| / sum_i 1 / |w_i|``. A ReLU^k combination is a
    polynomial of degree k between consecutive shifts, so ``k + 2`` points there bound how closely it can match.

    Args:
        x: ``(m + 1,)`` distinct points; y: ``(m + 1,)`` values.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2 or len(np.unique(x)) != len(x):
        raise ValueError(f"need matching 1D arrays of at least two distinct points, got shapes {x.shape}, {y.shape}")
    weights = np.array([np.prod(np.delete(xi - x, i)) for i, xi in enumerate(x)])
    return float(abs(np.sum(y / weights)) / np.sum(1.0 / np.abs(weights)))


def ratio_grows_linearly(grids, ratios, deviation: float = 0.05) -> Verdict:
    """Theorem 3.2's factor of G: the MLP / KAN parameter ratio (``(n,)``, one per grid size in ``grids``) lies on
    a line of positive slope in G, no point further from it than ``deviation`` times the largest ratio."""
    grids, ratios = np.asarray(grids, dtype=np.float64), np.asarray(ratios, dtype=np.float64)
    if grids.ndim != 1 or grids.shape != ratios.shape or grids.size < 3:
        raise ValueError(f"need matching (n,) grid sizes and ratios, n >= 3; got shapes {grids.shape}, {ratios.shape}")
    slope, intercept = np.polyfit(grids, ratios, 1)
    residual = float(np.abs(ratios - (slope * grids + intercept)).max() / ratios.max())
    return Verdict("the MLP / KAN parameter ratio grows linearly in G", bool(slope > 0 and residual < deviation),
                   f"slope {slope:.3g} per grid interval, largest deviation from the line {residual:.3g} of the "
                   "largest ratio", f"slope > 0, deviation < {deviation:g}")


def stays_above_gap(errors, gaps, name: str = "the fit", relative_slack: float = 1e-6,
                    roundoff_multiple: float = 1e3) -> Verdict:
    """No fit reproduces the target: each sup error (``(n,)``, one per size) is at least the proven gap below it
    (up to ``relative_slack``, the sampling of the sup), and each gap exceeds ``roundoff_multiple`` unit roundoffs,
    so that rounding cannot be what keeps the fit away."""
    errors, gaps = np.asarray(errors, dtype=np.float64), np.asarray(gaps, dtype=np.float64)
    if errors.ndim != 1 or errors.shape != gaps.shape or errors.size == 0:
        raise ValueError(f"need matching (n,) errors and gaps, got shapes {errors.shape}, {gaps.shape}")
    u = np.finfo(np.float64).eps / 2
    ok = (errors >= gaps * (1 - relative_slack)) & (gaps > roundoff_multiple * u)
    return Verdict(f"{name} never reproduces the target", bool(ok.all()),
                   "sup errors " + ", ".join(f"{e:.3g}" for e in errors) + "; proven gaps "
                   + ", ".join(f"{g:.3g}" for g in gaps),
                   f"error >= gap > {roundoff_multiple:g} u at every size")
