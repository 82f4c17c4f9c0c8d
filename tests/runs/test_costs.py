"""The cost model: shrunk probes, shared measurements, the schedule of a sweep, the notebooks' runs."""

import json
from pathlib import Path

import pytest

from kanpaper.experiments import grf, paper, waves
from kanpaper.experiments.spec import is_kan, total_steps
from kanpaper.runs import costs
from kanpaper.runs.costs import StepCosts, announce, estimate_runs, format_seconds, probe

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_total_steps_and_probes_keep_the_work_of_a_step():
    grf_kan = paper.figure_3_configs("default")[3, 0.125, "kan3"]
    grf_mlp = paper.figure_3_configs("default")[3, 0.125, "mlp_tanh"]
    assert total_steps(grf_kan) == 5 * 20 and total_steps(probe(grf_kan, 3)) == 5 * 3     # every grid stage kept
    assert probe(grf_kan, 1)["grids"] == grf_kan["grids"]
    assert total_steps(probe(grf_mlp, 3)) == 3 and probe(grf_mlp, 3)["grids"] == grf_mlp["grids"][:1]
    ext = next(c for c in paper.grid_extension_configs("default").values() if len(c.get("grids") or ()) > 1)
    assert total_steps(probe(ext, 2)) == 2 * len(ext["grids"]) == probe(ext, 2)["record_every"]
    assert grf_kan["steps_per_grid"] == 20, "probe must not change the config it is given"


def test_runs_differing_only_in_neutral_settings_share_a_measurement():
    equal, increasing = (paper.figure_1_configs(p, "smoke") for p in ("equal", "increasing"))
    sig = costs._signature
    assert sig(waves.run_waves, equal[0]) == sig(waves.run_waves, increasing[0])     # amplitudes
    assert sig(waves.run_waves, equal[0]) == sig(waves.run_waves, {**equal[0], "steps": 7, "seed": 3})
    assert sig(waves.run_waves, equal[0]) != sig(waves.run_waves, equal[1])           # another model
    assert sig(waves.run_waves, equal[0]) != sig(waves.run_waves, {**equal[0], "n_points": 400})


def test_measure_once_then_read_back(tmp_path, monkeypatch):
    config = paper.overview_configs("smoke")[0]
    measured = StepCosts(tmp_path)
    cost = measured.measure(waves.run_waves, config)
    assert cost["per_step"] > 0 and cost["fixed"] >= 0
    stored = json.loads(measured.path.read_text())
    assert stored["context"]["device"] == "cpu" and len(stored["entries"]) == 2     # the run and its data set-up
    assert stored["context"]["threads_per_run"] == 1
    assert measured.setup_seconds(waves.run_waves, config) >= 0
    monkeypatch.setattr(StepCosts, "_time", lambda *a: pytest.fail("measured twice"))
    again = StepCosts(tmp_path)
    assert again.measure(waves.run_waves, config) == cost
    assert again.run_seconds(waves.run_waves, config) == pytest.approx(cost["fixed"] + 20 * cost["per_step"])


class FixedCosts:
    """Run time = the config's "t"; no set-up."""
    def run_seconds(self, fn, config):
        return config["t"]

    def setup_seconds(self, fn, config):
        return 0.0


def test_estimate_schedules_runs_longest_first_onto_the_core_that_frees_first():
    runs = [(waves.run_waves, {"t": t}) for t in (10, 5, 4, 3, 3, 2)]
    # 2 workers, longest first: [10, 3] and [5, 4, 3, 2] -> 14
    assert estimate_runs(runs, FixedCosts(), workers=2) == 14
    assert estimate_runs(runs, FixedCosts(), workers=1) == 27
    assert estimate_runs(runs[:3], FixedCosts(), workers=4) == 10
    assert estimate_runs([], FixedCosts(), workers=2) == 0


def test_expected_seconds_orders_by_measured_cost_else_mlps_first(tmp_path, monkeypatch):
    monkeypatch.setenv(costs.ENV_VAR, str(tmp_path))
    kan, mlp = paper.overview_configs("smoke")
    assert (is_kan(kan), is_kan(mlp)) == (True, False)
    unmeasured = costs.expected_seconds([(waves.run_waves, kan), (waves.run_waves, mlp)])
    assert unmeasured(mlp) > unmeasured(kan)
    measured = StepCosts()
    for c in (kan, mlp):
        measured.measure(waves.run_waves, c)
    longer = {**mlp, "steps": 10 * mlp["steps"]}
    expected = costs.expected_seconds([(waves.run_waves, c) for c in (kan, mlp, longer)])
    assert expected(kan) == measured.run_seconds(waves.run_waves, kan)
    assert expected(longer) > expected(mlp)


def test_runs_on_one_field_share_its_set_up(tmp_path):
    configs = paper.figure_3_configs("smoke")
    on_one_field = [c for (d, s, m), c in configs.items() if (d, s) == (3, 0.125)]
    other_field = [c for (d, s, m), c in configs.items() if (d, s) == (2, 1.0)]
    assert len({costs._setup_signature(grf.run_grf, c) for c in on_one_field}) == 1
    assert costs._setup_signature(grf.run_grf, on_one_field[0]) != costs._setup_signature(grf.run_grf, other_field[0])


def test_announce_estimates_only_where_measured(tmp_path, monkeypatch):
    monkeypatch.setenv(costs.ENV_VAR, str(tmp_path))
    runs = [(waves.run_waves, c) for c in paper.overview_configs("smoke")]
    assert "no estimate: `make estimate`" in announce(runs)
    measured = StepCosts()
    for fn, c in runs:
        measured.measure(fn, c)
    line = announce(runs)
    assert line.startswith("2 runs to compute on cpu: about ") and "measured on this machine" in line


def test_format_seconds():
    assert [format_seconds(s) for s in (4.2, 600, 7200 * 3)] == ["4 s", "10 min", "6.0 h"]


