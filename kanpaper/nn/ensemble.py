"""Independent copies of one model, trained as one batched model.

The members' parameters are stacked along a leading axis. Models that provide
``forward_stacked(state, x)`` (:class:`~kanpaper.KAN`, :class:`~kanpaper.MLP`)
evaluate all members in one pass of batched kernels; any other module is
mapped over the members with ``torch.func.vmap``. Either way R repeats cost
about one kernel call per operation instead of R. With a loss that is the sum
of the members' own losses, each member receives exactly its own gradient; with
an element-wise optimizer (Adam) every member follows the trajectory of its
separate run.
"""

from __future__ import annotations

import copy
import warnings
from typing import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """Stack ``members`` (same class and shapes) into one batched module.

    Shapes: ``x`` is ``(N, n_in)`` (shared by all members) or ``(R, N, n_in)``;
    the output is ``(R, N, n_out)``. ``stacked`` holds each parameter as ``(R, *shape)``, or as
    ``(R, in, out)`` for a weight ``(out, in)`` the members' ``stacked_transposed(name)`` names.
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shapes = [{n: p.shape for n, p in m.state_dict().items()} for m in members]
        if any(type(m) is not type(members[0]) or s != shapes[0] for m, s in zip(members, shapes)):
            raise ValueError("ensemble members must have the same class and parameter shapes")
        params, buffers = stack_module_state(members)
        self._names = list(params)
        # a parameter the batched forward multiplies by transposed (an MLP's weights) is stored transposed,
        # (R, in, out), and handed to the forward as a view of the member's shape: its gradient then arrives
        # contiguous, and neither autograd nor the optimizer copies it into shape (15% of a W256 step)
        is_transposed = getattr(members[0], "stacked_transposed", lambda name: False)
        self._transposed = [bool(is_transposed(n)) for n in self._names]
        self.stacked = nn.ParameterList(nn.Parameter(params[n].mT.contiguous() if t else params[n])
                                        for n, t in zip(self._names, self._transposed))
        for i, (name, value) in enumerate(buffers.items()):
            self.register_buffer(f"_buffer{i}", value)
        self._buffer_names = list(buffers)
        template = copy.deepcopy(members[0])
        self._template = [template.to("meta")]  # a list keeps it out of the module tree

    def __len__(self) -> int:
        return self.stacked[0].shape[0]

    def _state(self):
        params = {n: p.mT if t else p for n, p, t in zip(self._names, self.stacked, self._transposed)}
        buffers = {n: getattr(self, f"_buffer{i}") for i, n in enumerate(self._buffer_names)}
        return params, buffers

    def forward(self, x: Tensor) -> Tensor:
        template = self._template[0]
        params, buffers = self._state()
        if hasattr(template, "forward_stacked"):
            return template.forward_stacked({**params, **buffers}, x)

        def one(p, b, xi):
            return functional_call(template, (p, b), (xi,))

        with warnings.catch_warnings():
            # under vmap, torch.searchsorted sees batched views and warns about a copy it makes; harmless
            warnings.filterwarnings("ignore", message=r"torch\.searchsorted\(\): input value tensor is non-contiguous")
            return vmap(one, in_dims=(0, 0, 0 if x.ndim == 3 else None))(params, buffers, x)

    def map_members(self, fn) -> None:
        """Apply ``fn(member)`` (in place, e.g. a grid update) to every member and restack.

        Parameters are replaced: create a new optimizer afterwards.
        """
        members = self.members()
        for member in members:
            fn(member)
        _restack(self, members)

    def update_grid(self, samples: Tensor) -> None:
        """Grid update of every member (see :meth:`kanpaper.nn.kan.KAN.update_grid`)."""
        self.map_members(lambda m: m.update_grid(samples))

    def extend_grid(self, grid_size: int, samples: Tensor) -> None:
        """Grid extension of every member (see :meth:`kanpaper.nn.kan.KAN.extend_grid`)."""
        self.map_members(lambda m: m.extend_grid(grid_size, samples))

    def members(self) -> list[nn.Module]:
        """Separate modules holding the members' current parameters."""
        params, buffers = self._state()
        out = []
        for r in range(len(self)):
            member = copy.deepcopy(self._template[0]).to_empty(device=self.stacked[0].device)
            state = {n: v[r].detach().clone() for n, v in {**params, **buffers}.items()}
            member.load_state_dict(state)
            out.append(member)
        return out


def _submodule(module: nn.Module, name: str) -> nn.Module:
    return module.get_submodule(name) if name else module


def _restack(ensemble: Ensemble, members: Sequence[nn.Module]) -> None:
    """Load ``members`` into ``ensemble``: in place when shapes are unchanged
    (optimizer state survives, as for a single model), else rebuilt."""
    fresh = Ensemble(members)
    same = [a.shape for a in fresh.stacked] == [b.shape for b in ensemble.stacked] and all(
        getattr(fresh, f"_buffer{i}").shape == getattr(ensemble, f"_buffer{i}").shape
        for i in range(len(ensemble._buffer_names)))
    if not same:
        ensemble.__dict__.update(fresh.__dict__)
        return
    with torch.no_grad():
        for old, new in zip(ensemble.stacked, fresh.stacked):
            old.copy_(new)
        for i in range(len(ensemble._buffer_names)):
            getattr(ensemble, f"_buffer{i}").copy_(getattr(fresh, f"_buffer{i}"))
    ensemble._template = fresh._template
