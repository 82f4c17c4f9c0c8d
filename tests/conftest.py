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
