"""The paper's configurations: budgets per scale, the authors' settings in every figure."""

import pytest

from kanpaper.experiments import paper
from kanpaper.experiments.spec import describe


def test_budgets_per_scale():
    with pytest.raises(ValueError, match="unknown scale 'huge'; allowed: 'smoke', 'default', 'paper'"):
        paper.budget("waves", "huge")
    with pytest.raises(ValueError, match="unknown experiment"):
        paper.budget("nope", "smoke")
    for scale in ("smoke", "default", "paper"):
        assert paper.budget("waves", scale)["n_points"] == 200
    waves = paper.budget("waves", "paper")
    assert (waves["kan_steps"], waves["mlp_steps"], waves["repeats"]) == (8000, 80000, 10)
    poisson = paper.budget("poisson", "paper")                       # the authors' budgets
    assert (poisson["n_points"], poisson["steps_per_grid"], poisson["ks"]) == (2000, 100, [2, 4, 8, 16, 32])
    grf = paper.budget("grf", "paper")
    assert (grf["n_points"], grf["steps_per_grid"], grf["overfit_points"]) == (5000, 100, 50000)
    assert len(grf["fields"]) == 12 and len(grf["overfit_models"]) == 5
    default = paper.budget("grf", "default")                        # a rough and a smooth field, two dimensions
    assert {d for d, _ in default["fields"]} == {2, 3} and {s <= 0.25 for _, s in default["fields"]} == {True, False}


def test_the_figures_are_configured_with_the_authors_settings():
    fig1 = paper.figure_1_configs("equal", "paper")
    assert [describe(c) for c in fig1] == ["MLP W256 D10", "MLP W256 D6", "MLP W128 D6", "KAN W10 D3 G10",
                                           "KAN W10 D3 G40", "KAN W10 D4 G10", "KAN W10 D4 G40"]
    assert {c["lr"] for c in fig1} == {3e-4} and {c["repeats"] for c in fig1} == {10}
    assert [c["steps"] for c in fig1] == [80000] * 3 + [8000] * 4
    kans, mlps = paper.waves_sweep_configs("smoke")
    assert len(kans) == 24 and len(mlps) == 8
    fig3 = paper.figure_3_configs("paper")
    assert len(fig3) == 12 * 5 and {tuple(c["grids"]) for c in fig3.values()} == {(10, 20, 30, 40, 50)}
    assert fig3[3, 0.125, "kan3"]["model"]["widths"] == [3, 10, 10, 1]
    fig5 = paper.figure_5_configs("ritz", "paper")
    kan = fig5["kan", 32]
    assert kan["model"]["widths"] == [1, 10, 1] and kan["model"]["noise_scale"] == 0.1 and kan["grids"] == [20, 40]
    assert fig5["mlp", 32]["model"]["widths"] == [1] + [256] * 5 + [1]
    overfit = paper.overfitting_configs("paper")
    assert {n for _, _, n in overfit} == {5000, 50000}
    assert all("anchors" in c for (_, _, n), c in overfit.items() if n == 50000)
