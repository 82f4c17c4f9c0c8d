"""Each notebook's run list: every notebook that computes is listed, with the configuration functions it calls."""

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
from kanpaper import estimate
from kanpaper.notebook import notebook_runs


def test_every_notebook_with_runs_is_in_the_cost_model_with_the_functions_it_calls():
    runs = notebook_runs("smoke")
    calls = {"00_overview": ["overview_configs"], "05_waves_fig1_fig2": ["figure_1_configs"],
             "06_waves_hyperparameters": ["waves_sweep_configs", "grid_extension_configs"],
             "07_grf_fig3_fig4": ["figure_3_configs"], "08_grf_overfitting": ["overfitting_configs"],
             "09_poisson_fig5": ["figure_5_configs"], "10_kan_vs_mlp_parameters": ["efficiency_configs"],
             "11_guidance": ["figure_3_configs"]}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        source = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        trains = any(name in source for name in ("run_experiments(", "run_sweep("))
        assert (path.stem in runs) == trains, f"{path.stem}: trains {trains}, in the cost model {path.stem in runs}"
        assert path.stem in estimate.OWN_WORK_SECONDS, f"{path.stem} has no measured own work"
        for name in calls.get(path.stem, []):
            assert f"{name}(" in source, f"{path.stem} no longer calls {name}"
