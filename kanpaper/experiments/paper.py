"""The paper's experiments as run here: every figure's configuration in one place, beside the authors'.

Each figure has its fixed settings (architectures, grids, learning rate, seeds: the authors' values, the
same at every scale) and a budget per run scale in :data:`BUDGETS` (``paper``: the authors' budgets).
The notebooks and ``make figures`` build their runs from the functions below, so a change here changes
both (:func:`kanpaper.notebook.notebook_runs` lists each notebook's runs). Run configs are dicts for the run
functions of :mod:`~kanpaper.experiments.waves`, :mod:`~kanpaper.experiments.grf`,
:mod:`~kanpaper.experiments.poisson` and :mod:`~kanpaper.experiments.efficiency`.
"""

from __future__ import annotations

import dataclasses

from typing import Any

from ..base.checks import check_choice
from ..base.settings import resolve_scale
from ..nn.bases import BASES
from .spec import ModelSpec, layer_widths

__all__ = ["BUDGETS", "budget", "WAVES_LR", "FIGURE_1_MLPS", "FIGURE_1_KANS", "waves_kan", "waves_mlp",
           "waves_config", "overview_configs", "figure_1_configs", "waves_sweep_configs",
           "GRID_EXTENSION_ARCHS", "GRID_EXTENSION_VARIANTS", "grid_extension_configs", "GRF_GRIDS",
           "GRF_MODELS", "grf_model", "grf_config", "figure_3_configs", "GRF_SEEDS", "GRF_SEED_FIELDS",
           "figure_3_seed_configs", "first_extension_configs", "OVERFITTING_DIM", "overfitting_configs",
           "FIGURE_5_GRIDS", "FIGURE_5_KAN", "FIGURE_5_MLP", "figure_5_configs", "FIGURE_5_SEEDS",
           "figure_5_seed_configs", "EFFICIENCY_TARGET", "BASIS_WAVES_SIZE", "BASIS_WAVES_LR", "basis_waves_configs",
           "TWIN_KANS", "LBFGS_MLPS", "LBFGS_KANS",
           "LBFGS_ITERATIONS", "twin_kan", "twin_configs", "adam_against_lbfgs_configs", "NESTED_GRIDS", "EXTENSIONS",
           "refinement_configs",
           "EFFICIENCY_KAN", "EFFICIENCY_MLP_ACTIVATIONS", "efficiency_configs"]

