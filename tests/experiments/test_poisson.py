import numpy as np
import pytest
import torch
from torch import nn

from kanpaper.experiments import poisson
from kanpaper.experiments.spec import ModelSpec


class Exact(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return poisson.exact_solution(x, self.k)


@pytest.mark.parametrize("k", [2, 4, 8, 16, 32])
def test_exact_solution_solves_the_problem(k):
    x = poisson.collocation_points(301)
    u, du, d2u = poisson.derivatives(Exact(k), x, order=2)
    assert torch.allclose(du, poisson.exact_derivative(x, k), atol=1e-10)
    assert torch.allclose(-d2u, poisson.source(x, k), atol=1e-8 * k ** 2)
    assert abs(u[0].item()) < 1e-14 and abs(u[-1].item()) < 1e-13


@pytest.mark.parametrize("k", [2, 16])
def test_losses_at_the_exact_solution(k):
    # Deep Ritz energy of u*: mean over [-1, 1] of u'^2/2 - f u = -(1/2) mean(u'^2) = -pi^2 / 2 (integer k > 1)
    x = poisson.collocation_points(4001)
    ritz = poisson.deep_ritz_loss(x, k, weight=1.0)(Exact(k)).item()
    assert ritz == pytest.approx(-np.pi ** 2 / 2, rel=1e-3)
    pinn = poisson.pinn_loss(x, k, weight=1.0)(Exact(k)).item()
    assert pinn < 1e-12
    errors = poisson.solution_errors(Exact(k), x, k)
    assert errors["l2"].item() < 1e-14 and errors["h1"].item() < 1e-12


def test_errors_are_root_mean_squares():
    x = poisson.collocation_points(1001)
    zero = lambda t: 0.0 * t  # noqa: E731
    errors = poisson.solution_errors(zero, x, 4)
    assert errors["l2"].item() == pytest.approx(np.sqrt(np.mean(poisson.exact_solution(x, 4).numpy() ** 2)))


def test_midpoints_lie_between_the_collocation_points():
    x = poisson.collocation_points(5)
    assert poisson.midpoints(x)[:, 0].tolist() == [-0.75, -0.25, 0.25, 0.75]


def test_run_poisson_kan_and_mlp_learn():
    kan_spec = ModelSpec.kan([1, 10, 1], 5, noise_scale=0.1, seed=1).as_dict()
    common = dict(k=2, n_points=200, grids=[5, 10], steps_per_grid=4)
    kan = poisson.run_poisson(dict(common, model=kan_spec), progress=False)
    mlp = poisson.run_poisson(dict(common, model=ModelSpec.mlp([1, 16, 16, 1], "tanh").as_dict()), progress=False)
    for run in (kan, mlp):
        assert run["l2"].shape == run["h1"].shape == run["loss"].shape == (8,)
        assert np.isfinite(run["l2"]).all() and run["u"].shape == (200,)
        assert run["l2"][-1] < 0.5 * run["l2"][0]
        # off the collocation points: a smooth fit errs there about as much as on them
        assert run["l2_off"].shape == () and 0.5 < run["l2_off"] / run["l2"][-1] < 2
    again = poisson.run_poisson(dict(common, model=kan_spec), progress=False)
    assert np.array_equal(kan["l2"], again["l2"])
    pinn = poisson.run_poisson(dict(common, model=kan_spec, loss="pinn"), progress=False)
    assert np.isfinite(pinn["l2"]).all()


def test_bad_parameters():
    x = poisson.collocation_points(10)
    with pytest.raises(ValueError, match="positive"):
        poisson.exact_solution(x, -1)
    with pytest.raises(ValueError, match="n_points"):
        poisson.collocation_points(1)
    with pytest.raises(ValueError, match="loss"):
        poisson.run_poisson(dict(model=ModelSpec.kan([1, 2, 1], 5).as_dict(), k=2, n_points=10, grids=[5],
                                 steps_per_grid=1, loss="galerkin"))
    with pytest.raises(ValueError, match="shape"):
        poisson.derivatives(Exact(2), torch.zeros(3, 2, dtype=torch.float64))
