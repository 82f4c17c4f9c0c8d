"""The claims the notebooks assert, run on the authors' own per-step results: each must hold there too, at the
authors' budgets (500 GRF steps, 200 Poisson steps), and each must be able to fail."""

import numpy as np
import pytest

from kanpaper.analysis import claims, reference

ROUGH = [(d, s) for d in (2, 3, 4) for s in (0.125, 0.25)]
ALL_FIELDS = [(d, s) for d in (2, 3, 4) for s in (0.125, 0.25, 0.5, 1.0)]


def rmse(model, d, s, split, study="figures"):
    return reference.grf(model, d, s, split, study).values("RMSE")


@pytest.mark.parametrize("d,s", ROUGH)
def test_deep_kan_fits_the_training_points_of_every_rough_field_more_closely_than_the_mlp(d, s):
    claims.kan_trains_below_mlp(rmse("kan3", d, s, "train"), rmse("mlp_tanh", d, s, "train")).require()


HIGH_D = [(d, s) for d in (3, 4) for s in (0.125, 0.25, 0.5, 1.0)]


@pytest.mark.parametrize("d,s", HIGH_D)
def test_deep_kan_overfits_every_field_of_the_authors_in_three_and_four_dimensions(d, s):
    claims.kan_overfits(rmse("kan3", d, s, "train"), rmse("kan3", d, s, "test")).require()


@pytest.mark.parametrize("s", [0.125, 0.25, 0.5, 1.0])
def test_kan_overfits_fails_for_the_interpolating_kan_that_generalises_best(s):
    """Calibration: at d = 2 the authors' depth-3 KAN tests 11-18x its training error, but its test error never
    rises (lowest at or near the end) and it is the best of their five models at sigma = 1/8: interpolation, not
    overfitting. The earlier statement (gap >= 10x alone) called it overfitting; the claim is stated for d >= 3."""
    verdict = claims.kan_overfits(rmse("kan3", 2, s, "train"), rmse("kan3", 2, s, "test"))
    assert not verdict, verdict
    assert claims.final(rmse("kan3", 2, s, "test")) >= 10 * claims.final(rmse("kan3", 2, s, "train"))


def test_kan_overfits_fails_on_the_mlp_and_on_an_early_stopped_kan():
    assert not claims.kan_overfits(rmse("mlp_tanh", 3, 0.125, "train"), rmse("mlp_tanh", 3, 0.125, "test"))
    # the authors' d = 3, sigma = 1/8 KAN stopped at its lowest test error (step 102) has not turned yet
    assert not claims.kan_overfits(rmse("kan3", 3, 0.125, "train")[:102], rmse("kan3", 3, 0.125, "test")[:102])


MLP_LEARNS = [f for f in ALL_FIELDS if f != (4, 0.125)]


@pytest.mark.parametrize("d,s", MLP_LEARNS)
def test_tanh_mlp_learns_every_field_of_the_authors_but_the_roughest_4d_one_without_overfitting(d, s):
    claims.mlp_generalises(rmse("mlp_tanh", d, s, "train"), rmse("mlp_tanh", d, s, "test")).require()


def test_mlp_generalises_fails_for_an_mlp_that_learned_nothing_and_for_an_overfitting_kan():
    """Calibration: the authors' tanh MLP at d = 4, sigma = 1/8 tests at 0.99 on unit-variance labels (1.17x its
    training error): the earlier statement (test <= 2x train alone) passed it."""
    nothing = claims.mlp_generalises(rmse("mlp_tanh", 4, 0.125, "train"), rmse("mlp_tanh", 4, 0.125, "test"))
    assert not nothing and claims.final(rmse("mlp_tanh", 4, 0.125, "test")) <= 2 * claims.final(
        rmse("mlp_tanh", 4, 0.125, "train")), nothing
    assert not claims.mlp_generalises(rmse("kan3", 3, 0.25, "train"), rmse("kan3", 3, 0.25, "test"), name="kan3")


@pytest.mark.parametrize("d,s", [f for f in ROUGH if f[0] >= 3])
@pytest.mark.parametrize("model", ["kan2", "kan3", "kan4"])
def test_extensions_raise_test_error_where_points_are_scarce(d, s, model):
    claims.extensions_raise_test_error(rmse(model, d, s, "test"), 100, model).require()


@pytest.mark.parametrize("s", [0.125, 0.25])
def test_extensions_lower_test_error_in_two_dimensions(s):
    # what the authors' files show at d = 2 (the depth-3 and depth-4 KANs' test error falls over the extensions),
    # and why the claim is stated for d >= 3 only
    for model in ("kan3", "kan4"):
        assert not claims.extensions_raise_test_error(rmse(model, 2, s, "test"), 100, model)


@pytest.mark.parametrize("d,s", ALL_FIELDS)
@pytest.mark.parametrize("model", ["kan3", "kan4"])
def test_deep_kans_training_error_jumps_at_an_extension_on_every_field_of_the_authors(d, s, model):
    claims.extension_spikes(rmse(model, d, s, "train"), 100, name=model).require()


def test_extension_spikes_can_fail():
    # the authors' depth-2 KAN on the roughest 2D field rises by at most 1.01x at any extension
    assert not claims.extension_spikes(rmse("kan2", 2, 0.125, "train"), 100, name="kan2")
    # ... and away from the extensions a deep KAN's curve shows no such jump (boundaries shifted by half a stage)
    assert not claims.extension_spikes(rmse("kan3", 3, 0.125, "train")[50:450], 100, name="kan3")


def cure(model, s, steps=None):
    return claims.more_data_cures_overfitting(rmse(model, 3, s, "train"), rmse(model, 3, s, "test"),
                                              rmse(model, 3, s, "train", "overfit")[:steps],
                                              rmse(model, 3, s, "test", "overfit")[:steps], name=model)