# experiment -> scale -> budget. ``paper`` is the authors' (their scripts and result files).
BUDGETS: dict[str, dict[str, dict[str, Any]]] = {
    "overview": {
        "smoke": {"n_points": 200, "demo_steps": 20},
        "default": {"n_points": 200, "demo_steps": 1000},
        "paper": {"n_points": 200, "demo_steps": 1000},
    },
    "expressiveness": {  # exact constructions and spline fits: cheap, the same at every scale
        "smoke": {"n_points": 4000, "seeds": 5},
        "default": {"n_points": 4000, "seeds": 5},
        "paper": {"n_points": 4000, "seeds": 5},
    },
    "theory": {  # gradient descent on a quadratic in closed form: any step count, the same at every scale
        "smoke": {"gd_max_step": 10 ** 10, "gd_records": 121},
        "default": {"gd_max_step": 10 ** 10, "gd_records": 121},
        "paper": {"gd_max_step": 10 ** 10, "gd_records": 121},
    },
    "correlated": {  # beyond the paper: one layer's sample Hessian under correlated inputs (samples per Hessian)
        "smoke": {"n_samples": 20_000, "grid_size": 10, "dims": [2, 4], "rhos": [0.0, 0.5, 0.9, 0.99]},
        "default": {"n_samples": 200_000, "grid_size": 10, "dims": [2, 4],
                    "rhos": [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]},
        "paper": {"n_samples": 1_000_000, "grid_size": 10, "dims": [2, 4],
                  "rhos": [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]},
    },
    "waves": {
        "smoke": {"n_points": 200, "kan_steps": 40, "mlp_steps": 100, "repeats": 2, "record_every": 10},
        "default": {"n_points": 200, "kan_steps": 3000, "mlp_steps": 6000, "repeats": 2, "record_every": 100},
        "paper": {"n_points": 200, "kan_steps": 8000, "mlp_steps": 80000, "repeats": 10, "record_every": 100},
    },
    "poisson": {  # KAN: steps_per_grid at grid 20, then as many at grid 40; the MLP trains as long
        "smoke": {"n_points": 200, "steps_per_grid": 3, "ks": [2, 4, 8, 16, 32]},
        "default": {"n_points": 1000, "steps_per_grid": 25, "ks": [2, 4, 8, 16, 32]},
        "paper": {"n_points": 2000, "steps_per_grid": 100, "ks": [2, 4, 8, 16, 32]},
    },
    "efficiency": {  # not a figure of the paper (its abstract's claim): "paper" is a longer budget, not the authors'
        "smoke": {"n_train": 200, "n_test": 200, "kan_grids": [3, 5, 10], "steps_per_grid": 5,
                  "mlp_widths": [5, 10], "mlp_steps": 15},
        "default": {"n_train": 1000, "n_test": 1000, "kan_grids": [3, 5, 10, 20, 50, 100], "steps_per_grid": 200,
                    "mlp_widths": [5, 10, 20, 40], "mlp_steps": 1000},
        "paper": {"n_train": 1000, "n_test": 1000, "kan_grids": [3, 5, 10, 20, 50, 100, 200], "steps_per_grid": 200,
                  "mlp_widths": [5, 10, 20, 40, 80], "mlp_steps": 2000},
    },
    # beyond the paper (notebook 15): Figure 3's KANs on grids 10 -> 20 -> 40, three ways to extend; at default
    # only the depth-3 KAN (the runs cost minutes), at the paper's 100 steps per grid all three depths
    "refinement": {
        "smoke": {"n_points": 400, "steps_per_grid": 2, "models": ["kan3"]},
        "default": {"n_points": 5000, "steps_per_grid": 20, "models": ["kan3"]},
        "paper": {"n_points": 5000, "steps_per_grid": 100, "models": ["kan2", "kan3", "kan4"]},
    },
    # fields: [d, sigma]; KANs: 5 grid stages (10 -> 50) of steps_per_grid L-BFGS steps; MLPs: 5 x mlp_steps_per_grid
    # steps (the authors: as many as the KANs). At default the KANs get enough steps per grid for the loss spikes at
    # the extensions to show, the MLPs (far costlier per step) the authors' first 30 steps.
    "grf": {
        "smoke": {"n_points": 400, "steps_per_grid": 2, "mlp_steps_per_grid": 2, "fields": [[3, 0.125], [2, 1.0]],
                  "overfit_points": 1500, "overfit_steps_per_grid": 2, "overfit_sigmas": [0.125],
                  "overfit_models": ["kan3", "mlp_tanh"], "anchors": 400},
        "default": {"n_points": 5000, "steps_per_grid": 20, "mlp_steps_per_grid": 6, "fields": [[3, 0.125], [2, 1.0]],
                    "overfit_points": 50000, "overfit_steps_per_grid": 4, "overfit_sigmas": [0.125],
                    "overfit_models": ["kan3"], "anchors": 5000},
        "paper": {"n_points": 5000, "steps_per_grid": 100, "mlp_steps_per_grid": 100,
                  "fields": [[d, s] for d in (2, 3, 4) for s in (0.125, 0.25, 0.5, 1.0)],
                  "overfit_points": 50000, "overfit_steps_per_grid": 100, "overfit_sigmas": [0.125, 0.25],
                  "overfit_models": ["mlp_tanh", "mlp_relu3", "kan2", "kan3", "kan4"], "anchors": 10000},
    },
}


