"""The settings every run reads: the scale and the device, checked where they are named."""

import os
import subprocess
import sys

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


_BLAS_BITS = """
import hashlib, torch
from kanpaper.experiments import grf
from kanpaper.nn import splines
def digest(*arrays):
    return hashlib.sha256(b"".join(torch.as_tensor(a).numpy().tobytes() for a in arrays)).hexdigest()
data = grf.make_dataset(1000, 2, 0.125)
x = data["train_input"][:, :1].contiguous()
knots = splines.uniform_knots(1, 40, 3)
coef = splines.fit_coefficients(x, data["train_label"][:, None, :], knots, 3, solver="lstsq")
print(digest(data["train_label"], data["test_label"]), digest(coef), digest(grf.exact_field(1000, 2, 0.125).y))
"""


def test_fields_and_spline_fits_have_the_same_bits_on_any_number_of_blas_threads():
    """A field and a least-squares spline fit, in processes started on 1 and on 3 BLAS threads: the same bits.
    The field sampled outside the pin (last column) shows what the pin is for where OpenBLAS has threads to use."""
    runs = []
    for threads in ("1", "3"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _BLAS_BITS], env=env, capture_output=True, text=True, check=True)
        runs.append(out.stdout.split())
    (field_1, fit_1, unpinned_1), (field_3, fit_3, unpinned_3) = runs
    assert field_1 == field_3 and fit_1 == fit_3
    if (os.cpu_count() or 1) > 1:
        assert unpinned_1 != unpinned_3, "unpinned, the field no longer follows the threads: this test shows nothing"