@pytest.mark.parametrize("s", [0.125, 0.25, 1.0])
def test_more_data_cures_overfitting_in_the_authors_runs(s):
    """sigma = 1 included: the earlier statement (large-data test <= 2x train) failed it, though the test error
    fell 13x with more data. sigma = 1/2: the authors' 50,000-point depth-3 KAN diverged at step 101."""
    cure("kan3", s).require()


def test_more_data_cures_overfitting_fails_when_undertrained_or_never_overfitting():
    # the authors' 50,000-point KAN after 3 of its 500 steps: its test error is not yet below the few-point best
    assert not cure("kan3", 0.125, steps=3)
    # their depth-2 KAN tests only 3-4x its training error with 4,000 points: nothing to cure
    assert not cure("kan2", 0.25)
    assert not cure("mlp_tanh", 0.125)


def mse(model, k, error):
    return reference.poisson(model, k, error).values("MSE")


@pytest.mark.parametrize("k", [2, 4, 8, 16, 32])
def test_kan_resolves_the_high_frequency_part_in_the_authors_runs(k):
    claims.captures_high_frequency(mse("kan", k, "l2"), mse("kan", k, "h1"), k).require()


@pytest.mark.parametrize("k", [16, 32])
def test_mlp_misses_the_high_frequency_part_in_the_authors_runs(k):
    claims.misses_high_frequency(mse("mlp", k, "h1"), k).require()


@pytest.mark.parametrize("k", [2, 4, 8])
def test_mlp_resolves_low_k_in_the_authors_runs(k):
    # the claims can fail: at k <= 8 the authors' MLP does resolve the high-frequency part
    assert not claims.misses_high_frequency(mse("mlp", k, "h1"), k)
    claims.captures_high_frequency(mse("mlp", k, "l2"), mse("mlp", k, "h1"), k).require()


def test_poisson_claims_hold_on_our_archived_paper_budget_runs():
    # the committed archive (results/paper/): our runs at the authors' budget, where every claim must hold too
    from kanpaper.notebook import paper_archive
    from kanpaper.experiments.paper import figure_5_configs

    runs = {key: paper_archive().load(config) for key, config in figure_5_configs("ritz", "paper").items()}
    runs = {key: run for key, run in runs.items() if run is not None}
    assert len(runs) == 10, f"archived Poisson runs: {sorted(runs)}; required both models at all five k"
    for (model, k), run in runs.items():
        l2, h1 = run["l2"] ** 2, run["h1"] ** 2                   # the runs store RMS; the claims take MSE
        if model == "kan":
            claims.captures_high_frequency(l2, h1, k).require()
        elif k >= 16:
            claims.misses_high_frequency(h1, k).require()


@pytest.fixture(scope="module")
def archived_grf_kans():
    """Our Figure 3-4 KAN runs at the authors' budget (the committed archive, results/paper/), by (d, sigma, model)."""
    from kanpaper.notebook import paper_archive
    from kanpaper.experiments.paper import figure_3_configs

    return {key: paper_archive().load(config) for key, config in figure_3_configs("paper").items()
            if key[2].startswith("kan")}


@pytest.mark.parametrize("d,s", ALL_FIELDS)
def test_the_grf_claims_hold_on_our_archived_paper_budget_runs(archived_grf_kans, d, s):
    # every Figure 3-4 KAN claim asserted above on the authors' files, and those notebook 11 asserts, on ours at
    # their budget; with pykan 0.2.5's numerics our d = 4 depth-2 KAN had tested above depth 3 and broken G2 (README)
    missing = [m for m in ("kan2", "kan3", "kan4") if archived_grf_kans[d, s, m] is None]
    assert not missing, f"d = {d}, sigma = {s}: {missing} not in results/paper/; required all 36 KAN runs archived"
    train = {n: archived_grf_kans[d, s, f"kan{n}"]["train"] for n in (2, 3, 4)}
    test = {n: archived_grf_kans[d, s, f"kan{n}"]["test"] for n in (2, 3, 4)}
    for n in (3, 4):
        claims.extension_spikes(train[n], 100, name=f"kan{n}").require()
    if s <= 0.25:
        claims.deeper_fits_closer(train, f" (d = {d}, sigma = {s}, ours)").require()
    if d >= 3:
        claims.kan_overfits(train[3], test[3], name=f"kan3 (d = {d}, sigma = {s}, ours)").require()
    if s == 1.0:
        claims.error_rises_with_depth(test, f" (d = {d}, sigma = 1, ours)").require()
    scarce = [2, 3, 4] if s <= 0.25 and d >= 3 else [2, 3] if d == 4 else []
    if (d, s) == ROUNDING_DECIDES:
        scarce.remove(3)
    for n in scarce:
        claims.extensions_raise_test_error(test[n], 100, f"kan{n}").require()
    helped = [3, 4] if d == 2 and s <= 0.25 else [3] if d == 2 else []
    for n in helped:
        verdict = claims.extensions_raise_test_error(test[n], 100, f"kan{n}")
        assert not verdict, f"d = {d}, sigma = {s}, ours: {verdict}; required the extensions to lower it at d = 2"


ROUNDING_DECIDES = (3, 0.25)   # where the depth-3 KAN's "extensions raise the test error" is within rounding


def test_rounding_alone_decides_one_extension_claim_on_our_runs():
    """Calibration after seeing the data: at d = 3, sigma = 1/4 the authors' depth-3 KAN ends 1.04x above its
    first-stage test error; ours computed twice, by rounding apart (results/paper/ and results/paper/superseded/),
    ends 1.21x above it and 0.95x below it. The claim is asserted there on the authors' files only."""
    from kanpaper.experiments.paper import figure_3_configs
    from kanpaper.notebook import ARCHIVE, paper_archive
    from kanpaper.runs.cache import config_key

    config = figure_3_configs("paper")[(*ROUNDING_DECIDES, "kan3")]
    now = paper_archive().load(config)["test"]
    before = np.load(ARCHIVE / "superseded" / f"{config_key(config)}.npz")["test"]
    claims.extensions_raise_test_error(rmse("kan3", *ROUNDING_DECIDES, "test"), 100, "kan3").require()
    claims.extensions_raise_test_error(before, 100, "kan3").require()
    assert not claims.extensions_raise_test_error(now, 100, "kan3")


