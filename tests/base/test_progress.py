"""Progress on long work: a bar, one line when done, or nothing, as KANPAPER_PROGRESS says."""

import pytest
import torch

from kanpaper import MLP, regression_loss, train
from kanpaper.experiments.spec import layer_widths


def test_progress_modes_report_one_line_or_nothing(monkeypatch, capsys):
    from kanpaper.base import progress

    x = torch.linspace(-1, 1, 20, dtype=torch.float64)[:, None]
    loss = regression_loss(x, torch.sin(3 * x))
    monkeypatch.setenv(progress.ENV_VAR, "lines")
    train(MLP(layer_widths(1, 8, 2, 1)), loss, 3, desc="demo")
    out, err = capsys.readouterr()
    assert out.startswith("demo: 3 steps in ") and "final loss" in out and out.count("\n") == 1 and err == ""
    monkeypatch.setenv(progress.ENV_VAR, "off")
    train(MLP(layer_widths(1, 8, 2, 1)), loss, 3, desc="demo")
    assert capsys.readouterr() == ("", "")
    monkeypatch.setenv(progress.ENV_VAR, "loud")
    with pytest.raises(ValueError, match="KANPAPER_PROGRESS 'loud'; allowed: 'bar', 'lines', 'off'"):
        train(MLP(layer_widths(1, 8, 2, 1)), loss, 3)
