"""kanpaper: reproducible companion to "On the expressiveness and spectral bias of KANs"
(Wang, Siegel, Liu, Hou; ICLR 2025, arXiv:2410.01803).

The package's wings, each importing only those before it: ``base`` (checks, settings, progress, the version),
``analysis`` (arrays in, never a model), ``nn`` (splines, the KAN, the MLP, other bases' layers), ``training``, ``theory``,
``experiments`` (the run spec, the paper's experiments and configurations) and ``runs`` (the results cache, the
step costs, the pool); at the root the entry points of the notebooks, ``make figures`` and ``make estimate``.
"""

from .base.version import __version__
from .nn.bases import BasisLayer
from .nn.ensemble import Ensemble
from .nn.kan import KAN, KANLayer
from .nn.mlp import MLP
from .training.loop import GridSchedule, TrainResult, regression_loss, rmse, train

__all__ = ["KAN", "KANLayer", "BasisLayer", "MLP", "Ensemble", "GridSchedule", "TrainResult",
           "regression_loss", "rmse", "train", "__version__"]
