from fractions import Fraction

import numpy as np
import pytest
import torch

from kanpaper import KAN, MLP
from kanpaper.theory.conversions import (kan_to_mlp, mlp_to_kan, parameter_count, preactivation_bounds,
                                         random_bounded_kan)
from kanpaper.theory.rounding import (check_kan_to_mlp, check_mlp_to_kan, gamma, kan_forward_with_bound,
                                      kan_to_mlp_forward_with_bound, mlp_forward_with_bound, mlp_to_kan_edge_errors,
                                      unit_roundoff)
from kanpaper.experiments.spec import layer_widths


def assert_within_rounding(check, what):
    """The networks agree to within the rounding bound computed from them (not a fixed tolerance)."""
    assert check.holds, f"{what}: {check}"
    # the bound must also be a meaningful one: far below the size of the outputs
    assert check.max_bound <= 1e-3 * (1 + check.scale), f"{what}: bound too loose to test anything: {check}"


@pytest.mark.parametrize("seed", range(6))
def test_mlp_to_kan_is_exact(seed):
    rng = np.random.default_rng(seed)
    for k in (1, 2, 3):
        depth = int(rng.integers(1, 5))
        widths = [int(rng.integers(1, 4))] + [int(w) for w in rng.integers(1, 9, depth - 1)] + [int(rng.integers(1, 3))]
        mlp = MLP(widths, "relu" if k == 1 else f"relu{k}", seed=seed)
        low, high = -float(rng.uniform(0.5, 2)), float(rng.uniform(0.5, 2))
        kan = mlp_to_kan(mlp, low, high)
        assert kan.widths == widths and kan.grid_size == 2 and kan.k == k and len(kan.layers) <= 2 * depth
        assert all(layer.scale_base is None for layer in kan.layers)
        x = low + (high - low) * torch.rand(3000, widths[0], generator=torch.Generator().manual_seed(seed),
                                            dtype=torch.float64)
        assert_within_rounding(check_mlp_to_kan(mlp, kan, x, low, high), f"k={k} widths={widths}")


