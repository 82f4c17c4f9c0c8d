"""The run pool: a run is the same in this process or in a worker, and a run asked twice is computed once."""

import numpy as np

from kanpaper.runs.cache import ResultsCache

CALLS = []


def test_a_run_is_the_same_alone_in_this_process_or_beside_others_in_workers(tmp_path):
    """One thread per run wherever it runs: a KAN and an MLP give the same bits computed alone (in this process,
    as a resumed notebook does) and two at a time in worker processes. (These Deep Ritz runs' sums round
    differently on one thread and on two, so the test fails if a lone run takes the process's threads.)"""
    from kanpaper.experiments import paper, poisson
    from kanpaper.runs.pool import run_experiments

    configs = [paper.figure_5_configs("ritz", "smoke")[model, 2] for model in ("kan", "mlp")]
    pooled = run_experiments(poisson.run_poisson, configs, cache=ResultsCache(tmp_path / "pooled"), workers=2)
    alone = [run_experiments(poisson.run_poisson, [c], cache=ResultsCache(tmp_path / "alone"))[0] for c in configs]
    for config, a, b in zip(configs, pooled, alone):
        for name in a:
            assert np.array_equal(a[name], b[name]), f"{name} of {config['model']['kind']} differs alone and pooled"


def test_groups_of_runs_share_one_pool_and_a_run_asked_twice_is_computed_once(tmp_path):
    from kanpaper.runs.pool import run_experiments, run_groups

    from kanpaper.experiments.spec import ModelSpec

    CALLS.clear()
    model = ModelSpec.mlp([1, 2, 1]).as_dict()
    squares = [{"kind": "square", "x": x, "model": model} for x in (1, 2, 3)]
    cubes = [{"kind": "cube", "x": x, "model": model} for x in (2, 3)]
    groups = run_groups([(counted, squares), (counted, cubes), (counted, squares[1:])],
                        cache=ResultsCache(tmp_path), workers=1)
    assert [[int(r["y"][0]) for r in group] for group in groups] == [[1, 4, 9], [8, 27], [4, 9]]
    assert sorted(CALLS) == [1, 2, 2, 3, 3], f"each distinct run once, got calls {CALLS}"
    CALLS.clear()
    again = run_experiments(counted, cubes, cache=ResultsCache(tmp_path), workers=1)
    assert [int(r["y"][0]) for r in again] == [8, 27] and CALLS == []


def counted(config, progress=True):
    CALLS.append(config["x"])
    return {"y": np.array([config["x"] ** (2 if config["kind"] == "square" else 3)])}
