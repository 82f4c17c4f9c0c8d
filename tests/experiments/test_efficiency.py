import numpy as np
import pytest
import torch

from kanpaper.experiments import efficiency, paper
from kanpaper.theory.conversions import parameter_count
from kanpaper.experiments.spec import ModelSpec, build_model


def test_dataset_is_seeded_and_splits_one_draw():
    a = efficiency.make_dataset("exp_sin_square", 30, 20, seed=3)
    b = efficiency.make_dataset("exp_sin_square", 30, 20, seed=3)
    assert a["train_input"].shape == (30, 2) and a["test_label"].shape == (20, 1)
    assert torch.equal(a["test_input"], b["test_input"])
    x = a["train_input"]
    assert torch.allclose(a["train_label"][:, 0], torch.exp(torch.sin(np.pi * x[:, 0]) + x[:, 1] ** 2), rtol=1e-15)
    assert x.abs().max() <= 1


def test_stage_parameters_count_the_model_at_each_grid():
    config = paper.efficiency_configs("smoke")["kan", None]
    counts = efficiency.stage_parameters(config)
    # pykan's KAN: G + k coefficients, w_b and w_s per edge, 3 edges
    assert counts.tolist() == [3 * (g + 3 + 2) for g in config["grids"]]
    mlp = paper.efficiency_configs("smoke")["tanh", 5]
    assert efficiency.stage_parameters(mlp).tolist() == [parameter_count(build_model(mlp["model"]))] == [51]


@pytest.mark.parametrize("key", [("kan", None), ("relu3", 5)])
def test_a_short_run_records_every_step_and_its_stages(key):
    config = dict(paper.efficiency_configs("smoke")[key], n_train=60, n_test=40)
    config.update(steps_per_grid=2) if key[0] == "kan" else config.update(steps=3)
    result = efficiency.run_efficiency(config, progress=False)
    steps = 6 if key[0] == "kan" else 3
    assert result["train"].shape == result["test"].shape == (steps,)
    assert result["stage_ends"].tolist() == ([1, 3, 5] if key[0] == "kan" else [2])
    assert np.isfinite(result["test"]).all() and result["train"][-1] < result["train"][0]
    again = efficiency.run_efficiency(config, progress=False)
    assert np.array_equal(again["test"], result["test"]), "the same config gave different numbers"


def test_bad_configs_raise():
    config = paper.efficiency_configs("smoke")["kan", None]
    with pytest.raises(ValueError, match="unknown target"):
        efficiency.make_dataset("nope", 10, 10)
    with pytest.raises(ValueError, match="n_test must be a positive integer"):
        efficiency.make_dataset("exp_sin_square", 10, 0)
    with pytest.raises(ValueError, match="needs widths \\[2, ..., 1\\]"):
        efficiency.run_efficiency(dict(config, model=ModelSpec.kan([3, 1, 1], 3).as_dict()), progress=False)
    with pytest.raises(ValueError, match=r"first grid stage \(5\)"):
        efficiency.run_efficiency(dict(config, grids=[5, 10]), progress=False)