def budget(experiment: str, scale: str | None = None) -> dict[str, Any]:
    """A copy of the budget of ``experiment`` at ``scale`` (default: the environment's, see
    :func:`kanpaper.base.settings.resolve_scale`)."""
    check_choice("experiment", experiment, tuple(BUDGETS))
    return dict(BUDGETS[experiment][resolve_scale(scale)])


# ---- Section 4.2, Figures 1 and 2: phased waves (authors: Adam 3e-4, 200 points in [0, 1), full batch,
# the KANs on pykan's default grid [-1, 1], never updated; 8,000 KAN and 80,000 MLP iterations, 10 repeats)

WAVES_LR = 3e-4
FIGURE_1_MLPS = [(256, 10), (256, 6), (128, 6)]                       # ReLU MLPs: (width, depth)
FIGURE_1_KANS = [(10, 3, 10), (10, 3, 40), (10, 4, 10), (10, 4, 40)]  # KANs, k = 3: (width, depth, G)
WAVES_SWEEP_KANS = [(w, d, g) for w in (3, 10) for d in (2, 3, 4) for g in (5, 10, 20, 40)]
WAVES_SWEEP_MLPS = [(w, d) for d in (6, 10) for w in (32, 64, 128, 256)]
# the sweep's MLPs one size step apart, (smaller, larger): the width doubled at a depth, the depth 6 -> 10 at a width
WAVES_SWEEP_MLP_STEPS = ([((w, d), (2 * w, d)) for w, d in WAVES_SWEEP_MLPS if (2 * w, d) in WAVES_SWEEP_MLPS]
                         + [((w, 6), (w, 10)) for w, d in WAVES_SWEEP_MLPS if d == 6])


def waves_kan(width: int, depth: int, grid_size: int) -> ModelSpec:
    """KAN of ``depth`` layers of width ``width`` (:func:`~kanpaper.experiments.spec.layer_widths`), k = 3,
    pykan's initialisation."""
    return ModelSpec.kan(layer_widths(1, width, depth), grid_size)


def waves_mlp(width: int, depth: int, activation: str = "relu") -> ModelSpec:
    """MLP of ``depth`` linear layers of width ``width``, PyTorch's initialisation."""
    return ModelSpec.mlp(layer_widths(1, width, depth), activation)


def waves_config(model: ModelSpec, steps: int, amplitudes: str = "equal", scale: str | None = None,
                 **options) -> dict[str, Any]:
    """One waves run at ``scale``'s record interval, repeats and points (``options``: ``lr``, ``grids``,
    ``grid_updates``, ``seed``)."""
    cfg = budget("waves", scale)
    return {"model": model.as_dict(), "steps": steps, "lr": WAVES_LR, "record_every": cfg["record_every"],
            "repeats": cfg["repeats"], "amplitudes": amplitudes, "seed": 0, "n_points": cfg["n_points"],
            **options}


