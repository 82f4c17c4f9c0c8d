"""Training: the loop with grid schedules, records and metrics (``loop``), pykan's L-BFGS (``lbfgs``) and the
checkpoints that let a killed run resume bit for bit (``checkpoint``). Imports ``base`` and ``nn``."""
