"""kanpaper: reproducible companion to "On the expressiveness and spectral bias of KANs"
(Wang, Siegel, Liu, Hou; ICLR 2025, arXiv:2410.01803)."""

__version__ = "0.2.0"

from .kan import KAN, KANLayer  # noqa: E402
from .mlp import MLP  # noqa: E402
from .ensemble import Ensemble  # noqa: E402
from .training import GridSchedule, TrainResult, regression_loss, rmse, train  # noqa: E402

__all__ = ["KAN", "KANLayer", "MLP", "Ensemble", "GridSchedule", "TrainResult",
           "regression_loss", "rmse", "train", "__version__"]
