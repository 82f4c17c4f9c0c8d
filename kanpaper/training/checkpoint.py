"""Checkpoints of a training run: a run killed at any moment (SIGKILL included) resumes where it was and ends with
the bits an uninterrupted run gives.

A checkpoint holds what :func:`kanpaper.training.loop.train` carries from one step to the next: the model (its grids
included), the optimizer's state, the losses, metrics and records so far, the steps done, the compute time spent,
and torch's global RNG state. :meth:`Checkpoint.save` writes it atomically (a temporary file, fsync, rename) and
keeps the one before beside it; every file carries the SHA-256 of its payload, so a truncated or corrupt file is
found at load, and the run resumes from the one before, or from scratch, saying which.

Checkpoints live in :func:`checkpoint_dir` (``$KANPAPER_CHECKPOINTS``, by default ``~/.cache/kanpaper/checkpoints``:
outside any checkout, so a fresh one keeps them; never the committed archive). The results cache opens one per run
(:func:`active`, named by the run's cache key) around computing it and removes it once the run is stored, so a
checkpoint only ever saves time: it is never read for anything but resuming the same run.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

__all__ = ["CHECKPOINT_DIR_ENV", "CHECKPOINT_SECONDS_ENV", "Checkpoint", "checkpoint_dir", "for_run", "progress",
           "active", "current"]

CHECKPOINT_DIR_ENV = "KANPAPER_CHECKPOINTS"
CHECKPOINT_SECONDS_ENV = "KANPAPER_CHECKPOINT_SECONDS"
DEFAULT_SECONDS = 300.0       # compute between two checkpoints: a killed run loses at most this much
_MAGIC = b"kanpaper checkpoint 1\n"


class CorruptCheckpoint(ValueError):
    """A checkpoint file that is truncated, altered or not a checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    """One run's checkpoint file ``path`` (and ``path.prev``, the one before), saved every ``every_seconds``."""

    path: Path
    every_seconds: float = DEFAULT_SECONDS

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))
        if not self.every_seconds >= 0:
            raise ValueError(f"every_seconds must be >= 0 (0: after every step), got {self.every_seconds}")

    @property
    def previous(self) -> Path:
        return self.path.with_name(self.path.name + ".prev")

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically; the checkpoint it replaces becomes ``previous``."""
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getvalue()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
                handle.flush()
                os.fsync(handle.fileno())
            if self.path.exists():
                os.replace(self.path, self.previous)   # killed here: no current file, the previous one is read
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> dict[str, Any] | None:
        """The newest intact state (the current file, else the previous one), or None; a corrupt file is removed
        with a warning that says what is used instead."""
        candidates = [p for p in (self.path, self.previous) if p.exists()]
        for i, path in enumerate(candidates):
            try:
                return _read(path)
            except CorruptCheckpoint as error:
                fallback = "the previous checkpoint" if i + 1 < len(candidates) else "scratch"
                warnings.warn(f"checkpoint {path} is unusable ({error}); resuming from {fallback}", stacklevel=2)
                path.unlink(missing_ok=True)
        return None

    def remove(self) -> None:
        """Delete the checkpoint and the one before (the run is stored)."""
        for path in (self.path, self.previous):
            path.unlink(missing_ok=True)


def _read(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    if not data.startswith(_MAGIC):
        raise CorruptCheckpoint("not a kanpaper checkpoint")
    header, _, payload = data[len(_MAGIC):].partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != header:
        raise CorruptCheckpoint(f"checksum mismatch: truncated or altered ({len(data)} bytes)")
    try:
        # our own file (its checksum matched): it holds the model object, so not weights-only
        return torch.load(io.BytesIO(payload), weights_only=False)
    except Exception as error:          # a file that matches its checksum but does not load: written by other code
        raise CorruptCheckpoint(f"unreadable ({type(error).__name__}: {error})") from error


def checkpoint_dir() -> Path:
    """``$KANPAPER_CHECKPOINTS``, or ``~/.cache/kanpaper/checkpoints``."""
    configured = os.environ.get(CHECKPOINT_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "kanpaper" / "checkpoints"


def for_run(key: str) -> Checkpoint:
    """The checkpoint of the run with cache key ``key``, saved every ``$KANPAPER_CHECKPOINT_SECONDS`` (default
    300) seconds of compute."""
    seconds = os.environ.get(CHECKPOINT_SECONDS_ENV, "").strip()
    try:
        every = float(seconds) if seconds else DEFAULT_SECONDS
    except ValueError:
        raise ValueError(f"{CHECKPOINT_SECONDS_ENV} must be a number of seconds, got {seconds!r}") from None
    return Checkpoint(checkpoint_dir() / f"{key}.pt", every)


def progress(key: str) -> dict[str, Any] | None:
    """How far the run with cache key ``key`` got, read from its checkpoint without touching it (another process
    may be computing the run): ``done`` (steps), ``seconds`` (compute so far, resumed parts added) and ``saved``
    (when the file was written, seconds since the epoch), from the newest intact file; None where the run has no
    checkpoint. Raises :class:`CorruptCheckpoint` where no file is intact."""
    checkpoint = for_run(key)
    candidates = [p for p in (checkpoint.path, checkpoint.previous) if p.exists()]
    for i, path in enumerate(candidates):
        try:
            saved = path.stat().st_mtime
            state = _read(path)
        except FileNotFoundError:          # replaced by the run between the listing and the read: take the next
            continue
        except CorruptCheckpoint:
            if i + 1 == len(candidates):
                raise
            continue
        return {"done": int(state["done"]), "seconds": float(state["seconds"]), "saved": saved}
    return None


_ACTIVE: ContextVar[Checkpoint | None] = ContextVar("kanpaper_checkpoint", default=None)


@contextmanager
def active(checkpoint: Checkpoint | None) -> Iterator[Checkpoint | None]:
    """Within the block, :func:`~kanpaper.training.loop.train` checkpoints to ``checkpoint`` unless told otherwise."""
    token = _ACTIVE.set(checkpoint)
    try:
        yield checkpoint
    finally:
        _ACTIVE.reset(token)


def current() -> Checkpoint | None:
    """The checkpoint :func:`active` opened, or None."""
    return _ACTIVE.get()
