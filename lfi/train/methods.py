"""The training methods by name and what each trains (no torch needed; ``docs/method.md`` §5 has the losses).

``ratio`` methods train log r̂(x|θ0, θ1), ``score`` methods the local score t̂(x) at a reference point,
``classifier`` methods event classes. The density methods (``nde``, ``scandal``) train a conditional density
p̂(x|θ); it is used as a ratio estimator, log r̂(x|θ0, θ1) = log p̂(x|θ0) − log p̂(x|θ1).
"""

from __future__ import annotations

from lfi.errors import UnknownNameError

__all__ = ["METHOD_KIND", "METHODS", "WITH_SCORE", "DENSITY", "method_kind"]

METHOD_KIND: dict[str, str] = {
    "carl": "ratio",
    "rolr": "ratio",
    "rascal": "ratio",
    "alice": "ratio",
    "alices": "ratio",
    "cascal": "ratio",
    "nde": "ratio",
    "scandal": "ratio",
    "sally": "score",
    "sallino": "score",
    "ce": "classifier",
    "focal": "classifier",
}
#: Every method name, in the order help texts list them.
METHODS: tuple[str, ...] = tuple(METHOD_KIND)
#: Ratio methods that add the joint-score term α·|t̂ − t|².
WITH_SCORE = frozenset({"rascal", "alices", "cascal", "scandal"})
#: Methods that train a conditional density log p̂(x|θ) by maximum likelihood (a normalising flow).
DENSITY = frozenset({"nde", "scandal"})


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