def test_claims_fail_on_swapped_or_undertrained_curves():
    d, s = 3, 0.125
    assert not claims.kan_trains_below_mlp(rmse("mlp_tanh", d, s, "train"), rmse("kan3", d, s, "train"))
    # the authors' KAN at k = 32 after 20 of its 200 steps has not resolved the high-frequency part yet
    early = claims.captures_high_frequency(mse("kan", 32, "l2")[:20], mse("kan", 32, "h1")[:20], 32)
    assert not early
    with pytest.raises(AssertionError, match="measured .* required"):
        early.require()


def test_final_skips_a_divergence_and_rejects_empty_curves():
    assert claims.final([3.0, 2.0, np.nan, np.nan]) == 2.0
    with pytest.raises(ValueError, match="finite"):
        claims.final([np.nan])
    with pytest.raises(ValueError, match="steps_per_grid"):
        claims.extensions_raise_test_error([1.0, 2.0], 5)
    with pytest.raises(ValueError, match="steps_per_grid"):
        claims.extension_spikes([1.0, 2.0], 0)


# ---- Figures 1-2: first iterations at which each frequency is learned (the authors published only heatmaps)

STAIRCASE = [500, 2300, 4000, 4600, 7200, 8000] + [np.inf] * 4      # our MLP W256 D10 after 12,000 Adam steps
TOGETHER = [800, 1100, 800, 1200, 1200, 1200, 1300, 1000, 900, 1000]   # our KAN W10 D3 G40 after 3,000


def pairs_in_order(first):
    """The earlier statement's order score: pairs with one learned, the lower no later (unlearned: later)."""
    return np.mean([a <= b for i, a in enumerate(first) for b in first[i + 1:] if np.isfinite(a) or np.isfinite(b)])


def test_rank_order_and_spread_on_known_orders():
    assert claims.rank_order(STAIRCASE) == 1.0
    assert claims.rank_order(STAIRCASE[:6][::-1]) == -1.0
    assert np.isnan(claims.rank_order([np.inf] * 10)) and np.isnan(claims.rank_order([500] + [np.inf] * 9))
    # all at once: no order to rank; the spread is what tells them apart
    assert np.isnan(claims.rank_order([100] * 10)) and claims.learning_spread([100] * 10, 3000) == 0
    assert claims.learning_spread(STAIRCASE, 12000) == 12000 - 500      # a lower bound: four never learned
    assert claims.learning_spread(TOGETHER, 3000) == 500
    assert claims.learning_spread([np.inf] * 10, 3000) == np.inf


def test_low_to_high_ranks_four_or_more_learned_frequencies():
    claims.learns_low_to_high(STAIRCASE).require()
    assert claims.rank_order(STAIRCASE) == 1.0
    only_lowest = [500] + [np.inf] * 9          # every pair "in order", but no order shown
    assert pairs_in_order(only_lowest) == 1.0
    assert not claims.learns_low_to_high(only_lowest)
    assert not claims.learns_low_to_high([500, 900, 1400] + [np.inf] * 7)      # three in order: too few to rank
    assert not claims.learns_low_to_high(TOGETHER)
    reversed_learned = STAIRCASE[:6][::-1] + [np.inf] * 4                    # the lowest six, learned high to low
    assert pairs_in_order(reversed_learned) > 0.6 and not claims.learns_low_to_high(reversed_learned)
    swapped = list(STAIRCASE)
    swapped[0], swapped[3] = swapped[3], swapped[0]
    assert not claims.learns_low_to_high(swapped)


def test_low_to_high_passes_few_orders_of_four_learned():
    """The reviewers' count: with four learned, the pair-counting version (>= 0.9 of pairs) passed 15 of the 24."""
    from itertools import permutations
    orders = [list(order) + [np.inf] * 6 for order in permutations([500, 1000, 1500, 2000])]
    passing = [order for order in orders if claims.learns_low_to_high(order)]
    assert len(passing) == 4 and orders[0] in passing and orders[-1] not in passing
    assert sum(pairs_in_order(order) >= 0.9 for order in orders) == 15


def test_kans_learn_all_and_closer_together():
    claims.learns_all(TOGETHER).require()
    assert not claims.learns_all(STAIRCASE)
    claims.learns_closer_together([TOGETHER], [STAIRCASE]).require()
    assert not claims.learns_closer_together([STAIRCASE], [TOGETHER])
    assert not claims.learns_closer_together([[np.inf] * 10], [STAIRCASE])   # a KAN that learned none: no pair
    assert not claims.learns_closer_together([TOGETHER], [[500] + [np.inf] * 9])   # one in common: nothing shown


def test_closer_together_does_not_follow_from_learning_all():
    """A KAN that learns all ten, slowly and in turn, against an MLP that learns three quickly."""
    slow_kan = [100, 2000, 4000, 6000, 6500, 7000, 7500, 8000, 8500, 9000]
    quick_mlp = [500, 900, 1300] + [np.inf] * 7
    claims.learns_all(slow_kan).require()
    assert not claims.learns_closer_together([slow_kan], [quick_mlp])
    assert claims.common_spread(slow_kan, quick_mlp) == (3900.0, 3)


# learned fractions of a staircase at its end: the low frequencies at ~1, the high ones not yet
FALLING = [1.0, 1.0, 0.99, 0.98, 0.95, 0.9, 0.7, 0.45, 0.3, 0.15]


