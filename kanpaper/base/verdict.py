"""A checked statement: whether it holds, what was measured, what was required.

Every claim a notebook asserts, from a theorem's rate to a spectral-bias ordering, is a function that returns a
:class:`Verdict`. The notebook calls ``verdict.require()`` and prints it; the tests call the same function on a
model or a curve that has the property and on one that lacks it, so no threshold is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

__all__ = ["Verdict", "all_hold", "any_holds", "loglog_slope", "slope_near", "spread_below"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim.

    Attributes:
        claim: the statement checked.
        holds: whether it holds.
        measured: the numbers it rests on.
        required: the condition they had to meet.
    """

    claim: str
    holds: bool
    measured: str
    required: str

    def __post_init__(self):
        object.__setattr__(self, "holds", bool(self.holds))    # numpy booleans too

    def __str__(self) -> str:
        return f"{'holds' if self.holds else 'FAILS'}: {self.claim} (measured {self.measured}; required {self.required})"

    def __bool__(self) -> bool:
        return self.holds

    def require(self) -> "Verdict":
        """``self`` when the claim holds; an ``AssertionError`` naming measured and required otherwise."""
        if not self.holds:
            raise AssertionError(str(self))
        return self


def all_hold(claim: str, verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for many cases of a claim: it holds when every case does; the measurement names the cases that
    fail (or how many were checked), the requirement is the cases' own."""
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError(f"no cases to check for {claim!r}")
    failed = [v for v in verdicts if not v.holds]
    measured = (f"{len(verdicts)} of {len(verdicts)} cases hold" if not failed else
                f"{len(failed)} of {len(verdicts)} cases fail: " + "; ".join(f"{v.claim}: {v.measured}" for v in failed))
    requirements = list(dict.fromkeys(v.required for v in verdicts))       # distinct, in the cases' order
    if len(requirements) == 1:
        required = requirements[0]
    elif len(requirements) <= 4:
        required = "each case its own: " + "; ".join(requirements)
    else:
        required = f"each case its own ({len(requirements)} bounds; the first: {requirements[0]})"
    return Verdict(claim, not failed, measured, required)


def any_holds(claim: str, verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for "at least one case": it holds when some case does; the measurement lists every case."""
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError(f"no cases to check for {claim!r}")
    return Verdict(claim, any(v.holds for v in verdicts), "; ".join(f"{v.claim}: {v.measured}" for v in verdicts),
                   "at least one case: " + verdicts[0].required)


def loglog_slope(x, y) -> float:
    """The least-squares slope of ``log y`` against ``log x`` (``x``, ``y``: ``(n,)`` positive, n >= 2)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2 or (x <= 0).any() or (y <= 0).any():
        raise ValueError(f"need two matching (n,) arrays of positive values, n >= 2; got shapes {x.shape}, "
                         f"{y.shape}, smallest values {x.min() if x.size else None}, {y.min() if y.size else None}")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def slope_near(x, y, predicted: float, tolerance: float, claim: str) -> Verdict:
    """The log-log slope of ``y`` against ``x`` is within ``tolerance`` of ``predicted``."""
    slope = loglog_slope(x, y)
    return Verdict(claim, abs(slope - predicted) < tolerance, f"fitted slope {slope:.3f}",
                   f"within {tolerance:g} of {predicted:g}")


def spread_below(values, factor: float, claim: str) -> Verdict:
    """``max / min`` of ``values`` (``(n,)``, positive) is below ``factor``: the values are flat to that ratio."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or (values <= 0).any() or not np.isfinite(values).all():
        raise ValueError(f"need a (n,) array of positive finite values, got {values!r}")
    if not factor > 1:
        raise ValueError(f"factor must exceed 1 (max / min >= 1 always), got {factor}")
    spread = values.max() / values.min()
    return Verdict(claim, bool(spread < factor), f"{values.min():.4g} ... {values.max():.4g} (max / min {spread:.4f})",
                   f"max / min < {factor:g}")
