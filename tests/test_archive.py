"""The committed archive regenerates: its cheapest run per experiment, replayed for its first steps at this
checkout, gives the archived bits; a run computed otherwise (another BLAS thread count) does not."""

import json

import numpy as np
import pytest

from kanpaper import archive
from kanpaper.notebook import ARCHIVE, paper_archive
from kanpaper.runs.replay import replay

RUNS = archive.archived_runs()


def test_every_archived_run_is_a_notebook_run_with_its_arrays():
    manifest = json.loads((ARCHIVE / "MANIFEST.json").read_text())
    assert [run.key for run in RUNS] == sorted(manifest)
    assert all((ARCHIVE / f"{run.key}.npz").exists() for run in RUNS)


@pytest.mark.parametrize("run", [r for r in archive.to_verify(RUNS) if r.regenerable],
                         ids=lambda r: r.manifest["experiment"])
def test_the_cheapest_regenerable_run_per_experiment_replays_bit_for_bit(run):
    result = archive.verify(run)
    assert result.identical, f"{run.manifest['run']}: first differences {result.first_diff}"


def test_a_run_made_on_other_blas_threads_does_not_replay():
    """Superseded runs (moved aside when recomputed) and those not regenerable: the same config, rounding apart."""
    superseded = ARCHIVE / "superseded"
    others = [(run, paper_archive().load(run.config)) for run in RUNS if not run.regenerable]
    if superseded.exists():
        by_key = {run.key: run for run in archive.archived_runs()}
        others += [(by_key[path.stem], dict(np.load(path))) for path in sorted(superseded.glob("*.npz"))
                   if path.stem in by_key]
    assert others, "no run made otherwise to show the replay failing"
    run, stored = min(others, key=lambda pair: pair[0].manifest["wall_seconds"])
    assert not replay(run.run, run.config, stored, archive.prefix_steps(run.config)).identical


def test_some_runs_regenerate_and_every_experiment_has_one_verified():
    assert any(run.regenerable for run in RUNS)
    assert {r.manifest["experiment"] for r in archive.to_verify(RUNS)} == {r.manifest["experiment"] for r in RUNS}
