"""The paper's claims as functions of per-step results, so that one check runs on ours and on the authors' files.

Every function takes per-step error curves (``(steps,)`` arrays in the unit its docstring names: pass ours, or
an authors' :class:`kanpaper.analysis.reference.Series` converted with ``.values(unit)``) and returns a
:class:`Verdict`: whether the claim holds, what was measured and what was required. A notebook calls
``verdict.require()`` (an ``AssertionError`` that says both when it fails) and prints the verdict; the unit
tests run the same functions on the authors' own data, where every claim stated here must hold too.
Thresholds are stated against a baseline the claim is about (a model that ignored the high-frequency part, the
training error) rather than as bare numbers.
"""

from __future__ import annotations

import numpy as np

from ..base.checks import check_choice
from ..base.verdict import Verdict

__all__ = ["final", "learning_spread", "rank_order", "common_spread", "mean_first_learned",
           "learns_low_to_high",
           "learns_strictly_low_to_high", "learns_lowest_first", "learned_by", "never_learns_highest",
           "not_ahead", "learns_more", "learning_span", "gram_predicts_learning", "spreads_wider", "extension_ahead",
           "fractions_fall_with_frequency", "highest_fraction_at_most",
           "learns_all",
           "learns_closer_together", "kan_trains_below_mlp", "LEARNED_RMSE", "kan_overfits", "mlp_generalises",
           "extensions_raise_test_error", "extension_spikes", "extension_jumps", "no_extension_spikes",
           "spikes_only_where_not_nested",
           "same_extension_spikes", "pivot_fault_explains_first_jumps", "more_data_cures_overfitting",
           "ignored_high_frequency_mse", "captures_high_frequency", "misses_high_frequency", "within_seed_spread",
           "error_rate_in_parameters", "more_accurate_with_fewer_parameters", "deeper_fits_closer",
           "error_rises_with_depth", "mlp_gains_with_dimension",
           "wider_fits_closer"]


def final(curve) -> float:
    """The last finite value of a ``(steps,)`` curve (a diverged run: its value before the NaN)."""
    curve = np.asarray(curve, dtype=np.float64)
    finite = curve[np.isfinite(curve)]
    if curve.ndim != 1 or finite.size == 0:
        raise ValueError(f"expected a (steps,) curve with a finite value, got shape {curve.shape}")
    return float(finite[-1])


# ---- Figures 1-2: ``first``, a ``(F,)`` array of the first iteration at which each target frequency (low to high)
# is learned, inf where it is not within the run (:func:`kanpaper.analysis.fourier.first_learned`)

def _first(first) -> np.ndarray:
    first = np.asarray(first, dtype=np.float64)
    if first.ndim != 1 or first.size < 2 or np.isnan(first).any():
        raise ValueError(f"expected a (frequencies,) array of first iterations (inf: never), got {first!r}")
    return first


def learning_spread(first, budget: int) -> float:
    """Iterations from the first learned frequency to the last one (to ``budget`` when some frequency is never
    learned: then a lower bound); inf when none is learned."""
    first = _first(first)
    learned = first[np.isfinite(first)]
    if learned.size == 0:
        return float("inf")
    return float((learned.max() if learned.size == first.size else budget) - learned.min())


def rank_order(first) -> float:
    """Kendall's tau-b between frequency (low to high) and the iteration it was first learned, over the learned
    frequencies: 1 = learned strictly low to high, -1 = high to low, about 0 = no order; NaN with fewer than two
    learned or all learned at once."""
    first = _first(first)
    when = first[np.isfinite(first)]                    # in frequency order, so the frequency ranks are 0, 1, ...
    if when.size < 2 or np.unique(when).size < 2:
        return float("nan")
    i, j = np.triu_indices(when.size, 1)
    signs = np.sign(when[j] - when[i])                  # +1: the higher frequency learned later (concordant)
    pairs = len(i)
    return float(signs.sum() / np.sqrt(pairs * (pairs - np.sum(signs == 0))))


def learns_low_to_high(first, min_learned: int = 4, tau: float = 0.6, name: str = "MLP") -> Verdict:
    """At least ``min_learned`` frequencies learned, in an order whose rank correlation with the frequency
    (:func:`rank_order`) is at least ``tau``. With four learned, 0.6 admits one swapped pair of the six: 4 of the
    24 possible orders pass (with pairs counted instead, as an earlier version did, 15 passed)."""
    first = _first(first)
    learned, order = int(np.isfinite(first).sum()), rank_order(first)
    return Verdict(f"{name} learns the frequencies from low to high", bool(learned >= min_learned and order >= tau),
                   f"{learned} of {first.size} learned, rank order tau {order:.2f}",
                   f">= {min_learned} learned and tau >= {tau:g}")


