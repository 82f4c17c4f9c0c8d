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
