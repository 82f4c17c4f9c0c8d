"""Floating-point error bounds for the Section 3 conversions, computed from the models themselves.

In exact arithmetic ``kan_to_mlp(kan)`` equals ``kan`` and ``mlp_to_kan(mlp)`` equals ``mlp``. In floating
point the two sides round differently, and the truncated-power form of a B-spline cancels heavily: its terms
exceed the result by about ``(G + 2k)^k 2^(k+1) / k!``. How many digits survive depends on the model and on the
order in which the BLAS sums, so a fixed tolerance is either loose or machine-dependent. Here every
comparison carries an a-posteriori bound instead: each side is evaluated by a recursion whose rounding is
analysed step by step (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3), with the standard
model ``fl(a op b) = (a op b)(1 + d)``, ``|d| <= u``, and ``gamma_n = n u / (1 - n u)``:

- a dot product of ``n`` terms plus a bias, in any summation order (blocked, FMA, several threads), errs by
  at most ``gamma_{n+1} (|W| |a| + |b|)``;
- the Cox-de Boor recursion is a chain of convex combinations, so the ``k + 1`` basis values of a point err
  by at most ``gamma_{8k}`` in total (absolute; their exact sum is 1);
- an error ``e`` in the input of an edge ``phi`` moves its output by at most ``Lip(phi) e``, with ``Lip`` of a
  spline from its coefficient differences, and of ``sigma_k`` from its derivative on ``[z - e, z + e]``;
- weights built in floating point (the truncated-power weights, the least-squares edges of ``mlp_to_kan``)
  are compared with the weights exact arithmetic would give, and that difference is carried along.

The bounds are first order in ``u`` (terms of order ``u^2`` are dropped, as usual), hold for every input
the models are evaluated on, and do not depend on the machine, the BLAS or the number of threads.

Shapes: ``x`` is ``(N, n_0)``; a bound has the shape of the output it bounds, ``(N, n_out)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import Tensor

from ..base.verdict import Verdict
from ..nn import splines
from ..nn.kan import KAN, KANLayer
from ..nn.mlp import MLP, activation_power
from .conversions import relu_power, truncated_power_weights

__all__ = ["unit_roundoff", "gamma", "ConversionError", "kan_forward_with_bound", "mlp_forward_with_bound",
           "kan_to_mlp_forward_with_bound", "mlp_to_kan_edge_errors", "check_kan_to_mlp", "check_mlp_to_kan"]


def unit_roundoff(dtype: torch.dtype) -> float:
    """``u``: half the machine epsilon (2^-53 for float64)."""
    return torch.finfo(dtype).eps / 2


def gamma(n: int, dtype: torch.dtype) -> float:
    """``gamma_n = n u / (1 - n u)``, the bound on ``|prod (1 + d_i)^(+-1) - 1|`` over ``n`` roundings."""
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"gamma_{n} is undefined for {dtype}: n u = {nu:.2g} >= 1")
    return nu / (1 - nu)


@dataclass(frozen=True)
class ConversionError:
    """The observed difference of two networks that are equal in exact arithmetic, and its rounding bound.

    Attributes:
        observed: ``(N, n_out)`` ``|f(x) - g(x)|`` as computed.
        bound: ``(N, n_out)`` the a-posteriori bound on that difference.
        scale: ``max |f(x)|``, to read both as relative numbers.
    """

    observed: Tensor
    bound: Tensor
    scale: float

    @property
    def max_observed(self) -> float:
        return float(self.observed.max())

    @property
    def max_bound(self) -> float:
        return float(self.bound.max())

    @property
    def worst_ratio(self) -> float:
        """``max observed / bound`` over all points and outputs: <= 1 when the networks agree."""
        return float((self.observed / self.bound.clamp_min(torch.finfo(self.bound.dtype).tiny)).max())

    @property
    def holds(self) -> bool:
        return bool((self.observed <= self.bound).all())

    def verdict(self, case: str) -> Verdict:
        """The claim "the two networks of ``case`` are equal": every point and output within its rounding bound."""
        return Verdict(f"{case}: the two networks agree", self.holds, str(self),
                       "|difference| <= its rounding bound at every point and output")

    def __repr__(self) -> str:
        return f"ConversionError({self})"

    def __str__(self) -> str:
        return (f"max |difference| {self.max_observed:.2e} against its rounding bound {self.max_bound:.2e} "
                f"(worst point at {self.worst_ratio:.2g} of its own bound; outputs up to {self.scale:.2g})")


def _layer_lipschitz(layer: KANLayer) -> Tensor:
    """``(n_in, n_out)``: ``max_x |phi'_{q,p}(x)|`` over the real line for the spline edges (k >= 1).

    ``s' = k sum_m (c_m - c_{m-1}) / (t_{m+k} - t_m) B_{m,k-1}`` with ``c_{-1} = c_n = 0`` (the spline is zero
    outside its knots) and ``sum B_{m,k-1} <= 1``.
    """
    k = layer.k
    knots = layer.knots.detach()
    coef = torch.nn.functional.pad(layer.coef.detach(), (1, 1))                  # (n_in, n_out, n + 2)
    slopes = coef.diff(dim=-1) / (knots[:, k:] - knots[:, :-k]).unsqueeze(1)     # (n_in, n_out, n + 1)
    return k * layer.scale_sp.detach().abs() * slopes.abs().amax(dim=-1)


def _edges_with_bound(layer: KANLayer, x: Tensor):
    """Every spline edge ``w_s sum_m c_m B_m(x_p)`` of a layer by the Cox-de Boor recursion, with its rounding.

    Args:
        x: ``(N, n_in)``, taken as exact.

    Returns:
        ``(edges, e_edges)``, both ``(N, n_in, n_out)``.
    """
    if layer.scale_base is not None:
        raise ValueError("the rounding bounds cover KAN layers without base term (base=None)")
    k, dtype = layer.k, x.dtype
    first, values = splines.local_basis(x, layer.knots, k, uniform=False)        # (N, n_in), (N, n_in, k+1)
    scaled = splines.pad_basis(layer.coef * layer.scale_sp.unsqueeze(-1), k)     # (n_in, n_out, P)
    window = first.unsqueeze(-1) + torch.arange(k + 1, device=x.device)          # (N, n_in, k+1)
    rows = scaled.unsqueeze(0).expand(x.shape[0], -1, -1, -1)                    # (N, n_in, n_out, P)
    gathered = rows.gather(-1, window.unsqueeze(2).expand(-1, -1, layer.n_out, -1))   # (N, n_in, n_out, k+1)
    edges = torch.einsum("npc,npqc->npq", values, gathered)
    # k + 1 products w_s c B summed (k + 2 roundings, +1 for w_s c); the basis values off by gamma_{8k} in total
    e_edges = (gamma(k + 3, dtype) * torch.einsum("npc,npqc->npq", values.abs(), gathered.abs())
               + gamma(8 * k, dtype) * gathered.abs().amax(dim=-1))
    return edges, e_edges


def _layer_with_bound(layer: KANLayer, x: Tensor, e_x: Tensor, edge_error: Tensor | None):
    """One KAN layer (no base term) with the bound on its distance to the exact layer at the exact input.

    Args:
        x: ``(N, n_in)`` computed inputs; e_x: ``(N, n_in)`` bounds on their errors.
        edge_error: ``(n_in, n_out)`` sup-norm distance of each stored edge to the exact edge, or None.

    Returns:
        ``(y, e_y)``, both ``(N, n_out)``.
    """
    edges, e_edges = _edges_with_bound(layer, x)
    e_y = (e_edges.sum(dim=1) + gamma(layer.n_in, x.dtype) * edges.abs().sum(dim=1)
           + e_x @ _layer_lipschitz(layer))
    if edge_error is not None:
        e_y = e_y + edge_error.sum(dim=0)
    return edges.sum(dim=1), e_y


def kan_forward_with_bound(kan: KAN, x: Tensor, edge_errors: list[Tensor] | None = None):
    """The KAN (no base term) evaluated by Cox-de Boor, and a bound on its distance to the exact KAN.

    The exact KAN is the one whose edges are ``edge_errors`` away from the stored ones (in sup norm), or the
    stored KAN itself when ``edge_errors`` is None.

    Args:
        x: ``(N, n_0)``, taken as exact.
        edge_errors: one ``(n_in, n_out)`` tensor per layer, or None.

    Returns:
        ``(y, e_y)``, both ``(N, n_L)``.
    """
    y, e_y = x, torch.zeros_like(x)
    with torch.no_grad():
        for index, layer in enumerate(kan.layers):
            y, e_y = _layer_with_bound(layer, y, e_y, None if edge_errors is None else edge_errors[index])
    return y, e_y


def _relu_power(z: Tensor, k: int) -> Tensor:
    return torch.relu(z) if k == 1 else torch.relu(z) ** k


def mlp_forward_with_bound(mlp: MLP, x: Tensor):
    """The ReLU^k MLP as ``mlp(x)`` computes it, and a bound on its distance to the same MLP in exact arithmetic.

    Args:
        x: ``(N, n_0)``, taken as exact.

    Returns:
        ``(y, e_y)``, both ``(N, n_L)``: ``y`` equals ``mlp(x)`` bit for bit.
    """
    k = activation_power(mlp.activation)
    if k is None:
        raise ValueError(f"the rounding bounds cover ReLU^k MLPs; got activation {mlp.activation!r}")
    dtype = x.dtype
    a, e_a = x, torch.zeros_like(x)
    with torch.no_grad():
        for index, linear in enumerate(mlp.linears):
            w, b = linear.weight, linear.bias
            z = linear(a)
            e_z = gamma(w.shape[1] + 1, dtype) * (a.abs() @ w.abs().T + b.abs()) + e_a @ w.abs().T
            if index < len(mlp.linears) - 1:    # sigma_k, within its slope on [z - e, z + e]
                a = _relu_power(z, k)
                slope = k * torch.relu(z + e_z) ** (k - 1) if k > 1 else (z + e_z > 0).to(dtype)
                e_a = slope * e_z + gamma(k + 1, dtype) * a
    return z, e_z


def _combination_weights(layer: KANLayer) -> tuple[Tensor, Tensor]:
    """The weights ``(w_s c) @ beta`` that turn a layer's truncated-power units into its outputs, and an
    elementwise bound on their construction error: ``2k + 3`` roundings per entry of ``beta`` (divided
    differences of the knots), one for ``w_s c``, and a sum over the ``G + k`` basis functions.

    Returns:
        ``(weights, errors)``, both ``(n_in, n_out, n_units)``.
    """
    scaled = (layer.coef * layer.scale_sp.unsqueeze(-1)).detach()                  # (n_in, n_out, G+k)
    beta = truncated_power_weights(layer.knots, layer.k)                           # (n_in, G+k, n_units)
    errors = gamma(scaled.shape[-1] + 2 * layer.k + 5, scaled.dtype) * (scaled.abs() @ beta.abs())
    return scaled @ beta, errors


def kan_to_mlp_forward_with_bound(kan: KAN, mlp: MLP, x: Tensor):
    """``mlp(x)`` for ``mlp = kan_to_mlp(kan)``, and a bound on its distance to the exact KAN.

    Follows the structure of the construction: the units ``sigma_k(x_p - t_j)`` of KAN layer ``l`` read the
    previous layer's output ``x_p`` through identical weight rows. Their error splits into a part common to
    all units of input ``p`` (the error of ``x_p``: it moves every unit as a shift of ``x_p`` would, so the
    exact truncated-power sum carries it with the spline's Lipschitz constant) and each unit's own rounding
    (amplified by the absolute truncated-power sum ``sum_j |W_{q,p,j}| sigma_k'``, which exceeds the result by
    orders of magnitude: this is where the MLP loses digits).

    Returns:
        ``(y, e_y)``, both ``(N, n_L)``; ``y`` equals ``mlp(x)`` bit for bit.
    """
    k, dtype = kan.k, x.dtype
    a = x                                  # what the current MLP layer reads
    common = torch.zeros_like(x)           # (N, n_in): bound on |x_p as the MLP carries it - exact x_p|
    with torch.no_grad():
        for index, layer in enumerate(kan.layers):
            linear = mlp.linears[index]
            z = linear(a)                                                            # (N, n_in n_units)
            own = gamma(linear.in_features + 1, dtype) * (a.abs() @ linear.weight.abs().T + linear.bias.abs())
            a = _relu_power(z, k)
            n_units = layer.knots.shape[1]
            reach = (common.repeat_interleave(n_units, dim=1) + own)
            slope = k * torch.relu(z + reach) ** (k - 1) if k > 1 else (z + reach > 0).to(dtype)
            unit_error = slope * own + gamma(k + 1, dtype) * a                     # (N, n_in n_units)
            weights, weight_errors = _combination_weights(layer)                   # (n_in, n_out, n_units)
            flat = weights.permute(1, 0, 2).reshape(layer.n_out, -1).abs()         # (n_out, n_in n_units)
            flat_errors = weight_errors.permute(1, 0, 2).reshape(layer.n_out, -1)
            common = (common @ _layer_lipschitz(layer) + unit_error @ flat.T
                      + (a.abs() + unit_error) @ flat_errors.T)                    # (N, n_out)
        y = mlp.linears[-1](a)
        e_y = common + gamma(mlp.linears[-1].in_features + 1, dtype) * (a.abs() @ mlp.linears[-1].weight.abs().T)
    return y, e_y


@cache
def _gauss_lebesgue_constant(k: int) -> float:
    """Lebesgue constant of the ``k + 1`` Gauss-Legendre nodes on an interval (degree-k interpolation)."""
    nodes = splines.gauss_rule(k)[0]
    x = np.linspace(0.0, 1.0, 200_001)
    total = np.zeros_like(x)
    for i, node in enumerate(nodes):
        others = np.delete(nodes, i)
        total += np.abs(np.prod((x[:, None] - others) / (node - others), axis=1))
    return float(total.max())


def mlp_to_kan_edge_errors(mlp: MLP, kan: KAN, low=-1.0, high=1.0) -> list[Tensor]:
    """Sup-norm bounds, per layer ``(n_in, n_out)``, on how far each edge of ``kan = mlp_to_kan(mlp)`` lies from
    the exact edge it represents (a linear function, or ``A sigma_k(z) + b / n_in``), on that layer's grid domain.

    Both are degree-k polynomials on every grid interval, so their difference is bounded on the interval by
    the Lebesgue constant of the ``k + 1`` Gauss nodes times its largest value at those nodes; those values are
    evaluated, and their own rounding is bounded, on both sides.
    """
    k = relu_power(mlp)
    lebesgue = _gauss_lebesgue_constant(k)
    errors = []
    with torch.no_grad():
        for index, (layer, linear) in enumerate(zip(kan.layers, mlp.linears)):
            dtype = layer.coef.dtype
            points = splines.gauss_points(layer.knots, k).T                              # (G (k+1), n_in)
            weight, bias = linear.weight.T, linear.bias / layer.n_in             # (n_in, n_out), (n_out,)
            feature = points if index == 0 else _relu_power(points, k)           # (n_points, n_in)
            exact = feature.unsqueeze(-1) * weight + bias                        # (n_points, n_in, n_out)
            rounds = 2 if index == 0 else k + 3                                  # feature, product, sum
            e_exact = gamma(rounds, dtype) * (feature.unsqueeze(-1) * weight).abs() + gamma(2, dtype) * bias.abs()
            edges, e_edges = _edges_with_bound(layer, points)
            at_nodes = (edges - exact).abs() + e_edges + e_exact                 # (n_points, n_in, n_out)
            errors.append(lebesgue * at_nodes.amax(dim=0))
    return errors


def check_kan_to_mlp(kan: KAN, mlp: MLP, x: Tensor) -> ConversionError:
    """``|mlp(x) - kan(x)|`` for ``mlp = kan_to_mlp(kan)``, against the sum of both sides' rounding bounds.

    The KAN side is evaluated by Cox-de Boor (:func:`kan_forward_with_bound`), the MLP side exactly as
    ``mlp(x)`` computes it.
    """
    y_kan, e_kan = kan_forward_with_bound(kan, x)
    y_mlp, e_mlp = kan_to_mlp_forward_with_bound(kan, mlp, x)
    return ConversionError((y_mlp - y_kan).abs(), e_kan + e_mlp, float(y_kan.abs().max()))


def check_mlp_to_kan(mlp: MLP, kan: KAN, x: Tensor, low=-1.0, high=1.0) -> ConversionError:
    """``|kan(x) - mlp(x)|`` for ``kan = mlp_to_kan(mlp, low, high)`` and ``x`` in the box, against the bound.

    The KAN's edges carry the distance of their least-squares fit to the exact edges
    (:func:`mlp_to_kan_edge_errors`); the KAN side is evaluated by Cox-de Boor.
    """
    y_mlp, e_mlp = mlp_forward_with_bound(mlp, x)
    y_kan, e_kan = kan_forward_with_bound(kan, x, mlp_to_kan_edge_errors(mlp, kan, low, high))
    return ConversionError((y_kan - y_mlp).abs(), e_kan + e_mlp, float(y_mlp.abs().max()))