def overview_configs(scale: str | None = None) -> list[dict[str, Any]]:
    """The overview's short demonstration: KAN [1, 10, 10, 1] G = 10 and a ReLU MLP W64 D4, Adam 1e-2."""
    cfg = budget("overview", scale)
    common = dict(steps=cfg["demo_steps"], lr=1e-2, record_every=max(cfg["demo_steps"] // 30, 1), repeats=2,
                  amplitudes="equal", seed=0, n_points=cfg["n_points"])
    return [dict(model=waves_kan(10, 3, 10).as_dict(), **common), dict(model=waves_mlp(64, 4).as_dict(), **common)]


def figure_1_configs(amplitudes: str, scale: str | None = None) -> list[dict[str, Any]]:
    """Figure 1 (``"equal"`` amplitudes) or Figure 2 (``"increasing"``): the three MLPs, then the four KANs."""
    cfg = budget("waves", scale)
    return ([waves_config(waves_mlp(w, d), cfg["mlp_steps"], amplitudes, scale) for w, d in FIGURE_1_MLPS]
            + [waves_config(waves_kan(w, d, g), cfg["kan_steps"], amplitudes, scale) for w, d, g in FIGURE_1_KANS])


def waves_sweep_configs(scale: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The hyperparameter sweep behind the figures: 24 KANs (W 3/10, D 2-4, G 5-40) and 8 MLPs (W 32-256,
    D 6/10), equal amplitudes. Returns ``(kan_configs, mlp_configs)``."""
    cfg = budget("waves", scale)
    return ([waves_config(waves_kan(w, d, g), cfg["kan_steps"], scale=scale) for w, d, g in WAVES_SWEEP_KANS],
            [waves_config(waves_mlp(w, d), cfg["mlp_steps"], scale=scale) for w, d in WAVES_SWEEP_MLPS])


# The abstract's claim that grid extension helps high frequencies, which the authors' runs (grids never
# updated) do not test: fixed grids against data-covering grids, and extension 5 -> 40 on data grids.
GRID_EXTENSION_ARCHS = [(10, 2), (10, 3)]
GRID_EXTENSION_VARIANTS = {"faithful G5": dict(grid_size=5), "faithful G40": dict(grid_size=40),
                           "data grid G5": dict(grid_size=5, grid_updates=True),
                           "data grid G40": dict(grid_size=40, grid_updates=True),
                           "data grid G5→40": dict(grid_size=5, grids=[5, 10, 20, 40], grid_updates=True)}


def grid_extension_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{((width, depth), variant): config}`` for every architecture and variant above."""
    cfg = budget("waves", scale)
    configs = {}
    for width, depth in GRID_EXTENSION_ARCHS:
        for variant, options in GRID_EXTENSION_VARIANTS.items():
            options = dict(options)
            model = waves_kan(width, depth, options.pop("grid_size"))
            configs[(width, depth), variant] = waves_config(model, cfg["kan_steps"], scale=scale, **options)
    return configs


# ---- Section 4.3, Figures 3 and 4: Gaussian random fields (authors: 5,000 points, 80/20 split; MLPs with a
# fresh L-BFGS every step for 500 steps; KANs [d, 10, ..., 1] with grid extension 10 -> 50, 100 L-BFGS steps
# of pykan's fit per grid; all 12 fields d in {2, 3, 4} x sigma in {1/8, 1/4, 1/2, 1}). Their KAN result files
# are pykan 0.2.8's numerics, refined on the test inputs (the first three steps of every file agree with
# pykan 0.2.8 to five digits, not with 0.2.5; kanpaper.nn.kan), so the Figure 3-4 KANs follow both.

GRF_GRIDS = [10, 20, 30, 40, 50]
GRF_MODELS = ("mlp_tanh", "mlp_relu3", "kan2", "kan3", "kan4")


def grf_model(name: str, dim: int, pykan: str = "0.2.5") -> ModelSpec:
    """``mlp_tanh``: tanh, depth 6, width 256; ``mlp_relu3``: ReLU^3, depth 4, width 256 (seed 0);
    ``kanD``: ``[d] + [10] * (D - 1) + [1]``, k = 3, G = 10 first, pykan's seed 1, ``pykan``'s numerics."""
    check_choice("GRF model", name, GRF_MODELS)
    if name.startswith("kan"):
        return ModelSpec.kan(layer_widths(dim, 10, int(name[3:])), GRF_GRIDS[0], seed=1, pykan=pykan)
    activation, depth = ("tanh", 6) if name == "mlp_tanh" else ("relu3", 4)
    return ModelSpec.mlp(layer_widths(dim, 256, depth), activation)


def grf_config(name: str, dim: int, sigma: float, n_points: int, steps_per_grid: int, pykan: str = "0.2.5",
               **options) -> dict[str, Any]:
    """One GRF run (``pykan``: a KAN's numerics; ``options``: ``anchors`` for the Nystrom sampler, ``seed`` of
    the field, ``extension_inputs``)."""
    return {"model": grf_model(name, dim, pykan).as_dict(), "dim": dim, "sigma": sigma, "n_points": n_points,
            "grids": GRF_GRIDS, "steps_per_grid": steps_per_grid, **options}


def _as_the_authors_ran(name: str) -> dict[str, str]:
    """The Figure 3-4 KANs: pykan 0.2.8's numerics, grids extended on the test inputs (pykan's refine after fit)."""
    return {"pykan": "0.2.8", "extension_inputs": "test"} if name.startswith("kan") else {}


def figure_3_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(d, sigma, model): config}`` for the scale's fields and every model (Figures 3 and 4), the KANs as the
    authors ran theirs (pykan 0.2.8, extensions on the test inputs)."""
    cfg = budget("grf", scale)
    return {(d, s, name): grf_config(name, d, s, cfg["n_points"],
                                     cfg["mlp_steps_per_grid" if name.startswith("mlp") else "steps_per_grid"],
                                     **_as_the_authors_ran(name))
            for d, s in (tuple(f) for f in cfg["fields"]) for name in GRF_MODELS}


GRF_SEEDS = (2, 3, 4, 5)            # the KANs again from four more initialisations (the authors': pykan's seed 1)
GRF_SEED_FIELDS = ((3, 0.125), (2, 1.0))   # a rough and a smooth field: the default scale's two


def figure_3_seed_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(d, sigma, model, seed): config}``: the three KANs of Figure 3 on :data:`GRF_SEED_FIELDS` from each of
    :data:`GRF_SEEDS` (the field itself unchanged): with the seed-1 runs of :func:`figure_3_configs`, the spread
    of our own runs that an ours/theirs ratio is held against."""
    cfg = budget("grf", scale)
    configs = {}
    for d, s in GRF_SEED_FIELDS:
        for name in GRF_MODELS:
            if name.startswith("kan"):
                base = grf_config(name, d, s, cfg["n_points"], cfg["steps_per_grid"], **_as_the_authors_ran(name))
                for seed in GRF_SEEDS:
                    model = dataclasses.replace(ModelSpec.from_dict(base["model"]), seed=seed)
                    configs[d, s, name, seed] = dict(base, model=model.as_dict())
    return configs


def first_extension_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(d, sigma, model): config}``: the first-extension probe
    (:func:`~kanpaper.experiments.first_extension.run_first_extension`) of every Figure 3 KAN of the scale."""
    return {key: dict(config, probe="first_extension") for key, config in figure_3_configs(scale).items()
            if key[2].startswith("kan")}


OVERFITTING_DIM = 3      # the authors' overfitting study: d = 3, 4,000 against 40,000 training points


def overfitting_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(model, sigma, n_points): config}``: the scale's models and fields at the Figure 3 size and at the
    large size (Nystrom sampler)."""
    cfg = budget("grf", scale)
    configs = {}
    for name in cfg["overfit_models"]:
        for sigma in cfg["overfit_sigmas"]:
            for n_points in (cfg["n_points"], cfg["overfit_points"]):
                options = {} if n_points == cfg["n_points"] else {"anchors": cfg["anchors"]}
                configs[name, sigma, n_points] = grf_config(name, OVERFITTING_DIM, sigma, n_points,
                                                            cfg["overfit_steps_per_grid"], **options)
    return configs