def learns_all(first, name: str = "KAN", within: float | None = None) -> Verdict:
    """Every frequency is learned within the run (and by iteration ``within``, when given)."""
    first = _first(first)
    learned = int(np.isfinite(first).sum())
    last = f", the last at iteration {first.max():.0f}" if learned == first.size else ""
    by = "" if within is None else f" by iteration {within:g}"
    holds = learned == first.size and (within is None or first.max() <= within)
    return Verdict(f"{name} learns every frequency{by}", bool(holds),
                   f"{learned} of {first.size} learned{last}", f"all {first.size}{by}")


def mean_first_learned(first, budget: int) -> float:
    """The mean first iteration over the frequencies, one never learned counted at ``budget`` (a lower bound then)."""
    first = _first(first)
    return float(np.where(np.isfinite(first), first, budget).mean())


def learns_strictly_low_to_high(first, min_learned: int = 3, span: float = 1e3, name: str = "ReLU") -> Verdict:
    """The learned frequencies (at least ``min_learned``) are learned in strictly increasing order, the last at
    least ``span`` times later than the first: a staircase over decades, not a tie broken by noise."""
    first = _first(first)
    learned = first[np.isfinite(first)]
    increasing = learned.size >= min_learned and bool((np.diff(learned) > 0).all())
    ratio = float(learned[-1] / learned[0]) if learned.size >= 2 else float("nan")
    return Verdict(f"{name}: the frequencies are learned strictly from low to high", increasing and ratio >= span,
                   f"{learned.size} of {first.size} learned, at " + ", ".join(f"{v:.2g}" for v in first)
                   + f" (last / first {ratio:.3g})",
                   f">= {min_learned} learned, strictly increasing, last / first >= {span:g}")


def learns_lowest_first(first, factor: float = 5.0, name: str = "MLP") -> Verdict:
    """The lowest frequency is learned, before any other, and the highest at least ``factor`` times later (or
    never)."""
    first = _first(first)
    lowest, highest = first[0], first[-1]
    holds = bool(np.isfinite(lowest) and lowest == first.min() and highest >= factor * lowest)
    return Verdict(f"{name} learns the lowest frequency first and the highest much later", holds,
                   f"lowest at {lowest:.0f}, first of all at {first.min():.0f}, highest at {highest:.0f}",
                   f"lowest first, highest at >= {factor:g}x the lowest's iteration or never")


def learned_by(first, budget: int, at_most: int, name: str = "MLP") -> Verdict:
    """At most ``at_most`` frequencies are learned by iteration ``budget``."""
    first = _first(first)
    count = int((first <= budget).sum())
    return Verdict(f"{name} has learned few frequencies by iteration {budget}", count <= at_most,
                   f"{count} of {first.size}", f"<= {at_most}")


def never_learns_highest(first, name: str = "KAN") -> Verdict:
    """The highest frequency is not learned within the run."""
    first = _first(first)
    return Verdict(f"{name} never learns the highest frequency", not np.isfinite(first[-1]),
                   f"{int(np.isfinite(first).sum())} of {first.size} learned, the highest "
                   + ("never" if not np.isfinite(first[-1]) else f"at {first[-1]:.0f}"), "the highest never")


def not_ahead(slow_first, fast_first, budget: int, slow: str, fast: str) -> Verdict:
    """``slow`` is never ahead of ``fast``: it learns fewer frequencies, or as many no sooner on average (mean
    first iteration, a frequency never learned at ``budget``)."""
    slow_key = (int(np.isfinite(_first(slow_first)).sum()), -mean_first_learned(slow_first, budget))
    fast_key = (int(np.isfinite(_first(fast_first)).sum()), -mean_first_learned(fast_first, budget))
    return Verdict(f"{slow} is not ahead of {fast}", slow_key <= fast_key,
                   f"{slow}: {slow_key[0]} learned, mean first {-slow_key[1]:.0f}; {fast}: {fast_key[0]} learned, "
                   f"mean first {-fast_key[1]:.0f}", "fewer learned, or as many and a mean first no earlier")


