"""Ensembles: R members stacked into one module, forward and gradients as the members' own."""

import pytest
import torch

from kanpaper import KAN, MLP, Ensemble
from kanpaper.experiments.spec import layer_widths


def test_ensemble_rejects_mismatched_members():
    with pytest.raises(ValueError, match="same class"):
        Ensemble([KAN([1, 2, 1]), KAN([1, 3, 1])])
    with pytest.raises(ValueError, match="at least one"):
        Ensemble([])


def test_ensemble_gradients_arrive_in_the_parameters_layout(data):
    """MLP weights are stored transposed so that autograd and Adam never copy a gradient into shape."""
    x, y = data
    members = [MLP(layer_widths(2, 16, 3, 1), seed=s) for s in range(2)]
    ensemble = Ensemble(members)
    ((ensemble(x) - y) ** 2).mean().backward()
    for name, p in zip(ensemble._names, ensemble.stacked):
        assert p.is_contiguous() and p.grad.is_contiguous(), name
        assert p.shape[1:] == (members[0].get_parameter(name).mT.shape if "weight" in name
                               else members[0].get_parameter(name).shape), name
    for member, copy_out in zip(members, ensemble.members()):
        for (name, a), b in zip(member.named_parameters(), copy_out.parameters()):
            assert torch.equal(a, b), name


@pytest.mark.parametrize("make", [lambda s: KAN([2, 4, 3], grid_size=6, seed=s),
                                  lambda s: KAN([2, 4, 3], grid_size=300, seed=s),   # more windows than points
                                  lambda s: MLP(layer_widths(2, 8, 3, 3), "tanh", seed=s)])
def test_stacked_forward_equals_members_and_vmap(data, make):
    x, _ = data
    members = [make(s) for s in range(3)]
    members[1].update_grid(x ** 3) if isinstance(members[1], KAN) else None   # members may differ in knots
    ensemble = Ensemble(members)
    out = ensemble(x)
    assert out.shape == (3, len(x), 3)
    for r, member in enumerate(members):
        assert (out[r] - member(x)).abs().max() < 1e-13
    params, buffers = ensemble._state()
    mapped = torch.func.vmap(lambda p, b: torch.func.functional_call(ensemble._template[0], (p, b), (x,), {"check": False}))
    assert (mapped(params, buffers) - out).abs().max() < 1e-13
    per_member_inputs = torch.stack([x, -x, 2 * x])
    for r, member in enumerate(members):
        assert (ensemble(per_member_inputs)[r] - member(per_member_inputs[r])).abs().max() < 1e-13
    with pytest.raises(ValueError, match="R = 3"):
        ensemble(per_member_inputs[:2])
    with pytest.raises(ValueError, match="shape"):
        ensemble(x[:, :1])
