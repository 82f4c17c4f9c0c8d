"""Speed of the kanpaper engine against pykan 0.2.5, same machine, same run (float64, CPU).

Run with ``make bench``. Prints a markdown table per benchmark. Times are
medians over several blocks of steps, after warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import statistics
import tempfile
import time

import torch

from kanpaper import KAN, Ensemble, regression_loss

torch.set_default_dtype(torch.float64)   # pykan builds tensors in the default dtype; the paper used float64


def pykan_model(widths, grid, lean=False):
    from kan import KAN as PykanKAN

    model = PykanKAN(width=list(widths), grid=grid, k=3, auto_save=False, seed=1)
    if lean:  # what pykan's fit switches off when lamb = 0
        model.save_act, model.symbolic_enabled = False, False
    return model


def time_steps(step, n_steps, blocks=5, warmup=3):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        times.append((time.perf_counter() - start) / n_steps)
    return statistics.median(times)


def adam_step_time(model, x, y, n_steps):
    # each side as it trains: kanpaper.train uses the fused Adam kernel, pykan the default one
    fused = not type(model).__module__.startswith("kan.")
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, fused=fused)
    loss_fn = regression_loss(x, y)

    def step():
        loss = loss_fn(model).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time_steps(step, n_steps)


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
        n = 20 if quick else 100
        ours = adam_step_time(KAN(widths, grid_size=grid), x, y, n)
        theirs = adam_step_time(pykan_model(widths, grid), x, y, max(n // 4, 5))
        lean = adam_step_time(pykan_model(widths, grid, lean=True), x, y, max(n // 4, 5))
        rows.append([f"{widths} G={grid}", f"{theirs * 1e3:.2f}", f"{lean * 1e3:.2f}", f"{ours * 1e3:.2f}",
                     f"{theirs / ours:.1f}x"])
    table("Adam step, N = 200 (ms per step)",
          ["model", "pykan", "pykan (save_act off)", "kanpaper", "speed-up vs pykan"], rows)


def bench_grid_sweep(quick):
    x = torch.rand(200, 1)
    y = torch.sin(20 * x)
    rows, base = [], {}
    for grid in (5, 10, 20, 50, 100, 200, 500, 1000):
        ours = adam_step_time(KAN([1, 10, 10, 1], grid_size=grid), x, y, 10 if quick else 50)
        theirs = adam_step_time(pykan_model([1, 10, 10, 1], grid), x, y, 3 if quick else 10)
        base.setdefault("ours", ours), base.setdefault("theirs", theirs)
        if grid == 10:
            base.update(ours=ours, theirs=theirs)
        rows.append([str(grid), f"{theirs * 1e3:.1f}", f"{ours * 1e3:.2f}", f"{theirs / ours:.1f}x"])
    for row in rows:
        row.insert(2, f"{float(row[1]) / (base['theirs'] * 1e3):.1f}")
        row.insert(4, f"{float(row[3]) / (base['ours'] * 1e3):.2f}")
    table("Grid-size sweep, [1,10,10,1], Adam step, N = 200 (ms per step; ratio to G = 10)",
          ["G", "pykan", "pykan / pykan(G=10)", "kanpaper", "kanpaper / kanpaper(G=10)", "speed-up"], rows)


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

    t_ours = time_steps(ours, 1, blocks=3, warmup=1)
    t_theirs = time_steps(theirs, 1, blocks=1 if quick else 3, warmup=0)
    rows.append(["10 -> 20 -> 30 -> 40 -> 50", f"{t_theirs:.2f}", f"{t_ours:.3f}", f"{t_theirs / t_ours:.1f}x"])
    table("Grid extension, [3,10,10,1] on 4,000 samples (s for the four extensions)",
          ["schedule", "pykan refine", "kanpaper extend_grid", "speed-up"], rows)


def bench_ensemble(quick):
    x = torch.rand(200, 1)
    targets = torch.stack([torch.sin((5 + r) * x) for r in range(10)])
    n = 10 if quick else 40
    rows = []
    for name, make in (("KAN [1,10,10,1] G=10", lambda s: KAN([1, 10, 10, 1], grid_size=10, seed=s)),
                       ("KAN [1,10,10,10,1] G=40", lambda s: KAN([1, 10, 10, 10, 1], grid_size=40, seed=s))):
        members = [make(s) for s in range(10)]
        sequential = sum(adam_step_time(m, x, targets[r], n) for r, m in enumerate(members))
        ensemble = adam_step_time(Ensemble(members), x, targets, n)
        rows.append([name, f"{sequential * 1e3:.1f}", f"{ensemble * 1e3:.1f}", f"{sequential / ensemble:.1f}x"])
    table("10 independent repeats, Adam step, N = 200 (ms for one step of all ten)",
          ["model", "10 sequential runs", "one batched ensemble", "speed-up"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke check of the script)")
    parser.add_argument("--only", choices=["adam", "grid", "extension", "ensemble"], nargs="*")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, CPU")
    runs = {"adam": bench_adam, "grid": bench_grid_sweep, "extension": bench_extension, "ensemble": bench_ensemble}
    for name in args.only or runs:
        runs[name](args.quick)


if __name__ == "__main__":
    main()