def learns_more(first, other_first, name: str, other: str, by: int = 1) -> Verdict:
    """``name`` learns at least ``by`` more frequencies within the run than ``other`` (same budget)."""
    count, other_count = int(np.isfinite(_first(first)).sum()), int(np.isfinite(_first(other_first)).sum())
    return Verdict(f"{name} learns more frequencies than {other}", count >= other_count + by,
                   f"{count} against {other_count} of {len(first)}", f"at least {by} more")


def learning_span(first, unlearned: str = "skip") -> float:
    """The last learned frequency's iteration over the first one's. ``unlearned="skip"``: over the learned ones,
    NaN with fewer than two learned; ``"inf"``: inf as soon as some frequency is never learned."""
    check_choice("unlearned", unlearned, ("skip", "inf"))
    first = _first(first)
    learned = first[np.isfinite(first)]
    if unlearned == "inf" and learned.size < first.size:
        return float("inf")
    return float(learned.max() / learned.min()) if learned.size >= 2 else float("nan")


def gram_predicts_learning(firsts: dict, flat, spread: float = 100.0) -> Verdict:
    """Notebook 13: training follows the Gram matrix (:mod:`kanpaper.theory.bases`). Every basis in ``flat``
    (condition number flat in the basis size) learns all frequencies, the last within ``spread`` times the first
    one's iteration (:func:`learning_span`), and every other basis in ``firsts`` does not (some frequency never
    learned, or learned more than ``spread`` times later).

    Args:
        firsts: basis name -> ``(F,)`` first iteration at which each frequency is learned (inf: never).
        flat: the names of the bases whose condition number is flat in their size.
    """
    flat = set(flat)
    if not flat or flat - set(firsts) or not set(firsts) - flat:
        raise ValueError(f"flat must name some but not all of the bases {sorted(firsts)}, got {sorted(flat)}")
    ratios = {name: learning_span(first, unlearned="inf") for name, first in firsts.items()}
    wrong = [name for name, ratio in ratios.items() if (ratio <= spread) != (name in flat)]

    def said(name: str) -> str:
        learned = int(np.isfinite(firsts[name]).sum())
        return f"{name}: last / first {ratios[name]:.3g}" if learned == len(firsts[name]) else \
            f"{name}: {learned} of {len(firsts[name])} learned"
    return Verdict("the bases whose Gram matrix is flat in size learn all frequencies near-together, the others "
                   "do not", not wrong,
                   "; ".join(said(name) for name in firsts) + (f" (against: {', '.join(wrong)})" if wrong else ""),
                   f"flat ({', '.join(sorted(flat))}): all learned, last / first <= {spread:g}; the others not")


def spreads_wider(first, other_first, name: str, other: str, factor: float = 3.0) -> Verdict:
    """``name`` spreads its learning over a span (:func:`learning_span`) at least ``factor`` times ``other``'s."""
    span, other_span = learning_span(first), learning_span(other_first)
    return Verdict(f"{name} spreads the frequencies over a wider span than {other}",
                   bool(np.isfinite([span, other_span]).all() and span >= factor * other_span),
                   f"last / first learned {span:.3g} against {other_span:.3g}", f">= {factor:g}x")


def extension_ahead(extended, start, end, name: str = "KAN") -> Verdict:
    """Grid extension is ahead of a fixed grid at its start size (learns more frequencies, or as many with the last
    of them learned sooner) and learns at least as many as a fixed grid at its end size (each: a ``(F,)`` array of
    first iterations)."""
    learned = [f[np.isfinite(f)] for f in map(_first, (extended, start, end))]
    counts = [f.size for f in learned]
    ext_last, lo_last = (float(f.max(initial=-np.inf)) for f in learned[:2])
    ahead = counts[0] > counts[1] or (counts[0] == counts[1] > 0 and ext_last < lo_last)
    return Verdict(f"{name}: grid extension is ahead of the fixed start grid and level with the fixed end grid",
                   ahead and counts[0] >= counts[2],
                   f"learned: extension {counts[0]}, fixed start grid {counts[1]}, fixed end grid {counts[2]}; "
                   f"last learned: extension {ext_last:.0f}, start grid {lo_last:.0f}",
                   "more than the start grid, or as many learned sooner; at least as many as the end grid")


def _fractions(fraction) -> np.ndarray:
    fraction = np.asarray(fraction, dtype=np.float64)
    if fraction.ndim != 1 or fraction.size < 2 or not np.isfinite(fraction).all():
        raise ValueError(f"expected a (frequencies,) array of finite learned fractions, got {fraction!r}")
    return fraction


