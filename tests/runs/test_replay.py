"""Replaying a run's first steps: a prefix computes what the whole run computes, and a changed bit is found."""

import copy

import numpy as np
import pytest

from kanpaper.experiments import grf, paper, waves
from kanpaper.runs.replay import prefix, recompute, replay


def grf_kan():
    config = copy.deepcopy(paper.figure_3_configs("smoke")[3, 0.125, "kan2"])
    config["steps_per_grid"] = 6          # five stages of six steps: a prefix of 4 stays in the first
    return config


def test_a_prefix_is_the_whole_runs_first_steps_and_one_changed_ulp_is_found():
    config = grf_kan()
    whole = recompute(grf.run_grf, config)[0]   # on one thread, as a replay computes
    same = replay(grf.run_grf, config, whole, steps=4)
    assert same.identical and same.compared == ("train", "test") and same.steps == 4 and same.max_abs_diff == 0
    nudged = copy.deepcopy(whole)
    nudged["test"][2] = np.nextafter(nudged["test"][2], np.inf)
    found = replay(grf.run_grf, config, nudged, steps=4)
    assert not found.identical and found.first_diff == {"test": 2}
    assert 0 < found.max_abs_diff <= 4 * np.spacing(whole["test"][2])


def test_a_whole_replay_compares_every_array_but_wall_time():
    config = paper.figure_1_configs("equal", "smoke")[3]
    stored = recompute(waves.run_waves, config)[0]
    stored["seconds"] = np.asarray(12.5)                 # a wall time: not compared
    again = replay(waves.run_waves, config, stored)
    assert again.identical and set(again.compared) == set(stored) - {"seconds"}
    stored["final_loss"][1] *= 1 + 1e-12                   # the last step's loss: only a whole replay sees it
    assert replay(waves.run_waves, config, stored).first_diff == {"final_loss": 1}
    short = replay(waves.run_waves, config, stored, steps=20)
    assert short.identical and short.compared and short.steps == 20


def test_a_first_extension_probe_replays_its_first_steps():
    from kanpaper.experiments.first_extension import run_first_extension

    config = dict(grf_kan(), probe="first_extension")
    assert prefix(config, 4)["grids"] == config["grids"][:2]      # it extends to the second grid after them
    whole = recompute(run_first_extension, config)[0]
    same = replay(run_first_extension, config, whole, steps=4)
    assert same.identical and same.compared == ("train",)


def test_bad_prefixes_say_what_is_allowed():
    with pytest.raises(ValueError, match="1 to 30 steps"):
        prefix(grf_kan(), 0)
    with pytest.raises(ValueError, match="within the first grid stage: at most 6"):
        prefix(grf_kan(), 7)
    with pytest.raises(ValueError, match="multiple of 10, got 15"):
        prefix(paper.figure_1_configs("equal", "smoke")[3], 15)