def test_strict_staircase_over_decades():
    relu = [2.6e5, 3.8e6, 1.8e7, 4.6e7, 1.2e8, 2.2e8, 4.6e8, 6.8e8, 1e9, 1.5e9]   # notebook 04's ReLU features
    claims.learns_strictly_low_to_high(relu).require()
    assert not claims.learns_strictly_low_to_high(STAIRCASE)        # ordered, but 500 to 8,000: 16x, not 1e3
    assert not claims.learns_strictly_low_to_high(relu[::-1])
    assert not claims.learns_strictly_low_to_high(TOGETHER)
    claims.learns_all(TOGETHER, within=1300).require()
    assert not claims.learns_all(TOGETHER, within=20)


def test_lowest_first_and_few_by_the_kan_budget():
    claims.learns_lowest_first(STAIRCASE).require()
    assert not claims.learns_lowest_first(TOGETHER)                 # 50 Hz at 1000, not 5x after 800
    assert not claims.learns_lowest_first(STAIRCASE[::-1])
    claims.learned_by(STAIRCASE, 3000, 5).require()                 # two of ten by 3,000
    assert not claims.learned_by(STAIRCASE, 8000, 5)                # six by 8,000
    assert not claims.learned_by(TOGETHER, 3000, 5)


def test_highest_frequency_never_learned():
    claims.never_learns_highest(STAIRCASE).require()
    assert not claims.never_learns_highest(TOGETHER)


def test_width_three_not_ahead_of_width_ten():
    assert claims.mean_first_learned(STAIRCASE, 12000) == (26600 + 4 * 12000) / 10
    claims.not_ahead(STAIRCASE, TOGETHER, 12000, "slow", "fast").require()
    assert not claims.not_ahead(TOGETHER, STAIRCASE, 12000, "fast", "slow")
    claims.not_ahead(TOGETHER, TOGETHER, 3000, "same", "same").require()     # a tie is not ahead


def test_extension_ahead_of_its_start_grid_and_level_with_its_end_grid():
    few = [500, 900] + [np.inf] * 8
    claims.extension_ahead(TOGETHER, few, STAIRCASE).require()                 # more than the start grid
    assert not claims.extension_ahead(STAIRCASE, few, TOGETHER)                # fewer than the end grid
    assert not claims.extension_ahead(few, few, few)                           # no more, and no sooner
    later = [t + 100 for t in TOGETHER]
    claims.extension_ahead(TOGETHER, later, TOGETHER).require()                # as many, the last one sooner
    assert not claims.extension_ahead(later, TOGETHER, TOGETHER)               # reversed: as many, later
    assert not claims.extension_ahead([np.inf] * 10, [np.inf] * 10, [np.inf] * 10)   # nothing learned


def _first_learned(run, until=None):
    """Each frequency's first learned iteration, shape ``(frequencies,)``, in an archived waves run (its fraction
    ``(records, repeats, frequencies)`` averaged over the repeats), from the records up to iteration ``until``."""
    from kanpaper.analysis.fourier import first_learned
    kept = run["steps"] <= (run["steps"][-1] if until is None else until)
    return first_learned(run["fraction"][kept].mean(axis=1), run["steps"][kept])


def test_the_sweep_kan_claims_hold_on_the_archived_paper_budget_kans_and_fail_reversed():
    """Notebook 06's claims 2 and 3 on the sweep's 24 KANs at 8,000 iterations: W10 D2 G5 never learns 50 Hz, the
    main-panel KANs learn all ten, width 3 is never ahead of width 10; with the widths swapped claim 3 fails, and
    the main-panel KANs cut at 500 iterations have not learned all ten."""
    from kanpaper.experiments.paper import WAVES_SWEEP_KANS, waves_sweep_configs
    from kanpaper.notebook import paper_archive
    kans, _ = waves_sweep_configs("paper")
    runs = {arch: paper_archive().load(c) for arch, c in zip(WAVES_SWEEP_KANS, kans)}
    assert all(run is not None for run in runs.values()), [arch for arch, run in runs.items() if run is None]

    def first(run, until=8000):
        return _first_learned(run, until)
    claims.never_learns_highest(first(runs[10, 2, 5]), "KAN W10 D2 G5").require()
    main_panel = [(10, d, g) for d in (3, 4) for g in (10, 20, 40)]
    for arch in main_panel:
        claims.learns_all(first(runs[arch]), str(arch)).require()
    assert not any(claims.learns_all(first(runs[arch], until=500)) for arch in main_panel)
    pairs = [(d, g) for d in (2, 3, 4) for g in (5, 10, 20, 40)]
    for d, g in pairs:
        claims.not_ahead(first(runs[3, d, g]), first(runs[10, d, g]), 8000, f"W3 D{d} G{g}", f"W10 D{d} G{g}").require()
    swapped = [claims.not_ahead(first(runs[10, d, g]), first(runs[3, d, g]), 8000, "W10", "W3") for d, g in pairs]
    assert not any(swapped)                                    # width 10 is ahead in every pair


def test_extension_ahead_on_the_archived_grid_extension_runs_and_failing_cut_short():
    """Notebook 06's claim 4 at the paper's budget (8,000 iterations). Its first form, 'more frequencies than the
    start grid', fails at depth 3, where the fixed data grid G = 5 learns all ten too; cut at 2,000 iterations (the
    end of the extension's first stage) the extension is not ahead of the start grid."""
    from kanpaper.experiments.paper import GRID_EXTENSION_ARCHS, grid_extension_configs
    from kanpaper.notebook import paper_archive
    runs = {key: paper_archive().load(c) for key, c in grid_extension_configs("paper").items()}
    assert all(run is not None for run in runs.values()), [key for key, run in runs.items() if run is None]
    variants = ("data grid G5→40", "data grid G5", "data grid G40")
    for arch in GRID_EXTENSION_ARCHS:
        claims.extension_ahead(*(_first_learned(runs[arch, v]) for v in variants), name=str(arch)).require()
        assert not claims.extension_ahead(*(_first_learned(runs[arch, v], until=2000) for v in variants))
    ext, start = (int(np.isfinite(_first_learned(runs[(10, 3), v])).sum()) for v in variants[:2])
    assert ext == start == 10                                                   # why the count form failed


