import numpy as np
import pytest
import torch


@pytest.fixture
def float64_default():
    """pykan builds tensors in the default dtype; the paper ran in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def data(gen):
    """200 points in [-1, 1]^2 and a smooth target: x (200, 2), y (200, 1), float64."""
    x = torch.rand(200, 2, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.sin(3 * x[:, :1]) * x[:, 1:]
    return x, y


@pytest.fixture
def pykan_model():
    """pykan 0.2.5's KAN from widths, grid size G, degree k, base function and seed (no files written)."""
    from kan import KAN as PykanKAN

    def build(widths, G, k, base="silu", seed=0):
        return PykanKAN(width=list(widths), grid=G, k=k, base_fun=base, auto_save=False, seed=seed)
    return build
