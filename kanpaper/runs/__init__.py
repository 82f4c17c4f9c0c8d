"""Computing runs: the results cache (``cache``), one sweep of runs in worker processes or on Dask (``sweep``),
step costs measured on this machine (``costs``) and the pool that computes lists of runs through the cache
(``pool``). Imports ``base`` and the run spec (``experiments.spec``)."""