def test_fractions_fall_with_frequency_and_the_highest_lags():
    claims.fractions_fall_with_frequency(FALLING).require()
    assert not claims.fractions_fall_with_frequency(FALLING[::-1])
    assert not claims.fractions_fall_with_frequency(np.random.default_rng(0).permutation(FALLING))
    claims.highest_fraction_at_most(FALLING).require()
    assert not claims.highest_fraction_at_most(np.ones(10))
    with pytest.raises(ValueError, match="learned fractions"):
        claims.fractions_fall_with_frequency([0.5, np.nan])


def test_first_iterations_are_checked():
    with pytest.raises(ValueError, match="first iterations"):
        claims.rank_order([[1.0, 2.0]])
    with pytest.raises(ValueError, match="first iterations"):
        claims.learns_all([1.0, np.nan])


def test_error_rate_in_parameters_can_fail():
    params = np.array([30.0, 60.0, 120.0, 240.0])
    assert claims.error_rate_in_parameters(params, params ** -4.0, 3)
    slow = claims.error_rate_in_parameters(params, params ** -1.0, 3)
    assert not slow and "slope -1.00" in slow.measured
    assert not claims.error_rate_in_parameters(params, [1e-2, np.nan, np.nan, 1e-6], 3)     # two finite points


def test_more_accurate_with_fewer_parameters_can_fail():
    kan_params, kan_errors = [24, 45, 165], [2e-2, 4e-4, 3e-6]
    assert claims.more_accurate_with_fewer_parameters(kan_params, kan_errors, [51, 501, 1801], [1e-2, 4e-4, 3e-4])
    # the best MLP is small: no KAN with as few parameters is ten times better
    assert not claims.more_accurate_with_fewer_parameters(kan_params, kan_errors, [30, 501], [1e-4, 4e-4])
    # a KAN ten times better exists, but only with more parameters than the best MLP
    assert not claims.more_accurate_with_fewer_parameters(kan_params, kan_errors, [40, 501], [3e-5, 4e-4])
    with pytest.raises(ValueError, match="matching"):
        claims.more_accurate_with_fewer_parameters([1, 2], [1.0], [1], [1.0])


def _by_depth(d, s, split):
    return {int(m[3]): rmse(m, d, s, split) for m in ("kan2", "kan3", "kan4")}


@pytest.mark.parametrize("d,s", ROUGH)
def test_deeper_kans_fit_every_rough_field_of_the_authors_closer(d, s):
    claims.deeper_fits_closer(_by_depth(d, s, "train")).require()


@pytest.mark.parametrize("d", [2, 3, 4])
def test_test_error_rises_with_depth_on_the_authors_smooth_fields(d):
    claims.error_rises_with_depth(_by_depth(d, 1.0, "test")).require()


def test_mlps_gain_with_dimension_on_the_authors_smooth_fields():
    kan = {d: min(claims.final(c) for c in _by_depth(d, 1.0, "test").values()) for d in (2, 3, 4)}
    mlp = {d: min(claims.final(rmse(m, d, 1.0, "test")) for m in ("mlp_tanh", "mlp_relu3")) for d in (2, 3, 4)}
    claims.mlp_gains_with_dimension(kan, mlp).require()


def test_depth_and_dimension_claims_can_fail():
    rising, falling = np.array([1.0, 1e-3]), np.array([1.0, 1e-1])
    assert not claims.deeper_fits_closer({2: np.array([1e-3]), 3: np.array([1e-2]), 4: np.array([1e-1])})
    # on the authors' d = 3, sigma = 1/2 field depth 3 generalises better than depth 2: the test error does not rise
    assert not claims.error_rises_with_depth(_by_depth(3, 0.5, "test"))
    assert not claims.error_rises_with_depth({2: falling, 3: rising})
    assert not claims.mlp_gains_with_dimension({2: 1.0, 3: 0.5}, {2: 1.0, 3: 1.0})
    with pytest.raises(ValueError, match="at least two"):
        claims.error_rises_with_depth({2: rising})


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("d,s", ALL_FIELDS)
def test_width_10_fits_every_field_of_the_authors_closer_than_width_3(d, s, depth):
    """Like for like: the authors' width-3 files against their width-10 files of the same batch (their other
    KAN files, a later batch, start elsewhere: first-step test RMSE 0.35 against 0.16 at d = 2, sigma = 1/8)."""
    claims.wider_fits_closer(rmse(f"kan{depth}_width3", d, s, "train"),
                             rmse(f"kan{depth}_width10", d, s, "train")).require()


@pytest.mark.parametrize("d,s", [(3, 0.125), (2, 1.0)])
def test_wider_fits_closer_fails_on_an_undertrained_wide_kan(d, s):
    """The authors' width-10 depth-3 KAN after its first step does not fit closer than the width-3 one after
    500; nor does the width-3 KAN put in the wide one's place."""
    wide, narrow = rmse("kan3_width10", d, s, "train"), rmse("kan3_width3", d, s, "train")
    assert not claims.wider_fits_closer(narrow, wide[:1])
    assert not claims.wider_fits_closer(wide, narrow)


def test_the_tanh_mlp_claim_holds_on_our_archived_paper_budget_mlps_and_fails_where_theirs_does():
    """Our 500-step tanh MLPs (results/paper/) learn every field the authors' do, and fail at d = 4, sigma = 1/8,
    where theirs does too: the claim was narrowed on their files and confirmed on ours."""
    from kanpaper.notebook import paper_archive
    from kanpaper.experiments.paper import figure_3_configs

    runs = {(d, s): paper_archive().load(c) for (d, s, m), c in figure_3_configs("paper").items() if m == "mlp_tanh"}
    assert all(run is not None for run in runs.values()), "all 12 tanh MLPs are archived"
    for (d, s), run in runs.items():
        verdict = claims.mlp_generalises(run["train"], run["test"], name=f"tanh MLP (d = {d}, sigma = {s}, ours)")
        if (d, s) in MLP_LEARNS:
            verdict.require()
        else:
            assert not verdict, verdict


