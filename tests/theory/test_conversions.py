
import numpy as np
import pytest
import torch

from kanpaper import KAN, MLP
from kanpaper.theory.conversions import (kan_to_mlp, mlp_to_kan, parameter_count, preactivation_bounds,
                                         random_bounded_kan)
from kanpaper.theory.rounding import (check_kan_to_mlp, check_mlp_to_kan)
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


def test_the_mlp_kan_parameter_ratio_grows_linearly_in_g_and_the_kans_own_count_does_not():
    from kanpaper.theory.conversions import ratio_grows_linearly

    grids = np.array([2, 5, 10, 20, 40])
    kans = [random_bounded_kan([4, 10, 10, 1], int(G), 3, 0) for G in grids]
    kan_params = np.array([parameter_count(kan) for kan in kans])
    mlp_params = np.array([parameter_count(kan_to_mlp(kan)) for kan in kans])
    ratio_grows_linearly(grids, mlp_params / kan_params).require()
    # a ratio that falls with G, and one that grows like G^2, are not the theorem's factor of G
    assert not ratio_grows_linearly(grids, kan_params / mlp_params)
    assert not ratio_grows_linearly(grids, grids * mlp_params / kan_params)


def test_a_spline_fit_stays_above_the_gap_for_silu_and_reaches_a_polynomial():
    from kanpaper.nn import splines
    from kanpaper.theory.conversions import polynomial_gap, stays_above_gap

    x = torch.linspace(-1, 1, 2001, dtype=torch.float64)

    def fit(target, G, k):
        knots = splines.uniform_knots(1, G, k)
        basis = splines.dense_basis(x[:, None], knots, k)[:, 0, :].numpy()
        y = target(x).numpy()
        error = np.abs(basis @ np.linalg.lstsq(basis, y, rcond=None)[0] - y).max()
        shifts = knots[0, : G + k]
        j = int(torch.searchsorted(shifts, torch.tensor(0.5, dtype=torch.float64), right=True)) - 1
        inside = x[(x >= shifts[j]) & (x <= shifts[j + 1])]
        points = inside[torch.linspace(0, len(inside) - 1, k + 2).round().long()]
        return error, polynomial_gap(points.numpy(), target(points).numpy())

    silu = [fit(torch.nn.functional.silu, G, 2) for G in (5, 10)]
    stays_above_gap([e for e, _ in silu], [g for _, g in silu]).require()
    # a quadratic is its own degree-2 spline: no gap to stay above
    square = [fit(lambda t: t ** 2 - t, G, 2) for G in (5, 10)]
    assert not stays_above_gap([e for e, _ in square], [g for _, g in square])
