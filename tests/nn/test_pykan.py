"""kan_from_pykan: a pykan model as a kanpaper KAN, knots and coefficients carried over."""

import torch

from kanpaper.nn.pykan import kan_from_pykan


def test_from_pykan_after_pykan_grid_update(float64_default, gen, pykan_model):
    theirs = pykan_model([2, 3, 1], 5, 3)
    x = torch.rand(200, 2, generator=gen) * 2 - 1
    theirs.update_grid(x)
    ours = kan_from_pykan(theirs)
    assert not ours.layers[0].uniform
    assert torch.allclose(ours(x), theirs(x), atol=1e-12)
