"""A run killed at any point and started again ends with an uninterrupted run's arrays, bit for bit; a corrupt
checkpoint is found, said, and replaced by the one before or by a fresh start."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from kanpaper import KAN, MLP, Ensemble
from kanpaper.runs.cache import ResultsCache, config_key
from kanpaper.training import checkpoint as checkpoints
from kanpaper.training.checkpoint import Checkpoint
from kanpaper.training.loop import GridSchedule, regression_loss, train

X = torch.linspace(-1, 1, 64, dtype=torch.float64)[:, None]
Y = torch.sin(4 * X) + 0.3 * torch.cos(9 * X)


class Killed(Exception):
    """Stands for the process dying: raised from inside a training step."""


def dying(objective, kill_at_call):
    """``objective``, except that its evaluation number ``kill_at_call`` (counted from this call on) kills the run."""
    calls = [0]

    def loss(model):
        calls[0] += 1
        if calls[0] == kill_at_call:
            raise Killed
        return objective(model)

    return loss


def kan_run(checkpoint=None, kill_at_call=None, optimizer="lbfgs", steps=30):
    """A KAN through pykan's grid schedule (updates, two extensions), recording and measuring as the experiments
    do; ``kill_at_call``: the objective evaluation at which the run dies."""
    model = KAN([1, 4, 1], grid_size=3, seed=0)
    objective = regression_loss(X, Y)
    return train(model, dying(objective, kill_at_call), steps, optimizer=optimizer, schedule=GridSchedule.pykan(X, [3, 6, 12], steps // 3),
                 record_fn=lambda m: {"prediction": m(X)}, record_every=7,
                 metrics_fn=lambda m: {"rmse": objective(m).sqrt()}, progress=False, checkpoint=checkpoint)


def assert_same(a, b):
    a, b = a.arrays(), b.arrays()
    assert sorted(a) == sorted(b)
    for name in a:
        if name != "seconds":
            assert np.asarray(a[name]).tobytes() == np.asarray(b[name]).tobytes(), name


def killed_then_resumed(run, checkpoint, kill_points):
    for point in kill_points:
        with pytest.raises(Killed):
            run(checkpoint, point)
    return run(checkpoint, None)


@pytest.mark.parametrize("optimizer,kill_points", [
    ("lbfgs", [3, 40, 41, 150, 420]),     # L-BFGS: up to 25 evaluations a step; kills inside line searches too
    ("adam", [1, 9, 3, 1, 11]),           # dies at steps 0, 8, 10 (just extended), 10 again, 20
])
def test_a_run_killed_at_several_points_resumes_to_the_same_bits(tmp_path, optimizer, kill_points):
    reference = kan_run(optimizer=optimizer)
    checkpoint = Checkpoint(tmp_path / "run.pt", every_seconds=0)      # a checkpoint after every step
    resumed = killed_then_resumed(lambda c, k: kan_run(c, k, optimizer), checkpoint, kill_points)
    assert_same(reference, resumed)
    assert checkpoint.path.exists()          # train leaves it; the results cache removes it once the run is stored


@pytest.mark.parametrize("activation", ["relu", "relu3", "tanh"])     # relu3: an activation object, not a closure
def test_an_ensemble_of_mlps_resumes_to_the_same_bits(tmp_path, activation):
    def run(checkpoint=None, kill_at_call=None):
        model = Ensemble([MLP([1, 16, 16, 1], activation, seed=s) for s in range(3)])
        return train(model, dying(regression_loss(X, Y), kill_at_call), 40, record_fn=lambda m: {"prediction": m(X)}, record_every=10, progress=False,
                     checkpoint=checkpoint)

    reference = run()
    assert_same(reference, killed_then_resumed(run, Checkpoint(tmp_path / "run.pt", 0), [5, 17, 11]))


def test_a_sigkilled_process_resumes_to_the_same_bits(tmp_path):
    script = textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_checkpoint import kan_run
        from kanpaper.training.checkpoint import Checkpoint
        kan_run(Checkpoint({str(tmp_path / "run.pt")!r}, every_seconds=0), optimizer="adam", steps=3000)
    """)
    checkpoint = Checkpoint(tmp_path / "run.pt", every_seconds=0)
    process = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.previous.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)                       # somewhere in the middle of a step, or of writing a checkpoint
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed: make it longer"
    state = checkpoint.load()
    assert state is not None and 0 < state["done"] < 3000
    assert_same(kan_run(optimizer="adam", steps=3000), kan_run(checkpoint, optimizer="adam", steps=3000))


def test_a_truncated_checkpoint_falls_back_to_the_one_before_and_says_so(tmp_path):
    checkpoint = Checkpoint(tmp_path / "run.pt", every_seconds=0)
    with pytest.raises(Killed):
        kan_run(checkpoint, 150)
    data = checkpoint.path.read_bytes()
    checkpoint.path.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="checksum mismatch.*resuming from the previous checkpoint"):
        resumed = kan_run(checkpoint)
    assert_same(kan_run(), resumed)