def fractions_fall_with_frequency(fraction, agreement: float = 0.85, name: str = "MLP") -> Verdict:
    """The learned fractions (``(F,)``, low to high frequency) fall with frequency in at least ``agreement`` of
    the pairs (lower, higher): ``fraction[low] >= fraction[high]``."""
    fraction = _fractions(fraction)
    pairs = [fraction[i] >= fraction[j] for i in range(fraction.size) for j in range(i + 1, fraction.size)]
    share = float(np.mean(pairs))
    return Verdict(f"{name}'s learned fractions fall with frequency", share >= agreement,
                   f"{share:.0%} of pairs in order", f">= {agreement:.0%}")


def highest_fraction_at_most(fraction, at_most: float = 0.5, name: str = "MLP", when: str = "") -> Verdict:
    """The highest frequency's learned fraction (the last of ``fraction``, ``(F,)``) is at most ``at_most``."""
    fraction = _fractions(fraction)
    return Verdict(f"{name} has not learned the highest frequency{when}", bool(fraction[-1] <= at_most),
                   f"learned fraction {fraction[-1]:.2f}", f"<= {at_most:g}")


def common_spread(first, other) -> tuple[float, int]:
    """Iterations from the first to the last learned of the frequencies that both ``first`` and ``other`` learned
    (``(F,)`` arrays of first iterations), and how many those are."""
    first, other = _first(first), _first(other)
    both = np.isfinite(first) & np.isfinite(other)
    return (float(np.ptp(first[both])) if both.any() else float("nan")), int(both.sum())


def learns_closer_together(kan_firsts, mlp_firsts, min_common: int = 2) -> Verdict:
    """Over the frequencies a KAN and an MLP both learned (at least ``min_common``), the KAN learns them within
    fewer iterations than the MLP, for every such pair (and there is one). Comparing on common frequencies keeps
    it from following from "the KAN learns all": an MLP that learns few is not charged for those it never learned."""
    pairs = [(common_spread(k, m), common_spread(m, k)[0]) for k in kan_firsts for m in mlp_firsts]
    compared = [(kan, mlp, n) for (kan, n), mlp in pairs if n >= min_common]
    worst = max(compared, key=lambda c: c[0] - c[1], default=None)
    measured = (f"{len(compared)} of {len(pairs)} KAN-MLP pairs share >= {min_common} learned frequencies"
                + (f"; closest: KAN {worst[0]:.0f} against MLP {worst[1]:.0f} iterations over {worst[2]}"
                   if worst else ""))
    return Verdict("KANs learn the frequencies closer together than MLPs",
                   bool(compared) and all(kan < mlp for kan, mlp, _ in compared), measured,
                   "KAN spread < MLP spread over their common frequencies, in every pair that has some")


# ---- Figures 3-4 and the overfitting study: curves in RMSE on the normalised labels (unit variance)

LEARNED_RMSE = 0.8    # a model that learned a field: test RMSE below this share of the labels' std

def kan_trains_below_mlp(kan_train, mlp_train, name: str = "KAN D3") -> Verdict:
    """The KAN's final training RMSE is below the tanh MLP's."""
    kan, mlp = final(kan_train), final(mlp_train)
    return Verdict(f"{name} fits the training points more closely than the tanh MLP", kan < mlp,
                   f"train RMSE {name} {kan:.2e}, MLP {mlp:.2e}", f"{name} < MLP")


def kan_overfits(kan_train, kan_test, factor: float = 10.0, rise: float = 1.2, name: str = "KAN D3") -> Verdict:
    """The KAN overfits: its final test RMSE is at least ``factor`` times its training RMSE, *and* at least
    ``rise`` times the lowest test RMSE of its run (training on made it generalise worse). A large gap alone is
    interpolation: a KAN that fits a smooth field to 1e-5 and tests at 1e-4 has it, and generalises best."""
    train, test = final(kan_train), final(kan_test)
    curve = np.asarray(kan_test, dtype=np.float64)
    best = float(np.nanmin(curve))
    return Verdict(f"{name} overfits", test >= factor * train and test >= rise * best,
                   f"test {test:.2e} = {test / train:.3g}x train {train:.2e}, {test / best:.3g}x its lowest "
                   f"{best:.2e} (step {int(np.nanargmin(curve)) + 1})",
                   f"test >= {factor:g}x train and >= {rise:g}x its lowest")


