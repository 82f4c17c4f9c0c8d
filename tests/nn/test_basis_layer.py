"""The one-input bases of KAN variants and the layer built on them: each basis against its formula, the layer
against its sum, the batched layer against its members, and bad arguments refused with what is allowed."""

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kanpaper.nn.bases import BASES, BasisLayer, evaluate_basis
from kanpaper.nn.ensemble import Ensemble

X = torch.linspace(0.0, 1.0, 37, dtype=torch.float64)


def test_each_basis_is_its_formula():
    x = X.numpy()
    knots = np.concatenate([[-3, -2, -1], np.arange(10), [10, 11, 12]]) / 9.0          # 9 intervals on [0, 1]
    bspline = np.nan_to_num(BSpline(knots, np.eye(12), 3, extrapolate=False)(x))
    np.testing.assert_allclose(evaluate_basis("cubic B-spline", X, 12).numpy(), bspline, atol=1e-14)
    np.testing.assert_allclose(evaluate_basis("Gaussian, width = 2 x spacing", X, 5).numpy(),
                               np.exp(-((x[:, None] - np.linspace(0, 1, 5)) / 0.5) ** 2), atol=1e-15)
    np.testing.assert_allclose(evaluate_basis("Chebyshev after tanh, inputs in [0, 1]", X, 6).numpy(),
                               np.polynomial.chebyshev.chebvander(np.tanh(x), 5), atol=1e-13)
    fourier = evaluate_basis("Fourier", X, 5).numpy()
    np.testing.assert_allclose(fourier, np.stack([np.ones_like(x), np.sin(2 * np.pi * x), np.cos(2 * np.pi * x),
                                                  np.sin(4 * np.pi * x), np.cos(4 * np.pi * x)], axis=1), atol=1e-14)
    for name in BASES:
        assert evaluate_basis(name, X.reshape(37, 1), 8).shape == (37, 1, 8), name


def test_layer_is_the_sum_and_the_ensemble_its_members():
    layer = BasisLayer(2, 3, "Gaussian, width = spacing", 9, seed=4)
    x = torch.rand(11, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    phi = evaluate_basis("Gaussian, width = spacing", x, 9)                             # (N, n_in, size)
    expected = sum(phi[:, p] @ layer.coef[p].T for p in range(2))
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-14)
    members = [BasisLayer(2, 3, "cubic B-spline", 9, seed=s) for s in range(3)]
    ensemble = Ensemble(members)
    torch.testing.assert_close(ensemble(x), torch.stack([m(x) for m in members]), rtol=0, atol=1e-14)
    batched = torch.rand(3, 11, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(ensemble(batched), torch.stack([m(b) for m, b in zip(members, batched)]),
                               rtol=0, atol=1e-14)


def test_seeded_initialisation_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    first, second = BasisLayer(1, 1, "Fourier", 8, seed=7), BasisLayer(1, 1, "Fourier", 8, seed=7)
    assert torch.equal(first.coef, second.coef) and first.coef.dtype == torch.float64
    assert not torch.equal(first.coef, BasisLayer(1, 1, "Fourier", 8, seed=8).coef)
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="unknown basis 'wavelet'; allowed: 'cubic B-spline'"):
        BasisLayer(1, 1, "wavelet", 8)
    with pytest.raises(ValueError, match="at least 4 functions, got 2"):
        evaluate_basis("Fourier", X, 2)
    with pytest.raises(ValueError, match="widths must be >= 1, got n_in=0"):
        BasisLayer(0, 1, "Fourier", 8)
