"""Targets of the paper's experiments.

The 1D waves (Rahaman et al. 2019 setting, the paper's Figures 1 and 2):
``f(x) = sum_i A_i sin(2 pi k_i x + 2 pi phi_i)`` with ``k = 5, 10, ..., 50`` on
``N`` equispaced points of ``[0, 1)`` (endpoint excluded), so each frequency
falls exactly on FFT bin ``k_i``. Phases are drawn from an explicit generator
(the authors' scripts left them unseeded or re-seeded).
"""

from __future__ import annotations

import numpy as np

from .checks import check_choice

__all__ = ["WAVE_FREQUENCIES", "wave_amplitudes", "wave_points", "random_phases", "phased_waves"]

WAVE_FREQUENCIES = tuple(range(5, 55, 5))


def wave_amplitudes(kind: str, n: int = len(WAVE_FREQUENCIES)) -> np.ndarray:
    """``"equal"``: A_i = 1 (Figure 1); ``"increasing"``: A_i = 0.1 i (Figure 2). Shape ``(n,)``."""
    check_choice("amplitude kind", kind, ("equal", "increasing"))
    return np.ones(n) if kind == "equal" else 0.1 * np.arange(1, n + 1)


def wave_points(n_points: int = 200) -> np.ndarray:
    """``(n_points,)`` equispaced points of ``[0, 1)``."""
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    return np.arange(n_points) / n_points


def random_phases(n_repeats: int, n_frequencies: int = len(WAVE_FREQUENCIES), seed: int = 0) -> np.ndarray:
    """``(n_repeats, n_frequencies)`` phases in ``[0, 1)`` from ``default_rng(seed)``."""
    return np.random.default_rng(seed).random((n_repeats, n_frequencies))


def phased_waves(x: np.ndarray, amplitudes, phases, frequencies=WAVE_FREQUENCIES) -> np.ndarray:
    """Sum of sines at ``x``.

    Args:
        x: ``(N,)`` points.
        amplitudes: ``(F,)``; phases: ``(F,)`` or ``(R, F)`` in cycles; frequencies: ``(F,)``.

    Returns:
        ``(N,)`` or ``(R, N)``.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    phases = np.asarray(phases, dtype=float)
    frequencies = np.asarray(frequencies, dtype=float)
    if not amplitudes.shape == frequencies.shape == phases.shape[-1:]:
        raise ValueError(f"amplitudes {amplitudes.shape}, phases {phases.shape} and frequencies "
                         f"{frequencies.shape} must agree in their last axis")
    angle = 2 * np.pi * (np.multiply.outer(np.asarray(x, dtype=float), frequencies) + phases[..., None, :])
    return (amplitudes * np.sin(angle)).sum(axis=-1)