def mlp_generalises(mlp_train, mlp_test, factor: float = 2.0, learned: float = LEARNED_RMSE,
                    name: str = "tanh MLP") -> Verdict:
    """The MLP learned the field and does not overfit: final test RMSE at most ``learned`` (the labels have unit
    variance, so predicting their mean scores 1) and within ``factor`` times its training RMSE."""
    train, test = final(mlp_train), final(mlp_test)
    return Verdict(f"the {name} learns the field without overfitting", test <= learned and test <= factor * train,
                   f"test {test:.2e} = {test / train:.3g}x train {train:.2e}",
                   f"test <= {learned:g} (1: the labels' mean) and <= {factor:g}x train")


def extensions_raise_test_error(test, steps_per_grid: int, name: str = "KAN") -> Verdict:
    """The final test RMSE is above the test RMSE at the end of the first grid stage (the extensions hurt)."""
    test = np.asarray(test, dtype=np.float64)
    if not 1 <= steps_per_grid < len(test):
        raise ValueError(f"steps_per_grid must be in 1..{len(test) - 1} (the curve has {len(test)} steps), "
                         f"got {steps_per_grid}")
    first, last = float(test[steps_per_grid - 1]), final(test)
    return Verdict(f"{name}: test error rises over the grid extensions", last > first,
                   f"test {first:.2e} after the first stage, {last:.2e} at the end", "end > first stage")


def extension_spikes(train, steps_per_grid: int, factor: float = 1.2, name: str = "KAN") -> Verdict:
    """The training RMSE jumps at a grid extension: after the first step on some extended grid it is at least
    ``factor`` times its value after the last step on the coarser grid (within a grid stage an L-BFGS step with
    its line search never raises the loss, so a rise there is the extension's doing)."""
    train = np.asarray(train, dtype=np.float64)
    if not 1 <= steps_per_grid < len(train):
        raise ValueError(f"steps_per_grid must be in 1..{len(train) - 1} (the curve has {len(train)} steps), "
                         f"got {steps_per_grid}")
    starts = np.arange(steps_per_grid, len(train), steps_per_grid)
    jumps = train[starts] / train[starts - 1]
    worst = int(np.nanargmax(jumps))
    return Verdict(f"{name}: training error jumps at a grid extension", bool(jumps[worst] >= factor),
                   f"largest jump {jumps[worst]:.3g}x (from {train[starts[worst] - 1]:.2e} to "
                   f"{train[starts[worst]]:.2e}) at step {starts[worst]}", f"a jump >= {factor:g}x")


def extension_jumps(train, steps_per_grid: int) -> np.ndarray:
    """``(n_extensions,)`` the training RMSE after the first step on each extended grid over its value after the
    last step on the coarser grid (steps ``s``, ``2s``, ... with ``s = steps_per_grid``)."""
    train = np.asarray(train, dtype=np.float64)
    if not 1 <= steps_per_grid < len(train):
        raise ValueError(f"steps_per_grid must be in 1..{len(train) - 1} (the curve has {len(train)} steps), "
                         f"got {steps_per_grid}")
    starts = np.arange(steps_per_grid, len(train), steps_per_grid)
    return train[starts] / train[starts - 1]


def no_extension_spikes(train, steps_per_grid: int, factor: float = 1.2, name: str = "KAN") -> Verdict:
    """The training RMSE jumps at no grid extension (every :func:`extension_jumps` below ``factor``): the negation of
    :func:`extension_spikes`, for runs whose extensions should keep the function."""
    spikes = extension_spikes(train, steps_per_grid, factor, name)
    return Verdict(f"{name}: no training-error spike at a grid extension", not spikes.holds, spikes.measured,
                   f"every jump < {factor:g}x")


def spikes_only_where_not_nested(runs, factor: float = 1.2) -> Verdict:
    """Training-error spikes (a jump of at least ``factor``, :func:`extension_jumps`) come at extensions to a grid
    that does not contain the old one (20 -> 30), never at nested ones (10 -> 20, whose refit only re-expresses a
    spline the finer grid holds exactly), and some non-nested extension does spike.

    Args:
        runs: ``[(grids, jumps), ...]``: each run's grid sizes per stage and its ``len(grids) - 1`` jumps.
    """
    counts = {True: [0, 0], False: [0, 0]}                 # nested? -> [spikes, extensions]
    for grids, jumps in runs:
        if len(jumps) != len(grids) - 1:
            raise ValueError(f"{len(grids)} grid stages have {len(grids) - 1} extensions, got {len(jumps)} jumps")
        for old, new, jump in zip(grids, grids[1:], jumps):
            counts[new % old == 0][0] += bool(jump >= factor)
            counts[new % old == 0][1] += 1
    (nested_spikes, nested), (other_spikes, other) = counts[True], counts[False]
    return Verdict("training error spikes at non-nested grid extensions only", nested_spikes == 0 and other_spikes > 0,
                   f"spikes at {nested_spikes} of {nested} nested extensions, {other_spikes} of {other} others",
                   f"none nested (jump >= {factor:g}x), some other")


