"""What a reader needs to cite and reuse the companion: the licence it declares, a valid CITATION.cff, and a data
package whose hashes hold."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from kanpaper import __version__, datapackage
from kanpaper.datapackage import ROOT

CFFCONVERT = os.environ.get("KANPAPER_CFFCONVERT")


def test_the_licence_is_the_declared_one_and_ships_in_the_wheel(tmp_path):
    """The wheel's metadata as setuptools writes it into the wheel (without compiling the kernels)."""
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    script = f"from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel({str(tmp_path)!r}))"
    made = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    dist_info = tmp_path / made.stdout.split()[-1]
    assert (dist_info / "licenses" / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert "License-Expression: MIT" in (dist_info / "METADATA").read_text()


def test_citation_names_this_version_and_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == __version__ and citation["license"] == "MIT"
    assert citation["preferred-citation"]["title"] == "On the expressiveness and spectral bias of KANs"
    assert [a["family-names"] for a in citation["preferred-citation"]["authors"]] == ["Wang", "Siegel", "Liu", "Hou"]


@pytest.mark.skipif(not CFFCONVERT, reason="make test provides cffconvert (KANPAPER_CFFCONVERT)")
def test_citation_is_valid_cff_and_an_invalid_one_is_not(tmp_path):
    ok = subprocess.run([CFFCONVERT, "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "CITATION.cff"
    broken.write_text((ROOT / "CITATION.cff").read_text().replace("cff-version: 1.2.0", "cff-version: 1.2.0\ndate-released: soon"))
    assert subprocess.run([CFFCONVERT, "--validate", "-i", str(broken)], capture_output=True).returncode != 0


def test_the_data_package_lists_every_data_file_with_a_hash_that_holds():
    committed = json.loads(datapackage.PACKAGE_FILE.read_text())
    now = datapackage.data_package()
    listed = {r["path"]: r["hash"] for r in committed["resources"]}
    actual = {r["path"]: r["hash"] for r in now["resources"]}
    assert sorted(set(actual) - set(listed)) == [], "files the data package does not list (python -m kanpaper.datapackage)"
    assert sorted(set(listed) - set(actual)) == [], "listed files that are gone"
    assert [path for path in actual if actual[path] != listed[path]] == [], "files whose sha256 changed"
    assert committed == now


def test_a_changed_or_added_file_changes_the_package(tmp_path, monkeypatch):
    for relative in ("kanpaper/analysis/reference_data", "results/paper"):
        (tmp_path / relative).mkdir(parents=True)
    shutil.copy(ROOT / "kanpaper/analysis/reference_data/poisson.json.gz", tmp_path / "kanpaper/analysis/reference_data")
    (tmp_path / "results/paper/MANIFEST.json").write_text(json.dumps({"abc": {"run": "a run", "experiment": "grf"}}))
    np.savez(tmp_path / "results/paper/abc.npz", train=np.arange(3.0))
    monkeypatch.setattr(datapackage, "ROOT", tmp_path)
    before = datapackage.data_package()
    assert {r["path"]: r["title"] for r in before["resources"]}["results/paper/abc.npz"] == "a run (grf)"
    np.savez(tmp_path / "results/paper/abc.npz", train=np.arange(3.0) + 1e-16)
    changed = datapackage.data_package()
    assert [r["hash"] for r in changed["resources"]] != [r["hash"] for r in before["resources"]]
    np.savez(tmp_path / "results/paper/def.npz", train=np.zeros(1))
    assert len(datapackage.data_package()["resources"]) == len(before["resources"]) + 1
