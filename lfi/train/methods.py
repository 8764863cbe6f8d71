"""The training methods by name and what each trains (no torch needed; ``docs/method.md`` §5 has the losses).

``ratio`` methods train log r̂(x|θ0, θ1), ``score`` methods the local score t̂(x) at a reference point,
``classifier`` methods event classes.
"""

from __future__ import annotations

from lfi.errors import UnknownNameError

__all__ = ["METHOD_KIND", "METHODS", "WITH_SCORE", "method_kind"]

METHOD_KIND: dict[str, str] = {
    "carl": "ratio",
    "rolr": "ratio",
    "rascal": "ratio",
    "alice": "ratio",
    "alices": "ratio",
    "cascal": "ratio",
    "sally": "score",
    "sallino": "score",
    "ce": "classifier",
    "focal": "classifier",
}
#: Every method name, in the order help texts list them.
METHODS: tuple[str, ...] = tuple(METHOD_KIND)
#: Ratio methods that add the joint-score term α·|t̂ − t|².
WITH_SCORE = frozenset({"rascal", "alices", "cascal"})


def method_kind(method: str) -> str:
    """``ratio``, ``score`` or ``classifier`` for a method name (case-insensitive).

    Raises
    ------
    KeyError
        Unknown method; the message lists the valid names.
    """
    try:
        return METHOD_KIND[method.lower()]
    except KeyError:
        raise UnknownNameError(f"unknown method {method!r}; valid: {', '.join(METHODS)}") from None
