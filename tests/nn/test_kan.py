import contextlib
import copy

import pytest
import torch

from kanpaper import KAN, Ensemble, KANLayer
from kanpaper.nn import kernels, splines
from kanpaper.nn.kan import adapted_knots
from kanpaper.nn.pykan import kan_from_pykan


def randomise(model, gen, size=1.0):
    with torch.no_grad():
        for layer in model.act_fun:
            for p in (layer.coef, layer.scale_base, layer.scale_sp):
                p.copy_(size * torch.randn(p.shape, generator=gen))


CASES = [([1, 10, 1], 5, 3), ([2, 5, 3], 7, 2), ([3, 4, 4, 2], 10, 1), ([1, 6, 6, 6, 1], 20, 3)]


@pytest.mark.parametrize("widths,G,k", CASES)
@pytest.mark.parametrize("base", ["silu", "zero"])
def test_forward_matches_pykan(float64_default, gen, widths, G, k, base, pykan_model):
    theirs = pykan_model(widths, G, k, base)
    randomise(theirs, gen)
    ours = kan_from_pykan(theirs)
    assert ours.widths == list(widths) and ours.grid_size == G and ours.k == k
    x = torch.rand(400, widths[0], generator=gen) * 5 - 2.5   # inside and outside the grid
    # layer by layer on identical inputs: agreement to 1e-12 of the output size
    for ours_layer, their_layer, acts in zip(ours.layers, theirs.act_fun, ours.activations(x)):
        ref = their_layer(acts)[0]
        assert (ours_layer(acts) - ref).abs().max() <= 1e-12 * max(1.0, ref.abs().max().item())
    # whole model with splines of realistic size (N(0, 1) coefficients amplify rounding layer by layer)
    randomise(theirs, gen, size=0.3)
    ours = kan_from_pykan(theirs)
    ref = theirs(x)
    assert (ours(x) - ref).abs().max() <= 1e-12 * max(1.0, ref.abs().max().item())


@pytest.mark.parametrize("n_points", [8, 400])   # fewer points than spline windows, and more
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_both_gather_layouts_match_pykan(float64_default, gen, n_points, uniform, fused, pykan_model):
    """On its PyTorch path, spline_layer gathers single coefficient rows when the grid has more
    windows than there are points, whole windows otherwise; both equal pykan, on uniform and
    adapted knots, and so do the fused kernels."""
    theirs = pykan_model([3, 4], 20, 3)
    randomise(theirs, gen)
    ours = kan_from_pykan(theirs)
    if not uniform:
        ours.update_grid(torch.rand(50, 3, generator=gen) ** 2)
        theirs.act_fun[0].grid.data.copy_(ours.layers[0].knots)
        theirs.act_fun[0].coef.data.copy_(ours.layers[0].coef)
    assert ours.layers[0].uniform is uniform
    x = torch.rand(n_points, 3, generator=gen) * 3 - 1.5
    ref = theirs.act_fun[0](x)[0]
    with contextlib.nullcontext() if fused else kernels.disabled():
        assert (ours(x) - ref).abs().max() <= 1e-12 * ref.abs().max()


def test_pykan_0_2_8_numerics(gen):
    """pykan 0.2.8: w_s starts at 1 / sqrt(n_in); an extension interpolates the old knots (nested from G to 2G,
    so the splines are kept to rounding at samples inside the grid) and fits at the samples."""
    old, new = KAN([4, 3], 10, pykan="0.2.8"), KAN([4, 3], 10)
    assert torch.equal(old.layers[0].scale_sp, torch.full((4, 3), 0.5, dtype=torch.float64))
    assert torch.equal(old.layers[0].scale_base, new.layers[0].scale_base)       # the same draws
    x = torch.rand(500, 4, generator=gen, dtype=torch.float64) * 1.8 - 0.9
    before = old(x)
    knots = old.layers[0].knots.clone()
    old.extend_grid(20, x)
    assert torch.allclose(old.layers[0].knots[:, 3:-3:2], knots[:, 3:-3], rtol=0, atol=1e-15)
    assert torch.allclose(old(x), before, rtol=0, atol=1e-12), (old(x) - before).abs().max()
    old.extend_grid(30, x)                             # not nested: knots between the old ones, splines nearly kept
    assert (old(x) - before).abs().max() < 1e-2 * before.abs().max()
    with pytest.raises(ValueError, match="unknown pykan release '0.2.6'; allowed: '0.2.5', '0.2.8'"):
        KAN([1, 1], pykan="0.2.6")


