"""The a-posteriori rounding bounds: sound against exact rational arithmetic, tight on a cancellation, and
breached by a wrong conversion."""

from fractions import Fraction

import pytest
import torch

from kanpaper import MLP
from kanpaper.theory.conversions import kan_to_mlp, mlp_to_kan, random_bounded_kan
from kanpaper.theory.rounding import (check_kan_to_mlp, gamma, kan_forward_with_bound, kan_to_mlp_forward_with_bound,
                                      mlp_forward_with_bound, mlp_to_kan_edge_errors, unit_roundoff)


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
    exact.verdict("the KAN and its MLP").require()
    with pytest.raises(AssertionError, match="the moved KAN and its MLP: the two networks agree"):
        wrong.verdict("the moved KAN and its MLP").require()
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
