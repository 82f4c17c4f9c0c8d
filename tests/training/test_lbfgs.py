"""pykan's L-BFGS and its step schedule, followed step for step."""

import torch

from kanpaper import KAN, GridSchedule
from kanpaper.training.lbfgs import pykan_lbfgs


def test_lbfgs_matches_pykan_optimizer(float64_default, data):
    from kan.LBFGS import LBFGS as PykanLBFGS

    x, y = data
    ours, theirs = KAN([2, 4, 1], grid_size=5), KAN([2, 4, 1], grid_size=5)
    opt_ours = pykan_lbfgs(ours.parameters())
    opt_theirs = PykanLBFGS(theirs.parameters(), lr=1, history_size=10, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-32, tolerance_change=1e-32, tolerance_ys=1e-32)
    for _ in range(15):
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            def closure(model=model, opt=opt):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                return loss
            opt.step(closure)
    assert (ours(x) - theirs(x)).abs().max() < 1e-12


def test_pykan_schedule_steps():
    schedule = GridSchedule.pykan(torch.zeros(4, 1), [10, 20, 30], 100)
    assert sorted(schedule.updates) == [s + o for o in (0, 100, 200) for s in range(0, 50, 5)]
    assert schedule.extensions == {100: 20, 200: 30}
