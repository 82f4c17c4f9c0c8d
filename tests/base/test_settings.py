"""The settings every run reads: the scale and the device, checked where they are named."""

import pytest
import torch

from kanpaper.base.settings import DEVICE_ENV as ENV_VAR, SCALES, resolve_device, resolve_scale
from kanpaper.experiments import paper, waves

HAS_CUDA = torch.cuda.is_available()


def test_resolve_device(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_device() == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, " cpu ")
    assert resolve_device() == torch.device("cpu")
    for bad in ("tpu", "gpu0", "mps"):
        with pytest.raises(ValueError, match="allowed: cpu, cuda, cuda:N"):
            resolve_device(bad)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA GPU")
def test_cuda_without_gpu_says_so(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(RuntimeError, match="sees no CUDA GPU"):
        resolve_device()
    with pytest.raises(RuntimeError, match="sees no CUDA GPU"):
        waves.run_waves(paper.overview_configs("smoke")[0], progress=False)


def test_scales():
    assert resolve_scale("Smoke") == "smoke" and SCALES == ("smoke", "default", "paper")
    with pytest.raises(ValueError, match="unknown scale 'huge'; allowed: 'smoke', 'default', 'paper'"):
        resolve_scale("huge")


def test_scale_from_environment(monkeypatch):
    monkeypatch.setenv("KANPAPER_SCALE", "paper")
    assert resolve_scale() == "paper"
    monkeypatch.setenv("KANPAPER_SCALE", "nonsense")
    with pytest.raises(ValueError, match="allowed"):
        resolve_scale()
