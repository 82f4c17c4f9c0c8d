"""The paper's experiments: the run spec every one follows (``spec``), the waves (``waves``), the Gaussian random
fields (``grf``), Poisson by Deep Ritz (``poisson``), KANs against MLPs at equal parameters (``efficiency``), and
the paper's configurations and budgets of them (``paper``). Imports every wing below ``runs``."""
