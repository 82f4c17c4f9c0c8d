"""Training loops: Adam and pykan-style L-BFGS, grid schedules, records, NaN guard.

A loss function maps the model to its training objective: a scalar for one
model, or one value per member, shape ``(R,)``, for an :class:`Ensemble`
(members are then optimised on the sum, which gives each its own gradient).

Example:
    >>> model = KAN([1, 5, 1], grid_size=5)
    >>> x = torch.linspace(-1, 1, 50, dtype=torch.float64)[:, None]
    >>> result = train(model, regression_loss(x, torch.sin(3 * x)), steps=10, progress=False)
    >>> result.losses.shape
    (10,)
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..base import progress as progress_report
from ..base.checks import check_choice
from ..nn.ensemble import Ensemble
from . import checkpoint as checkpoints
from .lbfgs import pykan_lbfgs

__all__ = ["GridSchedule", "TrainResult", "regression_loss", "rmse", "train", "EXTENSIONS"]

EXTENSIONS = ("refit", "insertion")       # how a grid extension carries the splines over (GridSchedule.extension)


def regression_loss(x: Tensor, y: Tensor) -> Callable[[nn.Module], Tensor]:
    """Mean squared error on ``(x, y)``; per member for an ensemble.

    ``x``: ``(N, n_in)`` (or ``(R, N, n_in)``); ``y``: ``(N, n_out)`` or ``(R, N, n_out)``.
    """
    def loss(model: nn.Module) -> Tensor:
        return ((model(x) - y) ** 2).mean(dim=(-2, -1))
    return loss


def rmse(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Root mean squared error (pykan's logged metric), per member for an ensemble."""
    with torch.no_grad():
        return regression_loss(x, y)(model).sqrt()


@dataclass
class GridSchedule:
    """Grid updates and extensions, each applied before the training step it is keyed by.

    Attributes:
        samples: ``(N, n_in)`` model inputs the grids adapt to (the training inputs).
        updates: steps before which ``update_grid(samples)`` runs.
        extensions: step -> new grid size; ``extend_grid`` runs before that step
            (and before an update keyed by the same step).
        extension_samples: ``(M, n_in)`` inputs the extensions fit at, if not ``samples``: pykan's ``refine``
            uses the model's last forward input, after ``fit`` the test inputs (inputs only, never labels).
        extension: ``"refit"`` (pykan's: coefficients on the new grid fitted to the old splines at samples) or
            ``"insertion"`` (exact knot insertion, :meth:`KAN.refine_grid`: the function kept on the grid domain;
            each grid size a multiple of the one before).
    """

    samples: Tensor
    updates: set[int] = field(default_factory=set)
    extensions: dict[int, int] = field(default_factory=dict)
    extension_samples: Tensor | None = None
    extension: str = "refit"

    @classmethod
    def pykan(cls, samples: Tensor, grids: Sequence[int], steps_per_grid: int, *,
              update_grid: bool = True, grid_update_num: int = 10, stop_grid_update_step: int = 50,
              extension_samples: Tensor | None = None, extension: str = "refit",
              update_at_extension: bool = True) -> "GridSchedule":
        """pykan's ``fit`` repeated for each grid size, with ``refine`` between fits.

        Within each stage of ``steps_per_grid`` steps, grids update at
        ``0, f, 2f, ... < stop_grid_update_step`` with
        ``f = stop_grid_update_step // grid_update_num`` (pykan: 0, 5, ..., 45);
        at each new stage the grid is extended to the next size in ``grids``
        (``grids[0]`` is the model's initial size), fitted at ``extension_samples`` if given, or by exact knot
        insertion (``extension="insertion"``). With ``update_at_extension=False`` a stage after the first skips
        its update at offset 0, the one pykan's next ``fit`` makes right after ``refine`` (a grid update refits
        the coefficients too, so without it an exact insertion leaves the function as it was).
        """
        grids = _check_stages(grids, steps_per_grid)
        check_choice("grid extension", extension, EXTENSIONS)
        if extension == "insertion" and any(b % a for a, b in zip(grids, grids[1:])):
            raise ValueError(f"knot insertion needs each grid size a multiple of the one before, got {grids}")
        if grid_update_num < 1 or stop_grid_update_step < grid_update_num:
            raise ValueError("need 1 <= grid_update_num <= stop_grid_update_step, got "
                             f"{grid_update_num} and {stop_grid_update_step}")
        every = stop_grid_update_step // grid_update_num
        offsets = range(0, min(stop_grid_update_step, steps_per_grid), every) if update_grid else ()
        schedule = cls._stages(samples, grids, steps_per_grid, offsets, extension_samples)
        schedule.extension = extension
        if not update_at_extension:
            schedule.updates -= set(schedule.extensions)
        return schedule

    @classmethod
    def poisson(cls, samples: Tensor, grids: Sequence[int], steps_per_grid: int, *,
                update_every: int = 5, update_until: int = 50) -> "GridSchedule":
        """The authors' schedule for the Poisson problem (Section 4.4): the grid is extended at each new
        stage, and updated at steps ``0, e, 2e, ...`` up to and including ``update_until`` of every stage
        (``e = update_every``; the authors: 0, 5, ..., 50), but not at a stage's last step.
        """
        grids = _check_stages(grids, steps_per_grid)
        if update_every < 1 or update_until < 0:
            raise ValueError(f"need update_every >= 1 and update_until >= 0, got {update_every} and {update_until}")
        offsets = range(0, min(update_until, steps_per_grid - 1) + 1, update_every)
        return cls._stages(samples, grids, steps_per_grid, offsets)

    @classmethod
    def _stages(cls, samples: Tensor, grids: list[int], steps_per_grid: int, offsets,
                extension_samples: Tensor | None = None) -> "GridSchedule":
        """Extensions to ``grids[s]`` at the start of stage ``s > 0``; updates at ``offsets`` into every stage."""
        starts = [stage * steps_per_grid for stage in range(len(grids))]
        return cls(samples, {start + offset for start in starts for offset in offsets},
                   {start: size for start, size in zip(starts[1:], grids[1:])}, extension_samples)


