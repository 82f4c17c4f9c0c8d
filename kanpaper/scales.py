"""Run scales: one switch from a seconds-long smoke run to the paper's budgets.

``smoke`` keeps every code path but shrinks budgets so that all notebooks run
in CI in minutes; ``default`` keeps the phenomena the paper reports at a cost
that fits a laptop; ``paper`` uses the authors' settings exactly. Every
notebook reads its settings here, so the budgets of a scale live in one place.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["SCALES", "ENV_VAR", "check_choice", "resolve_scale", "settings"]

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
}


def check_choice(name: str, value: Any, allowed) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError naming both."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(repr, allowed))}")
    return value


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run: ``scale`` if given, else ``$KANPAPER_SCALE``, else ``"default"``."""
    if scale is None:
        scale = os.environ.get(ENV_VAR, "default")
    return check_choice("scale", str(scale).strip().lower(), SCALES)


def settings(experiment: str, scale: str | None = None) -> dict[str, Any]:
    """A copy of the settings of ``experiment`` at ``scale``."""
    check_choice("experiment", experiment, tuple(_PRESETS))
    return dict(_PRESETS[experiment][resolve_scale(scale)])
