"""Run scales: one switch from a seconds-long smoke run to the paper's budgets.

``smoke`` keeps every code path but shrinks budgets so that all notebooks run
in CI in minutes; ``default`` keeps the phenomena the paper reports at a cost
that fits a laptop; ``paper`` uses the authors' settings exactly. Every
notebook reads its settings here, so the budgets of a scale live in one place.
"""

from __future__ import annotations

import os
from typing import Any

from .checks import check_choice

__all__ = ["SCALES", "ENV_VAR", "resolve_scale", "settings"]

SCALES = ("smoke", "default", "paper")
ENV_VAR = "KANPAPER_SCALE"

# experiment -> scale -> settings. Paper values follow the authors' scripts.
_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "overview": {
        "smoke": {"n_points": 200, "demo_steps": 20},
        "default": {"n_points": 200, "demo_steps": 1000},
        "paper": {"n_points": 200, "demo_steps": 1000},
    },
    "expressiveness": {  # exact constructions and spline fits: cheap, the same at every scale
        "smoke": {"n_points": 4000, "seeds": 5},
        "default": {"n_points": 4000, "seeds": 5},
        "paper": {"n_points": 4000, "seeds": 5},
    },
    "theory": {  # gradient descent on a quadratic is cheap: the same budget at every scale
        "smoke": {"gd_steps": 20000, "record_every": 200},
        "default": {"gd_steps": 20000, "record_every": 200},
        "paper": {"gd_steps": 20000, "record_every": 200},
    },
    "waves": {
        "smoke": {"n_points": 200, "kan_steps": 40, "mlp_steps": 100, "repeats": 2, "record_every": 10},
        "default": {"n_points": 200, "kan_steps": 3000, "mlp_steps": 4000, "repeats": 2, "record_every": 100},
        "paper": {"n_points": 200, "kan_steps": 8000, "mlp_steps": 80000, "repeats": 10, "record_every": 100},
    },
    "poisson": {  # KAN: steps_per_grid at grid 20, then as many at grid 40; the MLP trains as long
        "smoke": {"n_points": 200, "steps_per_grid": 3, "ks": [2, 4, 8, 16, 32]},
        "default": {"n_points": 1000, "steps_per_grid": 15, "ks": [2, 4, 8, 16, 32]},
        "paper": {"n_points": 2000, "steps_per_grid": 100, "ks": [2, 4, 8, 16, 32]},
    },
    "grf": {  # fields: [d, sigma]; 5 grid stages (10 -> 50) of steps_per_grid L-BFGS steps
        "smoke": {"n_points": 400, "steps_per_grid": 2, "fields": [[3, 0.125], [2, 1.0]],
                  "overfit_points": 1500, "overfit_steps_per_grid": 2, "overfit_sigmas": [0.125],
                  "overfit_models": ["kan3", "mlp_tanh"], "anchors": 400},
        "default": {"n_points": 5000, "steps_per_grid": 6, "fields": [[3, 0.125], [2, 1.0]],
                    "overfit_points": 50000, "overfit_steps_per_grid": 4, "overfit_sigmas": [0.125],
                    "overfit_models": ["kan3"], "anchors": 5000},
        "paper": {"n_points": 5000, "steps_per_grid": 100,
                  "fields": [[d, s] for d in (2, 3, 4) for s in (0.125, 0.25, 0.5, 1.0)],
                  "overfit_points": 50000, "overfit_steps_per_grid": 100, "overfit_sigmas": [0.125, 0.25],
                  "overfit_models": ["mlp_tanh", "mlp_relu3", "kan2", "kan3", "kan4"], "anchors": 10000},
    },
}


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run: ``scale`` if given, else ``$KANPAPER_SCALE``, else ``"default"``."""
    if scale is None:
        scale = os.environ.get(ENV_VAR, "default")
    return check_choice("scale", str(scale).strip().lower(), SCALES)


def settings(experiment: str, scale: str | None = None) -> dict[str, Any]:
    """A copy of the settings of ``experiment`` at ``scale``."""
    check_choice("experiment", experiment, tuple(_PRESETS))
    return dict(_PRESETS[experiment][resolve_scale(scale)])
