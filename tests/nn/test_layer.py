"""The KAN layer as a function of its tensors: y_q = sum_p w_b base(x_p) + w_s sum_m c_m B_m(x_p), checked against
SciPy's B-splines on uniform and moved knots, with and without the fused kernels, for one model and a stack."""

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kanpaper.nn import kernels, splines
from kanpaper.nn.layer import gather_contract, spline_layer


def scipy_layer(x, knots, coef, scale_sp, scale_base, k, base):
    """The layer's formula with SciPy's B-splines: x (N, n_in) -> (N, n_out), float64 numpy."""
    x, knots, coef = x.numpy(), knots.numpy(), coef.numpy()
    n_in, n_out, n_basis = coef.shape
    y = np.zeros((x.shape[0], n_out))
    for p in range(n_in):
        basis = BSpline(knots[p], np.eye(n_basis), k, extrapolate=False)(x[:, p])     # (N, G + k)
        y += np.nan_to_num(basis) @ (coef[p] * scale_sp[p, :, None].numpy()).T
        if base is not None:
            activation = x[:, p] / (1 + np.exp(-x[:, p])) if base == "silu" else x[:, p]
            y += activation[:, None] * scale_base[p].numpy()[None, :]
    return y


def layer_tensors(gen, n_in=3, n_out=4, G=7, k=3, moved=False):
    knots = splines.uniform_knots(n_in, G, k)
    if moved:                                     # interior knots moved apart unevenly, still increasing
        knots = knots + 0.3 * (knots[:, 1:2] - knots[:, :1]) * torch.sin(torch.arange(knots.shape[1]) * 1.7)
    coef = torch.randn(n_in, n_out, G + k, generator=gen, dtype=torch.float64)
    scale_sp = torch.rand(n_in, n_out, generator=gen, dtype=torch.float64) + 0.5
    scale_base = torch.randn(n_in, n_out, generator=gen, dtype=torch.float64)
    x = torch.rand(50, n_in, generator=gen, dtype=torch.float64) * 1.8 - 0.9
    return x, knots, coef, scale_sp, scale_base


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("moved", [False, True])
@pytest.mark.parametrize("k, base", [(1, None), (2, "identity"), (3, "silu")])
def test_the_layer_is_the_formula_on_scipys_bsplines(gen, fused, moved, k, base):
    if fused and not kernels.available():
        pytest.skip("the fused kernels are not built here")
    x, knots, coef, scale_sp, scale_base = layer_tensors(gen, k=k, moved=moved)
    assert splines.is_uniform(knots) != moved
    scale_base = None if base is None else scale_base
    expected = scipy_layer(x, knots, coef, scale_sp, scale_base, k, base)
    if fused:
        y = spline_layer(x, knots, coef, scale_sp, scale_base, k, base)
    else:
        with kernels.disabled():
            y = spline_layer(x, knots, coef, scale_sp, scale_base, k, base)
    # a sum of n_in (k + 1) products of terms of size ~1: a few units in the last place of float64
    assert np.abs(y.numpy() - expected).max() <= 1e-13, np.abs(y.numpy() - expected).max()


def test_a_stack_of_members_is_each_member_alone(gen):
    members = [layer_tensors(gen) for _ in range(3)]
    stacked = [torch.stack(t) for t in zip(*members)]
    y = spline_layer(*stacked, 3, "silu")
    for r, tensors in enumerate(members):
        assert torch.allclose(y[r], spline_layer(*tensors, 3, "silu"), rtol=0, atol=1e-14)


@pytest.mark.parametrize("n_samples", [2, 200])      # more windows than samples, and fewer: the two gather layouts
def test_both_gather_layouts_give_the_same_contraction(gen, n_samples):
    x, knots, coef, scale_sp, _ = layer_tensors(gen, G=40)
    x = x[:n_samples]
    first, values = splines.local_basis(x, knots, 3)
    scaled = scale_sp.unsqueeze(-1) * coef
    y = gather_contract(first, values, scaled, 3, x.shape[0])
    dense = torch.einsum("npm,pqm->nq", splines.dense_basis(x, knots, 3), scaled)
    assert torch.allclose(y, dense, rtol=0, atol=1e-13)
