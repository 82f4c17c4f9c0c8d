"""The make estimate report: the runs still to compute and a row per notebook."""

from kanpaper import estimate
from kanpaper.estimate import missing_runs
from kanpaper.experiments import paper
from kanpaper.notebook import notebook_runs, runs_of
from kanpaper.runs import costs
from kanpaper.runs.cache import ResultsCache, config_key
from kanpaper.runs.costs import StepCosts


def test_the_runs_to_compute_first_are_each_notebooks_runs_once_less_the_cached(tmp_path):
    runs = notebook_runs("smoke")
    assert runs["11_guidance"] == runs["07_grf_fig3_fig4"][:1]          # 07 adds its probes (and seeds at paper)
    assert runs_of(["07_grf_fig3_fig4", "11_guidance"], "smoke") == runs_of(["07_grf_fig3_fig4"], "smoke")
    listed = [c for groups in runs.values() for _, configs in groups for c in configs]
    todo = missing_runs("smoke")
    assert len(todo) == len({config_key(c) for c in listed}) <= len(listed) - len(runs["11_guidance"][0][1])
    cache = ResultsCache(tmp_path)
    fn, first = todo[0]
    cache.store(first, {"x": [1.0]})
    assert missing_runs("smoke", cache) == todo[1:]
    only_09 = missing_runs("smoke", cache, notebooks=["09_poisson_fig5"])
    assert [c for _, c in only_09] == (list(paper.figure_5_configs("ritz", "smoke").values())
                                       + list(paper.figure_5_seed_configs("smoke").values()))


def test_make_estimate_prints_a_row_per_notebook(tmp_path, monkeypatch, capsys):
    """``python -m kanpaper.estimate`` end to end, with each probe's measurement replaced by 1 ms a step."""
    def fake_time(self, fn, config):
        self.entries[costs._signature(fn, config)] = {"fixed": 0.0, "per_step": 1e-3}
        self.entries.setdefault(costs._setup_signature(fn, config), {"seconds": 0.0})

    monkeypatch.setenv(costs.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(StepCosts, "_time", fake_time)
    assert estimate.main(["--scale", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "measuring step costs for smoke on cpu" in out and "one thread per run" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| notebook")]
    assert [row.split(" | ")[0][2:] for row in rows] == sorted(estimate.OWN_WORK_SECONDS) + ["**all**"]
    assert "`make figures` computes every notebook's runs first, in one pool: " in out
    assert estimate.main(["--scale", "smoke"]) == 0 and "measuring" not in capsys.readouterr().out   # kept
