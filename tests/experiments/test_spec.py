"""The experiment protocol (model specs, labels, sweeps) and the paper's configurations."""

import json

import pytest
import torch

from kanpaper import KAN, MLP
from kanpaper.experiments import paper
from kanpaper.experiments.spec import ModelSpec, build_model, describe, is_kan


def test_a_spec_builds_the_model_its_constructor_would():
    spec = ModelSpec.kan([2, 5, 1], 7, noise_scale=0.1, seed=3)
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(build_model(spec)(x), KAN([2, 5, 1], grid_size=7, noise_scale=0.1, seed=3)(x))
    assert torch.equal(build_model(spec, seed=4)(x), KAN([2, 5, 1], grid_size=7, noise_scale=0.1, seed=4)(x))
    mlp = ModelSpec.mlp([2, 8, 1], "tanh", seed=2)
    assert torch.equal(build_model(mlp)(x), MLP([2, 8, 1], "tanh", seed=2)(x))


def test_a_spec_is_plain_json_and_comes_back():
    spec = ModelSpec.kan([1, 10, 10, 1], 10, grid_range=(0, 1))
    values = json.loads(json.dumps(spec.as_dict()))
    assert ModelSpec.from_dict(values) == spec
    assert is_kan({"model": values}) and not is_kan({"model": ModelSpec.mlp([1, 4, 1]).as_dict()})
    # the default release stays out of the dict, so that the configs (and cache keys) of earlier runs hold
    assert "pykan" not in values
    later = ModelSpec.kan([1, 10, 1], 10, pykan="0.2.8")
    assert later.as_dict()["pykan"] == "0.2.8" and ModelSpec.from_dict(later.as_dict()) == later
    x = torch.rand(20, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(build_model(later)(x), KAN([1, 10, 1], grid_size=10, seed=0, pykan="0.2.8")(x))


def test_bad_specs_say_what_is_allowed():
    with pytest.raises(ValueError, match="unknown model kind 'rbf'; allowed: 'kan', 'mlp'"):
        ModelSpec("rbf", (1, 1))
    with pytest.raises(ValueError, match="at least an input and an output width"):
        ModelSpec.kan([3], 5)
    with pytest.raises(ValueError, match="each >= 1"):
        ModelSpec.mlp([1, 0, 1])
    with pytest.raises(ValueError, match="unknown pykan release '0.3'; allowed: '0.2.5', '0.2.8'"):
        ModelSpec.kan([1, 1], 3, pykan="0.3")


def test_describe():
    assert describe({"model": paper.waves_mlp(256, 10).as_dict()}) == "MLP W256 D10"
    assert describe({"model": paper.waves_kan(10, 3, 10).as_dict()}) == "KAN W10 D3 G10"
    assert describe({"model": paper.waves_kan(10, 3, 5).as_dict(), "grids": [5, 40], "grid_updates": True}) == \
        "KAN W10 D3 G5-40 (data grid)"
    assert describe(paper.grf_config("mlp_tanh", 3, 0.25, 100, 1)) == "MLP tanh W256 D6"
    assert describe(paper.grf_config("mlp_relu3", 3, 0.25, 100, 1)) == "MLP ReLU^3 W256 D4"
    assert describe(paper.grf_config("kan4", 3, 0.25, 100, 1)) == "KAN W10 D4 G10-50"