# ---- Section 4.4, Figure 5: Poisson by Deep Ritz (authors: 2,000 points; KAN [1, 10, 1] noise 0.1 with
# grid 20 for 100 L-BFGS steps, then 40 for 100; tanh MLP 6 x 256 for 200 steps; k = 2, 4, 8, 16, 32)

FIGURE_5_GRIDS = [20, 40]
FIGURE_5_KAN = ModelSpec.kan([1, 10, 1], FIGURE_5_GRIDS[0], noise_scale=0.1, seed=1)
FIGURE_5_MLP = ModelSpec.mlp(layer_widths(1, 256, 6), "tanh")


def figure_5_configs(loss: str = "ritz", scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(model, k): config}`` with model ``"kan"`` or ``"mlp"``, for the scale's frequencies k."""
    cfg = budget("poisson", scale)
    common = dict(n_points=cfg["n_points"], grids=FIGURE_5_GRIDS, steps_per_grid=cfg["steps_per_grid"], loss=loss)
    return {(name, k): dict(common, model=spec.as_dict(), k=k)
            for k in cfg["ks"] for name, spec in (("kan", FIGURE_5_KAN), ("mlp", FIGURE_5_MLP))}


FIGURE_5_SEEDS = (2, 3, 4, 5)       # the KAN again from four more initialisations (the authors': seed 1)


