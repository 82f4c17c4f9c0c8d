"""Reading results: Fourier analysis (``fourier``), the paper's claims as functions (``claims``), the authors'
reference data (``reference``) and figures (``figures``). Arrays in, never a model: imports only ``base``."""
