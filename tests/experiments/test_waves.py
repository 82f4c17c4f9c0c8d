import numpy as np
import pytest

from kanpaper.experiments.waves import WAVE_FREQUENCIES
from kanpaper.runs.cache import ResultsCache
from kanpaper.experiments.spec import ModelSpec
from kanpaper.runs.pool import run_experiments
from kanpaper.experiments.waves import run_waves

BASE = dict(lr=1e-2, record_every=5, repeats=2, amplitudes="equal", seed=3, n_points=200)


KAN = ModelSpec.kan([1, 4, 1], 5).as_dict()
MLP = ModelSpec.mlp([1, 16, 16, 1]).as_dict()


@pytest.mark.parametrize("model", [KAN, MLP])
def test_run_waves_shapes_and_determinism(model):
    config = dict(BASE, steps=12, model=model)
    first, second = run_waves(config, progress=False), run_waves(config, progress=False)
    assert first["fraction"].shape == (4, 2, len(WAVE_FREQUENCIES))        # records at 0, 5, 10, 12
    assert first["steps"].tolist() == [0, 5, 10, 12]
    assert first["loss"].shape == (3, 2) and first["final_loss"].shape == (2,)     # loss at 0, 5, 10; step 11
    assert first["phases"].shape == (2, 10)
    for name in first:
        assert np.array_equal(first[name], second[name]), name
    assert not np.array_equal(first["phases"][0], first["phases"][1])     # repeats see different phases


def test_grid_stages_are_checked():
    config = dict(BASE, model=ModelSpec.kan([1, 4, 1], 10).as_dict(), grids=[10, 5], grid_updates=True, steps=40)
    with pytest.raises(ValueError, match="grids must increase"):
        run_waves(config, progress=False)
    with pytest.raises(ValueError, match="first grid stage"):
        run_waves(dict(config, grids=[5, 10]), progress=False)
    with pytest.raises(ValueError, match="cannot hold 4 grid stages"):
        run_waves(dict(config, grids=[10, 11, 12, 13], steps=3), progress=False)
    with pytest.raises(ValueError, match="1D regression"):
        run_waves(dict(BASE, model=ModelSpec.kan([2, 4, 1], 5).as_dict(), steps=4), progress=False)


def test_grid_extension_run_ends_on_the_last_grid_and_learns():
    config = dict(BASE, model=ModelSpec.kan([1, 4, 1], 3).as_dict(), grids=[3, 6], grid_updates=True, steps=40)
    out = run_waves(config, progress=False)
    assert out["fraction"].shape == (9, 2, 10)
    assert np.isfinite(out["loss"]).all()
    assert out["final_loss"].mean() < out["loss"][0].mean()


def test_the_loss_is_kept_at_the_recorded_steps_and_a_shorter_run_keeps_its_first_rows():
    """A run stores the loss where it records the fractions (a replay of its first steps compares those rows),
    not at every step."""
    config = dict(BASE, model=MLP, steps=20, record_every=5)
    whole, short = run_waves(config, progress=False), run_waves(dict(config, steps=10), progress=False)
    assert whole["loss"].shape == (4, 2) and whole["steps"].tolist() == [0, 5, 10, 15, 20]
    assert np.array_equal(short["loss"], whole["loss"][:2])
    assert not np.array_equal(short["final_loss"], whole["final_loss"])


def test_sweep_mixes_models_keeps_order_and_matches_single_runs(tmp_path):
    kan = ModelSpec.kan([1, 3, 1], 5).as_dict()
    configs = [dict(BASE, steps=6, model=kan), dict(BASE, steps=6, model=ModelSpec.mlp([1, 8, 8, 1]).as_dict()),
               dict(BASE, steps=6, model=kan, seed=4)]
    cache = ResultsCache(tmp_path)
    runs = run_experiments(run_waves, configs, cache=cache, workers=2)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    for config, run in zip(configs, runs):
        np.testing.assert_allclose(run["loss"], run_waves(config, progress=False)["loss"], rtol=1e-10)
    again = run_experiments(run_waves, configs, cache=cache, workers=2)     # from the cache
    assert all(np.array_equal(a["fraction"], b["fraction"]) for a, b in zip(runs, again))


TWIN = ModelSpec.kan([1, 4, 1], 6, k=1, base=None).as_dict()


def test_a_converted_run_starts_from_its_kans_function_and_trains_its_mlp():
    config = dict(BASE, steps=12, model=TWIN)
    kan, mlp = run_waves(config, progress=False), run_waves(dict(config, converted="mlp"), progress=False)
    np.testing.assert_allclose(mlp["fraction"][0], kan["fraction"][0], rtol=0, atol=1e-12)   # one function
    assert not np.allclose(mlp["fraction"][-1], kan["fraction"][-1])                        # other coordinates
    with pytest.raises(ValueError, match="converted = 'mlp' turns a KAN of fixed grid"):
        run_waves(dict(config, converted="mlp", grids=[6, 12]), progress=False)
    with pytest.raises(ValueError, match="no ReLU\\^k MLP computes it exactly"):
        run_waves(dict(config, model=KAN, converted="mlp"), progress=False)     # a SiLU base term
    with pytest.raises(ValueError, match="converted"):
        run_waves(dict(config, converted="tanh"), progress=False)


def test_an_lbfgs_run_trains_one_repeat_and_counts_its_evaluations():
    config = dict(BASE, steps=4, record_every=2, model=MLP, optimizer="lbfgs", lr=1.0)
    with pytest.raises(ValueError, match="trains one repeat: set 'member'"):
        run_waves(config, progress=False)
    with pytest.raises(ValueError, match="member must be a repeat index in 0..1, got 2"):
        run_waves(dict(config, member=2), progress=False)
    one = run_waves(dict(config, member=1), progress=False)
    assert one["fraction"].shape == (3, 1, 10) and one["final_loss"].shape == (1,)
    assert one["evaluations"][0] == 0 and (np.diff(one["evaluations"]) >= 2).all()      # L-BFGS: several a step
    assert one["evaluations"][-1] <= 4 * 25               # at most 20 iterations a step, with their line searches
    adam = run_waves(dict(BASE, steps=4, record_every=2, model=MLP), progress=False)
    np.testing.assert_array_equal(one["phases"][0], adam["phases"][1])                  # repeat 1's target
    # its initialisation (the batched ensemble rounds otherwise)
    np.testing.assert_allclose(one["fraction"][0, 0], adam["fraction"][0, 1], rtol=1e-12)
    assert "evaluations" not in adam
    with pytest.raises(ValueError, match="optimizer"):
        run_waves(dict(config, member=0, optimizer="sgd"), progress=False)
