"""Argument checks shared by the statistics modules (one clear ValueError naming the argument).

A setting a user chooses (the luminosity) is checked with :class:`lfi.errors.OptionError`, a ValueError.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import OptionError

__all__ = ["as_columns", "check_lumi"]


def as_columns(values: np.ndarray, name: str) -> np.ndarray:
    """A finite float64 array of shape (N, K); a 1-D input becomes one column."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (N,) or (N, K), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains non-finite values")
    return x


def check_lumi(lumi: float) -> float:
    """The luminosity as a positive float (pb⁻¹); anything else is an :class:`~lfi.errors.OptionError`."""
    try:
        lumi = float(lumi)
    except (TypeError, ValueError):
        raise OptionError(f"lumi must be a positive luminosity in pb⁻¹, got {lumi!r}") from None
    if not (np.isfinite(lumi) and lumi > 0.0):
        raise OptionError(f"lumi must be a positive luminosity in pb⁻¹, got {lumi!r}")
    return lumi
