"""The fused CPU kernels compute what the pure PyTorch layer computes, to every order of derivative."""

import os
import shutil
import subprocess
import sys
import time
import warnings

import pytest
import torch

from kanpaper import KAN
from kanpaper.nn import kernels, splines
from kanpaper.nn.layer import spline_layer

needs_kernels = pytest.mark.skipif(not kernels.available(), reason="fused kernels not built on this machine")


def test_kernels_build_where_a_compiler_exists():
    if shutil.which("c++") or shutil.which("g++"):
        assert kernels.available(), "a C++ compiler is installed but kanpaper's kernels did not build"


def layer_tensors(gen, n_members, n_in, n_out, G, k, dtype=torch.float64, uniform=True):
    lead = (n_members,) if n_members else ()
    knots = torch.linspace(-1, 1, G + 1, dtype=dtype)
    h = 2 / G
    knots = torch.cat([knots[0] - h * torch.arange(k, 0, -1, dtype=dtype), knots,
                       knots[-1] + h * torch.arange(1, k + 1, dtype=dtype)])
    knots = knots.expand(*lead, n_in, -1).contiguous()
    if not uniform:   # every knot moved by up to 0.4 h: still increasing, as after a grid update
        knots = knots + 0.4 * h * torch.rand(knots.shape, generator=gen, dtype=dtype)
    coef = torch.randn(*lead, n_in, n_out, G + k, generator=gen, dtype=dtype).requires_grad_()
    scale_sp = torch.randn(*lead, n_in, n_out, generator=gen, dtype=dtype).requires_grad_()
    scale_base = torch.randn(*lead, n_in, n_out, generator=gen, dtype=dtype).requires_grad_()
    return knots, coef, scale_sp, scale_base


