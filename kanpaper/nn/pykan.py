"""pykan models as kanpaper KANs: the parameters and grids of a pykan 0.2.5 ``MultKAN`` in a :class:`KAN`."""

from __future__ import annotations

import torch
from torch import nn

from .kan import KAN

__all__ = ["kan_from_pykan"]


def kan_from_pykan(model) -> KAN:
    """A KAN with the parameters and grids of a pykan 0.2.5 ``MultKAN``.

    Supports pykan's plain KANs (no multiplication nodes, no symbolic
    functions in use, affine node parameters at identity); raises otherwise.
    """
    if any(w[1] for w in model.width):
        raise ValueError("pykan model has multiplication nodes; kanpaper KANs have only sums")
    for sym in model.symbolic_fun:
        if bool(sym.mask.abs().sum() > 0):
            raise ValueError("pykan model uses symbolic functions; convert a purely numerical model")
    for name in ("node_scale", "subnode_scale"):
        if any(not torch.all(p == 1) for p in getattr(model, name)):
            raise ValueError(f"pykan model has non-identity {name}; not supported")
    for name in ("node_bias", "subnode_bias"):
        if any(not torch.all(p == 0) for p in getattr(model, name)):
            raise ValueError(f"pykan model has non-zero {name}; not supported")
    bases = {"silu": "silu", "identity": "identity", "zero": None}
    if model.base_fun_name not in bases:
        raise ValueError(f"unsupported pykan base function {model.base_fun_name!r}")
    first = model.act_fun[0]
    dtype = first.coef.dtype
    kan = KAN([w[0] for w in model.width], grid_size=first.num, k=first.k,
              base=bases[model.base_fun_name], seed=0, dtype=dtype, device=first.coef.device)
    with torch.no_grad():
        for ours, theirs in zip(kan.layers, model.act_fun):
            ours.knots = theirs.grid.detach().clone()
            ours.coef = nn.Parameter(theirs.coef.detach().clone())
            ours.scale_sp = nn.Parameter((theirs.scale_sp * theirs.mask).detach().clone())
            if ours.scale_base is not None:
                ours.scale_base = nn.Parameter((theirs.scale_base * theirs.mask).detach().clone())
            ours.grid_eps = theirs.grid_eps
    return kan