def test_corrupt_checkpoints_restart_the_run_from_scratch_and_say_so(tmp_path):
    checkpoint = Checkpoint(tmp_path / "run.pt", every_seconds=0)
    with pytest.raises(Killed):
        kan_run(checkpoint, 150)
    checkpoint.path.write_bytes(b"not a checkpoint")
    flipped = bytearray(checkpoint.previous.read_bytes())
    flipped[-100] ^= 1
    checkpoint.previous.write_bytes(bytes(flipped))
    with pytest.warns(UserWarning) as caught:
        resumed = kan_run(checkpoint)
    said = " ".join(str(w.message) for w in caught)
    assert "not a kanpaper checkpoint" in said and "checksum mismatch" in said and "resuming from scratch" in said
    assert_same(kan_run(), resumed)


def test_a_checkpoint_of_another_training_call_is_not_used(tmp_path):
    checkpoint = Checkpoint(tmp_path / "run.pt", every_seconds=0)
    with pytest.raises(Killed):
        kan_run(checkpoint, 150, steps=30)
    with pytest.warns(UserWarning, match="another training call"):
        resumed = kan_run(checkpoint, steps=60)
    assert_same(kan_run(steps=60), resumed)


def test_the_results_cache_trains_with_the_runs_checkpoint_and_removes_it_once_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.CHECKPOINT_DIR_ENV, str(tmp_path / "checkpoints"))
    monkeypatch.setenv(checkpoints.CHECKPOINT_SECONDS_ENV, "0")
    config, seen = {"run": "checkpointed"}, []

    def compute(cfg, kill_at_call=None):
        seen.append(checkpoints.current())
        return {"losses": kan_run(None, kill_at_call).losses}

    cache = ResultsCache(tmp_path / "cache")
    with pytest.raises(Killed):
        cache.get_or_compute(config, lambda cfg: compute(cfg, 150))
    expected = tmp_path / "checkpoints" / f"{config_key(config)}.pt"
    assert seen[0] == Checkpoint(expected, 0.0) and expected.exists()
    out = cache.get_or_compute(config, compute)
    assert np.asarray(out["losses"]).tobytes() == kan_run().losses.tobytes()
    assert not expected.exists() and not seen[0].previous.exists()
    assert checkpoints.current() is None


def test_checkpoint_settings_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.CHECKPOINT_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(checkpoints.CHECKPOINT_SECONDS_ENV, "soon")
    assert checkpoints.checkpoint_dir() == tmp_path
    with pytest.raises(ValueError, match="KANPAPER_CHECKPOINT_SECONDS must be a number of seconds, got 'soon'"):
        checkpoints.for_run("key")
    with pytest.raises(ValueError, match="every_seconds must be >= 0"):
        Checkpoint(tmp_path / "x.pt", -1)
    monkeypatch.delenv(checkpoints.CHECKPOINT_DIR_ENV)
    assert checkpoints.checkpoint_dir() == Path.home() / ".cache" / "kanpaper" / "checkpoints"


def test_progress_reads_a_runs_checkpoint_without_touching_it(tmp_path, monkeypatch):
    """What ``python -m kanpaper.archive --pending`` shows of a run being computed: its step and compute so far,
    from the newest intact file, leaving every file as it was (the run may be writing them)."""
    monkeypatch.setenv(checkpoints.CHECKPOINT_DIR_ENV, str(tmp_path))
    assert checkpoints.progress("abc") is None                            # not started
    checkpoint = checkpoints.for_run("abc")
    checkpoint.save({"done": 7, "seconds": 12.5})
    checkpoint.save({"done": 9, "seconds": 20.0})
    assert {k: v for k, v in checkpoints.progress("abc").items() if k != "saved"} == {"done": 9, "seconds": 20.0}
    checkpoint.path.write_bytes(checkpoint.path.read_bytes()[:-3])        # truncated: the one before is read
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    assert checkpoints.progress("abc")["done"] == 7
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before
    checkpoint.previous.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoints.CorruptCheckpoint, match="not a kanpaper checkpoint"):    # neither is intact
        checkpoints.progress("abc")


def test_every_model_the_paper_budget_runs_build_goes_through_a_checkpoint(tmp_path):
    """A checkpoint saves the model whole, so every model an experiment builds must pickle: each distinct model spec
    of the paper-budget runs (every activation, base and pykan release among them) is saved, read back and computes
    the same bits."""
    from kanpaper.experiments.spec import build_model
    from kanpaper.notebook import notebook_runs
    specs = {json.dumps(config["model"], sort_keys=True): config["model"]
             for calls in notebook_runs("paper").values() for _, configs in calls for config in configs}
    assert {spec.get("activation") for spec in specs.values()} >= {"relu", "relu3", "tanh"}
    for i, spec in enumerate(specs.values()):
        model = build_model(spec)
        checkpoint = Checkpoint(tmp_path / f"{i}.pt")
        checkpoint.save({"model": model})
        x = torch.linspace(-1, 1, 7 * spec["widths"][0], dtype=torch.float64).reshape(7, spec["widths"][0])
        assert torch.equal(checkpoint.load()["model"](x), model(x)), spec
