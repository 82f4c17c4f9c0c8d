"""Sweeps: local processes and a Dask cluster equal a serial run, a killed worker loses nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kanpaper.runs import sweep
from kanpaper.runs.cache import ResultsCache
from kanpaper.runs.sweep import SCHEDULER_ENV, run_sweep, scheduler_address

CALLS = []


def square(config):
    CALLS.append(config["x"])
    if config.get("fail_at") == config["x"]:
        raise RuntimeError("interrupted")
    return {"y": np.array([config["x"] ** 2]), "grid": np.arange(config["x"] + 1, dtype=float)}


def seeded_noise(config):
    return {"sample": np.random.default_rng(config["seed"]).normal(size=5)}


def test_sweep_local_processes_equal_serial():
    configs = [{"seed": s} for s in range(4)]
    serial = run_sweep(seeded_noise, configs, n_jobs=1)
    parallel = run_sweep(seeded_noise, configs, n_jobs=2)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a["sample"], b["sample"])


@pytest.fixture
def dask_scheduler():
    """The address of a fresh local Dask cluster: 2 worker processes of one thread each (with nannies, which
    restart a worker that dies)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_experiments_on_dask_scheduler_equal_local_bit_for_bit(tmp_path, dask_scheduler):
    from kanpaper.experiments import paper, waves
    from kanpaper.runs.pool import run_experiments

    configs = paper.overview_configs("smoke")                        # a KAN and an MLP ensemble
    local = run_sweep(waves.run_waves, configs, n_jobs=2, threads_per_job=1)
    cache = ResultsCache(tmp_path / "shared")
    remote = run_experiments(waves.run_waves, configs, cache=cache, scheduler=dask_scheduler)
    for config, a, b in zip(configs, local, remote):
        for name in a:
            assert np.array_equal(a[name], b[name]), f"{name} of {config['model']['kind']} differs on the cluster"
    assert len(list((tmp_path / "shared").glob("*.npz"))) == 2


def test_dask_scheduler_from_environment(tmp_path, dask_scheduler, monkeypatch):
    configs = [{"seed": s} for s in range(6)]
    local = run_sweep(seeded_noise, configs, n_jobs=1)
    monkeypatch.setenv(SCHEDULER_ENV, dask_scheduler)
    remote = run_sweep(seeded_noise, configs, cache=ResultsCache(tmp_path))
    for a, b in zip(local, remote):
        assert np.array_equal(a["sample"], b["sample"])
    assert len(list(tmp_path.glob("*.npz"))) == 6


def dies_once(config):
    """``seeded_noise``, logging each call; the call for seed 3 kills its worker process the first time."""
    folder = Path(config["folder"])
    with open(folder / "calls.log", "a") as log:
        log.write(f"{config['seed']}\n")
    if config["seed"] == 3 and not (folder / "died").exists():
        (folder / "died").touch()
        time.sleep(0.5)                         # mid-run: other configs are running or done
        os._exit(1)
    time.sleep(0.2)
    return seeded_noise(config)


def test_killed_worker_loses_nothing(tmp_path, dask_scheduler):
    configs = [{"seed": s, "folder": str(tmp_path)} for s in range(8)]
    cache = ResultsCache(tmp_path / "cache")
    remote = run_sweep(dies_once, configs, cache=cache, scheduler=dask_scheduler)
    assert (tmp_path / "died").exists()
    for config, result in zip(configs, remote):
        assert np.array_equal(result["sample"], seeded_noise(config)["sample"])
    calls = sorted(int(line) for line in (tmp_path / "calls.log").read_text().split())
    assert calls == [0, 1, 2, 3, 3, 4, 5, 6, 7], f"only the killed config reruns; calls were {calls}"
    again = run_sweep(dies_once, configs, cache=cache, scheduler=dask_scheduler)
    assert len((tmp_path / "calls.log").read_text().split()) == 9, "a rerun takes every finished config from the cache"
    assert all(np.array_equal(a["sample"], b["sample"]) for a, b in zip(remote, again))


def test_scheduler_address_is_checked(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert scheduler_address() is None and scheduler_address("") is None
    assert scheduler_address(" tcp://10.0.0.1:8786 ") == "tcp://10.0.0.1:8786"
    with pytest.raises(ValueError, match="tcp://host:8786"):
        scheduler_address("10.0.0.1:8786")
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(seeded_noise, [{"seed": 0}], scheduler="tcp://127.0.0.1:9")


def torch_threads(config):
    import torch
    return {"threads": np.array([torch.get_num_threads()])}


def test_threads_per_job_sets_worker_threads():
    runs = run_sweep(torch_threads, [{"i": i} for i in range(2)], n_jobs=2, threads_per_job=1)
    assert [int(r["threads"][0]) for r in runs] == [1, 1]
    with pytest.raises(ValueError, match="threads_per_job"):
        run_sweep(torch_threads, [{"i": 0}, {"i": 1}], n_jobs=2, threads_per_job=0)


def started_at(config):
    import torch
    return {"start": np.array([time.perf_counter_ns()]), "threads": np.array([torch.get_num_threads()])}


def cube(config):
    return {"y": np.array([config["x"] ** 3])}


def test_a_sweep_takes_one_function_per_config():
    configs = [{"x": 2}, {"x": 3}]
    for n_jobs in (1, 2):
        runs = run_sweep([square, cube], configs, n_jobs=n_jobs)
        assert [int(r["y"][0]) for r in runs] == [4, 27]
    with pytest.raises(ValueError, match="one function per config expected: got 1 functions for 2 configs"):
        run_sweep([square], configs)


def test_in_process_runs_start_longest_first_on_the_threads_asked_for():
    import torch
    before = torch.get_num_threads()
    configs = [{"t": t} for t in (1, 3, 2)]
    runs = run_sweep(started_at, configs, n_jobs=1, threads_per_job=1, priority=lambda c: c["t"])
    starts = [int(r["start"][0]) for r in runs]
    assert starts[1] < starts[2] < starts[0], f"start order by priority 3, 2, 1 expected, got {starts}"
    assert [int(r["threads"][0]) for r in runs] == [1, 1, 1] and torch.get_num_threads() == before


_KILLED_SWEEP = """
import os, sys, time
from pathlib import Path
from kanpaper.runs.sweep import run_sweep
out = Path(sys.argv[1])
def slow(config):
    (out / f"worker-{os.getpid()}").touch()
    for _ in range(600):
        time.sleep(0.1)
    (out / f"finished-{config['x']}").touch()
    return {"x": config["x"]}
run_sweep(slow, [{"x": 1}, {"x": 2}], n_jobs=2)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_workers_end_with_their_sweep(tmp_path, stop):
    """The process running a sweep killed (SIGKILL) or interrupted (Ctrl-C): its workers stop within seconds and
    finish nothing, instead of computing on into a cache a rerun also writes to."""
    # as from a shell: SIGINT at its default, whatever this test process inherited or set (an ignored SIGINT
    # is inherited across exec, and Python then leaves it ignored)
    sweep = subprocess.Popen([sys.executable, "-c", _KILLED_SWEEP, str(tmp_path)],
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("worker-*"))) < 2:
        assert time.monotonic() < deadline and sweep.poll() is None, "the workers never started"
        time.sleep(0.2)
    workers = [int(path.name.split("-")[1]) for path in tmp_path.glob("worker-*")]
    sweep.send_signal(stop)
    sweep.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_running, workers)), f"workers {workers} outlived their sweep"
    assert not list(tmp_path.glob("finished-*"))
