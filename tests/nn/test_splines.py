import numpy as np
import pytest
import torch

from kanpaper.nn import splines


def random_knots(n_in, G, k, gen):
    interior = torch.sort(torch.rand(n_in, G + 1, generator=gen, dtype=torch.float64) * 2 - 1, dim=1).values
    return splines.extend_knots(interior, k)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("G", [1, 2, 7, 30])
def test_partition_of_unity_on_grid_domain(k, G, gen):
    for uniform, knots in [(True, splines.uniform_knots(3, G, k)), (False, random_knots(3, G, k, gen))]:
        lo, hi = knots[:, k], knots[:, -k - 1]
        x = lo + (hi - lo) * torch.rand(500, 3, generator=gen, dtype=torch.float64)
        total = splines.dense_basis(x, knots, k, uniform).sum(-1)
        assert torch.allclose(total, torch.ones_like(total), atol=1e-13)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_uniform_and_general_paths_agree(k, gen):
    knots = splines.uniform_knots(2, 9, k, (-0.5, 2.0))
    x = torch.rand(400, 2, generator=gen, dtype=torch.float64) * 5 - 2
    a = splines.dense_basis(x, knots, k, uniform=True)
    b = splines.dense_basis(x, knots, k, uniform=False)
    assert torch.allclose(a, b, atol=1e-13)


def test_zero_outside_extended_grid_half_open(gen):
    k = 3
    knots = splines.uniform_knots(1, 5, k)
    x = torch.tensor([[knots[0, 0].item() - 1e-9], [knots[0, -1].item()], [5.0], [-7.0]], dtype=torch.float64)
    for uniform in (True, False):
        assert splines.dense_basis(x, knots, k, uniform).abs().max() == 0
    inside = torch.tensor([[knots[0, 0].item() + 1e-3]], dtype=torch.float64)
    assert splines.dense_basis(inside, knots, k, False).sum() > 0


