"""Old import paths kept for one release: each warns once with a ``FutureWarning`` and names the new home."""

from __future__ import annotations

import importlib
import warnings

__all__ = ["moved_module"]


def moved_module(old: str, new: str, names: tuple[str, ...]):
    """A module ``__getattr__`` for the old module ``old`` that forwards ``names`` to module ``new`` with a warning.

    Parameters
    ----------
    old, new : str
        Dotted module names (the deprecated one and its replacement).
    names : tuple of str
        Attributes still reachable through ``old``.
    """

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(f"{old} is deprecated and will be removed in the next release; import {name} from {new}",
                      FutureWarning, stacklevel=2)
        return getattr(importlib.import_module(new), name)

    return __getattr__
