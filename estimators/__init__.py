"""Estimators: event encoders (MLP, attention networks, ...) plus heads, built by registry name."""

from __future__ import annotations

__all__: list[str] = []


def __dir__() -> list[str]:
    return sorted(__all__)