def test_the_seed_spread_yardstick_holds_inside_our_range_and_fails_outside_it():
    """On the authors' Figure 5 KAN: their final H1 MSE at k = 8 lies between two values a factor 3 either side,
    and not within a range that stops short of it (as a run stopped early would)."""
    theirs = reference.poisson("kan", 8, "h1").final("MSE")
    assert claims.within_seed_spread([theirs / 3, theirs * 3, theirs], theirs, "k = 8, H1: ")
    assert not claims.within_seed_spread([theirs * 2, theirs * 5], theirs)
    with pytest.raises(ValueError, match="two or more finite"):
        claims.within_seed_spread([theirs], theirs)


def _paired_kan_curves(archived):
    keys = sorted(key for key in archived if key[2].startswith("kan"))
    return ([archived[key]["train"] for key in keys],
            [rmse(m, d, s, "train") for d, s, m in keys])


def test_our_kans_jump_at_the_same_later_extensions_as_theirs(archived_grf_kans):
    """Per extension event, not per run: at the second to fourth extensions (108 events) ours and the authors' 36
    KANs agree on whether the training error jumps. The first extension is left out after seeing the data: there
    seven of theirs jump and none of ours, a failure of pykan's least squares that ours does not share
    (notebook 07, Section 9)."""
    ours, theirs = _paired_kan_curves(archived_grf_kans)
    claims.same_extension_spikes(ours, theirs, 100, extensions=[2, 3, 4]).require()
    first = claims.same_extension_spikes(ours, theirs, 100, extensions=[1])
    assert not first and "ours 0, theirs 7" in first.measured, first


def test_same_extension_spikes_fails_without_spikes_or_with_another_runs_curve(archived_grf_kans):
    ours, theirs = _paired_kan_curves(archived_grf_kans)
    smooth = [np.geomspace(1.0, 1e-3, 500)] * len(theirs)              # learns, never jumps
    assert not claims.same_extension_spikes(smooth, theirs, 100, extensions=[2, 3, 4])
    assert not claims.same_extension_spikes(ours[1:] + ours[:1], theirs, 100, extensions=[2, 3, 4])
    assert not claims.same_extension_spikes(ours[::-1], theirs, 100, extensions=[2, 3, 4])
    with pytest.raises(ValueError, match="extensions must lie in 1..4"):
        claims.same_extension_spikes(ours, theirs, 100, extensions=[5])
    with pytest.raises(ValueError, match="paired"):
        claims.same_extension_spikes(ours[:2], theirs, 100)


@pytest.fixture(scope="module")
def archived_probes():
    """The first-extension probes of all 36 Figure 3 KANs at the paper's budget (results/paper/)."""
    from kanpaper.notebook import paper_archive
    from kanpaper.experiments.paper import first_extension_configs

    return {key: paper_archive().load(config) for key, config in first_extension_configs("paper").items()}


def test_the_pivot_fault_explains_the_first_extension_jumps(archived_probes):
    missing = sorted(key for key, probe in archived_probes.items() if probe is None)
    assert not missing, f"probes not archived: {missing}"
    claims.pivot_fault_explains_first_jumps(list(archived_probes.values())).require()


def test_the_pivot_fault_claim_fails_swapped_and_on_undertrained_kans(archived_probes):
    from kanpaper.experiments.first_extension import run_first_extension
    from kanpaper.experiments.paper import first_extension_configs

    probes = [probe for probe in archived_probes.values() if probe is not None]
    swapped = [dict(p, next_exact=p["next_fixed_pivots"], next_fixed_pivots=p["next_exact"]) for p in probes]
    assert not claims.pivot_fault_explains_first_jumps(swapped)
    # two steps per grid on 400 points: the grids have not settled, and the exact extension itself jumps
    smoke = [run_first_extension(config, progress=False) for config in first_extension_configs("smoke").values()]
    assert not claims.pivot_fault_explains_first_jumps(smoke)
    with pytest.raises(ValueError, match="at least one probe"):
        claims.pivot_fault_explains_first_jumps([])


def _descent_firsts(budget=None):
    """First steps at which gradient descent in closed form (notebook 13) learns each frequency, in a B-spline layer
    and in one of Gaussians twice as wide as their spacing; ``budget``: steps beyond it count as never."""
    from kanpaper.experiments.bases_on_waves import basis_gradient_descent
    from kanpaper.experiments.paper import basis_waves_configs
    from kanpaper.analysis.fourier import first_learned
    steps = np.unique(np.round(np.logspace(0, 10, 61)).astype(np.int64))
    configs = basis_waves_configs("default")
    firsts = [first_learned(basis_gradient_descent(configs[name], steps).mean(axis=1), steps)
              for name in ("cubic B-spline", "Gaussian, width = 2 x spacing")]
    return [np.where(f <= budget, f, np.inf) if budget else f for f in firsts]


def test_spreads_wider_on_real_descents_and_fails_reversed_or_on_nothing_learned():
    spline, wide = _descent_firsts()
    assert claims.learning_span(wide) > 1e5 and claims.learning_span(spline) < 100
    claims.spreads_wider(wide, spline, "wide Gaussians", "B-splines").require()
    assert not claims.spreads_wider(spline, wide, "B-splines", "wide Gaussians")
    assert not claims.spreads_wider(np.full(10, np.inf), spline, "nothing learned", "B-splines")
    assert np.isnan(claims.learning_span([5.0] + [np.inf] * 9))


def test_learning_span_skips_or_counts_the_unlearned_frequencies():
    partly = [10.0, 20.0, 40.0] + [np.inf] * 7
    assert claims.learning_span(partly) == 4.0                       # over the three learned
    assert claims.learning_span(partly, unlearned="inf") == np.inf   # not all learned: no finite span
    assert claims.learning_span([10.0, 20.0, 40.0], unlearned="inf") == 4.0
    with pytest.raises(ValueError, match="unlearned"):
        claims.learning_span(partly, unlearned="drop")