def figure_5_seed_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(k, seed): config}``: Figure 5's KAN at every k from each of :data:`FIGURE_5_SEEDS`: with the seed-1 run
    of :func:`figure_5_configs`, the spread of our own finals that an ours/theirs ratio is held against."""
    base = figure_5_configs("ritz", scale)
    return {(k, seed): dict(base["kan", k], model=dataclasses.replace(FIGURE_5_KAN, seed=seed).as_dict())
            for k in budget("poisson", scale)["ks"] for seed in FIGURE_5_SEEDS}


# ---- The abstract's consequence of Theorem 3.3: KANs against MLPs at equal parameter counts (not a figure of the
# paper; Liu et al. 2024's target exp(sin(pi x) + y^2), a KAN [2, 1, 1] trained with grid extension as pykan does)

EFFICIENCY_TARGET = "exp_sin_square"
EFFICIENCY_KAN = ModelSpec.kan([2, 1, 1], 3, seed=1)
EFFICIENCY_MLP_ACTIVATIONS = ("tanh", "relu3")


def efficiency_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{("kan", None): config, (activation, width): config}``: the KAN through the scale's grid stages and MLPs
    ``[2, W, W, 1]`` of each activation and width."""
    cfg = budget("efficiency", scale)
    common = dict(target=EFFICIENCY_TARGET, n_train=cfg["n_train"], n_test=cfg["n_test"], seed=0)
    kan = dict(common, model=EFFICIENCY_KAN.as_dict(), grids=cfg["kan_grids"], steps_per_grid=cfg["steps_per_grid"])
    configs = {("kan", None): kan}
    for activation in EFFICIENCY_MLP_ACTIVATIONS:
        for width in cfg["mlp_widths"]:
            model = ModelSpec.mlp(layer_widths(2, width, 3), activation)
            configs[activation, width] = dict(common, model=model.as_dict(), steps=cfg["mlp_steps"])
    return configs


# ---- beyond the paper (notebook 13): the waves of Figures 1-2 learned by one layer of each basis of
# :mod:`kanpaper.nn.bases` (run by :mod:`~kanpaper.experiments.bases_on_waves`, in the notebook itself)

BASIS_WAVES_SIZE = 128     # functions per basis: a Fourier basis needs 101 for 50 Hz, local bases a few per period
BASIS_WAVES_LR = 1e-2      # Adam's step for one linear layer (the figures' 3e-4 is also run, on the B-spline)


def basis_waves_configs(scale: str | None = None, lr: float = BASIS_WAVES_LR,
                        amplitudes: str = "equal") -> dict[str, dict[str, Any]]:
    """One waves config per basis (Figure 1's ``"equal"`` or Figure 2's ``"increasing"`` amplitudes, the waves
    budget's KAN steps, repeats and records): ``{basis name: config}``."""
    cfg = budget("waves", scale)
    return {name: {"basis": name, "size": BASIS_WAVES_SIZE, "steps": cfg["kan_steps"], "lr": lr,
                   "record_every": cfg["record_every"], "repeats": cfg["repeats"], "amplitudes": amplitudes, "seed": 0,
                   "n_points": cfg["n_points"]} for name in BASES}


# ---- beyond the paper (notebook 14): the parameterisation alone (Theorem 3.3's twins), and the optimizer

TWIN_KANS = [(10, 3, 10), (10, 3, 40)]        # Figure 1's W10 D3 KANs, as Theorem 3.3's KAN: k = 1, no base term
LBFGS_MLPS = [(256, 10), (32, 6)]             # (width, depth): Figure 1's deepest MLP and the sweep's narrowest
LBFGS_KANS = [(10, 3, 10), (10, 4, 10)]       # (width, depth, G): Figure 1's KANs on the coarse grid
LBFGS_ITERATIONS = 20                          # pykan's L-BFGS iterations per step (``max_iter``)


