"""Overhead of the training loop itself: many cheap Adam steps of a small KAN, where the loop's bookkeeping (records,
metrics, the checkpoint clock) is a visible share of a step. Run it under two checkouts to compare them:
``PYTHONPATH=<checkout> python benchmarks/bench_train_loop.py``; ``--checkpoint DIR`` also saves a checkpoint every
``--every`` seconds of compute there.
"""

from __future__ import annotations

import argparse
import time

import torch

from kanpaper import KAN
from kanpaper.training.loop import regression_loss, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--checkpoint", default=None, help="a directory: checkpoint there (default: no checkpoint)")
    parser.add_argument("--every", type=float, default=300.0, help="seconds of compute between checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = torch.linspace(-1, 1, 200, dtype=torch.float64)[:, None]
    y = torch.sin(8 * x)
    model = KAN([1, 10, 10, 1], grid_size=10, seed=0)
    kwargs = {}
    if args.checkpoint is not None:
        from pathlib import Path

        from kanpaper.training.checkpoint import Checkpoint
        kwargs["checkpoint"] = Checkpoint(Path(args.checkpoint) / "bench.pt", args.every)
    start = time.perf_counter()
    train(model, regression_loss(x, y), args.steps, record_fn=lambda m: {"prediction": m(x)}, record_every=100,
          progress=False, **kwargs)
    print(f"{args.steps} Adam steps: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
