"""The results cache: a finished run is stored once, a changed or damaged entry recomputed."""

import numpy as np
import pytest

from kanpaper.runs.cache import ResultsCache, config_key
from kanpaper.runs.sweep import run_sweep


CALLS = []


def square(config):
    CALLS.append(config["x"])
    if config.get("fail_at") == config["x"]:
        raise RuntimeError("interrupted")
    return {"y": np.array([config["x"] ** 2]), "grid": np.arange(config["x"] + 1, dtype=float)}


def test_resume_after_interruption(tmp_path):
    cache = ResultsCache(tmp_path)
    CALLS.clear()
    configs = [{"x": i} for i in range(5)]
    with pytest.raises(RuntimeError):
        for c in configs:                       # a run dies at x = 3
            cache.get_or_compute(c, lambda c: square({**c, "fail_at": 3}))
    assert CALLS == [0, 1, 2, 3]
    CALLS.clear()
    results = run_sweep(square, configs, cache=cache, n_jobs=1)
    assert CALLS == [3, 4]                      # finished runs are not recomputed
    assert [int(r["y"][0]) for r in results] == [0, 1, 4, 9, 16]
    assert not list(tmp_path.glob("*.tmp"))


def test_config_change_recomputes(tmp_path):
    cache = ResultsCache(tmp_path)
    CALLS.clear()
    cache.get_or_compute({"x": 2, "lr": 1e-3}, square)
    cache.get_or_compute({"lr": 1e-3, "x": 2}, square)   # same config, other key order
    cache.get_or_compute({"x": 2, "lr": 1e-2}, square)
    assert CALLS == [2, 2]
    assert config_key({"a": 1, "b": 2}) == config_key({"b": 2, "a": 1}) != config_key({"a": 1, "b": 3})


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupted_entry_is_recomputed(tmp_path, damage):
    cache = ResultsCache(tmp_path)
    config = {"x": 7}
    cache.get_or_compute(config, square)
    path = cache.path(config)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        # change one byte of an array's payload: the archive still opens, the digest catches it
        with np.load(path) as archive:
            payload = archive["grid"].tobytes()
        at = bytes(data).find(payload)
        data[at + 3] ^= 0xFF
    else:
        data = bytearray(b"not a zip file")
    path.write_bytes(bytes(data))
    CALLS.clear()
    with pytest.warns(UserWarning, match="corrupt"):
        out = cache.get_or_compute(config, square)
    assert CALLS == [7] and out["y"][0] == 49
    assert cache.load(config) is not None


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_listing_survives_an_unreadable_entry_and_names_it(tmp_path, damage):
    cache = ResultsCache(tmp_path)
    for x in (1, 2, 3):
        cache.get_or_compute({"x": x}, square)
    bad = cache.path({"x": 2})
    bad.write_bytes(bad.read_bytes()[:200] if damage == "truncate" else b"not a zip file")
    with pytest.warns(UserWarning, match=f"skipping unreadable entry {bad.name}"):
        listed = cache.configs()
    assert sorted(c["x"] for c in listed.values()) == [1, 3]


def test_cache_rejects_object_arrays(tmp_path):
    with pytest.raises(ValueError, match="object"):
        ResultsCache(tmp_path).store({"a": 1}, {"bad": np.array([{}, 1], dtype=object)})
