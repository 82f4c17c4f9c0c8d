"""Section 3 of the paper: exact conversions between ReLU^k MLPs and KANs.

MLP -> KAN (Theorem 3.2 as checked here). A ``sigma_k`` MLP ``x -> A_L s(... s(A_1 x + b_1) ...) + b_L``
becomes a KAN without base term, degree-k B-splines, grid size 2 and the same
depth L: layer 1 has the linear edges ``A_1[q, p] x_p + b_1[q] / n_in``; layer l > 1
has the edges ``A_l[q, p] s(y_p) + b_l[q] / n_in``. A linear function and ``s(y) =
max(0, y)^k`` on ``[-R, R]`` both lie in the span of the k + 2 B-splines of the grid
``{-R, 0, R}`` (G = 2), so every edge is represented exactly once ``R`` bounds the
pre-activation, which interval arithmetic over the input box provides.

KAN -> MLP (Theorem 3.3 as checked here). On its grid domain ``[t_k, t_{G+k}]`` a
degree-k spline is a polynomial plus truncated powers at the G - 1 interior knots,
and the polynomial part is spanned by ``s(x - t_j)`` for the k + 1 knots
``t_0 .. t_k`` at or below the domain. So the G + k units ``s(x_p - t_{p, j})``,
``j = 0 .. G+k-1``, shared by all outputs of input p, represent every edge of a
layer: one hidden layer of ``n_in (G + k)`` units per KAN layer; the output
weights come from an exact least-squares solve.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from . import splines
from .kan import KAN
from .mlp import MLP

__all__ = ["parameter_count", "mlp_to_kan", "kan_to_mlp", "relu_power", "preactivation_bounds"]


def parameter_count(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def relu_power(mlp: MLP) -> int:
    """The k of a ``sigma_k = max(0, x)^k`` MLP; raises for other activations."""
    name = mlp.activation
    if not name.startswith("relu"):
        raise ValueError(f"the conversions cover ReLU^k MLPs (activation 'relu' or 'reluK'); got {name!r}: "
                         "only a piecewise polynomial activation is a spline")
    return int(name[4:] or 1)


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


def _gauss_points(knots: Tensor, k: int) -> Tensor:
    """``k + 1`` Gauss-Legendre points in every interval of the grid domain: ``(n_in, G (k + 1))``."""
    n_intervals = knots.shape[1] - 2 * k - 1
    interior = knots[:, k: k + n_intervals + 1]
    nodes, _ = np.polynomial.legendre.leggauss(k + 1)
    nodes = torch.as_tensor((nodes + 1) / 2, dtype=knots.dtype)
    return (interior[:, :-1].unsqueeze(-1) + interior.diff(dim=1).unsqueeze(-1) * nodes).flatten(1)


def _exact_fit(knots: Tensor, k: int, edge_fn) -> Tensor:
    """Coefficients of functions known to lie in the spline space (least squares at Gauss points)."""
    points = _gauss_points(knots, k).T
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
            layer.uniform = splines.knots_are_uniform(layer.knots)
            layer.scale_sp.fill_(1.0)
            layer.coef.copy_(_exact_fit(layer.knots, k, edge))
    return kan


def kan_to_mlp(kan: KAN) -> MLP:
    """A ReLU^k MLP equal to ``kan`` (no base term, degree k >= 1) on its grid domain.

    Layer l of the KAN becomes ``n_l (G + k)`` hidden units ``sigma_k(x_p - t_{p, j})``;
    the linear map after them combines the units into the KAN's outputs and, merged
    with the next layer's shifts, feeds the next hidden layer.
    """
    k = kan.k
    if any(layer.scale_base is not None for layer in kan.layers):
        raise ValueError("a KAN with a base term (SiLU) is not a piecewise polynomial, so no ReLU^k MLP "
                         "computes it exactly; build the KAN with base=None")
    if k < 1:
        raise ValueError("k = 0 splines are step functions, not ReLU^k networks; need k >= 1")
    dtype = kan.layers[0].coef.dtype
    hidden = [layer.n_in * (layer.knots.shape[1] - k - 1) for layer in kan.layers]
    mlp = MLP([kan.widths[0], *hidden, kan.widths[-1]], "relu" if k == 1 else f"relu{k}", seed=0, dtype=dtype)
    with torch.no_grad():
        combine_prev = None   # (n_prev_hidden -> n_in) map of the previous layer, to merge
        for index, layer in enumerate(kan.layers):
            n_in, n_basis = layer.n_in, layer.knots.shape[1] - k - 1
            shifts = layer.knots[:, :n_basis]                                 # (n_in, G+k)
            select = torch.zeros(n_in * n_basis, n_in, dtype=dtype)
            select[torch.arange(n_in * n_basis), torch.arange(n_in).repeat_interleave(n_basis)] = 1.0
            # output weights: per input, the units reproduce each edge spline (times w_s) exactly
            points = _gauss_points(layer.knots, k)                               # (n_in, n_points)
            units = _sigma(points.unsqueeze(-1) - shifts.unsqueeze(1), k)      # (n_in, n_points, G+k)
            edges = layer.spline_edges(points.T) * layer.scale_sp               # (n_points, n_in, n_out)
            norms = units.abs().amax(dim=1, keepdim=True)                      # column scaling for conditioning
            solution = torch.linalg.lstsq(units / norms, edges.permute(1, 0, 2)).solution
            solution = solution / norms.transpose(1, 2)                          # (n_in, G+k, n_out)
            linear_in = mlp.linears[index]
            linear_in.weight.copy_(select if combine_prev is None else select @ combine_prev)
            linear_in.bias.copy_(-shifts.reshape(-1))
            combine_prev = solution.reshape(n_in * n_basis, layer.n_out).T      # (n_out, n_in (G+k))
        mlp.linears[-1].weight.copy_(combine_prev)
        mlp.linears[-1].bias.zero_()
    return mlp
