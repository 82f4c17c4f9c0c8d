"""Speed of the kanpaper engine against pykan 0.2.5, same machine, same run (float64, CPU).

Run with ``make bench``. Prints a markdown table per benchmark.

Timing: every compared step (ours and pykan's, or one grid size against another) is
warmed up, then timed in short blocks that take turns, round after round, so that a
slow spell of the machine falls on all of them alike; each reports the minimum over
its blocks (background load only ever adds time, so the minimum is the steadiest
estimate, as ``timeit`` advises).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import tempfile
import time

import torch

from kanpaper import KAN, Ensemble, regression_loss
from kanpaper.nn import kernels

PATH = "fused kernels" if kernels.available() else "PyTorch ops (kernels unavailable)"
torch.set_default_dtype(torch.float64)   # pykan builds tensors in the default dtype; the paper used float64


def pykan_model(widths, grid, lean=False):
    from kan import KAN as PykanKAN

    model = PykanKAN(width=list(widths), grid=grid, k=3, auto_save=False, seed=1)
    if lean:  # what pykan's fit switches off when lamb = 0
        model.save_act, model.symbolic_enabled = False, False
    return model


def interleaved_times(steps: dict, n_steps: dict, rounds: int, warmup: int = 3) -> dict:
    """Seconds per call of each ``steps[name]()``: minimum over ``rounds`` blocks of
    ``n_steps[name]`` calls, the blocks of all steps taking turns."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(n_steps[name]):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / n_steps[name])
    return best


def adam_step(model, x, y):
    """One Adam step of ``model`` on the mean squared error, as each side trains:
    kanpaper.train uses the fused Adam kernel, pykan the default one."""
    fused = not type(model).__module__.startswith("kan.")
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, fused=fused)
    loss_fn = regression_loss(x, y)

    def step():
        loss = loss_fn(model).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def pure_torch(step):
    """``step`` run on the layer's pure PyTorch path (the fused kernels switched off)."""
    def run():
        with kernels.disabled():
            step()
    return run


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def bench_adam(quick):
    x = torch.rand(200, 1)
    y = torch.sin(20 * x)
    rows = []
    for widths, grid in (([1, 10, 10, 1], 10), ([1, 10, 10, 10, 1], 40)):
        n = 10
        steps = {"ours": adam_step(KAN(widths, grid_size=grid), x, y),
                 "torch": pure_torch(adam_step(KAN(widths, grid_size=grid), x, y)),
                 "pykan": adam_step(pykan_model(widths, grid), x, y),
                 "lean": adam_step(pykan_model(widths, grid, lean=True), x, y)}
        t = interleaved_times(steps, {"ours": n, "torch": n, "pykan": 3, "lean": 3}, 3 if quick else 20)
        rows.append([f"{widths} G={grid}", f"{t['pykan'] * 1e3:.2f}", f"{t['lean'] * 1e3:.2f}",
                     f"{t['torch'] * 1e3:.2f}", f"{t['ours'] * 1e3:.2f}", f"{t['pykan'] / t['ours']:.1f}x"])
    table("Adam step, N = 200 (ms per step)",
          ["model", "pykan", "pykan (save_act off)", "kanpaper (PyTorch ops)", f"kanpaper ({PATH})",
           "speed-up vs pykan"], rows)


