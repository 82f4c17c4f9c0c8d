"""Argument checks: each error names what was wrong and what is allowed; randomness only from explicit seeds."""

import pytest
import torch

from kanpaper.base.checks import check_choice, check_inputs, generator, members_inputs


def test_bad_inputs_say_what_was_wrong():
    with pytest.raises(TypeError, match="must be a torch.Tensor, got list"):
        check_inputs([[0.0, 1.0]], 2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(4, 3\)"):
        check_inputs(torch.zeros(4, 3), 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_inputs(torch.tensor([[0.0, float("nan")]]), 2)
    check_inputs(torch.zeros(4, 2), 2)


def test_member_inputs_are_shared_or_one_batch_per_member():
    x = torch.rand(5, 2)
    shared = members_inputs(x, 2, 3)
    assert shared.shape == (3, 5, 2) and shared.data_ptr() == x.data_ptr()      # a view, no copy
    own = torch.rand(3, 5, 2)
    assert members_inputs(own, 2, 3) is own
    with pytest.raises(ValueError, match=r"need R = 4 members, got \(3, 5, 2\)"):
        members_inputs(own, 2, 4)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        members_inputs(torch.rand(5, 3), 2, 3)


def test_a_choice_outside_the_allowed_names_them_all():
    assert check_choice("optimizer", "adam", ("adam", "lbfgs")) == "adam"
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'; allowed: 'adam', 'lbfgs'"):
        check_choice("optimizer", "sgd", ("adam", "lbfgs"))


def test_generators_come_from_explicit_seeds_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = generator(3), generator(3)
    assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b))
    assert not torch.equal(torch.rand(4, generator=generator(3)), torch.rand(4, generator=generator(4)))
    mine = torch.Generator().manual_seed(0)
    assert generator(mine) is mine
    with pytest.raises(ValueError, match="pass a seed"):
        generator(None)
    assert torch.equal(torch.random.get_rng_state(), state)
