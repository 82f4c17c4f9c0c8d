"""kanpaper against the KAN libraries a user would pick instead, on the paper's workloads, float64, CPU.

``make bench-libraries`` runs it: kanpaper and pykan 0.2.5 from the project's venv, the latest pykan, jaxKAN
(``jax_enable_x64``, its float32 parameters cast to float64) and the packaged B-spline KANs that appeared since,
inKAN and FlashKAN (cubic splines on a fixed uniform grid only, cast to float64), from a second venv
(``.venv-libraries``; pykan 0.2.5 and the latest pykan cannot share one), each library in its own process, one after
another; then one table. Workloads:

- Adam step, N = 200: [1,10,10,1] G = 10, [1,10,10,10,1] G = 40, [1,10,10,1] G = 1000 (Figures 1-2's KANs);
- forward + backward and one L-BFGS step at N = 40,000, [3,10,10,1] G = 50 (the GRF overfitting study):
  pykan's settings (history 10, strong Wolfe, 20 iterations) for the PyTorch libraries, 20 iterations of optax's
  L-BFGS (memory 10, zoom line search) in one jitted loop for jaxKAN; again after a grid update to the data, as
  the GRF runs train (kanpaper's basis on uniform knots has a closed form; pykan's recursion costs the same on
  any knots, so its L-BFGS step is not repeated; inKAN and FlashKAN have no grid update: "n/a"); their L-BFGS is
  PyTorch's with pykan's settings;
- one Deep Ritz step, N = 2,000, [1,10,1] G = 40, u' by automatic differentiation (Figure 5), Adam (inKAN in its
  eager mode, ``compile_basis=False``, which it documents for second derivatives; FlashKAN's basis is always
  ``torch.compile``d, which does not differentiate twice: the row says what a user meets);
- kanpaper only: a ten-repeat ensemble of W256 D10 MLPs (Figure 1's widest), Adam step, N = 200, in GFLOP/s against
  this machine's float64 matrix-product peak (a 2,048 x 2,048 product).

Every timing is the fastest of several blocks of steps after a warm-up (jaxKAN: after compilation), except the
L-BFGS step: one step (pykan's takes minutes), after compilation for jaxKAN. pykan runs
lean (``save_act`` and the symbolic branch off, as its ``fit`` does with no regularisation); kanpaper with its
fused kernels and fused Adam, as it trains; inKAN and FlashKAN as they ship (their bases ``torch.compile``d,
timed after compilation). Usage: ``python bench_libraries.py --library NAME`` prints JSON lines;
``python bench_libraries.py --compare --other-python PATH`` runs them all and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time

ADAM_MODELS = [([1, 10, 10, 1], 10), ([1, 10, 10, 10, 1], 40), ([1, 10, 10, 1], 1000)]
LBFGS_MODEL, LBFGS_POINTS = ([3, 10, 10, 1], 50), 40_000
RITZ_MODEL, RITZ_POINTS, RITZ_K = ([1, 10, 1], 40), 2000, 4.0


def best_of(step, calls: int, rounds: int = 5, warmup: int = 2) -> float:
    """Seconds per call of ``step()``: the fastest of ``rounds`` blocks of ``calls`` calls (fewer calls, down to
    one, where a call takes more than a second over a block of ``calls``)."""
    for _ in range(warmup):
        start = time.perf_counter()
        step()
        calls = max(1, min(calls, math.ceil(1.0 / max(time.perf_counter() - start, 1e-9))))
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


# ---- PyTorch libraries: kanpaper, pykan

UNIFORM_ONLY = ("inkan", "flashkan")       # cubic B-splines on a fixed uniform grid over [-1, 1]


def torch_kan(library: str, widths, grid, second_derivatives: bool = False):
    if library == "kanpaper":
        from kanpaper import KAN
        return KAN(widths, grid_size=grid)
    if library == "inkan":
        from inkan import KANNetwork
        return KANNetwork(list(widths), grid_size=grid, compile_basis=not second_derivatives).double()
    if library == "flashkan":
        from flashkan import KANNetwork
        return KANNetwork(list(widths), grid_size=grid).double()
    from kan import KAN
    model = KAN(width=list(widths), grid=grid, k=3, auto_save=False, seed=1)
    model.save_act, model.symbolic_enabled = False, False
    return model


def torch_adam(library, model, loss_fn):
    import torch
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=library == "kanpaper")

    def step():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    return step


def torch_library(library: str, quick: bool) -> list[dict]:
    import torch
    torch.set_default_dtype(torch.float64)
    gen = torch.Generator().manual_seed(0)
    rows = []
    for widths, grid in ADAM_MODELS:
        model = torch_kan(library, widths, grid)
        x = torch.rand(200, 1, generator=gen) * 2 - 1
        y = torch.sin(3 * x)
        step = torch_adam(library, model, lambda: ((model(x) - y) ** 2).mean())
        rows.append({"workload": f"Adam step, {widths} G={grid}, N = 200", "seconds": best_of(step, 3 if quick else 20)})

    (widths, grid), n = LBFGS_MODEL, LBFGS_POINTS
    model = torch_kan(library, widths, grid)
    x = torch.rand(n, widths[0], generator=gen) * 2 - 1
    y = torch.sin(3 * x).prod(dim=1, keepdim=True)
    if library == "kanpaper":
        from kanpaper.training.lbfgs import pykan_lbfgs
        opt = pykan_lbfgs(model.parameters())
    elif library in UNIFORM_ONLY:
        opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-32, tolerance_change=1e-32)
    else:
        from kan.LBFGS import LBFGS
        opt = LBFGS(model.parameters(), lr=1, history_size=10, line_search_fn="strong_wolfe",
                    tolerance_grad=1e-32, tolerance_change=1e-32, tolerance_ys=1e-32)

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss
    rows.append({"workload": f"forward + backward, {widths} G={grid}, N = {n:,}",
                 "seconds": best_of(closure, 1, rounds=2, warmup=1)})
    rows.append({"workload": f"L-BFGS step (20 iterations), {widths} G={grid}, N = {n:,}",
                 "seconds": best_of(lambda: opt.step(closure), 1, rounds=1, warmup=0)})
    # the GRF runs update their grids to the data (pykan's fit), after which knots are no longer uniform
    adapted = f"forward + backward, {widths} G={grid}, N = {n:,}, knots adapted to the data"
    if library in UNIFORM_ONLY:
        rows.append({"workload": adapted, "seconds": None, "unsupported": True})
    else:
        model.update_grid(x)
        rows.append({"workload": adapted, "seconds": best_of(closure, 1, rounds=2, warmup=1)})
    if library == "kanpaper":   # pykan evaluates every basis by the same recursion: its step does not change
        rows.append({"workload": f"L-BFGS step (20 iterations), {widths} G={grid}, N = {n:,}, knots adapted "
                                 "to the data", "seconds": best_of(lambda: opt.step(closure), 1, rounds=1, warmup=0)})

    (widths, grid), n = RITZ_MODEL, RITZ_POINTS
    model = torch_kan(library, widths, grid, second_derivatives=True)
    x = torch.linspace(-1, 1, n)[:, None].requires_grad_(True)
    f = RITZ_K ** 2 * math.pi ** 2 * torch.sin(RITZ_K * math.pi * x.detach())
    ends = torch.tensor([[-1.0], [1.0]])

    def ritz():
        u = model(x)
        (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        return (0.5 * du ** 2 - f * u).mean() + (model(ends) ** 2).sum()
    workload = f"Deep Ritz Adam step (u' by autodiff), {widths} G={grid}, N = {n:,}"
    try:
        rows.append({"workload": workload, "seconds": best_of(torch_adam(library, model, ritz), 3 if quick else 20)})
    except RuntimeError as error:      # FlashKAN: a compiled basis is not differentiated twice
        rows.append({"workload": workload, "seconds": None, "note": f"failed: {str(error).splitlines()[0][:100]}"})

    if library == "kanpaper":
        rows.extend(mlp_throughput(quick, threads) for threads in sorted({1, torch.get_num_threads()}))
    return rows


def mlp_throughput(quick: bool, threads: int) -> dict:
    """A ten-repeat W256 D10 MLP ensemble's Adam step at N = 200 on ``threads`` torch threads, in GFLOP/s and as a
    share of the GEMM peak on as many threads (one: as ``make figures`` computes every run)."""
    import torch
    from kanpaper import MLP, Ensemble
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    peak = 2 * 2048 ** 3 / best_of(lambda: a @ b, 2 if quick else 5) / 1e9
    repeats, n, widths = 10, 200, [1] + [256] * 9 + [1]
    model = Ensemble([MLP(widths, "relu", seed=r) for r in range(repeats)])
    x = torch.rand(n, 1) * 2 - 1
    y = torch.sin(3 * x).expand(repeats, n, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)

    def step():
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    seconds = best_of(step, 3 if quick else 20)
    torch.set_num_threads(before)
    # forward 2 N fan_in fan_out per layer and repeat; backward twice that (input and weight gradients)
    flops = 3 * 2 * n * repeats * sum(i * o for i, o in zip(widths[:-1], widths[1:]))
    achieved = flops / seconds / 1e9
    on = f"{threads} thread{'s' * (threads > 1)}"
    return {"workload": f"MLP ensemble, {repeats} x W256 D10, Adam step, N = {n}, {on}", "seconds": seconds,
            "note": f"{achieved:.1f} GFLOP/s = {100 * achieved / peak:.0f}% of the float64 GEMM peak on {on} "
                    f"({peak:.1f} GFLOP/s)"}


# ---- jaxKAN

def attempt(rows: list[dict], workload: str, measure) -> None:
    """``measure()`` as a row, or the error a user of this machine would meet (jaxKAN at N = 40,000 asks for
    tens of GB)."""
    import jax
    try:
        rows.append({"workload": workload, "seconds": measure()})
    except jax.errors.JaxRuntimeError as error:
        rows.append({"workload": workload, "seconds": None, "note": f"failed: {str(error)[:100]}"})


def jax_library(quick: bool) -> list[dict]:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax
    from flax import nnx
    from jaxkan.models.KAN import KAN

    def model_fn(widths, grid):
        model = KAN(layer_dims=list(widths), layer_type="base", required_parameters={"k": 3, "G": grid}, seed=1)
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        # jaxKAN creates some parameters in float32 even with x64 on: cast every floating array to float64
        params, rest = (jax.tree_util.tree_map(
            lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)
            for tree in (params, rest))
        return (lambda p, x: nnx.merge(graphdef, p, rest)(x)), params

    def block(fn):      # run, and wait for the result: jax dispatches asynchronously
        return lambda: jax.block_until_ready(fn())

    key = jax.random.key(0)
    rows = []
    for widths, grid in ADAM_MODELS:
        apply, params = model_fn(widths, grid)
        x = jax.random.uniform(key, (200, 1), minval=-1, maxval=1)
        y = jnp.sin(3 * x)
        opt = optax.adam(1e-3)
        state = {"p": params, "o": opt.init(params)}

        @jax.jit
        def adam_step(p, o, x=x, y=y, apply=apply, opt=opt):
            grads = jax.grad(lambda q: jnp.mean((apply(q, x) - y) ** 2))(p)
            updates, o = opt.update(grads, o, p)
            return optax.apply_updates(p, updates), o

        def step(state=state, adam_step=adam_step):
            state["p"], state["o"] = adam_step(state["p"], state["o"])
            return state["p"]
        rows.append({"workload": f"Adam step, {widths} G={grid}, N = 200",
                     "seconds": best_of(block(step), 3 if quick else 20)})

    (widths, grid), n = LBFGS_MODEL, LBFGS_POINTS
    apply, params = model_fn(widths, grid)
    x = jax.random.uniform(key, (n, widths[0]), minval=-1, maxval=1)
    y = jnp.prod(jnp.sin(3 * x), axis=1, keepdims=True)
    loss = lambda p: jnp.mean((apply(p, x) - y) ** 2)  # noqa: E731
    loss_and_grad = jax.jit(jax.value_and_grad(loss))
    attempt(rows, f"forward + backward, {widths} G={grid}, N = {n:,}",
            lambda: best_of(block(lambda: loss_and_grad(params)), 1, rounds=2, warmup=1))
    opt = optax.lbfgs(memory_size=10)
    value_and_grad = optax.value_and_grad_from_state(loss)

    @jax.jit
    def lbfgs_step(p, o):
        def body(_, carry):
            p, o = carry
            value, grad = value_and_grad(p, state=o)
            updates, o = opt.update(grad, o, p, value=value, grad=grad, value_fn=loss)
            return optax.apply_updates(p, updates), o
        return jax.lax.fori_loop(0, 20, body, (p, o))
    state = {"p": params, "o": opt.init(params)}

    def step():
        state["p"], state["o"] = lbfgs_step(state["p"], state["o"])
        return state["p"]
    attempt(rows, f"L-BFGS step (20 iterations), {widths} G={grid}, N = {n:,}",
            lambda: best_of(block(step), 1, rounds=1, warmup=1))

    (widths, grid), n = RITZ_MODEL, RITZ_POINTS
    apply, params = model_fn(widths, grid)
    x = jnp.linspace(-1, 1, n)[:, None]
    f = RITZ_K ** 2 * math.pi ** 2 * jnp.sin(RITZ_K * math.pi * x)
    ends = jnp.array([[-1.0], [1.0]])

    def ritz(p):
        u = apply(p, x)
        du = jax.vmap(jax.grad(lambda s: apply(p, s.reshape(1, 1))[0, 0]))(x[:, 0])[:, None]
        return jnp.mean(0.5 * du ** 2 - f * u) + jnp.sum(apply(p, ends) ** 2)
    opt = optax.adam(1e-3)
    state = {"p": params, "o": opt.init(params)}

    @jax.jit
    def ritz_step(p, o):
        updates, o = opt.update(jax.grad(ritz)(p), o, p)
        return optax.apply_updates(p, updates), o

    def rstep():
        state["p"], state["o"] = ritz_step(state["p"], state["o"])
        return state["p"]
    rows.append({"workload": f"Deep Ritz Adam step (u' by autodiff), {widths} G={grid}, N = {n:,}",
                 "seconds": best_of(block(rstep), 3 if quick else 20)})
    return rows


def run_library(library: str, quick: bool) -> None:
    if library == "jaxkan":
        import importlib.metadata as md
        version, rows = f"jaxKAN {md.version('jaxkan')} (jax {md.version('jax')})", jax_library(quick)
    else:
        import importlib.metadata as md
        name = library if library in ("kanpaper", *UNIFORM_ONLY) else "pykan"
        version, rows = f"{name} {md.version(name)}", torch_library(library, quick)
    for row in rows:
        print(json.dumps({**row, "library": version}), flush=True)


def compare(other_python: str | None, quick: bool) -> None:
    import torch
    runs = [(sys.executable, "kanpaper"), (sys.executable, "pykan")]
    if other_python:
        runs += [(other_python, "pykan"), (other_python, "jaxkan"), (other_python, "inkan"),
                 (other_python, "flashkan")]
    results: dict[str, dict[str, float]] = {}
    unsupported: set[tuple[str, str]] = set()
    notes = []
    for python, library in runs:
        out = subprocess.run([python, __file__, "--library", library] + (["--quick"] if quick else []),
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{library} with {python} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        for line in out.stdout.splitlines():
            row = json.loads(line)
            results.setdefault(row["library"], {})[row["workload"]] = row["seconds"]
            if row.get("unsupported"):
                unsupported.add((row["library"], row["workload"]))
            if "note" in row:
                notes.append(f"{row['library']}, {row['workload']}: {row['note']}")
    libraries = list(results)
    workloads = list(dict.fromkeys(w for r in results.values() for w in r))
    print(f"\nfloat64, CPU, {torch.get_num_threads()} threads; ms per step (fastest block), and each library's time "
          "over kanpaper's\n")
    print("| workload | " + " | ".join(libraries) + " |")
    print("|---|" + "---|" * len(libraries))
    for workload in workloads:
        ours = results.get(libraries[0], {}).get(workload)
        cells = []
        for library in libraries:
            seconds = results[library].get(workload)
            if seconds is None:
                cells.append("n/a" if (library, workload) in unsupported
                             else "failed" if workload in results[library] else "")
            elif library == libraries[0] or ours is None:
                cells.append(f"{1e3 * seconds:.3g}")
            else:
                cells.append(f"{1e3 * seconds:.3g} ({seconds / ours:.1f}x)")
        print(f"| {workload} | " + " | ".join(cells) + " |")
    for note in notes:
        print(f"\n{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=["kanpaper", "pykan", "jaxkan", "inkan", "flashkan"])
    parser.add_argument("--compare", action="store_true", help="run every library and print one table")
    parser.add_argument("--other-python", default=None,
                        help="interpreter with the latest pykan, jaxkan, inkan and flashkan")
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke check of the script)")
    args = parser.parse_args()
    if args.compare or not args.library:
        compare(args.other_python, args.quick)
    else:
        run_library(args.library, args.quick)


if __name__ == "__main__":
    main()
