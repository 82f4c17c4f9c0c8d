"""``scripts/archive_paper_runs.py`` archives what the notebooks read at the paper's budget."""
import argparse
import importlib.util
from pathlib import Path

import pytest

from kanpaper.notebook import runs_of
from kanpaper.runs.cache import config_key

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "archive_paper_runs.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("archive_paper_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def selection(script, experiment, **options):
    values = dict(models=None, fields=[], points=None, seeds=False, amplitudes=None, runs=None, extensions=None,
                  ks=None) | options
    return script.configs(argparse.Namespace(experiment=experiment, **values))


@pytest.mark.parametrize("experiment, notebook", [("sweep", "06_waves_hyperparameters"),
                                                  ("overfitting", "08_grf_overfitting"),
                                                  ("refinement", "15_beyond_exact_refinement")])
def test_each_notebooks_paper_runs_are_selected_once(script, experiment, notebook):
    chosen = [config_key(c) for _, c, _ in selection(script, experiment)]
    assert len(chosen) == len(set(chosen)), f"{experiment}: {len(chosen) - len(set(chosen))} runs selected twice"
    assert set(chosen) == {config_key(c) for _, c in runs_of([notebook], "paper")}, (
        f"{experiment} selects other runs than {notebook} reads at the paper's budget")


def test_longest_first_puts_mlps_then_larger_kans_first(script):
    labels = [label for label, _, _ in selection(script, "sweep")]
    assert labels[0].startswith("MLP W256 D10") and labels[-1].startswith("KAN W3 D2"), labels
    assert labels.index("KAN W10 D4 G40 equal amplitudes (Section 4.2 sweep)") < labels.index(
        "KAN W10 D4 G5 equal amplitudes (Section 4.2 sweep)")


def test_filters_narrow_the_selection(script):
    kans = selection(script, "sweep", models=["kan"])
    assert kans and all(label.startswith("KAN") for label, _, _ in kans)
    one = selection(script, "overfitting", models=["kan3"], fields=["3,0.125"], points=[50000])
    assert [label for label, _, _ in one] == ["KAN W10 D3 G10-50 d=3 sigma=0.125 50,000 points"]
