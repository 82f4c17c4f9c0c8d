import numpy as np
import pytest
import torch

from kanpaper import KANLayer
from kanpaper.theory.hessian import (autograd_hessian, kan_hessian, nonzero_condition_number, relu_gram,
                                     sample_hessian, sign_changes)


@pytest.mark.parametrize("d,d_out,G,k", [(1, 1, 5, 3), (2, 3, 4, 2), (3, 2, 6, 1), (2, 1, 3, 0)])
def test_closed_form_matches_autograd(gen, d, d_out, G, k):
    layer = KANLayer(d, d_out, G, k, base=None, grid_range=(0, 1), seed=0)
    with torch.no_grad():
        layer.scale_sp.copy_(torch.rand(d, d_out, generator=gen, dtype=torch.float64) + 0.5)
    x = torch.rand(300, d, generator=gen, dtype=torch.float64)
    target = torch.randn(300, d_out, generator=gen, dtype=torch.float64)
    exact = sample_hessian(layer, x)
    auto = autograd_hessian(layer, x, target)
    assert (exact - auto).abs().max() < 1e-10


def test_population_hessian_is_the_limit_of_sample_hessians():
    G, k, d = 6, 3, 2
    layer = KANLayer(d, 1, G, k, base=None, grid_range=(0, 1), seed=0)
    grid = (torch.arange(200, dtype=torch.float64) + 0.5) / 200          # midpoint rule on [0, 1]^2
    x = torch.cartesian_prod(grid, grid)
    assert np.abs(sample_hessian(layer, x).numpy() - kan_hessian(G, k, d)).max() < 1e-5


@pytest.mark.parametrize("d,d_out", [(1, 1), (2, 1), (4, 1), (3, 2), (4, 3)])
def test_zero_eigenvalue_count(d, d_out):
    for G, k in ((5, 3), (12, 1)):
        _, zeros = nonzero_condition_number(kan_hessian(G, k, d, d_out))
        assert zeros == d_out * (d - 1)


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (1, 4), (3, 4)])
def test_condition_number_flat_in_grid_size(k, d):
    conds = [nonzero_condition_number(kan_hessian(G, k, d))[0] for G in (5, 10, 20, 40, 80)]
    assert max(conds) / min(conds) < 1.1


def test_reference_values():
    assert nonzero_condition_number(kan_hessian(20, 1, 1))[0] == pytest.approx(4.0, rel=0.03)
    assert nonzero_condition_number(kan_hessian(20, 3, 1))[0] == pytest.approx(1.4e3, rel=0.05)
    assert nonzero_condition_number(kan_hessian(20, 3, 4))[0] == pytest.approx(5.5e3, rel=0.05)
    assert np.linalg.cond(relu_gram(5)) == pytest.approx(2.7e3, rel=0.02)


def test_relu_condition_number_grows_like_n_to_the_fourth():
    ns = np.array([5, 10, 20, 40, 80])
    conds = [np.linalg.cond(relu_gram(n)) for n in ns]
    slope = np.polyfit(np.log(ns), np.log(conds), 1)[0]
    assert abs(slope - 4) < 0.3


def test_sign_changes():
    x = np.linspace(0, 1, 1001)
    assert sign_changes(np.sin(2 * np.pi * 3 * x + 0.1)) == 6
    assert sign_changes(np.ones(5)) == 0


def test_theorem_layer_has_no_base():
    with pytest.raises(ValueError, match="base=None"):
        sample_hessian(KANLayer(1, 1, 3, 3), torch.zeros(4, 1, dtype=torch.float64))


def test_gradient_descent_closed_form_equals_the_iteration():
    from kanpaper.theory.hessian import gradient_descent, relu_features, spline_features

    x = np.linspace(0, 1, 60, endpoint=False)
    target = np.sin(2 * np.pi * 3 * x) + 0.3 * np.cos(2 * np.pi * 11 * x)
    for features in (spline_features(x, 20, 3), relu_features(x, 30)):
        n = len(x)
        hess, rhs = features.T @ features / n, features.T @ target / n
        rate = 1.0 / np.linalg.eigvalsh(hess)[-1]
        coef, iterates = np.zeros(features.shape[1]), []
        for _ in range(300):
            iterates.append(features @ coef)
            coef = coef - rate * (hess @ coef - rhs)
        steps = np.array([0, 1, 2, 17, 299])
        closed = gradient_descent(features, target, steps)
        looped = np.array(iterates)[steps]
        # the loop's rounding: each of t contracting steps adds about P u (|H c| + |b|) per coefficient
        bound = steps.max() * features.shape[1] * 2.0 ** -53 * 10 * np.abs(features).sum(axis=1).max() * \
            (np.abs(hess).sum(axis=1).max() * np.abs(looped).max() + np.abs(rhs).max()) * rate
        diff = np.abs(closed - looped).max()
        assert diff <= bound, f"closed form vs iteration: {diff:.2e}, bound {bound:.2e}"
    assert np.isfinite(gradient_descent(features, target, np.array([0.0, 1e10]))).all()
    with pytest.raises(ValueError, match="non-negative"):
        gradient_descent(features, target, np.array([-1]))
