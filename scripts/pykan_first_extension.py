"""pykan 0.2.8 itself at the first grid extension of Figure 3's KANs: does its ``refine`` wipe a hidden unit?

Usage (in a venv with pykan 0.2.8, as ``make pykan-first-extension`` runs it):
    python scripts/pykan_first_extension.py --fields 3,0.5 --models kan2 [--out results/pykan/first_extension.json]

For each run: the authors' script's first two stages as pykan runs them (``KAN(..., symbolic_enabled=False)``,
``fit(dataset, opt="LBFGS", steps=100, start_grid_update_step=-1)``, ``refine(20)``, one more ``fit`` step), on
the field kanpaper draws (the authors' field: their first-step values agree to rounding). At the refine it
records the basis functions of the new grid that no refit sample reaches
(:func:`kanpaper.experiments.first_extension.empty_basis_functions`, on the pykan model converted to kanpaper's),
the training RMSE before the refine, right after it as pykan solves it (``torch.linalg.lstsq``), as kanpaper
solves it (SciPy's gelsy) and with every pivot held (:func:`~kanpaper.experiments.first_extension.fixed_pivot_lstsq`),
and pykan's logged training RMSE at steps 100 and 101 (what the authors' files hold). Each finished run is written
to the output at once, with the versions and the machine, so an interrupted sweep keeps what it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kanpaper.experiments import paper                                        # noqa: E402
from kanpaper.experiments.first_extension import empty_basis_functions, extend_with_fixed_pivots   # noqa: E402
from kanpaper.experiments.grf import make_dataset                             # noqa: E402
from kanpaper.nn.pykan import kan_from_pykan                                  # noqa: E402
from kanpaper.runs.costs import machine                                        # noqa: E402
from kanpaper.base.provenance import commit                                   # noqa: E402

STEPS = 100          # the authors' steps per grid
GRIDS = (10, 20)     # their first extension


def one_run(dim: int, sigma: float, name: str) -> dict:
    import kan
    data = make_dataset(5000, dim, sigma, 0, None)
    dataset = {key: data[key] for key in ("train_input", "train_label", "test_input", "test_label")}
    x, y = dataset["train_input"], dataset["train_label"]

    def train_rmse(model) -> float:
        with torch.no_grad():
            return float(torch.sqrt(torch.mean((model(x) - y) ** 2)))

    depth = int(name[3:])
    torch.manual_seed(0)
    np.random.seed(0)
    start = time.perf_counter()
    model = kan.KAN(width=[dim] + [10] * (depth - 1) + [1], grid=GRIDS[0], k=3, symbolic_enabled=False, auto_save=True)
    first = model.fit(dataset, opt="LBFGS", steps=STEPS, start_grid_update_step=-1)
    samples = model.cache_data.clone()            # what refine fits at: fit's last forward input, the test inputs
    ours = kan_from_pykan(model)
    for layer in ours.layers:
        layer.pykan = "0.2.8"
    empty = empty_basis_functions(ours, GRIDS[1], samples)
    before = train_rmse(ours)
    exact, held = kan_from_pykan(model), kan_from_pykan(model)
    for converted in (exact, held):
        for layer in converted.layers:
            layer.pykan = "0.2.8"
    exact.extend_grid(GRIDS[1], samples)
    extend_with_fixed_pivots(held, GRIDS[1], samples)
    refined = model.refine(GRIDS[1])
    after_pykan = train_rmse(refined)
    second = refined.fit(dataset, opt="LBFGS", steps=1, start_grid_update_step=-1)
    logged = np.concatenate([np.ravel(first["train_loss"]), np.ravel(second["train_loss"])])
    return {"dim": dim, "sigma": sigma, "model": name, "samples": int(samples.shape[0]),
            "empty": [e.sum(dim=1).tolist() for e in empty],
            "first_empty": [[int(row.nonzero()[0]) if row.any() else -1 for row in e] for e in empty],
            "train_before": before, "train_after_pykan": after_pykan, "train_after_exact": train_rmse(exact),
            "train_after_fixed_pivots": train_rmse(held),
            "logged_train_100": float(logged[STEPS - 1]), "logged_train_101": float(logged[STEPS]),
            "seconds": time.perf_counter() - start}


def write(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", nargs="+", required=True, help="fields as d,sigma")
    parser.add_argument("--models", nargs="+", default=["kan2", "kan3", "kan4"], choices=("kan2", "kan3", "kan4"))
    parser.add_argument("--out", type=Path, default=Path("results/pykan/first_extension.json"))
    args = parser.parse_args()
    import kan
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    content = json.loads(args.out.read_text()) if args.out.exists() else {"runs": {}}
    content["about"] = {"what": __doc__.splitlines()[0], "pykan": getattr(kan, "__version__", "0.2.8"),
                        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
                        "machine": machine(), "threads": 1, "commit": commit()}
    workdir = Path(tempfile.mkdtemp(prefix="pykan-first-extension-"))   # pykan's auto_save writes ./model there
    here = Path.cwd()
    for field in args.fields:
        dim, sigma = int(field.split(",")[0]), float(field.split(",")[1])
        if (dim, sigma) not in {tuple(f) for f in paper.budget("grf", "paper")["fields"]}:
            raise SystemExit(f"no Figure 3 field d = {dim}, sigma = {sigma}")
        for name in args.models:
            label = f"d={dim} sigma={sigma} {name}"
            if label in content["runs"]:
                print(f"{label}: done before, kept")
                continue
            os.chdir(workdir)
            try:
                result = one_run(dim, sigma, name)
            finally:
                os.chdir(here)
            result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            content["runs"][label] = result
            write(args.out, content)
            print(f"{label}: train {result['logged_train_100']:.3e} -> {result['logged_train_101']:.3e} "
                  f"(pykan's refine {result['train_after_pykan']:.3e}, exact {result['train_after_exact']:.3e}); "
                  f"empty basis functions per layer {result['empty']}; {result['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