@pytest.mark.parametrize("widths,G,k", CASES[:4])
def test_initialisation_matches_pykan_seed(float64_default, widths, G, k, pykan_model):
    theirs = pykan_model(widths, G, k, seed=7)
    ours = KAN(widths, grid_size=G, k=k, seed=7)
    for a, b in zip(ours.layers, theirs.act_fun):
        assert torch.equal(a.knots, b.grid)   # bit for bit
        assert torch.allclose(a.scale_base, b.scale_base, atol=1e-15)
        # the same fit of the noise at the G + 1 grid points (G + k coefficients) with pykan's regulariser and
        # solver, pinv(X^T X + 1e-8 I) X^T y: what differs is rounding (the basis, the summation order, batched
        # against per-input SVD), amplified by the condition number of the regularised normal equations
        points = a.knots[:, k: k + G + 1].T
        design = splines.dense_basis(points, a.knots, k).permute(1, 0, 2)
        gram = design.transpose(1, 2) @ design + 1e-8 * torch.eye(G + k, dtype=torch.float64)
        kappa = torch.linalg.cond(gram).max().item()
        bound = kappa * (G + 1 + G + k) * 2.0 ** -53 * b.coef.abs().max().item()
        diff = (a.coef - b.coef).abs().max().item()
        assert diff <= bound, f"initial coef differ from pykan's by {diff:.2e}; bound kappa (N + n) u max|c| = {bound:.2e}"


@pytest.mark.parametrize("widths,G,k", CASES[:4])
def test_grid_update_places_pykan_knots_and_preserves_as_well(float64_default, gen, widths, G, k, pykan_model):
    theirs = pykan_model(widths, G, k)
    randomise(theirs, gen)
    ours = kan_from_pykan(theirs)
    x = torch.rand(300, widths[0], generator=gen) * 1.6 - 0.8
    # layer by layer, on identical inputs: identical knots
    for ours_layer, their_layer, acts in zip(ours.layers, theirs.act_fun, ours.activations(x)):
        ref = copy.deepcopy(their_layer)
        ref.update_grid_from_samples(acts.detach())
        assert torch.allclose(adapted_knots(acts, G, k, 0.02), ref.grid, atol=1e-14)
    # whole model: the function at the samples is preserved as well as pykan preserves it
    before_ours, before_theirs = ours(x).detach(), theirs(x).detach()
    ours.update_grid(x)
    theirs.update_grid(x)
    our_change = (ours(x) - before_ours).abs().max()
    their_change = (theirs(x) - before_theirs).abs().max()
    assert our_change <= their_change * 1.01 + 1e-9
    # and the same grids and coefficients as pykan's, layer after layer (each layer's samples come from the
    # updated layers before it), to rounding amplified by the refit's conditioning
    theirs(x)                                                 # save_act: theirs.acts holds each layer's input
    for ours_layer, their_layer, acts, their_acts in zip(ours.layers, theirs.act_fun, ours.activations(x), theirs.acts):
        # knots are min, max and quantiles of the samples: 1-Lipschitz in them, plus the blend's rounding
        input_diff = (acts - their_acts).abs().max().item()
        knot_bound = input_diff + 8 * 2.0 ** -53 * their_layer.grid.abs().max().item()
        knot_diff = (ours_layer.knots - their_layer.grid).abs().max().item()
        assert knot_diff <= knot_bound, f"updated knots differ from pykan's by {knot_diff:.2e}; the layer inputs by {input_diff:.2e}, bound {knot_bound:.2e}"
        design = splines.dense_basis(acts.detach(), ours_layer.knots, k).permute(1, 0, 2)
        gram = design.transpose(1, 2) @ design + 1e-8 * torch.eye(G + k, dtype=torch.float64)
        kappa = torch.linalg.cond(gram).max().item()
        bound = kappa * (len(x) + G + k) * 2.0 ** -53 * their_layer.coef.abs().max().item()
        diff = (ours_layer.coef - their_layer.coef).abs().max().item()
        assert diff <= bound, f"updated coef differ from pykan's by {diff:.2e}; bound kappa (N + n) u max|c| = {bound:.2e}"


def test_grid_update_preserves_smooth_function(gen):
    model = KAN([2, 3, 1], grid_size=10, seed=0)
    x = torch.rand(2000, 2, generator=gen, dtype=torch.float64) * 1.2 - 0.6
    before = model(x).detach()
    model.update_grid(x)
    assert not model.layers[0].uniform
    # the initial splines are noise on the grid scale; a refit on a moved grid keeps them to ~1e-3 of their size
    assert (model(x) - before).abs().max() < 1e-2 * before.abs().max()


