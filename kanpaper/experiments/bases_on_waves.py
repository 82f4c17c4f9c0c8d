"""Figures 1-2's waves learned by one layer of another basis (a question the paper leaves open: is it the B-spline,
or the KAN?).

One :class:`~kanpaper.nn.bases.BasisLayer` ``[1 -> 1]`` of ``size`` functions is fitted to the phased waves of
:mod:`~kanpaper.experiments.waves` (the same targets, points, phases and metric) in two ways:

- :func:`run_basis_waves`: Adam on the mean squared loss, ``repeats`` independent layers as one ensemble, the
  figures' protocol (a single linear layer needs a larger step than the figures' 3e-4: the configs say which);
- :func:`basis_gradient_descent`: gradient descent with step ``1 / lambda_max`` in closed form, Theorem 4.1's own
  setting, where the Hessian of the layer is the basis's Gram matrix on the training points and nothing else;
- :func:`best_fit_fraction`: what the basis can represent at all (its least-squares fit), so that a frequency it
  never learns is told apart from one it learns slowly.

The runs are seconds long: a notebook computes them itself, without the results cache.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from ..analysis.fourier import learned_fraction
from ..nn.bases import BasisLayer, evaluate_basis
from ..nn.ensemble import Ensemble
from ..theory.hessian import gradient_descent
from ..training.loop import regression_loss, train
from .waves import WAVE_FREQUENCIES, wave_points, wave_targets

__all__ = ["run_basis_waves", "basis_features", "basis_gradient_descent", "best_fit_fraction"]


def run_basis_waves(config: Mapping[str, Any], progress: bool = True) -> dict[str, np.ndarray]:
    """Adam on the waves with one basis layer; config keys: ``basis`` (a key of
    :data:`~kanpaper.nn.bases.BASES`), ``size``, ``steps``, ``lr``, ``record_every``, ``repeats``, ``amplitudes``,
    ``seed`` (phases), ``n_points``. Repeat ``r`` is initialised from seed ``r`` (float64, CPU).

    Returns:
        ``fraction``: ``(n_records, repeats, 10)``; ``steps``: ``(n_records,)``; ``final_loss``: ``(repeats,)``;
        ``phases``: ``(repeats, 10)``.
    """
    x, amplitudes, phases, y = wave_targets(config)
    inputs = torch.as_tensor(x, dtype=torch.float64)[:, None]
    targets = torch.as_tensor(y, dtype=torch.float64)[..., None]                       # (R, N, 1)
    model = Ensemble([BasisLayer(1, 1, config["basis"], int(config["size"]), seed=r)
                      for r in range(int(config["repeats"]))])
    result = train(model, regression_loss(inputs, targets), int(config["steps"]), optimizer="adam",
                   lr=float(config["lr"]), record_every=int(config["record_every"]),
                   record_fn=lambda m: {"prediction": m(inputs)[..., 0]}, progress=progress,
                   desc=f"{config['basis']}, {config['size']} functions")
    return {"fraction": learned_fraction(result.records["prediction"], amplitudes, WAVE_FREQUENCIES),
            "steps": np.asarray(result.record_steps), "final_loss": result.losses[-1], "phases": phases}


def basis_features(basis: str, size: int, n_points: int) -> np.ndarray:
    """``(n_points, size)``: the basis at the waves' training points."""
    return evaluate_basis(basis, torch.as_tensor(wave_points(n_points), dtype=torch.float64), size).numpy()


def basis_gradient_descent(config: Mapping[str, Any], steps) -> np.ndarray:
    """Gradient descent from zero coefficients with step ``1 / lambda_max`` (closed form,
    :func:`kanpaper.theory.hessian.gradient_descent`) for every repeat's target of ``config`` (its ``basis``,
    ``size``, ``repeats``, ``amplitudes``, ``seed``, ``n_points``).

    Returns:
        ``(len(steps), repeats, 10)`` learned fractions.
    """
    _, amplitudes, _, y = wave_targets(config)
    phi = basis_features(config["basis"], int(config["size"]), int(config["n_points"]))
    predictions = np.stack([gradient_descent(phi, target, steps) for target in y], axis=1)   # (S, R, N)
    return learned_fraction(predictions, amplitudes, WAVE_FREQUENCIES)


def best_fit_fraction(config: Mapping[str, Any]) -> np.ndarray:
    """``(repeats, 10)``: learned fractions of the least-squares fit of each target in the basis (the minimum-norm
    solution, singular values below ``N eps sigma_max`` dropped, as float64 can resolve them)."""
    _, amplitudes, _, y = wave_targets(config)
    phi = basis_features(config["basis"], int(config["size"]), int(config["n_points"]))
    coef, *_ = np.linalg.lstsq(phi, y.T, rcond=phi.shape[0] * np.finfo(np.float64).eps)
    return learned_fraction((phi @ coef).T, amplitudes, WAVE_FREQUENCIES)
