"""Theorem 4.1 with correlated inputs (notebook 12): the copula, the decorrelating map, and the three claims, each
holding on realistic samples and failing where the property is absent."""

import numpy as np
import pytest

from kanpaper import KANLayer
from kanpaper.theory.correlated import (condition_grows_with_correlation, copula_inputs, decorrelate,
                                        decorrelation_restores, slow_directions, slowest_directions_are_differences)
from kanpaper.theory.hessian import nonzero_condition_number, sample_hessian

N = 50_000


def layer(d):
    return KANLayer(d, 1, 10, 3, grid_range=(0.0, 1.0), base=None)


def condition(d, x):
    return nonzero_condition_number(sample_hessian(layer(d), x).numpy(), rtol=1e-10)[0]


def test_copula_inputs_are_uniform_and_correlated_and_decorrelate_undoes_it():
    rng = np.random.default_rng(0)
    x = copula_inputs(N, 3, 0.9, rng).numpy()
    assert x.shape == (N, 3) and 0 < x.min() and x.max() < 1
    # each input uniform: its mean and variance within 5 standard errors of 1/2 and 1/12
    assert np.abs(x.mean(axis=0) - 0.5).max() < 5 * np.sqrt(1 / 12 / N)
    assert np.abs(x.var(axis=0) - 1 / 12).max() < 5 * np.sqrt(1 / 180 / N)
    assert np.corrcoef(x.T)[0, 1] > 0.85
    back = decorrelate(copula_inputs(N, 3, 0.9, rng), 0.9).numpy()
    assert np.abs(np.corrcoef(back.T) - np.eye(3)).max() < 5 / np.sqrt(N)
    with pytest.raises(ValueError, match=r"lies in \(-1/2, 1\), got 1.0"):
        copula_inputs(10, 3, 1.0, rng)
    with pytest.raises(ValueError, match="need d >= 2"):
        copula_inputs(10, 1, 0.5, rng)


def test_the_condition_number_grows_with_correlation_and_the_claim_fails_without_it():
    rng = np.random.default_rng(1)
    rhos = [0.0, 0.5, 0.9, 0.99]
    conds = [condition(2, copula_inputs(N, 2, rho, rng)) for rho in rhos]
    condition_grows_with_correlation(rhos, conds).require()
    independent = [condition(2, copula_inputs(N, 2, 0.0, rng)) for _ in rhos]     # no correlation: no growth
    assert not condition_grows_with_correlation(rhos, independent)
    assert not condition_grows_with_correlation(rhos, conds[::-1])
    with pytest.raises(ValueError, match="increasing correlations"):
        condition_grows_with_correlation([0.5, 0.0], conds[:2])


@pytest.mark.parametrize("d", [2, 4])
def test_the_slowest_directions_are_differences_only_under_correlation(d):
    rng = np.random.default_rng(2)
    strong = sample_hessian(layer(d), copula_inputs(N, d, 0.99, rng)).numpy()
    slowest_directions_are_differences(slow_directions(strong, layer(d), 2)[1]).require()
    independent = sample_hessian(layer(d), copula_inputs(N, d, 0.0, rng)).numpy()
    assert not slowest_directions_are_differences(slow_directions(independent, layer(d), 2)[1])
    same = np.ones((1, d, 13))                                   # equal functions: a sum, not a difference
    assert not slowest_directions_are_differences(same)


def test_decorrelating_restores_the_condition_number_and_correlated_inputs_do_not():
    rng = np.random.default_rng(3)
    independent = condition(2, copula_inputs(N, 2, 0.0, rng))
    correlated = copula_inputs(N, 2, 0.99, rng)
    decorrelation_restores(condition(2, decorrelate(correlated, 0.99)), independent).require()
    assert not decorrelation_restores(condition(2, correlated), independent)


def test_slow_directions_are_functions_of_each_input():
    rng = np.random.default_rng(4)
    h = sample_hessian(layer(2), copula_inputs(N, 2, 0.5, rng)).numpy()
    values, blocks, wiggles = slow_directions(h, layer(2), 3)
    assert values.shape == (3,) and blocks.shape == (3, 2, 13) and wiggles.shape == (3, 2)
    assert (np.diff(values) >= 0).all() and values[0] > 0
    with pytest.raises(ValueError, match="one-output layer"):
        slow_directions(h, KANLayer(2, 2, 10, 3, base=None), 2)
