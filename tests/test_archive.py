"""The committed archive regenerates: its cheapest run per experiment, replayed for its first steps at this
checkout, gives the archived bits (or, for a run made on another CPU, this CPU's replay reference); a run computed
otherwise (another BLAS thread count) does not."""

import dataclasses
import json

import numpy as np
import pytest

from kanpaper import archive
from kanpaper.base import provenance
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
    checked = archive.verify(run)
    if not checked.bitwise_expected:
        pytest.skip(f"{run.manifest['run']} was made on {run.manifest['machine']}, and no replay reference for "
                    f"{provenance.numerics()} is committed (python -m kanpaper.archive --reference writes one)")
    assert checked.replay.identical, f"{run.manifest['run']} against the {checked.against}: first differences " \
                                     f"{checked.replay.first_diff}"


def test_a_run_is_made_here_only_on_the_same_cpu_model_and_instruction_set():
    run = RUNS[0]
    here = provenance.numerics()
    same = dataclasses.replace(run, manifest={**run.manifest, "machine": f"{here['cpu']}, 64 cores"})
    assert same.made_here
    recorded = dataclasses.replace(same, manifest={**same.manifest, "cpu_capability": here["cpu_capability"]})
    assert recorded.made_here
    assert not dataclasses.replace(same, manifest={**same.manifest, "cpu_capability": "NO AVX"}).made_here
    assert not dataclasses.replace(run, manifest={**run.manifest, "machine": "Another CPU, 2 cores"}).made_here


def test_a_replay_reference_is_compared_bit_for_bit_and_one_ulp_is_found(tmp_path, monkeypatch):
    """A run made on another CPU is checked against this CPU's reference: the true one replays, a nudged one
    (the last record moved by one ulp) does not, and without one the replay is not expected to match."""
    run = min((r for r in RUNS if r.regenerable and r.manifest["experiment"] == "poisson"),
              key=lambda r: r.manifest["wall_seconds"])
    elsewhere = dataclasses.replace(run, manifest={**run.manifest, "machine": "Another CPU, 2 cores"})
    monkeypatch.setattr(archive, "REFERENCES", tmp_path)
    monkeypatch.setattr(archive, "commit", lambda: "0" * 40)
    assert archive.verify(elsewhere).against == "elsewhere"
    written = archive.record_reference(elsewhere)
    assert written.parent.parent == tmp_path and written.name == f"{run.key}.npz"
    checked = archive.verify(elsewhere)
    assert checked.against == "reference" and checked.bitwise_expected and checked.replay.identical
    assert "l2" in checked.replay.compared
    with np.load(written) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["l2"][-1] = np.nextafter(arrays["l2"][-1], np.inf)
    np.savez(written, **arrays)
    nudged = archive.verify(elsewhere)
    assert not nudged.replay.identical and nudged.replay.first_diff == {"l2": len(arrays["l2"]) - 1}


def test_a_reference_is_recorded_from_a_clean_checkout_only(monkeypatch):
    monkeypatch.setattr(archive, "commit", lambda: "0" * 40 + "-dirty")
    with pytest.raises(RuntimeError, match="clean checkout"):
        archive.record_reference(RUNS[0])


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


def test_coverage_counts_the_archived_runs_of_each_notebook():
    rows = {row["notebook"]: row for row in archive.coverage()}
    # 12 fields x 5 models, 36 first-extension probes (all archived) and 24 seed runs (as far as archived)
    assert rows["07_grf_fig3_fig4"]["runs"] == 120 and 96 <= rows["07_grf_fig3_fig4"]["archived"] <= 120
    assert rows["09_poisson_fig5"]["runs"] == 30 and "00_overview" in rows    # 10 runs of Figure 5, 20 seed runs
    assert all(0 <= row["archived"] <= row["runs"] and row["hours"] >= 0 for row in rows.values())
    manifest = json.loads((ARCHIVE / "MANIFEST.json").read_text())
    held = {run.key for run in RUNS}
    assert held == set(manifest)
    assert max(row["archived"] for row in rows.values()) <= len(held)


def test_pending_lists_the_runs_not_archived_with_their_checkpoints_progress(tmp_path, monkeypatch):
    """``--pending``: every paper-budget run that coverage counts as missing, none archived, and for a run with a
    checkpoint its step, the time to go at its pace so far and the checkpoint's age; an unusable one is said."""
    from kanpaper.training import checkpoint as checkpoints
    monkeypatch.setenv(checkpoints.CHECKPOINT_DIR_ENV, str(tmp_path))
    rows = archive.pending()
    missing = {row["notebook"]: row["runs"] - row["archived"] for row in archive.coverage()}
    assert {n: sum(r["notebook"] == n for r in rows) for n in missing if missing[n]} == \
        {n: k for n, k in missing.items() if k}
    manifest = json.loads((ARCHIVE / "MANIFEST.json").read_text())
    assert not {row["key"] for row in rows} & set(manifest)
    first, second = rows[0], rows[1]
    checkpoints.for_run(first["key"]).save({"done": first["steps"] // 4, "seconds": 3600.0})
    checkpoints.for_run(second["key"]).path.write_bytes(b"half a file")
    saved = (tmp_path / f"{first['key']}.pt").stat().st_mtime
    table = archive.pending_table(now=saved + 600).splitlines()
    line = next(text for text in table if first["run"] in text)
    assert f"step {first['steps'] // 4:,} of {first['steps']:,}, 1.00 h computed, about 3.0 h to go" in line
    assert line.endswith("saved 10 min ago")
    assert "checkpoint unusable (not a kanpaper checkpoint): it restarts from scratch" in \
        next(text for text in table if second["run"] in text)
    assert table[0].startswith(f"{len(rows)} paper-budget runs not archived")
