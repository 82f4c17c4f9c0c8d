"""Verdicts: a failing claim says what was measured and what was required; many cases fold into one verdict that
names the cases that fail; the generic forms (a log-log slope, a spread) hold on data with the property and fail
on data without it."""

import numpy as np
import pytest

from kanpaper.base.verdict import Verdict, all_hold, any_holds, loglog_slope, slope_near, spread_below


def test_a_failing_verdict_raises_with_measured_and_required():
    ok, bad = Verdict("a", True, "1", "> 0"), Verdict("b", False, "-1", "> 0")
    assert ok.require() is ok and bool(ok) and not bad
    with pytest.raises(AssertionError, match=r"FAILS: b \(measured -1; required > 0\)"):
        bad.require()


def test_all_hold_names_the_failing_cases():
    cases = [Verdict(f"case {i}", i != 2, f"value {i}", "!= 2") for i in range(4)]
    folded = all_hold("no case is 2", cases)
    assert not folded and "case 2: value 2" in folded.measured and "case 1" not in folded.measured
    assert folded.required == "!= 2"
    assert all_hold("no case is 2", cases[:2]).measured == "2 of 2 cases hold"
    with pytest.raises(ValueError, match="no cases"):
        all_hold("nothing", [])


def test_any_holds_needs_one_case():
    cases = [Verdict(f"case {i}", i == 3, f"value {i}", "== 3") for i in range(4)]
    assert any_holds("some case is 3", cases)
    assert not any_holds("some case is 3", cases[:3])


def test_slope_of_a_power_law_and_of_its_absence():
    n = np.array([4.0, 8, 16, 32, 64])
    assert loglog_slope(n, 3 * n ** -2.0) == pytest.approx(-2.0, abs=1e-12)
    assert slope_near(n, 3 * n ** -2.0, -2, 0.3, "rate")
    assert not slope_near(n, 3 * n ** -2.0, -3, 0.3, "rate")                  # one order too slow
    assert not slope_near(n, np.full(5, 1e-3), -2, 0.3, "rate")               # an error that does not fall
    with pytest.raises(ValueError, match="positive"):
        loglog_slope(n, -n)


def test_spread_of_flat_and_growing_values():
    assert spread_below([1.0, 1.05, 0.98], 1.10, "flat")
    assert not spread_below([1.0, 2.0, 4.0], 1.10, "flat")
    with pytest.raises(ValueError, match="factor must exceed 1"):
        spread_below([1.0], 0.9, "flat")
    with pytest.raises(ValueError, match="positive finite"):
        spread_below([1.0, np.inf], 1.1, "flat")
