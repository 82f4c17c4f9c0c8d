"""Results cache: a run's arrays stored under a key derived from its full config.

The key hashes the config (canonical JSON) together with the kanpaper
version, so a changed setting or a new release recomputes, while an
interrupted ``make figures`` resumes from the runs that finished. Entries are
written to a temporary file and renamed into place (atomic on POSIX), and each
carries a digest of its contents: a truncated or corrupted entry is detected,
reported, and recomputed rather than trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..base.provenance import note_run
from ..base.version import __version__
from ..training import checkpoint as checkpoints

__all__ = ["ResultsCache", "config_key"]

_DIGEST = "__digest__"
_CONFIG = "__config__"


def _canonical(config: Mapping[str, Any]) -> str:
    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        raise TypeError(f"config value {value!r} of type {type(value).__name__} is not JSON-serialisable")
    return json.dumps(config, sort_keys=True, default=default, separators=(",", ":"))


def config_key(config: Mapping[str, Any]) -> str:
    """Hex key of ``config`` (and the kanpaper version)."""
    text = _canonical({"config": config, "kanpaper": __version__})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(value.dtype).encode())
        h.update(str(value.shape).encode())
        h.update(value.tobytes())
    return h.hexdigest()


class ResultsCache:
    """Arrays of finished runs in ``directory``, one ``.npz`` file per config.

    Example:
        >>> cache = ResultsCache(tmp_path)
        >>> out = cache.get_or_compute({"seed": 0}, lambda cfg: {"x": np.arange(3)})
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, config: Mapping[str, Any]) -> Path:
        return self.directory / f"{config_key(config)}.npz"

    def load(self, config: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
        """The stored arrays, or None when missing or corrupt (a corrupt entry is removed)."""
        path = self.path(config)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            digest = str(arrays.pop(_DIGEST))
            arrays.pop(_CONFIG, None)
            if digest != _digest(arrays):
                raise ValueError("digest mismatch")
        except Exception as error:  # any unreadable entry is recomputed
            warnings.warn(f"results cache: discarding corrupt entry {path.name} ({error})", stacklevel=2)
            path.unlink(missing_ok=True)
            return None
        note_run(path.stem, self.directory)
        return arrays

    def configs(self) -> dict[str, dict[str, Any]]:
        """``{key: config}`` of every readable entry in the directory (configs as stored: JSON values); an
        unreadable one is left out, with a warning naming it (:meth:`load` discards it when its run is asked for)."""
        found = {}
        for path in sorted(self.directory.glob("*.npz")):
            try:
                with np.load(path, allow_pickle=False) as data:
                    found[path.stem] = json.loads(str(data[_CONFIG]))
            except Exception as error:  # truncated, not a zip, no config: listing goes on without it
                warnings.warn(f"results cache: skipping unreadable entry {path.name} ({type(error).__name__}: "
                              f"{error})", stacklevel=2)
        return found

    def store(self, config: Mapping[str, Any], arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Write ``arrays`` for ``config`` atomically; returns them as numpy arrays."""
        arrays = {str(k): np.asarray(v) for k, v in arrays.items()}
        for name, value in arrays.items():
            if name in (_DIGEST, _CONFIG) or value.dtype == object:
                raise ValueError(f"cannot cache array {name!r} (reserved name or object dtype)")
        self.directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays, **{_DIGEST: np.asarray(_digest(arrays)),
                                      _CONFIG: np.asarray(_canonical(config))})
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(buffer.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path(config))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return arrays

    def get_or_compute(self, config: Mapping[str, Any],
                       compute: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Stored arrays for ``config``, computing and storing them with ``compute(config)`` if needed.

        The computation trains with the run's checkpoint active (:mod:`kanpaper.training.checkpoint`, named by the
        run's key): interrupted, it resumes at the next call from its last checkpoint, which is removed once the
        run is stored."""
        found = self.load(config)
        if found is not None:
            return found
        run_checkpoint = checkpoints.for_run(config_key(config))
        with checkpoints.active(run_checkpoint):          # a killed run resumes from here on its next call
            arrays = compute(config)
        stored = self.store(config, arrays)
        run_checkpoint.remove()
        return stored
