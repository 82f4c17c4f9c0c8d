"""Convert the authors' per-step result files into kanpaper's reference data (run once; the output is committed).

Usage: python scripts/build_reference_data.py PATH_TO_A_CLONE_OF_RoyWangyx/spectral_bias-KAN

Reads, at the clone's HEAD, the text files (one number per line, one line per L-BFGS step) of
``PDE_drm_1d/`` (Figure 5) and ``GRF/`` (Figures 3 and 4 and the overfitting study) and writes
``kanpaper/analysis/reference_data/{poisson,grf}.json.gz``: provenance (repository, commit, date) and, per file,
its path, the quantity and unit it holds and its values (17 significant digits: the files' own precision).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = "RoyWangyx/spectral_bias-KAN"
OUT = Path(__file__).resolve().parents[1] / "kanpaper" / "analysis" / "reference_data"


def git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(clone), *args], check=True, capture_output=True, text=True).stdout


def values(clone: Path, path: str) -> list[float]:
    return [float(line) for line in git(clone, "show", f"HEAD:{path}").split()]


def poisson_series(clone: Path, paths: list[str]) -> list[dict]:
    series = []
    for path in paths:
        match = re.fullmatch(r"PDE_drm_1d/(l2|h1)_scale_(\d+)model_(KAN|MLP)\.txt", path)
        if not match:
            continue
        norm, k, model = match.groups()
        series.append({"path": path, "model": model.lower(), "k": int(k), "error": norm,
                       "quantity": f"mean squared error of {'u' if norm == 'l2' else 'du/dx'} on the 2,000 points",
                       "unit": "MSE", "values": values(clone, path)})
    return series


GRF_NAME = re.compile(r"GRF/(train|test)loss_(overfit_)?(?:width(\d+)_)?(?:depth(\d)_)?(?:dim_(\d)_)?"
                      r"scale_([\d.]+)_model_(KAN|MLP|MLP_ReLU1|MLP_ReLU3)\.txt")
GRF_MODEL = {"MLP": "mlp_tanh", "MLP_ReLU1": "mlp_relu", "MLP_ReLU3": "mlp_relu3"}


def grf_series(clone: Path, paths: list[str]) -> list[dict]:
    series = []
    for path in paths:
        match = GRF_NAME.fullmatch(path)
        if not match:
            continue
        split, overfit, width, depth, dim, sigma, model = match.groups()
        kan = model == "KAN"
        name = f"kan{depth}" if kan else GRF_MODEL[model]
        if kan and width:
            name += f"_width{width}"
        series.append({
            "path": path, "split": split, "study": "overfit" if overfit else "figures",
            "model": name, "dim": 3 if overfit else int(dim), "sigma": float(sigma),
            "quantity": f"{split} error on the normalised labels after each L-BFGS step",
            # pykan's fit logs the root mean square error; the MLP scripts log torch.norm(...)**2 / N
            "unit": "RMSE" if kan else "MSE",
            "values": values(clone, path)})
    return series


def main(clone: Path) -> None:
    commit = git(clone, "rev-parse", "HEAD").strip()
    date = git(clone, "log", "-1", "--format=%cI").strip()
    paths = git(clone, "ls-tree", "-r", "--name-only", "HEAD").split("\n")
    provenance = {"repository": REPOSITORY, "commit": commit, "commit_date": date,
                  "note": "The authors' result files, one value per L-BFGS step (value i: after step i + 1)."}
    notes = {
        "poisson": "Figure 5 (Section 4.4): Deep Ritz, 2,000 points on [-1, 1], KAN [1,10,1] grid 20 -> 40 "
                   "(100 + 100 steps), tanh MLP 6x256 (200 steps). Their plot.ipynb plots the square roots (RMS); "
                   "their PNGs normalise further.",
        "grf": "Figures 3-4 (Section 4.3): study 'figures' (5,000 points, 4,000 train) and 'overfit' "
               "(50,000 points, d = 3). KAN files: width 10 unless the model names a width; the paper's figures "
               "(GRF/plot.ipynb) plot the files without a width in their name. Runs that diverged hold NaN.",
    }
    for name, build in (("poisson", poisson_series), ("grf", grf_series)):
        series = build(clone, paths)
        data = {"provenance": {**provenance, "experiment": notes[name]}, "series": series}
        target = OUT / f"{name}.json.gz"
        with gzip.GzipFile(target, "wb", mtime=0) as handle:
            handle.write(json.dumps(data, indent=0).encode())
        print(f"{target}: {len(series)} series, {target.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
