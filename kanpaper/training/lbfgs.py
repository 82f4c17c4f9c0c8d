"""L-BFGS as pykan 0.2.5 runs it (its ``fit``), the optimizer of the paper's GRF and Poisson experiments.

pykan ships its own copy of PyTorch's L-BFGS that differs in one place: a
curvature pair ``(s, y)`` enters the history when ``y.s > tolerance_ys``
(pykan: 1e-32) instead of PyTorch's fixed ``1e-10``. Near convergence, with
losses of 1e-10 and below, that decides whether the history is updated at all,
so a faithful rerun needs it. The step below is PyTorch's algorithm (two-loop
recursion, strong-Wolfe line search from ``torch.optim.lbfgs``) with that
threshold exposed.
"""

from __future__ import annotations

import torch
from torch.optim.lbfgs import _strong_wolfe

__all__ = ["LBFGS", "pykan_lbfgs"]


class LBFGS(torch.optim.LBFGS):
    """``torch.optim.LBFGS`` with a configurable curvature threshold ``tolerance_ys``."""

    def __init__(self, params, *, tolerance_ys: float = 1e-32, **kwargs):
        super().__init__(params, **kwargs)
        self.tolerance_ys = tolerance_ys

    @torch.no_grad()
    def step(self, closure):  # noqa: C901 - one algorithm, kept in one piece
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        grad = self._gather_flat_grad()
        if grad.abs().max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = grad.neg(), [], [], [], 1
            else:
                y = grad.sub(prev_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > self.tolerance_ys:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                alphas = [None] * len(old_dirs)
                q = grad.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-alphas[i])
                d = r = torch.mul(q, h_diag)
                for i in range(len(old_dirs)):
                    beta = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=alphas[i] - beta)

            prev_grad = grad.clone(memory_format=torch.contiguous_format)
            prev_loss = loss
            t = min(1.0, 1.0 / grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = grad.dot(d)
            if gtd > -tol_change:
                break

            if group["line_search_fn"] == "strong_wolfe":
                start = self._clone_param()

                def directional(x, step, direction):
                    return self._directional_evaluate(closure, x, step, direction)

                loss, grad, t, ls_evals = _strong_wolfe(directional, start, t, d, loss, grad, gtd)
                self._add_grad(t, d)
                converged = grad.abs().max() <= tol_grad
            else:
                self._add_grad(t, d)
                ls_evals = 0
                converged = False
                if n_iter != max_iter:
                    with torch.enable_grad():
                        loss = float(closure())
                    grad = self._gather_flat_grad()
                    converged = grad.abs().max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if d.mul(t).abs().max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return orig_loss


def pykan_lbfgs(params, lr: float = 1.0) -> LBFGS:
    """The optimizer of pykan's ``fit``: history 10, strong Wolfe, all tolerances 1e-32, 20 iterations a step."""
    return LBFGS(params, lr=lr, history_size=10, line_search_fn="strong_wolfe",
                 tolerance_grad=1e-32, tolerance_change=1e-32, tolerance_ys=1e-32, max_iter=20)