def test_matches_pykan_b_batch(float64_default, gen):
    from kan.spline import B_batch

    for k in range(4):
        for knots in (splines.uniform_knots(4, 6, k), random_knots(4, 6, k, gen)):
            x = torch.rand(300, 4, generator=gen) * 4 - 2
            ref = B_batch(x, knots, k).double()
            assert torch.allclose(splines.dense_basis(x, knots, k), ref, atol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_reproduces_piecewise_polynomial(k, gen):
    """A degree-k piecewise polynomial with breaks at the knots is fitted exactly by least squares."""
    G = 6
    knots = random_knots(1, G, k, gen)
    interior = knots[0, k:-k]
    # truncated-power representation: p(x) + sum_j c_j (x - t_j)_+^k over interior knots
    poly = torch.randn(k + 1, generator=gen, dtype=torch.float64)
    jumps = torch.randn(G - 1, generator=gen, dtype=torch.float64)

    def f(x):
        value = sum(poly[i] * x[:, 0] ** i for i in range(k + 1))
        return value + (jumps * torch.relu(x - interior[1:-1]) ** k).sum(-1)

    x = interior[0] + (interior[-1] - interior[0]) * torch.rand(400, 1, generator=gen, dtype=torch.float64)
    y = f(x)[:, None, None]
    coef = splines.fit_coefficients(x, y, knots, k, ridge=0.0)
    fitted = torch.einsum("npm,pqm->npq", splines.dense_basis(x, knots, k), coef)
    assert torch.allclose(fitted, y, atol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("factor", [2, 3])
def test_knot_insertion_refinement_is_exact(k, factor, gen):
    for knots in (splines.uniform_knots(3, 5, k), random_knots(3, 5, k, gen)):
        coef = torch.randn(3, 2, knots.shape[1] - k - 1, generator=gen, dtype=torch.float64)
        new_knots = splines.refine_knots(knots, k, factor)
        assert new_knots.shape[1] == factor * 5 + 2 * k + 1
        new_coef = splines.refine_coefficients(knots, coef, new_knots, k)
        lo, hi = knots[:, k], knots[:, -k - 1]
        x = lo + (hi - lo) * torch.rand(500, 3, generator=gen, dtype=torch.float64)
        old = torch.einsum("npm,pqm->npq", splines.dense_basis(x, knots, k), coef)
        new = torch.einsum("npm,pqm->npq", splines.dense_basis(x, new_knots, k), new_coef)
        assert (old - new).abs().max() < 1e-12


def test_refinement_rejects_non_nested_knots(gen):
    knots = splines.uniform_knots(1, 4, 3)
    other = splines.uniform_knots(1, 5, 3)
    with pytest.raises(ValueError, match="nest"):
        splines.refine_coefficients(knots, torch.zeros(1, 1, 7, dtype=torch.float64), other, 3)


@pytest.mark.parametrize("uniform", [True, False])
def test_second_derivative_matches_finite_differences(uniform, gen):
    k = 3
    knots = splines.uniform_knots(1, 8, k)
    coef = torch.randn(1, 1, knots.shape[1] - k - 1, generator=gen, dtype=torch.float64)
    x = (torch.rand(50, 1, generator=gen, dtype=torch.float64) * 1.8 - 0.9).requires_grad_()

    def spline(z):
        first, values = splines.local_basis(z, knots, k, uniform)
        table = splines.pad_basis(coef, k)[0, 0]
        return (values[:, 0] * table[first[:, 0, None] + torch.arange(k + 1)]).sum(-1)

    y = spline(x)
    (d1,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    h = 1e-4
    with torch.no_grad():
        fd2 = (spline(x + h) - 2 * spline(x) + spline(x - h)) / h ** 2
        fd1 = (spline(x + h) - spline(x - h)) / (2 * h)
    # finite differences straddling a knot see a jump in y''; skip those points
    interval = torch.floor((x.detach() - knots[0, 0]) / (knots[0, 1] - knots[0, 0]))
    same = (torch.floor((x.detach() + h - knots[0, 0]) / (knots[0, 1] - knots[0, 0])) == interval) & (
        torch.floor((x.detach() - h - knots[0, 0]) / (knots[0, 1] - knots[0, 0])) == interval)
    assert same.sum() > 40
    assert torch.allclose(d1[:, 0], fd1, atol=1e-6)
    assert torch.allclose(d2[same], fd2[same[:, 0]], atol=1e-5)


@pytest.mark.parametrize("G,new", [(10, 20), (10, 30), (20, 30), (7, 7)])
def test_interpolated_knots_follow_the_old_knots(G, new, gen):
    knots = random_knots(3, G, 3, gen)
    out = splines.interpolated_knots(knots, 3, new)
    interior, fine = knots[:, 3:-3], out[:, 3:-3]
    assert out.shape == (3, new + 7)
    assert torch.equal(fine[:, [0, -1]], interior[:, [0, -1]])
    assert (fine.diff(dim=1) > 0).all()
    if new % G == 0:                                   # nested: every old knot is a new knot
        assert torch.allclose(fine[:, :: new // G], interior, rtol=0, atol=1e-15)
    # piecewise linear in the knot index: the new knot at old index position p lies between knots floor(p), ceil(p)
    position = torch.linspace(0, G, new + 1, dtype=torch.float64)
    left = position.floor().long().clamp(max=G - 1)
    assert ((fine >= interior[:, left] - 1e-15) & (fine <= interior[:, left + 1] + 1e-15)).all()


def test_lstsq_solver_is_plain_least_squares(gen):
    """Full rank: the same solution as the normal equations without ridge, to the conditioning of the fit
    (measured cond(X) about 10, so the normal equations lose at most 1e2 x 1e-16 relative; required 1e-11).
    Rank deficient (G + 1 points for G + k coefficients, pykan's initial fit): the minimum-norm solution."""
    knots = splines.uniform_knots(2, 6, 3)
    x = torch.rand(200, 2, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.randn(200, 2, 3, generator=gen, dtype=torch.float64)
    a = splines.fit_coefficients(x, y, knots, 3, solver="lstsq")
    b = splines.fit_coefficients(x, y, knots, 3, ridge=0.0)
    assert torch.allclose(a, b, rtol=0, atol=1e-11 * b.abs().max())
    points = knots[:, 3:10].T                                      # 7 points, 9 coefficients
    values = torch.randn(7, 2, 1, generator=gen, dtype=torch.float64)
    coef = splines.fit_coefficients(points, values, knots, 3, solver="lstsq")
    design = splines.dense_basis(points, knots, 3).permute(1, 0, 2)
    for p in range(2):
        assert torch.allclose(design[p] @ coef[p, 0], values[:, p, 0], atol=1e-13)
        assert torch.allclose(coef[p, 0], torch.linalg.pinv(design[p]) @ values[:, p, 0], atol=1e-12)
    with pytest.raises(ValueError, match="unknown least-squares solver 'qr'; allowed: 'normal', 'lstsq'"):
        splines.fit_coefficients(x, y, knots, 3, solver="qr")


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="grid size G"):
        splines.uniform_knots(1, 0, 3)
    with pytest.raises(ValueError, match="degree k"):
        splines.uniform_knots(1, 5, -1)
    with pytest.raises(ValueError, match="grid_range"):
        splines.uniform_knots(1, 5, 3, (1.0, 1.0))
    with pytest.raises(ValueError, match="expected x"):
        splines.fit_coefficients(torch.zeros(5, 2), torch.zeros(5, 3, 1), splines.uniform_knots(2, 3, 1), 1)


def test_cardinal_matrix_is_partition_of_unity():
    for k in range(6):
        m = splines.cardinal_pieces(k)
        # sum over bases of the polynomial pieces is the constant 1
        assert np.allclose(m.sum(axis=1), np.eye(k + 1)[0])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_differentiate_matches_autograd_on_the_grid_domain(k, gen):
    knots = random_knots(2, 7, k, gen)
    coef = torch.randn(2, 3, knots.shape[1] - k - 1, generator=gen, dtype=torch.float64)
    lo, hi = knots[:, k], knots[:, -k - 1]
    x = (lo + (hi - lo) * torch.rand(300, 2, generator=gen, dtype=torch.float64)).requires_grad_()
    values = torch.einsum("npm,pqm->npq", splines.dense_basis(x, knots, k, False), coef)
    (slope,) = torch.autograd.grad(values.sum(), x)               # each input's splines summed over outputs
    d_knots, d_coef = splines.differentiate(knots, coef, k)
    derivative = torch.einsum("npm,pqm->npq", splines.dense_basis(x.detach(), d_knots, k - 1, False), d_coef)
    scale = coef.abs().max() * k / knots.diff(dim=1).min()
    assert d_knots.shape == (2, knots.shape[1] - 2) and d_coef.shape == (2, 3, coef.shape[-1] - 1)
    # both sides are O(k) products of basis values (<= 1) and coefficient differences over knot gaps
    assert torch.allclose(derivative.sum(-1), slope, atol=1e-12 * float(scale) * 3)


def test_differentiate_rejects_degree_zero_and_mismatched_coefficients():
    knots = splines.uniform_knots(1, 4, 2)
    with pytest.raises(ValueError, match="degree-0"):
        splines.differentiate(splines.uniform_knots(1, 4, 0), torch.zeros(1, 1, 4), 0)
    with pytest.raises(ValueError, match="need 6"):
        splines.differentiate(knots, torch.zeros(1, 1, 5), 2)