@pytest.mark.parametrize("seed", range(6))
def test_kan_to_mlp_is_exact_on_uniform_grids(seed):
    rng = np.random.default_rng(100 + seed)
    for k in (1, 2, 3):
        depth = int(rng.integers(1, 4))
        widths = [int(w) for w in rng.integers(1, 5, depth + 1)]
        G = int(rng.integers(5, 21))
        kan = random_bounded_kan(widths, G, k, seed)
        mlp = kan_to_mlp(kan)
        assert mlp.widths[1:-1] == [w * (G + 2 * k + 1) for w in widths[:-1]]
        x = torch.rand(2000, widths[0], generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 - 1
        check = check_kan_to_mlp(kan, mlp, x)
        assert_within_rounding(check, f"k={k} G={G} widths={widths}")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_kan_to_mlp_is_exact_after_grid_update(k):
    gen = torch.Generator().manual_seed(k)
    kan = KAN([2, 5, 3, 1], grid_size=10, k=k, base=None, seed=k)
    with torch.no_grad():
        for layer in kan.layers:
            layer.coef.normal_(generator=gen)
    x = torch.rand(800, 2, generator=gen, dtype=torch.float64) * 2 - 1
    kan.update_grid(x)                       # data-adapted, non-uniform grids
    assert not kan.layers[0].uniform
    assert_within_rounding(check_kan_to_mlp(kan, kan_to_mlp(kan), x), f"k={k}, adapted grids")


def test_a_wrong_conversion_fails_the_check():
    """A coefficient moved by 1e-6 changes the KAN by up to 1e-6 max B: far above the bound, so the check fails."""
    kan = random_bounded_kan([2, 3, 1], 10, 2, seed=0)
    mlp = kan_to_mlp(kan)
    x = torch.rand(2000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    exact = check_kan_to_mlp(kan, mlp, x)
    assert exact.holds and exact.max_bound < 1e-8, str(exact)
    with torch.no_grad():
        kan.layers[1].coef[1, 0, 5] += 1e-6
    wrong = check_kan_to_mlp(kan, mlp, x)
    assert not wrong.holds, f"a 1e-6 change of one coefficient went unnoticed: {wrong}"
    assert wrong.max_observed > 1e-7, str(wrong)


def test_mlp_bound_is_tight_for_a_dot_product():
    """One linear layer: the bound is gamma_{n+1} (|W| |x| + |b|), reached within a small factor by
    adversarial data (an exact cancellation of large terms)."""
    mlp = MLP([3, 1], "relu", seed=0)
    with torch.no_grad():
        mlp.linears[0].weight.copy_(torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64))
        mlp.linears[0].bias.zero_()
    x = torch.tensor([[1.0, 1e-16, 1.0]], dtype=torch.float64)         # exact result 1e-16, 1 + 1e-16 rounds to 1
    y, bound = mlp_forward_with_bound(mlp, x)
    assert abs(float(y) - 1e-16) <= float(bound), f"|error| {abs(float(y) - 1e-16):.2e} > bound {float(bound):.2e}"
    assert float(bound) == pytest.approx(gamma(4, torch.float64) * (2 + 1e-16))
    assert unit_roundoff(torch.float64) == 2.0 ** -53


def test_parameter_counts():
    mlp = MLP([3, 16, 16, 1], "relu3")
    kan = mlp_to_kan(mlp)
    edges = 3 * 16 + 16 * 16 + 16
    assert parameter_count(mlp) == 3 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert parameter_count(kan) == edges * (2 + 3) + edges     # coefficients + w_s
    big = kan_to_mlp(random_bounded_kan([2, 4, 1], 10, 3, 0))
    assert parameter_count(big) == 2 * 34 + 34 + 34 * 68 + 68 + 68 * 1 + 1     # 10 + 2*3 + 1 = 17 units per input


def test_bounds_are_sound():
    mlp = MLP(layer_widths(2, 7, 3, 3), "relu2", seed=4)
    bounds = preactivation_bounds(mlp, -1.0, 1.0)
    x = torch.rand(5000, 2, dtype=torch.float64) * 2 - 1
    a = x
    for (lo, hi), layer in zip(bounds, mlp.linears):
        z = layer(a)
        assert bool((z >= lo - 1e-12).all() and (z <= hi + 1e-12).all())
        a = torch.relu(z) ** 2


def test_what_the_theorems_exclude():
    with pytest.raises(ValueError, match="base term"):
        kan_to_mlp(KAN([1, 2, 1]))
    with pytest.raises(ValueError, match="k = 0"):
        kan_to_mlp(KAN([1, 2, 1], k=0, base=None))
    with pytest.raises(ValueError, match="ReLU\\^k"):
        mlp_to_kan(MLP([1, 2, 1], "tanh"))
    with pytest.raises(ValueError, match="low < high"):
        mlp_to_kan(MLP([1, 2, 1]), 1.0, -1.0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_bsplines_are_combinations_of_truncated_powers(k):
    from kanpaper.nn import splines
    from kanpaper.theory.conversions import truncated_power_weights

    gen = torch.Generator().manual_seed(k)
    interior = torch.sort(torch.rand(2, 8, generator=gen, dtype=torch.float64), dim=1).values
    knots = splines.extend_knots(interior, k)
    x = torch.rand(500, 2, generator=gen, dtype=torch.float64) * 4 - 2           # also outside the knots
    units = torch.relu(x.unsqueeze(-1) - knots) ** k                             # (N, n_in, n_knots)
    rebuilt = torch.einsum("npj,pmj->npm", units, truncated_power_weights(knots, k))
    assert (rebuilt - splines.dense_basis(x, knots, k)).abs().max() < 1e-9


def _exact_bsplines(x, knots, k):
    """All B-splines of degree k at x by the Cox-de Boor recursion in rational arithmetic."""
    values = [Fraction(int(knots[m] <= x < knots[m + 1])) for m in range(len(knots) - 1)]
    for d in range(1, k + 1):
        values = [(x - knots[m]) / (knots[m + d] - knots[m]) * values[m]
                  + (knots[m + d + 1] - x) / (knots[m + d + 1] - knots[m + 1]) * values[m + 1]
                  for m in range(len(values) - 1)]
    return values


def _exact_kan(kan, point):
    """The KAN (no base term) at one point, in rational arithmetic on its stored float64 parameters."""
    a = [Fraction(float(v)) for v in point]
    for layer in kan.layers:
        knots = [[Fraction(float(t)) for t in row] for row in layer.knots]
        basis = [_exact_bsplines(a[p], knots[p], layer.k) for p in range(layer.n_in)]
        a = [sum(Fraction(float(layer.scale_sp[p, q])) * sum(Fraction(float(c)) * b
                                                            for c, b in zip(layer.coef[p, q], basis[p]))
                 for p in range(layer.n_in)) for q in range(layer.n_out)]
    return a


def _exact_mlp(mlp, point, k):
    a = [Fraction(float(v)) for v in point]
    for index, linear in enumerate(mlp.linears):
        z = [sum(Fraction(float(w)) * v for w, v in zip(row, a)) + Fraction(float(b))
             for row, b in zip(linear.weight, linear.bias)]
        a = z if index == len(mlp.linears) - 1 else [max(v, Fraction(0)) ** k for v in z]
    return a


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rounding_bounds_hold_against_exact_arithmetic(k):
    """The bounds are sound: each float64 evaluation lies within its bound of the exact network (rational
    arithmetic, every stored float taken as the exact number it is); the MLP built from the KAN within its
    bound of the exact KAN."""
    kan = random_bounded_kan([2, 3, 2], 6, k, seed=k)
    mlp = kan_to_mlp(kan)
    x = torch.rand(6, 2, generator=torch.Generator().manual_seed(k), dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        y_kan, e_kan = kan_forward_with_bound(kan, x)
        y_mlp, e_mlp = mlp_forward_with_bound(mlp, x)
        y_built, e_built = kan_to_mlp_forward_with_bound(kan, mlp, x)
        exact_kan = torch.tensor([[float(v) for v in _exact_kan(kan, p)] for p in x.tolist()], dtype=torch.float64)
        exact_mlp = torch.tensor([[float(v) for v in _exact_mlp(mlp, p, k)] for p in x.tolist()], dtype=torch.float64)
    for name, y, exact, bound in (("KAN", y_kan, exact_kan, e_kan), ("MLP", y_mlp, exact_mlp, e_mlp),
                                  ("MLP against the exact KAN", y_built, exact_kan, e_built)):
        error = (y - exact).abs()
        assert (error <= bound).all(), f"{name}, k = {k}: float64 error {error.max():.3g} exceeds its bound {bound.max():.3g}"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_mlp_to_kan_bound_holds_against_the_exact_mlp(k):
    """The KAN built from an MLP, in float64, lies within its bound (rounding plus the distance of each
    least-squares edge to the exact one) of the MLP in rational arithmetic."""
    mlp = MLP([2, 4, 3, 1], "relu" if k == 1 else f"relu{k}", seed=k)
    kan = mlp_to_kan(mlp, -1.0, 1.0)
    x = torch.rand(6, 2, generator=torch.Generator().manual_seed(k), dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        y_kan, bound = kan_forward_with_bound(kan, x, mlp_to_kan_edge_errors(mlp, kan))
        exact = torch.tensor([[float(v) for v in _exact_mlp(mlp, p, k)] for p in x.tolist()], dtype=torch.float64)
    error = (y_kan - exact).abs()
    assert (error <= bound).all(), f"k = {k}: float64 KAN off the exact MLP by {error.max():.3g} > bound {bound.max():.3g}"


def test_polynomial_gap_is_zero_for_polynomials_and_tight_for_the_next_degree():
    from kanpaper.theory.conversions import polynomial_gap

    x = np.linspace(0.1, 0.4, 5)                                      # 5 points: polynomials of degree 3
    assert polynomial_gap(x, 2 - x + 3 * x ** 3) <= 1e-13
    # x^4 against cubics on 5 points: the bound is attained by the cubic interpolating the alternation
    gap = polynomial_gap(x, x ** 4)
    fit = np.polynomial.polynomial.polyfit(x, x ** 4, 3)
    assert 0 < gap <= np.abs(np.polynomial.polynomial.polyval(x, fit) - x ** 4).max() * (1 + 1e-9)
    with pytest.raises(ValueError, match="distinct"):
        polynomial_gap([0.0, 0.0], [1.0, 2.0])
