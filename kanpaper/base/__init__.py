"""The ground floor: argument checks and the randomness policy (``checks``), the machine's switches that are no
part of a run (``settings``: scale, device, threads per run), progress reporting (``progress``), checked claims
(``verdict``) and the package version (``version``). Imports nothing else of kanpaper."""