def test_learns_more_on_real_descents_and_fails_reversed_or_undertrained():
    spline, wide = _descent_firsts(budget=100)          # by step 100: all ten against the lowest few
    claims.learns_more(spline, wide, "B-splines", "wide Gaussians").require()
    assert not claims.learns_more(wide, spline, "wide Gaussians", "B-splines")
    early_spline, early_wide = _descent_firsts(budget=0.5)        # stopped before the first step: nothing learned
    assert not claims.learns_more(early_spline, early_wide, "B-splines", "wide Gaussians")


def _archived_figure_1_runs():
    from kanpaper.experiments.paper import figure_1_configs
    from kanpaper.experiments.spec import describe
    from kanpaper.notebook import paper_archive
    runs = {}
    for profile in ("equal", "increasing"):
        for config in figure_1_configs(profile, "paper"):
            run = paper_archive().load(config)
            if run is not None:
                runs[profile, describe(config)] = (run, _first_learned(run))
    return runs


def test_the_waves_claims_hold_on_our_archived_paper_budget_runs():
    """Notebook 05's claims on every archived Figure 1-2 run (80,000 MLP and 8,000 KAN iterations)."""
    runs = _archived_figure_1_runs()
    assert ("equal", "MLP W256 D10") in runs and ("equal", "KAN W10 D3 G10") in runs
    for profile in ("equal", "increasing"):
        mlps = {n: first for (p, n), (_, first) in runs.items() if p == profile and n.startswith("MLP")}
        kans = {n: first for (p, n), (_, first) in runs.items() if p == profile and n.startswith("KAN")}
        for name, first in mlps.items():
            if np.isfinite(first).sum() >= 4:
                claims.learns_low_to_high(first, name=name).require()
            claims.learns_lowest_first(first, name=name).require()
            claims.learned_by(first, 8000, 5, name=name).require()
        for name, first in kans.items():
            claims.learns_all(first, name=name).require()
        if kans and mlps:
            claims.learns_closer_together(list(kans.values()), list(mlps.values())).require()


def test_the_waves_claims_fail_on_archived_runs_reversed_or_cut_short():
    runs = _archived_figure_1_runs()
    mlp_run, mlp_first = runs["equal", "MLP W256 D10"]
    kan_run, kan_first = runs["equal", "KAN W10 D3 G10"]
    assert not claims.learns_low_to_high(mlp_first[::-1])
    assert not claims.learns_lowest_first(mlp_first[::-1])
    assert not claims.learns_low_to_high(_first_learned(mlp_run, 3000))   # two learned: too few to be a staircase
    assert not claims.learns_all(_first_learned(kan_run, 1000))           # the KAN stopped at 1,000 of its 8,000
    assert not claims.learned_by(mlp_first, 30000, 5)                     # by 30,000 the MLP has learned all ten
    assert not claims.learns_closer_together([mlp_first], [kan_first])    # the roles swapped


def test_the_sweep_mlp_claim_holds_at_the_kan_budget_on_archived_runs_and_failed_as_first_stated():
    """Notebook 06's claim 1 on the archived paper-budget MLPs: at the KANs' 8,000 iterations the learned fractions
    fall with frequency and 50 Hz is not learned; on the W256 D10's final fractions (all ten learned by 80,000) the
    ordering fails, which is why the claim was narrowed to the KANs' budget."""
    from kanpaper.experiments.paper import waves_sweep_configs
    from kanpaper.notebook import paper_archive
    _, mlps = waves_sweep_configs("paper")
    held = [run for config in mlps if (run := paper_archive().load(config)) is not None]
    assert len(held) == 8, f"{len(held)} sweep MLPs archived; required all eight"
    for run in held:
        at_kan_budget = run["fraction"][np.searchsorted(run["steps"], 8000)].mean(axis=0)
        claims.fractions_fall_with_frequency(at_kan_budget).require()
        claims.highest_fraction_at_most(at_kan_budget, at_most=0.9).require()
    finals = [run["fraction"][-1].mean(axis=0) for run in held]
    assert not all(claims.fractions_fall_with_frequency(f) for f in finals)
    assert not all(claims.highest_fraction_at_most(f, at_most=0.9) for f in finals)


def test_spikes_come_at_non_nested_extensions_only_in_our_runs_but_not_in_the_authors(archived_grf_kans):
    """Figure 3's grids 10 -> 20 -> 30 -> 40 -> 50: only the first extension is nested. Our 36 archived KAN runs spike
    at none of the nested ones and at many of the others; the authors' runs spike at nested ones too (the pivot fault
    of pykan's least squares, notebook 07), so the claim fails on their files; and with the nesting mislabelled (the
    grids read backwards) or on runs that never spike it fails."""
    grids = [10, 20, 30, 40, 50]
    ours = [(grids, claims.extension_jumps(run["train"], 100)) for run in archived_grf_kans.values()]
    claims.spikes_only_where_not_nested(ours).require()
    theirs = [(grids, claims.extension_jumps(rmse(f"kan{n}", d, s, "train"), 100))
              for d, s in ALL_FIELDS for n in (2, 3, 4)]
    verdict = claims.spikes_only_where_not_nested(theirs)
    assert not verdict and not verdict.measured.startswith("spikes at 0 of")
    assert not claims.spikes_only_where_not_nested([([10, 20, 40, 80, 160], jumps) for _, jumps in ours])
    calm = [(g, j) for g, j in ours if (np.asarray(j) < 1.2).all()]
    assert calm and not claims.spikes_only_where_not_nested(calm)
    with pytest.raises(ValueError, match="5 grid stages have 4 extensions, got 3 jumps"):
        claims.spikes_only_where_not_nested([(grids, [1.0, 1.0, 1.0])])


