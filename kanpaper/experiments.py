"""The protocol every experiment of the paper follows.

A run is a JSON-serialisable config dict (its content is the run's key in the results cache) holding a
``"model"`` :class:`ModelSpec` (as a dict) and the experiment's own settings. The model is built by one
function, :func:`build_model`; its grids follow a :class:`~kanpaper.training.GridSchedule`; a run is
labelled by :func:`describe`; and a list of runs goes through :func:`run_experiments` (several experiments'
lists at once: :func:`run_groups`), which looks each up in the results cache and computes the missing ones, each
on one thread, as many at a time as there are cores. ``waves``, ``grf`` and ``poisson`` are the three experiments
on this protocol; ``kanpaper.paper`` holds the paper's configurations of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .cache import ResultsCache, config_key
from .checks import check_choice
from .kan import KAN, PYKAN_RELEASES
from .mlp import MLP
from .sweep import run_sweep, scheduler_address

__all__ = ["ModelSpec", "THREADS_PER_RUN", "build_model", "describe", "run_label", "is_kan", "run_experiments",
           "run_groups", "stage_steps"]

KINDS = ("kan", "mlp")
THREADS_PER_RUN = 1          # torch threads of every run, wherever it runs (see run_experiments)


@dataclass(frozen=True)
class ModelSpec:
    """A model of the paper's experiments.

    Attributes:
        kind: ``"kan"`` or ``"mlp"``.
        widths: ``(n_0, n_1, ..., n_L)``: a KAN's layer widths, or an MLP's (L linear layers).
        grid_size: KAN grid intervals G (the first stage's, when a schedule extends the grid).
        k: KAN spline degree.
        noise_scale: KAN initial coefficient noise (pykan's ``KAN`` default: 0.3).
        grid_range: KAN initial grid interval.
        activation: MLP activation (``"relu"``, ``"reluK"``, ``"tanh"``, ``"silu"``).
        seed: initialisation seed (pykan's ``KAN(seed=...)``; PyTorch's default initialisation for MLPs).
        pykan: KAN: the pykan release whose numerics it follows (:mod:`kanpaper.kan`); left out of
            :meth:`as_dict` at the default, so that the configs (and cache keys) of 0.2.5 runs stay as they were.
    """

    kind: str
    widths: tuple[int, ...]
    grid_size: int = 3
    k: int = 3
    noise_scale: float = 0.3
    grid_range: tuple[float, float] = (-1.0, 1.0)
    activation: str = "relu"
    seed: int = 0
    pykan: str = "0.2.5"

    def __post_init__(self):
        check_choice("model kind", self.kind, KINDS)
        check_choice("pykan release", self.pykan, PYKAN_RELEASES)
        widths = tuple(int(w) for w in self.widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must list at least an input and an output width, each >= 1; got {self.widths}")
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "grid_range", tuple(float(v) for v in self.grid_range))

    @classmethod
    def kan(cls, widths: Sequence[int], grid_size: int, **options) -> "ModelSpec":
        return cls("kan", tuple(widths), grid_size=grid_size, **options)

    @classmethod
    def mlp(cls, widths: Sequence[int], activation: str = "relu", seed: int = 0) -> "ModelSpec":
        return cls("mlp", tuple(widths), activation=activation, seed=seed)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelSpec":
        return cls(**values)                     # lists from JSON become tuples in __post_init__

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain JSON values, for a run's config."""
        values = asdict(self)
        values["widths"], values["grid_range"] = list(self.widths), list(self.grid_range)
        if values["pykan"] == PYKAN_RELEASES[0]:
            del values["pykan"]
        return values


def _spec(model: ModelSpec | Mapping[str, Any]) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else ModelSpec.from_dict(model)


def build_model(model: ModelSpec | Mapping[str, Any], seed: int | None = None,
                device: str | torch.device = "cpu") -> nn.Module:
    """The KAN or MLP of a spec, in float64; ``seed`` replaces the spec's seed (repeats of one spec).

    The model is initialised on the CPU and then moved to ``device``, so a seed gives one model everywhere."""
    spec = _spec(model)
    seed = spec.seed if seed is None else seed
    if spec.kind == "kan":
        built = KAN(list(spec.widths), grid_size=spec.grid_size, k=spec.k, grid_range=spec.grid_range,
                    noise_scale=spec.noise_scale, seed=seed, pykan=spec.pykan)
    else:
        built = MLP(list(spec.widths), spec.activation, seed=seed)
    return built.to(device)


def is_kan(config: Mapping[str, Any]) -> bool:
    """Whether a run's model is a KAN."""
    return _spec(config["model"]).kind == "kan"


_ACTIVATION_LABELS = {"relu": "", "tanh": "tanh ", "silu": "SiLU "}


def describe(config: Mapping[str, Any]) -> str:
    """A run's label: ``"KAN W10 D3 G10"``, ``"KAN W10 D3 G5-40 (data grid)"``, ``"MLP W256 D10"`` or
    ``"MLP tanh W256 D6"`` (W: hidden width, D: number of layers; ``grids`` and ``grid_updates`` of the config
    give the grid stages and whether grids adapt to the data)."""
    spec = _spec(config["model"])
    shape = f"W{spec.widths[1] if len(spec.widths) > 2 else spec.widths[0]} D{len(spec.widths) - 1}"
    if spec.kind == "mlp":
        activation = _ACTIVATION_LABELS.get(spec.activation, f"{spec.activation.replace('relu', 'ReLU^')} ")
        return f"MLP {activation}{shape}"
    grids = list(config.get("grids") or [spec.grid_size])
    label = f"KAN {shape} G{grids[0]}" + (f"-{grids[-1]}" if len(grids) > 1 else "")
    return label + (" (data grid)" if config.get("grid_updates") else "")


def run_label(config: Mapping[str, Any]) -> str:
    """:func:`describe` and the run's problem: ``"KAN W10 D3 G5-40 d=3 σ=0.125"``, ``"MLP tanh W256 D6 k=8"``."""
    problem = [f"{name}={config[key]:g}" for key, name in (("dim", "d"), ("sigma", "σ"), ("k", "k"))
               if key in config]
    return " ".join([describe(config), *problem])


Config = Mapping[str, Any]


def run_experiments(fn: Callable[..., Mapping[str, Any]], configs: Sequence[Config], *,
                    cache: ResultsCache | None = None, workers: int | None = None,
                    scheduler: str | None = None) -> list[dict[str, np.ndarray]]:
    """``[fn(c) for c in configs]`` through the results cache, every missing run on one torch thread.

    The runs go ``workers`` at a time (default: all cores) into worker processes, longest first (by this
    machine's measured step costs where ``make estimate`` has measured them, else MLPs before KANs), each
    reported when it finishes; with ``workers=1``, or one run to compute, they run in this process with their
    own progress bars. On a Dask cluster (``scheduler`` or ``$KANPAPER_DASK_SCHEDULER``) every run is one task.
    One thread per run wherever it runs: a run's numbers do not depend on how many runs are computed beside it
    (the thread count changes how sums are split, so their rounding), and two single-thread runs side by side
    get through more work on a small machine than one run on two threads (1.15-1.3x, measured on 2 cores).
    The runs are announced first, with their estimated time where :mod:`kanpaper.costs` has measured this
    machine. ``fn(config, progress=...)`` is an experiment's run function.
    """
    return run_groups([(fn, configs)], cache=cache, workers=workers, scheduler=scheduler)[0]


def run_groups(groups: Sequence[tuple[Callable[..., Mapping[str, Any]], Sequence[Config]]], *,
               cache: ResultsCache | None = None, workers: int | None = None,
               scheduler: str | None = None) -> list[list[dict[str, np.ndarray]]]:
    """:func:`run_experiments` of every ``(fn, configs)`` in ``groups``, all missing runs in one pool (longest
    first across groups, so no core waits for the end of a group); a run asked for twice is computed once.
    Returns one list of results per group, in the order of its configs."""
    from .costs import announce, expected_seconds        # costs builds on this module
    runs = {config_key(c): (fn, c) for fn, configs in groups for c in configs}
    todo = [(fn, c) for fn, c in runs.values() if cache is None or cache.load(c) is None]
    if todo:
        print(announce(todo, workers), flush=True)
    inline = scheduler_address(scheduler) is None and (workers == 1 or len(todo) <= 1)
    results = run_sweep([partial(fn, progress=inline) for fn, _ in runs.values()], [c for _, c in runs.values()],
                        n_jobs=1 if inline else workers or -1, cache=cache, threads_per_job=THREADS_PER_RUN,
                        show_progress=not inline, scheduler=scheduler, priority=expected_seconds(todo),
                        label=run_label)
    by_key = dict(zip(runs, results))
    return [[by_key[config_key(c)] for c in configs] for _, configs in groups]


def stage_steps(config: Mapping[str, Any]) -> int:
    """Total steps of a staged run: ``len(grids) * steps_per_grid``."""
    return len(config["grids"]) * int(config["steps_per_grid"])
