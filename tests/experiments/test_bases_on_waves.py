"""One basis layer on the waves: the Adam run deterministic and complete, gradient descent's closed form against
the iteration itself, the least-squares fit telling what a basis can hold, and the claim that training follows the
Gram matrix failing where the data lack it (an under-trained run, a reversed split, a layer that learned nothing)."""

import numpy as np
import pytest

from kanpaper.analysis.fourier import first_learned, learned_fraction
from kanpaper.experiments.bases_on_waves import (basis_features, basis_gradient_descent, best_fit_fraction,
                                                  run_basis_waves)
from kanpaper.experiments.paper import basis_waves_configs
from kanpaper.experiments.waves import WAVE_FREQUENCIES, phased_waves, random_phases, wave_amplitudes, wave_points
from kanpaper.analysis.claims import gram_predicts_learning, learning_span

FLAT = ("cubic B-spline", "Gaussian, width = spacing", "Fourier")
OTHERS = ("Gaussian, width = 2 x spacing", "Gaussian, fixed width 1 on [-2, 2]",
          "Chebyshev after tanh, inputs in [0, 1]")
GD_STEPS = np.unique(np.round(np.logspace(0, 10, 61)).astype(np.int64))


def config(name, **changes):
    return {**basis_waves_configs("default")[name], **changes}


def test_the_adam_run_is_deterministic_and_records_every_interval():
    cfg = config("Fourier", steps=12, record_every=5)
    first, second = run_basis_waves(cfg, progress=False), run_basis_waves(cfg, progress=False)
    assert first["fraction"].shape == (4, 2, 10) and first["steps"].tolist() == [0, 5, 10, 12]
    for key in first:
        assert np.array_equal(first[key], second[key]), key


def test_closed_form_descent_is_the_iteration_and_the_best_fit_what_the_basis_holds():
    cfg = config("Gaussian, width = spacing", size=24, repeats=1)
    phi = basis_features(cfg["basis"], 24, 200)
    target = phased_waves(wave_points(200), wave_amplitudes("equal"), random_phases(1, seed=0))[0]
    eta = 1 / np.linalg.eigvalsh(phi.T @ phi / 200)[-1]
    coef, iterates = np.zeros(24), []
    for _ in range(50):
        coef = coef - eta * phi.T @ (phi @ coef - target) / 200
        iterates.append(phi @ coef)
    expected = learned_fraction(np.array(iterates)[[0, 9, 49]], wave_amplitudes("equal"), WAVE_FREQUENCIES)
    np.testing.assert_allclose(basis_gradient_descent(cfg, [1, 10, 50])[:, 0], expected, atol=1e-10)
    assert (best_fit_fraction(config("Fourier")) > 0.999).all()                   # 128 functions hold 50 Hz
    assert (best_fit_fraction(config("Fourier", size=64))[:, -4:] < 1e-10).all()  # up to 32 Hz only


def gd_firsts(names):
    return {n: first_learned(basis_gradient_descent(config(n), GD_STEPS).mean(axis=1), GD_STEPS) for n in names}


def test_training_follows_the_gram_matrix_and_the_claim_fails_without_it():
    firsts = gd_firsts(FLAT + OTHERS)
    gram_predicts_learning(firsts, FLAT).require()
    assert not gram_predicts_learning(firsts, OTHERS)                     # the split reversed
    assert learning_span(firsts["Gaussian, width = 2 x spacing"], unlearned="inf") > 1e3
    # under-trained: Adam for 300 steps has not learned every frequency of the flat bases
    short = {n: first_learned((r := run_basis_waves(config(n, steps=300), progress=False))["fraction"].mean(axis=1),
                              r["steps"]) for n in FLAT}
    verdict = gram_predicts_learning({**short, **{n: firsts[n] for n in OTHERS}}, FLAT)
    assert not verdict and "against: cubic B-spline" in verdict.measured
    # a layer that learned nothing, in place of a flat basis
    assert not gram_predicts_learning({**firsts, "Fourier": np.full(10, np.inf)}, FLAT)
    with pytest.raises(ValueError, match="flat must name some but not all"):
        gram_predicts_learning(firsts, FLAT + OTHERS)
