"""Other bases' Gram matrices (notebook 13): the quadrature against known integrals, and the two claims, each
failing on a basis without the property."""

import numpy as np
import pytest

from kanpaper.theory.bases import BASES, condition_number, flat_in_size, gram, grows_with_size, slowest_oscillations
from kanpaper.theory.hessian import bspline_gram

SIZES = [8, 16, 32]


def test_the_gram_matrices_are_the_known_integrals():
    # Fourier on [0, 1]: 1 on the constant, 1/2 on every cosine and sine, orthogonal
    np.testing.assert_allclose(gram("Fourier", 9), np.diag([1.0] + [0.5] * 8), atol=1e-13)
    # Chebyshev under the uniform (not the Chebyshev) weight: E[T_0 T_2] = E[2x^2 - 1] = -1/3 on [-1, 1]
    assert gram("Chebyshev on [-1, 1]", 5)[0, 2] == pytest.approx(-1 / 3, abs=1e-13)
    # the cubic B-splines: the quadrature of notebook 04's Theorem 4.1 Gram matrix
    np.testing.assert_allclose(gram("cubic B-spline", 13), bspline_gram(10, 3)[0], atol=1e-13)


def test_flat_and_growing_bases_and_the_claims_failing_across():
    conds = {name: [condition_number(gram(name, n)) for n in SIZES] for name in BASES}
    flat_in_size(SIZES, conds["cubic B-spline"], name="B-spline").require()
    flat_in_size(SIZES, conds["Gaussian, width = spacing"], name="Gaussian").require()
    grows_with_size(SIZES, conds["Gaussian, width = 2 x spacing"], name="wide Gaussian").require()
    assert not flat_in_size(SIZES, conds["Gaussian, width = 2 x spacing"])
    assert not grows_with_size(SIZES, conds["cubic B-spline"])
    assert not flat_in_size(SIZES, conds["Chebyshev after tanh, inputs in [0, 1]"])     # singular: infinite
    assert np.isinf(conds["Chebyshev after tanh, inputs in [0, 1]"][-1])


def test_slow_directions_oscillate_and_bad_arguments_say_what_is_allowed():
    assert (slowest_oscillations("cubic B-spline", 16) >= 10).all()
    assert condition_number(np.diag([1.0, 0.0])) == float("inf")
    with pytest.raises(ValueError, match="unknown basis 'wavelet'; allowed: 'cubic B-spline'"):
        gram("wavelet", 8)
    with pytest.raises(ValueError, match="at least 4 functions, got 3"):
        gram("Fourier", 3)