def same_extension_spikes(ours, theirs, steps_per_grid: int, factor: float = 1.2, share: float = 0.9,
                          extensions=None, name: str = "KANs") -> Verdict:
    """Run for run and extension for extension, ours and theirs agree on whether the training error jumps (by at
    least ``factor``) in at least ``share`` of the extension events. ``ours``/``theirs``: paired lists of
    per-step training curves; ``extensions``: which extensions count (1 the first; default all). A model
    without spikes, or one paired with another run's curve, agrees only where neither jumps."""
    if len(ours) != len(theirs) or not ours:
        raise ValueError(f"need paired, non-empty lists of curves, got {len(ours)} and {len(theirs)}")
    pairs = [(extension_jumps(a, steps_per_grid) >= factor, extension_jumps(b, steps_per_grid) >= factor)
             for a, b in zip(ours, theirs)]
    count = min(min(len(a), len(b)) for a, b in pairs)
    chosen = np.asarray(list(extensions) if extensions is not None else range(1, count + 1)) - 1
    if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= count:
        raise ValueError(f"extensions must lie in 1..{count}, got {extensions}")
    agree = sum(int(np.sum(a[chosen] == b[chosen])) for a, b in pairs)
    events = len(pairs) * chosen.size
    ours_jump = sum(int(a[chosen].sum()) for a, _ in pairs)
    theirs_jump = sum(int(b[chosen].sum()) for _, b in pairs)
    return Verdict(f"{name}: ours and theirs jump at the same grid extensions", agree >= share * events,
                   f"agree on {agree} of {events} events ({agree / events:.0%}); jumps: ours {ours_jump}, "
                   f"theirs {theirs_jump}", f"agree on >= {share:.0%} (a jump: >= {factor:g}x)")


def pivot_fault_explains_first_jumps(probes, factor: float = 2.0, name: str = "KANs") -> Verdict:
    """The training error jumps at the first grid extension exactly where the extension's least squares meets an
    empty first basis function and is solved with held pivots: never after the exact extension, always after the
    held-pivot one where some input's first basis function is empty, and nowhere else.

    ``probes``: results of :func:`~kanpaper.experiments.first_extension.run_first_extension` (a jump: the
    training RMSE after the step that follows the extension at least ``factor`` times the one before it)."""
    if not probes:
        raise ValueError("need at least one probe")
    exact, held, struck = [], [], []
    for probe in probes:
        before = float(np.asarray(probe["train"])[-1])
        exact.append(float(probe["next_exact"][0]) / before)
        held.append(float(probe["next_fixed_pivots"][0]) / before)
        struck.append(bool((np.asarray(probe["first_empty"]) == 0).any()))
    exact, held, struck = np.array(exact), np.array(held), np.array(struck)
    holds = bool((exact < factor).all() and (held[struck] >= factor).all() and (held[~struck] < factor).all())
    jumped_struck = int((held[struck] >= factor).sum())
    return Verdict(f"{name}: the first-extension jump is the held-pivot fault's", holds,
                   f"exact extension: largest ratio {exact.max():.3g}; held pivots: {jumped_struck} of "
                   f"{int(struck.sum())} runs with an empty first basis function jump"
                   + (f" (smallest {held[struck].min():.3g}x)" if struck.any() else "")
                   + f", {int((held[~struck] >= factor).sum())} of {int((~struck).sum())} others",
                   f"exact < {factor:g}x everywhere; held >= {factor:g}x exactly where a first basis function "
                   "is empty")


def more_data_cures_overfitting(small_train, small_test, large_train, large_test, factor: float = 10.0,
                                gain: float = 2.0, name: str = "KAN D3") -> Verdict:
    """With few points the KAN overfits (final test RMSE at least ``factor`` times its training RMSE), and with
    ten times the points its final test RMSE is at least ``gain`` times below the *lowest* test RMSE of the
    few-point run (more data beats stopping early). An under-trained run fails the second part; a model that did
    not overfit to begin with, the first."""
    small_gap = final(small_test) / final(small_train)
    best_small, big = float(np.nanmin(np.asarray(small_test, dtype=np.float64))), final(large_test)
    return Verdict(f"more data cures the overfitting of {name}", small_gap >= factor and big * gain <= best_small,
                   f"few points: test {small_gap:.3g}x train, lowest test {best_small:.2e}; more points: test "
                   f"{big:.2e} (train {final(large_train):.2e})",
                   f"few points: test >= {factor:g}x train; more: test <= 1/{gain:g} of the few-point lowest")


