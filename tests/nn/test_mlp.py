import pytest
import torch
from torch import nn

from kanpaper import MLP
from kanpaper.nn.mlp import activation_function
from kanpaper.experiments.spec import layer_widths


def test_default_init_matches_torch_linear():
    ours = MLP([3, 7, 2], seed=5)
    torch.manual_seed(5)
    ref = [nn.Linear(3, 7, dtype=torch.float64), nn.Linear(7, 2, dtype=torch.float64)]
    for a, b in zip(ours.linears, ref):
        assert torch.allclose(a.weight, b.weight, atol=1e-15) and torch.allclose(a.bias, b.bias, atol=1e-15)


def test_depth_counts_linear_layers():
    model = MLP(layer_widths(1, 32, 6, 1))
    assert model.widths == [1, 32, 32, 32, 32, 32, 1]
    assert len(model.linears) == 6


@pytest.mark.parametrize("name,expected", [("relu", lambda x: x.clamp(min=0)),
                                           ("relu3", lambda x: x.clamp(min=0) ** 3),
                                           ("tanh", torch.tanh)])
def test_activations(name, expected):
    x = torch.linspace(-2, 2, 11, dtype=torch.float64)
    assert torch.allclose(activation_function(name)(x), expected(x))


def test_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([1, 1], "sigmoid")
    with pytest.raises(ValueError, match="power"):
        activation_function("relu0")
    with pytest.raises(ValueError, match="depth"):
        MLP(layer_widths(1, 4, 0, 1))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        MLP([2, 1])(torch.zeros(3, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="inputs are torch.float32 but the model computes in torch.float64"):
        MLP([2, 1])(torch.zeros(3, 2, dtype=torch.float32))
