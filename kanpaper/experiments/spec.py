"""The run spec every experiment of the paper follows: the model, its label, its step count.

A run is a JSON-serialisable config dict (its content is the run's key in the results cache) holding a
``"model"`` :class:`ModelSpec` (as a dict) and the experiment's own settings. The model is built by one
function, :func:`build_model`; its grids follow a :class:`~kanpaper.training.loop.GridSchedule` whose first
stage :func:`check_first_stage` checks; a run is labelled by :func:`describe` and counts :func:`total_steps`.
``waves``, ``grf``, ``poisson`` and ``efficiency`` are the experiments on this spec; ``paper`` holds the paper's
configurations of them, and :mod:`kanpaper.runs.pool` computes lists of runs through the results cache.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from ..base.checks import check_choice
from ..nn.kan import KAN, PYKAN_RELEASES
from ..nn.mlp import MLP

__all__ = ["ModelSpec", "layer_widths", "build_model", "describe", "is_kan", "total_steps", "check_first_stage"]

KINDS = ("kan", "mlp")


def layer_widths(n_in: int, width: int, depth: int, n_out: int = 1) -> list[int]:
    """``[n_in, width, ..., width, n_out]``: ``depth`` layers (``depth - 1`` hidden ones of ``width``)."""
    if depth < 1:
        raise ValueError(f"depth counts layers and must be >= 1, got {depth}")
    return [int(n_in)] + [int(width)] * (depth - 1) + [int(n_out)]


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
        pykan: KAN: the pykan release whose numerics it follows (:mod:`kanpaper.nn.kan`); left out of
            :meth:`as_dict` at the default, so that the configs (and cache keys) of 0.2.5 runs stay as they were.
        base: KAN: the base term of every edge (``"silu"``, pykan's; ``"identity"``; ``None``: splines alone, the
            KAN that Theorem 3.3 turns into a ReLU^k MLP); left out of :meth:`as_dict` at the default, as ``pykan``.
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
    base: str | None = "silu"

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
        for name, default in (("pykan", PYKAN_RELEASES[0]), ("base", "silu")):
            if values[name] == default:
                del values[name]
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
                    noise_scale=spec.noise_scale, seed=seed, pykan=spec.pykan, base=spec.base)
    else:
        built = MLP(list(spec.widths), spec.activation, seed=seed)
    return built.to(device)


def is_kan(config: Mapping[str, Any]) -> bool:
    """Whether a run's model is a KAN."""
    return _spec(config["model"]).kind == "kan"


_ACTIVATION_LABELS = {"relu": "", "tanh": "tanh ", "silu": "SiLU "}


def describe(config: Mapping[str, Any], problem: bool = False) -> str:
    """A run's label: ``"KAN W10 D3 G10"``, ``"KAN W10 D3 G5-40 (data grid)"``, ``"MLP W256 D10"`` or
    ``"MLP tanh W256 D6"``; beyond the paper ``"MLP of KAN W10 D3 G40 k=1 no base"``, ``"MLP W256 D10 L-BFGS #0"``
    (W: hidden width, D: number of layers; ``grids`` and ``grid_updates`` of the config
    give the grid stages and whether grids adapt to the data). With ``problem``, followed by the problem the run
    solves where its config names one: ``"KAN W10 D3 G10-50 d=3 σ=0.125"``, ``"MLP tanh W256 D6 k=8"``."""
    spec = _spec(config["model"])
    shape = f"W{spec.widths[1] if len(spec.widths) > 2 else spec.widths[0]} D{len(spec.widths) - 1}"
    if spec.kind == "mlp":
        activation = _ACTIVATION_LABELS.get(spec.activation, f"{spec.activation.replace('relu', 'ReLU^')} ")
        label = f"MLP {activation}{shape}"
    else:
        grids = list(config.get("grids") or [spec.grid_size])
        label = f"KAN {shape} G{grids[0]}" + (f"-{grids[-1]}" if len(grids) > 1 else "")
        label += " (data grid)" if config.get("grid_updates") else ""
        label += (f" k={spec.k}" if spec.k != 3 else "") + (" no base" if spec.base is None else "")
    if config.get("converted"):
        label = f"{config['converted'].upper()} of {label}"
    label += " L-BFGS" if config.get("optimizer") == "lbfgs" else ""
    label += f" #{config['member']}" if "member" in config else ""
    if not problem:
        return label
    return " ".join([label, *(f"{name}={config[key]:g}" for key, name in (("dim", "d"), ("sigma", "σ"), ("k", "k"))
                              if key in config)])


def total_steps(config: Mapping[str, Any]) -> int:
    """Optimizer steps of a run: ``len(grids) x steps_per_grid`` for staged runs, else ``steps``."""
    if "steps_per_grid" in config:
        return len(config["grids"]) * int(config["steps_per_grid"])
    return int(config["steps"])


def check_first_stage(config: Mapping[str, Any], spec: ModelSpec) -> list[int]:
    """A KAN run's grid stages (``config["grids"]``, or none): the first must be the spec's grid size, since the
    model is built at that size. Returns the stages as ints."""
    grids = [int(g) for g in config.get("grids") or ()]
    if spec.kind == "kan" and grids and grids[0] != spec.grid_size:
        raise ValueError(f"the first grid stage ({grids[0]}) must be the model's grid size ({spec.grid_size})")
    return grids