def _check_stages(grids: Sequence[int], steps_per_grid: int) -> list[int]:
    grids = [int(g) for g in grids]
    if not grids or any(g < 1 for g in grids):
        raise ValueError(f"grids must be a non-empty list of grid sizes >= 1, got {grids}")
    if any(b <= a for a, b in zip(grids, grids[1:])):
        raise ValueError(f"grids must increase, got {grids}")
    if int(steps_per_grid) < 1:
        raise ValueError(f"steps_per_grid must be >= 1, got {steps_per_grid}")
    return grids


@dataclass
class TrainResult:
    """What a training run recorded.

    Attributes:
        losses: ``(steps,)`` or ``(steps, R)`` training objective per step (Adam:
            before the update, as computed for it; L-BFGS: after the step, as pykan logs).
        metrics: name -> ``(steps,)`` or ``(steps, R)``, from ``metrics_fn`` after each step.
        records: name -> ``(n_records, ...)`` arrays from ``record_fn``.
        record_steps: ``(n_records,)`` number of completed steps at each record.
        diverged_at: step at which the objective became non-finite, per member
            (-1: never); a single model gives a 0-d array.
        seconds: wall-clock time of the run.
    """

    losses: np.ndarray
    metrics: dict[str, np.ndarray]
    records: dict[str, np.ndarray]
    record_steps: np.ndarray
    diverged_at: np.ndarray
    seconds: float

    @property
    def diverged(self) -> bool:
        return bool((self.diverged_at >= 0).any())

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat dict of arrays (for the results cache)."""
        out = {"losses": self.losses, "record_steps": self.record_steps,
               "diverged_at": self.diverged_at, "seconds": np.asarray(self.seconds)}
        out.update({f"metric/{k}": v for k, v in self.metrics.items()})
        out.update({f"record/{k}": v for k, v in self.records.items()})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TrainResult":
        pick = lambda prefix: {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}  # noqa: E731
        return cls(arrays["losses"], pick("metric/"), pick("record/"), arrays["record_steps"],
                   arrays["diverged_at"], float(arrays["seconds"]))


def _numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def train(model: nn.Module, loss_fn: Callable[[nn.Module], Tensor], steps: int, *,
          optimizer: str = "adam", lr: float | None = None, schedule: GridSchedule | None = None,
          reset_optimizer_on_update: bool = False, fresh_optimizer_every_step: bool = False,
          metrics_fn: Callable[[nn.Module], dict] | None = None,
          record_fn: Callable[[nn.Module], dict] | None = None, record_every: int | None = None,
          progress: bool = True, desc: str | None = None,
          checkpoint: checkpoints.Checkpoint | None = None) -> TrainResult:
    """Train ``model`` in place for ``steps`` optimizer steps.

    Args:
        model: a KAN, MLP or :class:`Ensemble` of them.
        loss_fn: model -> objective (scalar, or ``(R,)`` for an ensemble).
        steps: number of optimizer steps (an L-BFGS step is up to 20 iterations).
        optimizer: ``"adam"`` (lr default 3e-4) or ``"lbfgs"`` (pykan's settings, lr default 1).
        schedule: grid updates / extensions (KANs only). A grid extension always
            creates a new optimizer (the parameters change shape); a grid update
            keeps it, as pykan's ``fit`` does, unless ``reset_optimizer_on_update``.
        fresh_optimizer_every_step: create a new optimizer before every step (the
            authors' MLP scripts do this with L-BFGS, which then forgets its history).
        metrics_fn: model -> {name: value or (R,)} after every step.
        record_fn: model -> {name: array}, called before steps ``0, R, 2R, ...``
            (``record_every = R``) and after the last step.
        progress: report progress (:mod:`kanpaper.base.progress`: a bar, or one line when done).
        checkpoint: where to save the run's state every ``checkpoint.every_seconds`` of compute and to resume it
            from (default: the one :func:`kanpaper.training.checkpoint.active` opened, if any). A resumed run
            ends with the arrays an uninterrupted one gives, bit for bit; ``seconds`` counts both parts. The
            loss, metrics and record functions must be functions of the model alone (any randomness they draw
            comes from torch's global generator, whose state the checkpoint carries).

    Returns:
        :class:`TrainResult`. A run whose objective turns NaN/inf stops there (for an
        ensemble: when every member has); its ``diverged_at`` says when.
    """
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"unknown optimizer {optimizer!r}; allowed: 'adam', 'lbfgs'")
    if optimizer == "lbfgs" and isinstance(model, Ensemble):
        raise ValueError("L-BFGS couples all parameters, so an ensemble would not train like separate runs; "
                         "train the members one by one")
    if record_fn is not None and (record_every is None or record_every < 1):
        raise ValueError("record_fn needs record_every >= 1")
    lr = lr if lr is not None else (3e-4 if optimizer == "adam" else 1.0)

    def make_optimizer():
        params = [p for p in model.parameters() if p.requires_grad]
        if optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, fused=True)  # one kernel for all parameters
        return pykan_lbfgs(params, lr=lr)

    opt = make_optimizer()
    n_members = len(model) if isinstance(model, Ensemble) else None
    shape = (steps,) if n_members is None else (steps, n_members)
    losses = np.full(shape, np.nan)
    metrics: dict[str, np.ndarray] = {}
    records: dict[str, list] = {}
    record_steps: list[int] = []
    diverged_at = np.full(shape[1:], -1, dtype=np.int64)

    def record(done: int) -> None:
        record_steps.append(done)
        with torch.no_grad():
            for name, value in record_fn(model).items():
                records.setdefault(name, []).append(_numpy(value))

    checkpoint = checkpoint if checkpoint is not None else checkpoints.current()
    # what must match for a saved state to be this run's (the model itself is the caller's: same config, same key)
    signature = repr((steps, optimizer, lr, n_members, record_every, reset_optimizer_on_update,
                      fresh_optimizer_every_step, schedule is not None, metrics_fn is not None, record_fn is not None))
    done, spent = 0, 0.0
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None and saved.get("signature") != signature:
        warnings.warn(f"checkpoint {checkpoint.path} belongs to another training call ({saved.get('signature')}, "
                      f"this one {signature}); starting from scratch", stacklevel=2)
        saved = None
    if saved is not None:
        model.__dict__.update(saved["model"].__dict__)       # the pickled module's state, in the caller's object
        opt = make_optimizer()
        opt.load_state_dict(saved["optimizer"])
        losses, metrics, records = saved["losses"], saved["metrics"], saved["records"]
        record_steps, diverged_at = saved["record_steps"], saved["diverged_at"]
        done, spent = saved["done"], saved["seconds"]
        torch.set_rng_state(saved["rng"])                      # where the uninterrupted run's generator stood
        progress_report.report(f"{desc or 'training'}: resuming at step {done} of {steps} from {checkpoint.path}",
                               progress)

    def save() -> None:
        checkpoint.save({"signature": signature, "done": done, "model": model, "optimizer": opt.state_dict(),
                         "losses": losses, "metrics": metrics, "records": records, "record_steps": record_steps,
                         "diverged_at": diverged_at, "seconds": spent + time.perf_counter() - start,
                         "rng": torch.get_rng_state()})

    start = last_save = time.perf_counter()
    bar = progress_report.bar(range(done, steps), total=steps - done, desc=desc, enabled=progress)
    for step in bar:
        if schedule is not None:
            if step in schedule.extensions:
                if schedule.extension == "insertion":
                    model.refine_grid(schedule.extensions[step] // model.grid_size)
                else:
                    model.extend_grid(schedule.extensions[step], schedule.samples
                                      if schedule.extension_samples is None else schedule.extension_samples)
                opt = make_optimizer()
            if step in schedule.updates:
                model.update_grid(schedule.samples)
                if reset_optimizer_on_update:
                    opt = make_optimizer()
        if fresh_optimizer_every_step and step:
            opt = make_optimizer()
        if record_fn is not None and step % record_every == 0:
            record(step)
        if optimizer == "adam":
            value = loss_fn(model)
            opt.zero_grad(set_to_none=True)
            value.sum().backward()
            opt.step()
        else:
            def closure():
                opt.zero_grad(set_to_none=True)
                objective = loss_fn(model)
                objective.backward()
                return objective
            opt.step(closure)
            value = loss_fn(model).detach()
        losses[step] = _numpy(value)
        done = step + 1
        if metrics_fn is not None:
            for name, v in metrics_fn(model).items():
                metrics.setdefault(name, np.full(shape, np.nan))[step] = _numpy(v)
        bad = ~np.isfinite(losses[step]) & (diverged_at < 0)
        diverged_at[bad] = step
        if progress and step % 50 == 0:
            bar.set_postfix(loss=f"{np.nanmean(losses[step]):.3e}")
        if (diverged_at >= 0).all():
            break
        if checkpoint is not None and done < steps and time.perf_counter() - last_save >= checkpoint.every_seconds:
            save()
            last_save = time.perf_counter()
    bar.close()
    if record_fn is not None and (not record_steps or record_steps[-1] != done):
        record(done)
    seconds = spent + time.perf_counter() - start
    final_losses = np.atleast_1d(losses[done - 1]) if done else np.array([])
    finite = final_losses[np.isfinite(final_losses)]
    last = f", final loss {finite.mean():.3e}" if finite.size else ""
    progress_report.report(f"{desc or 'training'}: {done} steps in {seconds:.1f} s{last}", progress)
    return TrainResult(losses, metrics, {k: np.stack(v) for k, v in records.items()},
                       np.asarray(record_steps), diverged_at, seconds)
