"""The paper's theorems checked in exact constructions: KAN <-> MLP conversions (``conversions``) and their
rounding bounds (``rounding``), approximation rates (``approximation``) and the single-layer Hessian
(``hessian``). Imports ``base`` and ``nn``."""
