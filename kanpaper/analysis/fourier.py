"""Fourier analysis of 1D signals on equispaced points of [0, 1).

Spectra are one-sided and normalised so that ``A sin(2 pi k x + phi)`` sampled
at ``N`` points reads ``A`` at bin ``k`` (for ``0 < k < N/2``). Signals may carry
leading batch axes: ``(..., N)``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["spectrum", "amplitude_spectrum", "learned_fraction", "relative_error",
           "residual_spectrum", "first_learned", "LEARNED_FRACTION"]

LEARNED_FRACTION = 0.9   # a frequency counts as learned once its learned fraction reaches this


def spectrum(y: np.ndarray) -> np.ndarray:
    """Complex one-sided spectrum ``(..., N // 2 + 1)`` scaled so a pure tone of amplitude A has modulus A."""
    y = np.asarray(y, dtype=float)
    n = y.shape[-1]
    coef = np.fft.rfft(y, axis=-1) / n
    coef[..., 1:(n + 1) // 2] *= 2  # bins other than 0 and Nyquist hold half the energy
    return coef


def amplitude_spectrum(y: np.ndarray) -> np.ndarray:
    """``|spectrum(y)|``: amplitude at each frequency bin ``0 .. N // 2``."""
    return np.abs(spectrum(y))


def _bins(frequencies: Sequence[int], n: int) -> np.ndarray:
    bins = np.asarray(frequencies)
    if bins.dtype.kind not in "iu" or bins.min() < 0 or bins.max() > n // 2:
        raise ValueError(f"frequencies must be integer bins in 0..{n // 2} for {n} points, got {bins.tolist()}")
    return bins


def learned_fraction(prediction: np.ndarray, amplitudes: Sequence[float], frequencies: Sequence[int]) -> np.ndarray:
    """The paper's metric: amplitude of the prediction at each target frequency over the target amplitude.

    1 means the component is learned (in magnitude). Shape ``(..., F)``.
    """
    prediction = np.asarray(prediction, dtype=float)
    bins = _bins(frequencies, prediction.shape[-1])
    return amplitude_spectrum(prediction)[..., bins] / np.asarray(amplitudes, dtype=float)


def relative_error(prediction: np.ndarray, target: np.ndarray, frequencies: Sequence[int]) -> np.ndarray:
    """``|F[pred - target]_k| / |F[target]_k|`` at each frequency (phase-aware). Shape ``(..., F)``."""
    prediction, target = np.broadcast_arrays(np.asarray(prediction, float), np.asarray(target, float))
    bins = _bins(frequencies, target.shape[-1])
    return amplitude_spectrum(prediction - target)[..., bins] / amplitude_spectrum(target)[..., bins]


def residual_spectrum(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Amplitude spectrum of ``target - prediction``: what is left to learn, per bin."""
    return amplitude_spectrum(np.asarray(target, float) - np.asarray(prediction, float))


def first_learned(fraction: np.ndarray, steps: Sequence[int], threshold: float = LEARNED_FRACTION) -> np.ndarray:
    """Scalar summary of spectral bias: the first recorded iteration at which each
    frequency's learned fraction reaches ``threshold``; ``inf`` where it never does.

    Args:
        fraction: ``(n_records, ..., F)`` learned fractions (records along axis 0).
        steps: ``(n_records,)`` iteration of each record, increasing.

    Returns:
        ``(..., F)`` iterations (float, ``inf`` for "not within the run").
    """
    fraction = np.asarray(fraction, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if fraction.ndim < 2 or fraction.shape[0] != len(steps):
        raise ValueError(f"fraction must be (n_records, ..., F) with n_records = len(steps) = {len(steps)}, "
                         f"got shape {fraction.shape}")
    if not 0 < threshold:
        raise ValueError(f"threshold must be positive, got {threshold}")
    reached = fraction >= threshold
    first = steps[np.argmax(reached, axis=0)]
    return np.where(reached.any(axis=0), first, np.inf)
