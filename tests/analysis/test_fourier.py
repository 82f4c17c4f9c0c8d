import matplotlib
import numpy as np
import pytest

from kanpaper.analysis import fourier
from kanpaper.experiments.waves import WAVE_FREQUENCIES, phased_waves, random_phases, wave_amplitudes, wave_points

matplotlib.use("Agg")


@pytest.mark.parametrize("n", [200, 201, 64])
def test_pure_tone_reads_its_amplitude_at_any_phase(n, rng):
    x = np.arange(n) / n
    for _ in range(20):
        amplitude, phase, k = rng.uniform(0.1, 5), rng.uniform(0, 2 * np.pi), rng.integers(1, (n - 1) // 2)
        spec = fourier.amplitude_spectrum(amplitude * np.sin(2 * np.pi * k * x + phase))
        assert abs(spec[k] - amplitude) < 1e-12
        others = np.delete(spec, k)
        assert others.max() < 1e-12


def test_constant_reads_its_value():
    assert abs(fourier.amplitude_spectrum(np.full(50, 3.0))[0] - 3.0) < 1e-12


def test_sum_of_tones_reads_each():
    x = wave_points(200)
    phases = random_phases(3, seed=5)
    amplitudes = wave_amplitudes("increasing")
    y = phased_waves(x, amplitudes, phases)                                   # (3, 200)
    assert y.shape == (3, 200)
    fraction = fourier.learned_fraction(y, amplitudes, WAVE_FREQUENCIES)
    assert np.abs(fraction - 1).max() < 1e-12
    spec = fourier.amplitude_spectrum(y)
    assert np.abs(spec[:, list(WAVE_FREQUENCIES)] - amplitudes).max() < 1e-12


def test_relative_error_zero_for_perfect_fit_and_one_for_nothing():
    x = wave_points(200)
    y = phased_waves(x, wave_amplitudes("equal"), random_phases(1, seed=1)[0])
    assert np.abs(fourier.relative_error(y, y, WAVE_FREQUENCIES)).max() < 1e-12
    assert np.allclose(fourier.relative_error(np.zeros_like(y), y, WAVE_FREQUENCIES), 1, atol=1e-12)
    assert np.abs(fourier.residual_spectrum(y, y)).max() < 1e-12


def test_wrong_phase_is_learned_in_magnitude_but_not_in_error():
    x = wave_points(200)
    amplitudes = np.ones(10)
    y = phased_waves(x, amplitudes, np.zeros(10))
    shifted = phased_waves(x, amplitudes, np.full(10, 0.5))                   # opposite sign
    assert np.allclose(fourier.learned_fraction(shifted, amplitudes, WAVE_FREQUENCIES), 1)
    assert np.allclose(fourier.relative_error(shifted, y, WAVE_FREQUENCIES), 2)


def test_bad_inputs():
    with pytest.raises(ValueError, match="integer bins"):
        fourier.learned_fraction(np.zeros(20), [1.0], [15])
    with pytest.raises(ValueError, match="amplitude kind"):
        wave_amplitudes("random")
    with pytest.raises(ValueError, match="agree"):
        phased_waves(wave_points(10), np.ones(3), np.zeros(2), [1, 2, 3])


def test_first_learned_is_first_record_reaching_threshold():
    steps = np.array([0, 100, 200, 300])
    fraction = np.array([[0.0, 0.0, 0.0],
                         [0.95, 0.2, 0.0],
                         [0.85, 0.9, 0.1],
                         [1.0, 1.0, 0.5]])
    first = fourier.first_learned(fraction, steps)
    assert first.tolist() == [100.0, 200.0, np.inf]
    stacked = fourier.first_learned(np.stack([fraction, fraction[:, ::-1]], axis=1), steps)  # (records, 2, F)
    assert stacked.shape == (2, 3) and stacked[1].tolist() == [np.inf, 200.0, 100.0]
    with pytest.raises(ValueError, match="n_records"):
        fourier.first_learned(fraction, steps[:3])