# ---- Figure 5: curves in MSE (the authors' files' unit) of u ("L2") and of u' ("H1") on the points

def ignored_high_frequency_mse(k: float) -> tuple[float, float]:
    """L2 and H1 mean squared errors of the smooth part alone, ``sin(pi x)``, against ``u*`` (``1/(2k^2)`` and
    ``pi^2/2``: the continuous means over [-1, 1], within 0.1% of the means over 1,000 or more equispaced points)."""
    return 1.0 / (2.0 * k * k), np.pi ** 2 / 2.0


def captures_high_frequency(l2_mse, h1_mse, k: int, share: float = 0.05, value_share: float = 0.25,
                            name: str = "KAN") -> Verdict:
    """Final H1 MSE at most ``share`` of what ignoring ``sin(k pi x)/k`` costs (``pi^2/2``: the high-frequency
    part lives in the derivative), and final L2 MSE at most ``value_share`` of its cost in value (``1/(2k^2)``,
    which any low-frequency error, an offset say, also eats into)."""
    l2, h1 = final(l2_mse), final(h1_mse)
    base_l2, base_h1 = ignored_high_frequency_mse(k)
    return Verdict(f"{name} resolves the high-frequency part at k = {k}",
                   h1 <= share * base_h1 and l2 <= value_share * base_l2,
                   f"H1 MSE {h1:.2e} ({h1 / base_h1:.1e} of {base_h1:.2f}), L2 MSE {l2:.2e} ({l2 / base_l2:.1e} of "
                   f"{base_l2:.2e})", f"H1 <= {share:g} and L2 <= {value_share:g} of ignoring it")


def misses_high_frequency(h1_mse, k: int, share: float = 0.5, name: str = "MLP") -> Verdict:
    """Final H1 MSE at least ``share`` of what ignoring ``sin(k pi x)/k`` costs (``pi^2/2``)."""
    h1 = final(h1_mse)
    base = ignored_high_frequency_mse(k)[1]
    return Verdict(f"{name} misses the high-frequency part at k = {k}", h1 >= share * base,
                   f"H1 MSE {h1:.2f} ({h1 / base:.2f} of {base:.2f})", f">= {share:g} of ignoring it")


# ---- The abstract's consequence of Theorem 3.3: accuracy per parameter. ``params`` ``(n,)`` parameter counts,
# ``errors`` ``(n,)`` the matching test errors (NaN: a diverged run, left out)

def within_seed_spread(finals, theirs: float, name: str = "") -> Verdict:
    """The authors' final value lies within the range of ours from several initialisations (``finals``: one per
    seed), so that ours/theirs is within what the initialisation alone moves. A yardstick, printed beside each
    ratio, not a claim of the paper."""
    finals = np.asarray(finals, dtype=np.float64)
    if finals.ndim != 1 or len(finals) < 2 or not np.isfinite(finals).all():
        raise ValueError(f"finals must be two or more finite values, one per seed, got {finals}")
    low, high = float(finals.min()), float(finals.max())
    return Verdict(f"{name}the authors' final is within our seeds' range", bool(low <= theirs <= high),
                   f"ours {low:.2e}-{high:.2e} over {len(finals)} seeds (spread {high / low:.2g}x), "
                   f"theirs {theirs:.2e}", "lowest <= theirs <= highest")


def _pairs(params, errors) -> tuple[np.ndarray, np.ndarray]:
    params, errors = np.asarray(params, dtype=np.float64), np.asarray(errors, dtype=np.float64)
    if params.ndim != 1 or params.shape != errors.shape:
        raise ValueError(f"expected matching (n,) parameter counts and errors, got {params.shape} and {errors.shape}")
    keep = np.isfinite(errors) & (errors > 0)
    return params[keep], errors[keep]


