import numpy as np
import pytest
import torch

from kanpaper import KANLayer
from kanpaper.base.verdict import slope_near, spread_below
from kanpaper.theory import hessian
from kanpaper.theory.hessian import (autograd_hessian, kan_hessian, nonzero_condition_number, relu_gram,
                                     sample_hessian, sign_changes)

GRIDS = (5, 10, 20, 40, 80)


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

    def midpoints(n):
        grid = (torch.arange(n, dtype=torch.float64) + 0.5) / n                # midpoint rule on [0, 1]^2
        return sample_hessian(layer, torch.cartesian_prod(grid, grid)).numpy()

    # the midpoint rule errs by O(h^2): 1e-5 holds from about 200 points per side, not at 30
    hessian.quadrature_matches(midpoints(200), kan_hessian(G, k, d), 1e-5).require()
    assert not hessian.quadrature_matches(midpoints(30), kan_hessian(G, k, d), 1e-5)


def test_closed_form_of_another_layer_is_not_autograds(gen):
    layer = KANLayer(2, 1, 5, 3, base=None, grid_range=(0, 1), seed=0)
    x = torch.rand(300, 2, generator=gen, dtype=torch.float64)
    auto = autograd_hessian(layer, x, torch.randn(300, 1, generator=gen, dtype=torch.float64))
    hessian.hessian_matches_autograd(layer, x, sample_hessian(layer, x), auto).require()
    # the same layer on a different sample, or with its edge scales moved by 1e-6: far outside rounding
    assert not hessian.hessian_matches_autograd(layer, x, sample_hessian(layer, x[:299]), auto)
    with torch.no_grad():
        layer.scale_sp.mul_(1 + 1e-6)
    assert not hessian.hessian_matches_autograd(layer, x, sample_hessian(layer, x), auto)


@pytest.mark.parametrize("d,d_out", [(1, 1), (2, 1), (4, 1), (3, 2), (4, 3)])
def test_zero_eigenvalue_count(d, d_out):
    for G, k in ((5, 3), (12, 1)):
        _, zeros = nonzero_condition_number(kan_hessian(G, k, d, d_out))
        assert zeros == d_out * (d - 1)


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (1, 4), (3, 4)])
def test_condition_number_flat_in_grid_size(k, d):
    conds = [nonzero_condition_number(kan_hessian(G, k, d))[0] for G in GRIDS]
    spread_below(conds, hessian.GRID_SPREAD, f"k = {k}, d = {d}").require()


def test_relu_condition_number_is_not_flat_in_the_number_of_neurons():
    conds = [np.linalg.cond(relu_gram(n)) for n in GRIDS]
    assert not spread_below(conds, hessian.GRID_SPREAD, "ReLU")


def test_eigenvalue_window_of_the_kan_layer_and_not_of_relu():
    for k, d in ((1, 1), (3, 2)):
        eig = [np.linalg.eigvalsh(kan_hessian(G, k, d)) for G in GRIDS]
        top = [G * e[-1] for G, e in zip(GRIDS, eig)]
        hessian.lambda_max_within_dimension(top, d).require()
        spread_below(top, hessian.EIGENVALUE_SPREAD, "G lambda_max").require()
        # one input too few in the bound: G lambda_max of d inputs exceeds d - 1
        if d > 1:
            assert not hessian.lambda_max_within_dimension(top, d - 1)
    relu_top = [n * np.linalg.eigvalsh(relu_gram(n))[-1] for n in GRIDS]
    assert not hessian.lambda_max_within_dimension(relu_top, 1)
    assert not spread_below(relu_top, hessian.EIGENVALUE_SPREAD, "n lambda_max")


def test_kan_layer_is_better_conditioned_than_relu_and_not_the_reverse():
    kan, relu = np.linalg.eigvalsh(kan_hessian(40, 3, 1)), np.linalg.eigvalsh(relu_gram(43))
    hessian.kan_better_conditioned(kan, relu).require()
    assert not hessian.kan_better_conditioned(relu, kan)


def test_zero_modes_verdict():
    assert hessian.zero_modes_are(nonzero_condition_number(kan_hessian(10, 3, 4, 2))[1], 6, "d = 4, d' = 2")
    assert not hessian.zero_modes_are(nonzero_condition_number(kan_hessian(10, 3, 4, 1))[1], 6, "d = 4, d' = 1")


def test_sample_condition_number_converges_only_with_enough_points(gen):
    layer = KANLayer(2, 1, 10, 3, base=None, grid_range=(0, 1), seed=1)
    population = nonzero_condition_number(kan_hessian(10, 3, 2))[0]

    def cond(n):
        return nonzero_condition_number(sample_hessian(layer, torch.rand(n, 2, generator=gen,
                                                                         dtype=torch.float64)).numpy())[0]

    hessian.sample_condition_converges([cond(100_000)], population, hessian.SAMPLE_CONDITION_TOLERANCE).require()
    assert not hessian.sample_condition_converges([cond(100)], population, hessian.SAMPLE_CONDITION_TOLERANCE)


def test_gradient_descent_follows_the_eigenmodes_and_a_wrong_step_does_not(gen):
    n, k, steps = 500, 3, 200
    x = torch.rand(n, 2, generator=gen, dtype=torch.float64)
    teacher = KANLayer(2, 1, 6, k, base=None, grid_range=(0, 1), seed=2)
    student = KANLayer(2, 1, 6, k, base=None, grid_range=(0, 1), seed=1)
    with torch.no_grad():
        y = teacher(x)
    lam, vectors = np.linalg.eigh(sample_hessian(student, x).numpy())
    eta = 1.0 / lam[-1]
    optimizer = torch.optim.SGD([student.coef], lr=eta)
    components = []
    for step in range(steps + 1):
        components.append(vectors.T @ (student.coef - teacher.coef).detach().reshape(-1).numpy())
        if step < steps:
            optimizer.zero_grad()
            (0.5 * ((student(x) - y) ** 2).sum(-1).mean()).backward()
            optimizer.step()
    components = np.array(components)
    t = np.arange(steps + 1)[:, None]
    for step_size, holds in ((eta, True), (0.99 * eta, False)):
        predicted = (1 - step_size * np.clip(lam, 0, None))[None, :] ** t * components[0]
        assert bool(hessian.descent_follows_eigenmodes(components, predicted, n, k)) == holds


def test_reference_values():
    assert nonzero_condition_number(kan_hessian(20, 1, 1))[0] == pytest.approx(4.0, rel=0.03)
    assert nonzero_condition_number(kan_hessian(20, 3, 1))[0] == pytest.approx(1.4e3, rel=0.05)
    assert nonzero_condition_number(kan_hessian(20, 3, 4))[0] == pytest.approx(5.5e3, rel=0.05)
    assert np.linalg.cond(relu_gram(5)) == pytest.approx(2.7e3, rel=0.02)


def test_relu_condition_number_grows_like_n_to_the_fourth():
    ns = np.array(GRIDS)
    conds = [np.linalg.cond(relu_gram(n)) for n in ns]
    slope_near(ns, conds, 4, hessian.RELU_EXPONENT_TOLERANCE, "ReLU").require()
    kan = [nonzero_condition_number(kan_hessian(n, 3, 1))[0] for n in ns]     # flat: exponent near 0, not 4
    assert not slope_near(ns, kan, 4, hessian.RELU_EXPONENT_TOLERANCE, "KAN")


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
