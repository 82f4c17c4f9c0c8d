"""Run scales: one switch from a seconds-long smoke run to the paper's budgets.

``smoke`` keeps every code path but shrinks budgets so that all notebooks run
in CI in minutes; ``default`` keeps the phenomena the paper reports at a cost
that fits a laptop; ``paper`` uses the authors' settings exactly. The budgets of
each scale are in :mod:`kanpaper.paper`, next to the configurations they budget.
"""

from __future__ import annotations

import os

from .checks import check_choice

__all__ = ["SCALES", "ENV_VAR", "resolve_scale"]

SCALES = ("smoke", "default", "paper")
ENV_VAR = "KANPAPER_SCALE"


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run: ``scale`` if given, else ``$KANPAPER_SCALE``, else ``"default"``."""
    if scale is None:
        scale = os.environ.get(ENV_VAR, "default")
    return check_choice("scale", str(scale).strip().lower(), SCALES)