def error_rate_in_parameters(params, errors, rate: float, name: str = "KAN") -> Verdict:
    """The error falls at least like ``P^-rate``: the least-squares slope of log error against log P is
    ``<= -rate`` (at least three finite points)."""
    params, errors = _pairs(params, errors)
    if params.size < 3:
        return Verdict(f"{name}'s error falls like P^-{rate:g}", False, f"{params.size} finite points", ">= 3")
    slope = float(np.polyfit(np.log(params), np.log(errors), 1)[0])
    return Verdict(f"{name}'s error falls like P^-{rate:g} or faster", bool(slope <= -rate),
                   f"slope {slope:.2f} over P = {params.min():.0f} ... {params.max():.0f}", f"<= {-rate:g}")


def more_accurate_with_fewer_parameters(kan_params, kan_errors, mlp_params, mlp_errors,
                                        factor: float = 10.0) -> Verdict:
    """Some KAN has at most the parameters of the most accurate MLP and at most ``1/factor`` of its error."""
    kan_params, kan_errors = _pairs(kan_params, kan_errors)
    mlp_params, mlp_errors = _pairs(mlp_params, mlp_errors)
    if kan_params.size == 0 or mlp_params.size == 0:
        raise ValueError("need at least one finite KAN and one finite MLP error")
    best = int(np.argmin(mlp_errors))
    allowed = kan_params <= mlp_params[best]
    kan = float(kan_errors[allowed].min()) if allowed.any() else np.inf
    where = f"{kan_params[allowed][np.argmin(kan_errors[allowed])]:.0f}" if allowed.any() else "none"
    return Verdict("a KAN beats the best MLP with no more parameters", bool(kan * factor <= mlp_errors[best]),
                   f"best MLP {mlp_errors[best]:.2e} with {mlp_params[best]:.0f} parameters; best KAN within that "
                   f"{kan:.2e} (with {where})", f"KAN <= MLP / {factor:g}")


# ---- The paper's guidance on depth and on MLPs (Section 4.3), as the GRF runs show it. ``*_by_depth``: KAN depth
# -> ``(steps,)`` curve; ``*_by_dim``: dimension d -> final error

def _finals(by_key) -> dict:
    if len(by_key) < 2:
        raise ValueError(f"need curves for at least two depths or dimensions, got {sorted(by_key)}")
    return {key: final(curve) for key, curve in sorted(by_key.items())}


def deeper_fits_closer(train_by_depth, where: str = "") -> Verdict:
    """Some KAN deeper than 2 layers ends with a lower training error than the depth-2 KAN."""
    errors = _finals(train_by_depth)
    deeper = min(e for depth, e in errors.items() if depth > 2)
    return Verdict(f"a deeper KAN fits the training points closer than depth 2{where}", bool(deeper < errors[2]),
                   "train RMSE " + ", ".join(f"D{k} {e:.1e}" for k, e in errors.items()), "min(D >= 3) < D2")


def error_rises_with_depth(test_by_depth, where: str = "") -> Verdict:
    """The final test error grows strictly with KAN depth: shallower generalises better."""
    errors = _finals(test_by_depth)
    values = list(errors.values())
    return Verdict(f"the test error rises with depth{where}", bool(np.all(np.diff(values) > 0)),
                   "test RMSE " + ", ".join(f"D{k} {e:.1e}" for k, e in errors.items()), "D2 < D3 < D4")


def mlp_gains_with_dimension(kan_best_by_dim, mlp_best_by_dim) -> Verdict:
    """The best KAN's test error relative to the best MLP's grows strictly with the dimension (the MLPs catch up
    on the smooth field as d grows)."""
    if sorted(kan_best_by_dim) != sorted(mlp_best_by_dim) or len(kan_best_by_dim) < 2:
        raise ValueError("need the best KAN and MLP errors for the same two or more dimensions")
    ratios = {d: kan_best_by_dim[d] / mlp_best_by_dim[d] for d in sorted(kan_best_by_dim)}
    return Verdict("the MLPs gain on the KANs as the dimension grows", bool(np.all(np.diff(list(ratios.values())) > 0)),
                   "best KAN / best MLP test RMSE " + ", ".join(f"d = {d}: {r:.2g}" for d, r in ratios.items()),
                   "strictly increasing in d")


def wider_fits_closer(narrow_train, wide_train, where: str = "") -> Verdict:
    """The wider KAN ends with a lower training error than the narrow one of the same depth."""
    narrow, wide = final(narrow_train), final(wide_train)
    return Verdict(f"the wider KAN fits the training points closer{where}", bool(wide < narrow),
                   f"train RMSE narrow {narrow:.1e}, wide {wide:.1e}", "wide < narrow")
