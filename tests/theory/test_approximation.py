import numpy as np
import pytest
import torch

from kanpaper import KAN
from kanpaper.base.verdict import slope_near
from kanpaper.theory import approximation
from kanpaper.theory.conversions import mlp_to_kan, parameter_count


def cubic_derivatives(x, m):
    """f(x) = x^3 - x and its derivatives: a cubic is its own cubic spline."""
    return [x ** 3 - x, 3 * x ** 2 - 1, 6 * x, 6 + 0 * x][m]


def test_a_cubic_is_reproduced_in_every_derivative():
    errors = approximation.spline_sup_errors(cubic_derivatives, 7, 3)
    # the spline space holds the cubic: only the least-squares solve's rounding remains (Gram condition ~1e2-1e3,
    # differentiating divides by h = 2/7 three times and multiplies by k! = 6)
    assert errors.shape == (4,) and errors.max() < 1e-10, f"errors {errors}, required < 1e-10 (exactly representable)"


def test_a_quadratic_spline_cannot_hold_a_cubic():
    errors = approximation.spline_sup_errors(cubic_derivatives, 7, 2)
    assert errors[0] > 1e-4, f"C^0 error {errors[0]:.2g}: a degree-2 spline should miss x^3 (required > 1e-4)"


def smooth_derivatives(x, m):
    """f(x) = sin(3x) and its derivatives."""
    return 3.0 ** m * torch.sin(3 * x + m * np.pi / 2)


@pytest.mark.parametrize("k", [1, 2])
def test_spline_rates_are_the_theorems_and_not_the_next_degrees(k):
    grids = [8, 16, 32, 64]
    errors = np.array([approximation.spline_sup_errors(smooth_derivatives, G, k) for G in grids])   # (4, k + 1)
    for m in range(k + 1):
        slope_near(grids, errors[:, m], -(k + 1 - m), approximation.RATE_TOLERANCE, f"k = {k}, C^{m}").require()
        assert not slope_near(grids, errors[:, m], -(k + 2 - m), approximation.RATE_TOLERANCE, "one degree higher")


def test_composed_kan_is_exact_when_every_part_is_a_spline():
    # inner edges x and y^2, outer z^2: each lies in the cubic spline space, so the KAN equals the target
    kan = approximation.composed_kan([lambda x: x, lambda y: y ** 2], lambda z: z ** 2, 4, 3)
    x = torch.rand(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        error = (kan(x)[:, 0] - (x[:, 0] + x[:, 1] ** 2) ** 2).abs().max().item()
    assert kan.widths == [2, 1, 1] and error < 1e-11, f"composed error {error:.2g}, required < 1e-11"


def test_composed_kan_error_falls_with_the_grid():
    x = torch.rand(2000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    inner = [lambda t: torch.sin(np.pi * t), lambda t: t ** 2]
    exact = torch.exp(torch.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)
    errors = []
    for grid in (8, 16):
        with torch.no_grad():
            errors.append((approximation.composed_kan(inner, torch.exp, grid, 3)(x)[:, 0] - exact).abs().max().item())
    # cubic rate G^-4: halving h divides the error by ~16; 8 leaves room for the pre-asymptotic range
    assert errors[1] < errors[0] / 8, f"errors {errors}: doubling G should divide the error by > 8"


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_sawtooth_network_has_yarotskys_error_and_converts_exactly(depth):
    x = torch.linspace(0, 1, 4097, dtype=torch.float64)[:, None]
    mlp = approximation.sawtooth_square_network(depth)
    kan = mlp_to_kan(mlp, 0.0, 1.0)
    with torch.no_grad():
        error = (mlp(x) - x ** 2).abs().max().item()
        gap = (kan(x) - mlp(x)).abs().max().item()
    approximation.sawtooth_kan_matches(depth, error, gap).require()
    assert sum(p.numel() for p in mlp.parameters()) == 20 * depth - 7
    # one hidden layer fewer has a 4x larger error, and a KAN edge moved by 1e-9 is far outside rounding
    assert not approximation.sawtooth_kan_matches(depth + 1, error, gap)
    with torch.no_grad():
        kan.layers[-1].coef[0, 0, 1] += 1e-9
        moved = (kan(x) - mlp(x)).abs().max().item()
    assert not approximation.sawtooth_kan_matches(depth, error, moved)


def test_converted_kan_needs_a_bounded_multiple_of_the_relu_parameters_and_a_kan_with_base_does_not():
    converted, with_base = [], []
    for depth in (1, 3, 10):
        mlp = approximation.sawtooth_square_network(depth)
        kan = mlp_to_kan(mlp, 0.0, 1.0)
        widths = [layer.n_in for layer in kan.layers] + [kan.layers[-1].n_out]
        converted.append(parameter_count(kan) / parameter_count(mlp))
        with_base.append(parameter_count(KAN(widths, grid_size=2, k=1)) / parameter_count(mlp))
    approximation.kan_parameters_within(converted).require()
    # the same widths with a base term on every edge (the default KAN): two more parameters per edge
    assert not approximation.kan_parameters_within(with_base)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="depth counts hidden layers"):
        approximation.sawtooth_square_network(0)
    with pytest.raises(ValueError, match="grid size G"):
        approximation.least_squares_spline(torch.sin, 0, 3)
    with pytest.raises(ValueError, match="degree k"):
        approximation.spline_sup_errors(cubic_derivatives, 5, -1)