def twin_kan(width: int, depth: int, grid_size: int) -> ModelSpec:
    """A waves KAN with splines alone, k = 1 (pykan's initialisation otherwise): the KAN Theorem 3.3 turns into a
    ReLU MLP."""
    return ModelSpec.kan(layer_widths(1, width, depth), grid_size, k=1, base=None)


def twin_configs(scale: str | None = None) -> dict[tuple[str, int], dict[str, Any]]:
    """Each twin KAN and its MLP (``converted = "mlp"``), Adam at the figures' step for the KANs' step count, equal
    amplitudes: ``{("KAN" or "MLP", G): config}``."""
    cfg = budget("waves", scale)
    configs = {}
    for w, d, g in TWIN_KANS:
        kan = waves_config(twin_kan(w, d, g), cfg["kan_steps"], scale=scale)
        configs["KAN", g], configs["MLP", g] = kan, dict(kan, converted="mlp")
    return configs


def adam_against_lbfgs_configs(scale: str | None = None) -> dict[tuple[str, str, int | None], dict[str, Any]]:
    """Figure 1's protocol under Adam (the figures' runs themselves) and under pykan's L-BFGS with as many loss
    evaluations (``steps / LBFGS_ITERATIONS`` steps, each up to that many iterations; one run per repeat):
    ``{(model label, "adam", None) or (model label, "lbfgs", member): config}``."""
    cfg = budget("waves", scale)
    models = ([(f"MLP W{w} D{d}", waves_mlp(w, d), cfg["mlp_steps"]) for w, d in LBFGS_MLPS]
              + [(f"KAN W{w} D{d} G{g}", waves_kan(w, d, g), cfg["kan_steps"]) for w, d, g in LBFGS_KANS])
    configs = {}
    for label, model, steps in models:
        configs[label, "adam", None] = waves_config(model, steps, scale=scale)
        lbfgs_steps = max(steps // LBFGS_ITERATIONS, 1)
        for member in range(cfg["repeats"]):
            configs[label, "lbfgs", member] = waves_config(model, lbfgs_steps, scale=scale, lr=1.0, optimizer="lbfgs",
                                                           member=member, record_every=max(lbfgs_steps // 150, 1))
    return configs


# ---- beyond the paper (notebook 15): grid extension by pykan's refit against exact knot insertion, on nested grids

NESTED_GRIDS = [10, 20, 40]          # each a refinement of the one before: knot insertion keeps the function exactly
EXTENSIONS = ("refit", "insertion", "insertion, no update")


def refinement_configs(scale: str | None = None) -> dict[tuple, dict[str, Any]]:
    """``{(d, sigma, model, extension): config}``: Figure 3's KANs (pykan 0.2.8's numerics; the scale's, from the
    ``refinement`` budget) on the rough and the smooth field of :data:`GRF_SEED_FIELDS`, grids 10 -> 20 -> 40 at
    the scale's steps per grid, extended
    (:data:`EXTENSIONS`) by pykan's refit (least squares at the test inputs, as the authors' runs), by exact knot
    insertion followed by pykan's grid update (which refits the coefficients on grids moved to the data), or by
    exact knot insertion alone at the extension (the function kept; the updates later in the stage remain)."""
    cfg = budget("refinement", scale)
    configs = {}
    for d, s in GRF_SEED_FIELDS:
        for name in cfg["models"]:
            base = dict(grf_config(name, d, s, cfg["n_points"], cfg["steps_per_grid"], **_as_the_authors_ran(name)),
                        grids=NESTED_GRIDS)
            configs[d, s, name, "refit"] = base
            configs[d, s, name, "insertion"] = dict(base, extension="insertion")
            configs[d, s, name, "insertion, no update"] = dict(base, extension="insertion", update_at_extension=False)
    return configs