def bench_grid_sweep(quick):
    x = torch.rand(200, 1)
    y = torch.sin(20 * x)
    grids = (5, 10, 20, 50, 100, 200, 500, 1000)
    ours = interleaved_times({g: adam_step(KAN([1, 10, 10, 1], grid_size=g), x, y) for g in grids},
                             dict.fromkeys(grids, 10), 3 if quick else 30)
    torch_ops = interleaved_times({g: pure_torch(adam_step(KAN([1, 10, 10, 1], grid_size=g), x, y)) for g in grids},
                                  dict.fromkeys(grids, 10), 3 if quick else 15)
    theirs = interleaved_times({g: adam_step(pykan_model([1, 10, 10, 1], g), x, y) for g in grids},
                               dict.fromkeys(grids, 2 if quick else 5), 2 if quick else 4, warmup=1)
    rows = [[str(g), f"{theirs[g] * 1e3:.1f}", f"{theirs[g] / theirs[10]:.1f}",
             f"{torch_ops[g] * 1e3:.2f}", f"{torch_ops[g] / torch_ops[10]:.2f}",
             f"{ours[g] * 1e3:.2f}", f"{ours[g] / ours[10]:.2f}", f"{theirs[g] / ours[g]:.1f}x"] for g in grids]
    table("Grid-size sweep, [1,10,10,1], Adam step, N = 200 (ms per step; ratio to G = 10)",
          ["G", "pykan", "pykan / pykan(G=10)", "kanpaper (PyTorch ops)", "ratio",
           f"kanpaper ({PATH})", "ratio", "speed-up"], rows)


def bench_extension(quick):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4000, 3, generator=gen) * 2 - 1
    rows = []
    ours_model = KAN([3, 10, 10, 1], grid_size=10)
    theirs_model = pykan_model([3, 10, 10, 1], 10)

    def ours():
        model = copy.deepcopy(ours_model)
        for grid in (20, 30, 40, 50):
            model.extend_grid(grid, x)

    def theirs():
        model = theirs_model
        model(x)                           # refine() reads the cached last forward input
        # refine() turns pykan's checkpointing on: keep its files and messages out of the way
        with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
            model.ckpt_path = scratch
            for grid in (20, 30, 40, 50):
                model = model.refine(grid)

    t_ours = interleaved_times({"ours": ours}, {"ours": 1}, 3, warmup=1)["ours"]
    t_theirs = interleaved_times({"theirs": theirs}, {"theirs": 1}, 1 if quick else 3, warmup=0)["theirs"]
    rows.append(["10 -> 20 -> 30 -> 40 -> 50", f"{t_theirs:.2f}", f"{t_ours:.3f}", f"{t_theirs / t_ours:.1f}x"])
    table("Grid extension, [3,10,10,1] on 4,000 samples (s for the four extensions)",
          ["schedule", "pykan refine", "kanpaper extend_grid", "speed-up"], rows)


def bench_ensemble(quick):
    x = torch.rand(200, 1)
    targets = torch.stack([torch.sin((5 + r) * x) for r in range(10)])
    rows = []
    for name, make in (("KAN [1,10,10,1] G=10", lambda s: KAN([1, 10, 10, 1], grid_size=10, seed=s)),
                       ("KAN [1,10,10,10,1] G=40", lambda s: KAN([1, 10, 10, 10, 1], grid_size=40, seed=s))):
        steps = {}
        for path, wrap in ((PATH, lambda step: step), ("PyTorch ops", pure_torch)):
            members = [make(s) for s in range(10)]
            separate = [adam_step(copy.deepcopy(m), x, targets[r]) for r, m in enumerate(members)]

            def sequential(separate=separate):   # one step of each of the ten runs
                for step in separate:
                    step()
            steps[path, "sequential"] = wrap(sequential)
            steps[path, "ensemble"] = wrap(adam_step(Ensemble(members), x, targets))
        t = interleaved_times(steps, dict.fromkeys(steps, 5), 3 if quick else 20)
        for path in dict.fromkeys(p for p, _ in steps):
            seq, ens = t[path, "sequential"], t[path, "ensemble"]
            rows.append([name, path, f"{seq * 1e3:.1f}", f"{ens * 1e3:.1f}", f"{seq / ens:.1f}x"])
    table("10 independent repeats, Adam step, N = 200 (ms for one step of all ten)",
          ["model", "layer", "10 sequential runs", "one batched ensemble", "speed-up"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke check of the script)")
    parser.add_argument("--only", choices=["adam", "grid", "extension", "ensemble"], nargs="*")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, CPU; "
          f"kanpaper layer: {PATH}")
    runs = {"adam": bench_adam, "grid": bench_grid_sweep, "extension": bench_extension, "ensemble": bench_ensemble}
    for name in args.only or runs:
        runs[name](args.quick)


if __name__ == "__main__":
    main()
