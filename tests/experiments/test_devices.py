"""The device setting: checked arguments, the same run on every device (CUDA only where a GPU is present)."""

import numpy as np
import pytest
import torch

from kanpaper.experiments import efficiency, grf, paper, poisson, waves
from kanpaper.base.settings import DEVICE_ENV as ENV_VAR
from kanpaper.experiments.spec import build_model

HAS_CUDA = torch.cuda.is_available()


def test_build_model_initialises_on_the_cpu_then_moves():
    spec = paper.overview_configs("smoke")[0]["model"]
    a, b = build_model(spec), build_model(spec, device="cpu")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def _smoke_runs():
    """One run of every experiment at smoke: (run function, config)."""
    kan, mlp = paper.overview_configs("smoke")
    grf_configs = paper.figure_3_configs("smoke")
    poisson_configs = paper.figure_5_configs("ritz", "smoke")
    eff = paper.efficiency_configs("smoke")
    first_mlp = next(c for key, c in eff.items() if key[0] != "kan")
    return [("waves KAN", waves.run_waves, kan), ("waves MLP", waves.run_waves, mlp),
            ("GRF KAN", grf.run_grf, next(c for (d, s, m), c in grf_configs.items() if m.startswith("kan"))),
            ("Poisson KAN", poisson.run_poisson, poisson_configs["kan", 4]),
            ("Poisson MLP", poisson.run_poisson, poisson_configs["mlp", 4]),
            ("efficiency KAN", efficiency.run_efficiency, eff["kan", None]),
            ("efficiency MLP", efficiency.run_efficiency, first_mlp)]


@pytest.mark.parametrize("name, run, config", _smoke_runs(), ids=lambda v: v if isinstance(v, str) else "")
def test_explicit_cpu_device_is_the_default(name, run, config, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    default = run(config, progress=False)
    monkeypatch.setenv(ENV_VAR, "cpu")
    explicit = run(config, progress=False)
    for key in default:
        if key != "seconds":
            assert np.array_equal(default[key], explicit[key], equal_nan=True), f"{name}: {key}"


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU on this machine")
@pytest.mark.parametrize("name, run, config", _smoke_runs(), ids=lambda v: v if isinstance(v, str) else "")
def test_cuda_run_matches_cpu(name, run, config, monkeypatch):
    # The same float64 initial model on both devices; only the order of reductions differs, by about 1e-16
    # relative in a step's loss and gradient. Training amplifies that by up to ~30x a step (measured for L-BFGS
    # against pykan, README), so step i is compared to 1e-12 * 30^(i + 1) relative, over the steps where that
    # is below 1e-3: the first steps of every run, where a device-dependent mistake would show at once.
    monkeypatch.setenv(ENV_VAR, "cpu")
    cpu = run(config, progress=False)
    monkeypatch.setenv(ENV_VAR, "cuda")
    gpu = run(config, progress=False)
    compared = 0
    for key in ("loss", "train", "test", "l2", "h1"):
        if key not in cpu:
            continue
        for step, (ours, theirs) in enumerate(zip(gpu[key], cpu[key])):
            rtol = 1e-12 * 30.0 ** (step + 1)
            if rtol > 1e-3:
                break
            np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-14,
                                       err_msg=f"{name}: {key} after step {step + 1} on CUDA against the CPU")
            compared += 1
    assert compared >= 3, f"{name}: only {compared} steps compared"
