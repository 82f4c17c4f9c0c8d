"""The models: B-spline bases and knots (``splines``), the fused CPU kernels (``kernels``), the spline layer
(``layer``), the KAN (``kan``), the MLP (``mlp``), a batched ensemble of either (``ensemble``) and pykan models as
ours (``pykan``). Imports only ``base``."""