def outputs_and_derivatives(x, knots, coef, scale_sp, scale_base, k):
    """y, dy/dx (kept in the graph), and the gradients of a loss on both w.r.t. every tensor."""
    y = spline_layer(x, knots, coef, scale_sp, scale_base, k, "silu")
    (dx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
    loss = y.sin().sum() + dx.square().sum()
    grads = torch.autograd.grad(loss, (x, coef, scale_sp, scale_base))
    return [y, dx, *grads]


@needs_kernels
@pytest.mark.parametrize("n_members", [0, 3])
@pytest.mark.parametrize("k", [0, 1, 3, 5, 7])          # k + 1 = 1 and 8 take the loops sized at run time
@pytest.mark.parametrize("n_out", [1, 3, 8, 11, 17])    # vector registers of 8 and the remainders
@pytest.mark.parametrize("uniform", [True, False])      # the closed form, or the recursion on moved knots
def test_layer_and_its_derivatives_match_pytorch_path(gen, n_members, k, n_out, uniform):
    lead = (n_members,) if n_members else ()
    tensors = layer_tensors(gen, n_members, 4, n_out, 7, k, uniform=uniform)
    assert splines.is_uniform(tensors[0]) is uniform
    x = (torch.rand(*lead, 60, 4, generator=gen, dtype=torch.float64) * 3 - 1.5).requires_grad_()  # in and out
    fused = outputs_and_derivatives(x, *tensors, k)
    with kernels.disabled():
        reference = outputs_and_derivatives(x, *tensors, k)
    for name, a, b in zip(["y", "dy/dx", "d/dx", "d/dcoef", "d/dscale_sp", "d/dscale_base"], fused, reference):
        assert a.shape == b.shape, name
        assert (a - b).abs().max() <= 1e-12 * max(1.0, b.abs().max().item()), name


@needs_kernels
def test_second_derivative_in_x_matches_pytorch_path(gen):
    """u'' for the Deep Ritz loss, and its gradient w.r.t. the coefficients."""
    knots, coef, scale_sp, scale_base = layer_tensors(gen, 0, 1, 3, 10, 3)
    x = torch.rand(50, 1, generator=gen, dtype=torch.float64).requires_grad_()

    def second(x):
        y = spline_layer(x, knots, coef, scale_sp, scale_base, 3, "silu").sum()
        (d1,) = torch.autograd.grad(y, x, create_graph=True)
        (d2,) = torch.autograd.grad(d1.sum(), x, create_graph=True)
        return d2, torch.autograd.grad(d2.square().sum(), coef)[0]
    fused = second(x)
    with kernels.disabled():
        reference = second(x)
    for a, b in zip(fused, reference):
        assert torch.allclose(a, b, rtol=1e-11, atol=1e-11)


@needs_kernels
def test_float32_and_adapted_knots_match_pytorch_path(gen):
    model = KAN([2, 5, 3], grid_size=8, seed=0)
    model.update_grid(torch.rand(100, 2, generator=gen, dtype=torch.float64) ** 3)   # de Boor basis
    assert not model.layers[0].uniform
    x = torch.rand(80, 2, generator=gen, dtype=torch.float64) * 2 - 1
    with kernels.disabled():
        reference = model(x)
    assert torch.allclose(model(x), reference, rtol=1e-12, atol=1e-12)
    single = KAN([2, 5, 3], grid_size=8, seed=0, dtype=torch.float32)
    x32 = x.float()
    with kernels.disabled():
        reference = single(x32)
    assert torch.allclose(single(x32), reference, rtol=1e-5, atol=1e-6)


@needs_kernels
def test_kernel_gradients_pass_gradcheck(gen):
    """Finite differences confirm every first and second derivative of the kernel functions."""
    _, coef, scale_sp, _ = layer_tensors(gen, 2, 3, 5, 4, 2)
    x = (torch.rand(2, 6, 3, generator=gen, dtype=torch.float64) * 1.8 - 0.9).requires_grad_()
    values = torch.rand(2, 6, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    first = torch.randint(0, 6, (2, 6, 3), generator=gen)

    def contract(values, coef, scale_sp):
        return kernels.contract(values, first, kernels.table(coef, scale_sp, 2))
    assert torch.autograd.gradcheck(contract, (values, coef, scale_sp))
    assert torch.autograd.gradgradcheck(contract, (values, coef, scale_sp))
    knots = torch.linspace(-2.2, 2.2, 11, dtype=torch.float64).expand(2, 3, -1).contiguous()  # uniform, h = 0.44

    def basis(x):
        return kernels.uniform_basis(x, knots, 2)[1]
    # points stay inside their knot intervals under the finite-difference steps
    x = (torch.floor((x.detach() + 2.2) / 0.44) * 0.44 - 2.2 + 0.22).requires_grad_()
    assert torch.autograd.gradcheck(basis, (x,))
    assert torch.autograd.gradgradcheck(basis, (x,))
    moved = knots + 0.15 * torch.rand(knots.shape, generator=gen, dtype=torch.float64)   # still increasing

    def knot_basis(x):
        return kernels.knot_basis(x, moved, 2)[1]
    # points 1e-3 or more from every knot: they stay inside their intervals under the finite-difference steps
    x = (torch.rand(2, 6, 3, generator=gen, dtype=torch.float64) * 3.6 - 1.8)
    gap = (x.unsqueeze(-1) - moved.unsqueeze(1)).abs().amin(-1)
    x = torch.where(gap < 1e-3, x + 2e-3, x).requires_grad_()
    assert torch.autograd.gradcheck(knot_basis, (x,))
    assert torch.autograd.gradgradcheck(knot_basis, (x,))


THREADS_SCRIPT = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from kanpaper import KAN, Ensemble
# 1. the fused kernels, forward and backward, on parameters drawn here (not fitted through LAPACK)
model = Ensemble([KAN([1, 9, 9, 1], grid_size=12, seed=s) for s in range(4)])
gen = torch.Generator().manual_seed(0)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
x = torch.rand(300, 1, generator=gen, dtype=torch.float64) * 2 - 1
y = model(x)
kernel_results = [y, *torch.autograd.grad(y.sin().sum(), list(model.parameters()))]
# 2. a grid update: least squares through MKL's GEMM and LU on a 303 x 303 system
kan = KAN([1, 4, 3], grid_size=300, seed=0)
samples = torch.linspace(-1, 1, 400, dtype=torch.float64).unsqueeze(1) ** 3
old = kan.layers[0].spline_edges(samples).detach()
kan.update_grid(samples)
torch.save({"kernels": kernel_results, "knots": kan.layers[0].knots, "coef": kan.layers[0].coef.detach(),
            "samples": samples, "targets": old}, sys.argv[2])
"""


def _threads_runs(tmp_path):
    runs = []
    for threads in (1, 2):
        out = tmp_path / f"{threads}.pt"
        subprocess.run([sys.executable, "-c", THREADS_SCRIPT, str(threads), str(out)], check=True, timeout=120)
        runs.append(torch.load(out))
    return runs


@needs_kernels
def test_kernel_results_do_not_depend_on_the_number_of_threads(tmp_path):
    """Bit for bit, with 1 and 2 threads: every output element of a kernel is summed by one thread in a
    fixed order. In fresh processes: torch.set_num_threads changes the process for good."""
    one, two = _threads_runs(tmp_path)
    for index, (a, b) in enumerate(zip(one["kernels"], two["kernels"])):
        assert torch.equal(a, b), f"kernel result {index}: max difference {float((a - b).abs().max()):.3g} " \
                                  f"between 1 and 2 threads, required: bitwise equal"


def test_least_squares_depend_on_threads_only_within_their_conditioning(tmp_path):
    """LAPACK/BLAS (MKL or OpenBLAS) sum in an order that depends on the thread count, so a grid update is
    not bitwise reproducible across thread counts. Each run solves the normal equations ``(A^T A + rI) c =
    A^T y`` to a relative error of about ``kappa gamma_n`` (``n`` = samples + 3 x unknowns, ``kappa`` the
    2-norm condition number; ``|A^T| |y|`` against ``|A^T y|`` for the cancellation in the right-hand side),
    so two runs differ by at most twice that."""
    from kanpaper.nn import splines
    from kanpaper.theory.rounding import gamma

    one, two = _threads_runs(tmp_path)
    assert torch.equal(one["knots"], two["knots"]), "the knots (sorting and arithmetic) must be bitwise equal"
    design = splines.dense_basis(one["samples"], one["knots"], 3)[:, 0, :]          # (N, G+k)
    gram = design.T @ design
    gram = gram + 1e-10 * gram.diagonal().mean() * torch.eye(gram.shape[0], dtype=gram.dtype)
    kappa = float(torch.linalg.cond(gram))
    targets = one["targets"][:, 0, :]                                             # (N, n_out)
    cancellation = float((design.T @ targets.abs()).norm() / (design.T @ targets).norm())
    n = design.shape[0] + 3 * design.shape[1]
    allowed = 2 * kappa * gamma(n, torch.float64) * (1 + cancellation)
    measured = float((one["coef"] - two["coef"]).norm() / one["coef"].norm())
    assert measured <= allowed, (f"relative 2-norm difference of the coefficients between 1 and 2 threads "
                                 f"{measured:.3g} > allowed 2 kappa gamma_n (1 + cancellation) = {allowed:.3g} "
                                 f"(kappa {kappa:.3g}, n {n})")


def test_without_a_build_the_layer_falls_back_with_a_warning(monkeypatch, gen):
    def not_built(name, *args, **kwargs):
        raise ImportError(f"No module named {name!r}")
    x = torch.rand(20, 2, generator=gen, dtype=torch.float64)
    model = KAN([2, 3, 1], grid_size=5, seed=0)
    with kernels.disabled():
        reference = model(x)
    monkeypatch.setattr(kernels.importlib, "import_module", not_built)
    kernels._extension.cache_clear()
    try:
        with pytest.warns(UserWarning, match="kernels unavailable.*--no-build-isolation"):
            assert not kernels.available()
        with warnings.catch_warnings():
            warnings.simplefilter("error")        # warned once, not on every call
            assert torch.equal(model(x), reference)
    finally:
        monkeypatch.undo()
        kernels._extension.cache_clear()


IMPORT_SCRIPT = """
import sys
import torch
from kanpaper import KAN
from kanpaper.nn import kernels
model = KAN([2, 5, 1], grid_size=10, seed=0)
y = model(torch.rand(100, 2, dtype=torch.float64))
print(kernels.available(), kernels._extension().__name__, "torch.utils.cpp_extension" in sys.modules)
"""


def _import_in_fresh_process(tmp_path, **env):
    extensions = tmp_path / "torch_extensions"
    environment = {**os.environ, "TORCH_EXTENSIONS_DIR": str(extensions), **env}
    done = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT], env=environment, capture_output=True, text=True,
                          timeout=60, check=True)
    available, module, builder = done.stdout.split()
    assert not extensions.exists(), f"importing kanpaper touched a build directory: {list(extensions.rglob('*'))}"
    assert builder == "False", "importing kanpaper and running a KAN loaded torch's C++ extension builder"
    return available == "True", module


@needs_kernels
def test_import_loads_the_installed_kernels_without_compiling(tmp_path):
    available, module = _import_in_fresh_process(tmp_path)
    assert available and module == f"kanpaper.nn._kernels_{kernels.variant()}"


@needs_kernels
def test_a_cpu_without_avx512_gets_the_portable_build(tmp_path):
    available, module = _import_in_fresh_process(tmp_path, ATEN_CPU_CAPABILITY="default")
    assert available and module == "kanpaper.nn._kernels_default"


def test_an_import_killed_midway_leaves_nothing_behind(tmp_path):
    """A Ctrl-C or timeout during the first import must not make later imports wait (no lock, no build)."""
    environment = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path / "torch_extensions")}
    for delay in (0.3, 1.0):
        victim = subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT], env=environment,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        victim.kill()
        victim.wait(timeout=30)
    # a lock left behind would make this import wait: _import_in_fresh_process allows it 60 s, far above an import
    available, _ = _import_in_fresh_process(tmp_path)
    assert available == kernels.available()


def test_disabled_restores_the_previous_setting():
    before = kernels._enabled
    with kernels.disabled():
        assert not kernels._enabled
        with kernels.disabled():
            pass
        assert not kernels._enabled
    assert kernels._enabled == before
