"""Training: the loop with grid schedules, records and metrics (``loop``) and pykan's L-BFGS (``lbfgs``).
Imports ``base`` and ``nn``."""