def test_no_extension_spikes_is_the_negation_on_real_curves(archived_grf_kans):
    spiking = archived_grf_kans[3, 0.125, "kan4"]["train"]
    calm = archived_grf_kans[3, 0.125, "kan2"]["train"]
    assert not claims.no_extension_spikes(spiking, 100) and claims.extension_spikes(spiking, 100)
    claims.no_extension_spikes(calm, 100).require()


def test_no_spike_on_nested_grids_in_the_archived_refinement_runs():
    """Notebook 15's claim on its 18 paper-budget runs (grids 10 -> 20 -> 40, three ways to extend)."""
    from kanpaper.experiments.paper import refinement_configs
    from kanpaper.notebook import paper_archive
    runs = {key: paper_archive().load(config) for key, config in refinement_configs("paper").items()}
    assert all(run is not None for run in runs.values()), [key for key, run in runs.items() if run is None]
    for key, run in runs.items():
        claims.no_extension_spikes(run["train"], 100, name=str(key)).require()
    # the same curves read backwards rise where each stage began: the claim fails on them
    assert not all(claims.no_extension_spikes(run["train"][::-1], 100) for run in runs.values())


def test_our_archived_4000_point_depth_3_kans_overfit_and_the_claim_fails_cut_short_or_on_depth_2():
    """Notebook 08's first half at the paper's budget: with 4,000 training points our depth-3 KAN (500 steps)
    overfits on both fields; cut at its 5th step it has not, and the depth-2 KAN does not."""
    from kanpaper.experiments.paper import overfitting_configs
    from kanpaper.notebook import paper_archive
    configs = overfitting_configs("paper")
    for sigma in (0.125, 0.25):
        deep, shallow = (paper_archive().load(configs[m, sigma, 5000]) for m in ("kan3", "kan2"))
        assert deep is not None and shallow is not None, f"sigma = {sigma}: the 4,000-point KANs are archived"
        claims.kan_overfits(deep["train"], deep["test"]).require()
        assert not claims.kan_overfits(deep["train"][:5], deep["test"][:5])
        assert not claims.kan_overfits(shallow["train"], shallow["test"])


@pytest.mark.parametrize("sigma", [0.125, 0.25])
def test_more_data_cures_our_archived_depth_3_kans_overfitting_and_fails_without_the_data_or_cut_short(sigma):
    """Notebook 08's claim at the paper's budget, on our archived depth-3 KANs with 4,000 and 40,000 training
    points (500 steps each). It fails when the 4,000-point run stands in for the 40,000-point one (no more data),
    and on the 40,000-point run cut at its 3rd step (not yet below the few-point run's lowest test error)."""
    from kanpaper.experiments.paper import overfitting_configs
    from kanpaper.notebook import paper_archive
    configs = overfitting_configs("paper")
    small, large = (paper_archive().load(configs["kan3", sigma, n]) for n in (5000, 50000))
    assert small is not None and large is not None, f"sigma = {sigma}: the depth-3 KAN is archived at both sizes"
    cured = claims.more_data_cures_overfitting(small["train"], small["test"], large["train"], large["test"])
    cured.require()
    assert not claims.more_data_cures_overfitting(small["train"], small["test"], small["train"], small["test"])
    assert not claims.more_data_cures_overfitting(small["train"], small["test"], large["train"][:3],
                                                  large["test"][:3])


def test_a_larger_mlp_is_never_behind_on_the_archived_sweep_and_the_claim_fails_reversed_or_cut_short():
    """Notebook 06's claim 5 on the eight archived sweep MLPs (80,000 iterations): for each size step (width doubled,
    or depth 6 -> 10) the smaller MLP is not ahead of the larger. Read with the sizes swapped it fails; and cut at
    2,000 iterations, where each has learned 5 Hz at most, the W256 D10 has learned it later than the W128 D10 and
    the W256 D6: the claim is about the whole staircase, not its first step."""
    from kanpaper.experiments.paper import WAVES_SWEEP_MLP_STEPS, WAVES_SWEEP_MLPS, waves_sweep_configs
    from kanpaper.notebook import paper_archive
    _, mlps = waves_sweep_configs("paper")
    runs = dict(zip(WAVES_SWEEP_MLPS, (paper_archive().load(config) for config in mlps)))
    assert all(run is not None for run in runs.values()), "all eight sweep MLPs are archived"

    def behind(small, large, steps=80_000):
        return claims.not_ahead(_first_learned(runs[small], steps), _first_learned(runs[large], steps), steps,
                                f"W{small[0]} D{small[1]}", f"W{large[0]} D{large[1]}")

    for small, large in WAVES_SWEEP_MLP_STEPS:
        behind(small, large).require()
    assert not any(behind(large, small) for small, large in WAVES_SWEEP_MLP_STEPS)
    assert not all(behind(small, large, steps=2_000) for small, large in WAVES_SWEEP_MLP_STEPS)


@pytest.mark.parametrize("model,sigma", [("kan2", 0.125), ("kan4", 0.125), ("kan4", 0.25)])
def test_our_archived_40000_point_kans_run_on_where_the_authors_turned_nan(model, sigma):
    """Notebook 08's finding at the paper's budget: the authors' 40,000-point depth-2 KAN at sigma = 1/8 and their
    depth-4 KANs turned NaN at step 101 (after the first grid extension); ours are finite to their 500th step and do
    not overfit."""
    from kanpaper.experiments.paper import overfitting_configs
    from kanpaper.notebook import paper_archive
    ours = paper_archive().load(overfitting_configs("paper")[model, sigma, 50000])
    assert ours is not None, f"the 40,000-point {model} at sigma = {sigma} is archived"
    theirs = rmse(model, 3, sigma, "test", "overfit")
    assert np.isfinite(theirs[:100]).all() and np.isnan(theirs[100:]).all(), "theirs: NaN from step 101 on"
    assert ours["diverged_at"] < 0 and np.isfinite(ours["test"]).all() and len(ours["test"]) == 500
    assert not claims.kan_overfits(ours["train"], ours["test"])