def test_grid_extension_preserves_function_and_refine_is_exact(gen):
    model = KAN([2, 4, 1], grid_size=5, seed=3)
    x = torch.rand(1000, 2, generator=gen, dtype=torch.float64) * 1.6 - 0.8
    before = model(x).detach()
    model.extend_grid(20, x)
    assert model.grid_size == 20
    assert (model(x) - before).abs().max() < 1e-3
    exact = KAN([2, 4, 1], grid_size=5, seed=3, base=None)
    inside = torch.rand(1000, 2, generator=gen, dtype=torch.float64) * 1.98 - 0.99
    before = exact(inside).detach()
    exact.refine_grid(4)
    assert exact.grid_size == 20 and exact.layers[0].uniform
    # layer 2 sees inputs inside its grid domain too (small init), so the model is exact
    assert (exact(inside) - before).abs().max() < 1e-12


def test_refine_of_adapted_grid_is_exact_on_grid_domain(gen):
    layer = KANLayer(1, 3, grid_size=6, k=3, seed=0)
    x = torch.rand(500, 1, generator=gen, dtype=torch.float64) * 1.6 - 0.8
    layer.update_grid(x)
    lo, hi = layer.knots[0, 3].item(), layer.knots[0, -4].item()
    probe = torch.linspace(lo, hi, 777, dtype=torch.float64)[:-1, None]
    before = layer(probe).detach()
    layer.refine(3)
    assert layer.grid_size == 18
    assert (layer(probe) - before).abs().max() < 1e-12


def test_grid_update_keeps_parameter_objects_for_optimizers(gen):
    model = KAN([1, 3, 1], grid_size=5)
    ids = [id(p) for p in model.parameters()]
    model.update_grid(torch.rand(100, 1, generator=gen, dtype=torch.float64))
    assert [id(p) for p in model.parameters()] == ids


def test_no_base_switch_and_parameter_count():
    silu = KAN([2, 5, 1], grid_size=10, k=3)
    bare = KAN([2, 5, 1], grid_size=10, k=3, base=None)
    edges = 2 * 5 + 5 * 1
    assert sum(p.numel() for p in silu.parameters()) == edges * (10 + 3) + 2 * edges   # pykan's count
    assert sum(p.numel() for p in bare.parameters()) == edges * (10 + 3) + edges
    for a, b in zip(silu.layers, bare.layers):   # same seed: same splines
        assert torch.equal(a.coef, b.coef)


def test_second_derivative_through_model(gen):
    model = KAN([1, 5, 1], grid_size=8, seed=2)
    x = (torch.rand(64, 1, generator=gen, dtype=torch.float64) * 1.6 - 0.8).requires_grad_()
    (d1,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x, create_graph=True)
    loss = (d2 ** 2).mean()            # a loss on u'' still reaches the coefficients
    loss.backward()
    assert model.layers[0].coef.grad is not None and torch.isfinite(model.layers[0].coef.grad).all()
    h = 1e-4
    with torch.no_grad():
        fd = (model(x + h) - 2 * model(x) + model(x - h)) / h ** 2
    close = (d2 - fd).abs() < 1e-3 * (1 + fd.abs())
    assert close.float().mean() > 0.9   # points whose stencil crosses a knot may differ


def test_seed_determinism_and_no_global_rng():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a, b = KAN([2, 3, 1], grid_size=4, seed=11), KAN([2, 3, 1], grid_size=4, seed=11)
    assert torch.equal(torch.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    c = KAN([2, 3, 1], grid_size=4, seed=12)
    assert not torch.equal(a.layers[0].coef, c.layers[0].coef)


def test_clear_errors():
    with pytest.raises(ValueError, match="grid size G"):
        KAN([1, 1], grid_size=0)
    with pytest.raises(ValueError, match="degree k"):
        KAN([1, 1], k=-1)
    with pytest.raises(ValueError, match="widths"):
        KAN([])
    with pytest.raises(ValueError, match="unknown base"):
        KAN([1, 1], base="relu")
    with pytest.raises(ValueError, match="seed"):
        KAN([1, 1], seed=None)
    model = KAN([2, 3, 1])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        model(torch.zeros(5, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        model(torch.tensor([[0.0, float("nan")]], dtype=torch.float64))
    with pytest.raises(ValueError, match="low < high"):
        KAN([1, 1], grid_range=(1.0, -1.0))
    x32 = torch.zeros(5, 2, dtype=torch.float32)
    with pytest.raises(TypeError, match=r"inputs are torch.float32 but the model computes in torch.float64: cast "
                                        r"the inputs \(x.to\(torch.float64\)\) or the model"):
        model(x32)
    with pytest.raises(TypeError, match="computes in torch.float64"):
        Ensemble([KAN([2, 3, 1], seed=s) for s in range(2)])(x32)
    assert model.to(torch.float32)(x32).dtype == torch.float32          # the cast the message offers works
    with pytest.raises(ValueError, match="larger grid"):
        model.extend_grid(2, torch.rand(10, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="constant"):
        model.update_grid(torch.zeros(10, 2, dtype=torch.float64))


