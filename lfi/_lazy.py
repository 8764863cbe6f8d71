"""Lazy package attributes: public names that load their module on first use, and old paths kept for one release.

``import lfi`` (and ``estimators``, ``lfi.workflows``, ...) stays light because each package lists its public
names in a table and loads the module behind a name only when the name is first used.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes", "moved_module"]


def lazy_attributes(package: str, table: Mapping[str, str],
                    fallback: Callable[[str], object] | None = None) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that resolve the names in ``table`` lazily.

    Parameters
    ----------
    package : str
        The package's dotted name (for the error message).
    table : mapping of str to str
        Public name → dotted module that defines it.
    fallback : callable, optional
        Called with any other name (e.g. a :func:`moved_module` forward); default: ``AttributeError``.
    """

    def __getattr__(name: str):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        if fallback is not None:
            return fallback(name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(table)

    return __getattr__, __dir__


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
