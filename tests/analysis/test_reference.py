"""The authors' per-step files as reference data: units and provenance."""

import numpy as np
import pytest

from kanpaper.analysis import reference


def test_reference_units_and_provenance():
    series = reference.poisson("mlp", 32, "h1")
    assert series.unit == "MSE" and series.steps == 200
    assert np.allclose(series.values("RMSE") ** 2, series.raw, rtol=1e-15)
    assert series.source().startswith("RoyWangyx/spectral_bias-KAN@febd92a:PDE_drm_1d/h1_scale_32model_MLP")
    assert reference.grf("kan3", 3, 0.125, "train").unit == "RMSE"      # pykan logs RMSE
    assert reference.grf("mlp_tanh", 3, 0.125, "train").unit == "MSE"   # the MLP scripts log MSE
    row = reference.side_by_side(np.full(30, 0.5), reference.grf("kan3", 3, 0.125, "test"), "RMSE")
    assert row["step"] == 30 and row["their_steps"] == 500
    assert row["theirs_same_step"] == reference.grf("kan3", 3, 0.125, "test").raw[29]
    with pytest.raises(ValueError, match="unit"):
        series.values("RMS")
    with pytest.raises(KeyError, match="no file"):
        reference.grf("kan3", 5, 0.125, "train")
    with pytest.raises(ValueError, match="step must be in 1..200"):
        series.at_step(0, "MSE")
