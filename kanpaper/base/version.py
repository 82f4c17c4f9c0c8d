"""The package version: part of every results-cache key (:func:`kanpaper.runs.cache.config_key`), so a change
recomputes every run and the committed archive stops loading. Change it only with a release that means to."""

__version__ = "0.2.0"
