"""The authors' own per-step results, shipped as reference data with their provenance.

``kanpaper/analysis/reference_data/{poisson,grf}.json.gz`` hold, converted by ``scripts/build_reference_data.py``,
every result file of the authors' public repository (RoyWangyx/spectral_bias-KAN) for Figure 5
(``PDE_drm_1d/``) and Figures 3-4 with the overfitting study (``GRF/``): one value per L-BFGS step, value
``i`` after step ``i + 1``, in the unit the authors' script wrote (the Poisson files: MSE; the GRF files:
RMSE for KANs, logged by pykan, and MSE for MLPs). :class:`Series` converts between the two units, so every
comparison names one unit and uses it on both sides, and :func:`side_by_side` gives ours beside theirs at the
same step count and theirs at their final step.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ..base.checks import check_choice

__all__ = ["UNITS", "Series", "provenance", "poisson", "grf", "grf_keys", "side_by_side"]

UNITS = ("MSE", "RMSE")
EXPERIMENTS = ("poisson", "grf")


@cache
def _load(experiment: str) -> dict[str, Any]:
    check_choice("reference experiment", experiment, EXPERIMENTS)
    raw = resources.files("kanpaper.analysis").joinpath("reference_data", f"{experiment}.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


def provenance(experiment: str) -> dict[str, str]:
    """Repository, commit, commit date and a note on the experiment's files."""
    return dict(_load(experiment)["provenance"])


@dataclass(frozen=True)
class Series:
    """One result file of the authors.

    Attributes:
        path: the file's path in the authors' repository (at the commit of :func:`provenance`).
        quantity: what the file holds.
        unit: the file's unit, ``"MSE"`` or ``"RMSE"``.
        raw: ``(steps,)`` the values as written (NaN after a divergence).
    """

    path: str
    quantity: str
    unit: str
    raw: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.raw)

    def values(self, unit: str) -> np.ndarray:
        """``(steps,)`` the values in ``unit`` (``"MSE"`` or ``"RMSE"``, the square root of the MSE)."""
        check_choice("unit", unit, UNITS)
        if unit == self.unit:
            return self.raw.copy()
        return np.sqrt(self.raw) if unit == "RMSE" else self.raw ** 2

    def at_step(self, step: int, unit: str) -> float:
        """The value after ``step`` steps (1 <= step <= steps), in ``unit``."""
        if not 1 <= step <= self.steps:
            raise ValueError(f"step must be in 1..{self.steps} (the file's steps), got {step}")
        return float(self.values(unit)[step - 1])

    def final(self, unit: str) -> float:
        """The value after the last step, in ``unit`` (NaN when the run diverged)."""
        return self.at_step(self.steps, unit)

    def source(self) -> str:
        """``repository@commit:path``."""
        info = provenance("grf" if self.path.startswith("GRF/") else "poisson")
        return f"{info['repository']}@{info['commit'][:7]}:{self.path}"


def _series(entry: dict[str, Any]) -> Series:
    return Series(entry["path"], entry["quantity"], entry["unit"], np.asarray(entry["values"], dtype=np.float64))


def _find(experiment: str, **match) -> Series:
    for entry in _load(experiment)["series"]:
        if all(entry.get(key) == value for key, value in match.items()):
            return _series(entry)
    raise KeyError(f"the authors' {experiment} results hold no file for {match}")


def poisson(model: str, k: int, error: str) -> Series:
    """Figure 5: the error (``"l2"``: of u, ``"h1"``: of u') of ``model`` (``"kan"``/``"mlp"``) at frequency ``k``
    (2, 4, 8, 16, 32), 200 steps, in MSE."""
    check_choice("model", model, ("kan", "mlp"))
    check_choice("error", error, ("l2", "h1"))
    check_choice("k", k, (2, 4, 8, 16, 32))
    return _find("poisson", model=model, k=k, error=error)


def grf(model: str, dim: int, sigma: float, split: str, study: str = "figures") -> Series:
    """Figures 3-4 (``study="figures"``, 4,000 training points) or the overfitting study (``"overfit"``, 40,000,
    ``dim`` 3): the ``split`` (``"train"``/``"test"``) error of ``model`` (``"mlp_tanh"``, ``"mlp_relu3"``,
    ``"mlp_relu"``, ``"kan2"``/``"kan3"``/``"kan4"``, or with ``"_width3"``/``"_width10"``), 500 steps."""
    check_choice("split", split, ("train", "test"))
    check_choice("study", study, ("figures", "overfit"))
    return _find("grf", model=model, dim=int(dim), sigma=float(sigma), split=split, study=study)


def grf_keys(study: str = "figures") -> list[tuple[str, int, float]]:
    """Every ``(model, dim, sigma)`` of a study in the authors' files."""
    check_choice("study", study, ("figures", "overfit"))
    keys = {(e["model"], e["dim"], e["sigma"]) for e in _load("grf")["series"] if e["study"] == study}
    return sorted(keys)


def side_by_side(ours: np.ndarray, theirs: Series, unit: str) -> dict[str, float | int]:
    """Ours after our last step beside theirs after as many steps and after all of theirs, in ``unit``.

    Args:
        ours: ``(steps,)`` our per-step values, already in ``unit``.
        theirs: the authors' file.

    Returns:
        ``step`` (our step count), ``ours``, ``theirs_same_step`` (NaN when we ran longer than they did),
        ``theirs_final``, ``their_steps``.
    """
    ours = np.asarray(ours, dtype=np.float64)
    if ours.ndim != 1 or len(ours) == 0:
        raise ValueError(f"ours must be a non-empty (steps,) array, got shape {ours.shape}")
    step = len(ours)
    same = theirs.at_step(step, unit) if step <= theirs.steps else float("nan")
    return {"step": step, "ours": float(ours[-1]), "theirs_same_step": same,
            "theirs_final": theirs.final(unit), "their_steps": theirs.steps}
