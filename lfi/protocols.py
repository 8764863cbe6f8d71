"""What the core asks of an estimator: the protocols that networks, the BDT and future families implement.

:mod:`lfi.evaluate` turns any :class:`RatioEstimator` or :class:`ScoreEstimator` into an expected likelihood
map without knowing what is inside it, and :func:`estimators.load` returns one of them. A new estimator family
(flows, ensembles) implements one protocol and registers its loader; nothing in the core changes.

Shapes: N events, T parameter points, D parameters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["RatioEstimator", "ScoreEstimator", "EventClassifier", "SavedEstimator", "NuisanceFactors"]


@runtime_checkable
class SavedEstimator(Protocol):
    """Anything that can be saved to and rebuilt from a directory."""

    #: ``"ratio"``, ``"score"`` or ``"classifier"``: what the estimator estimates.
    kind: str
    #: JSON-serialisable facts about the training (method, parameters, reference point θ_ref, training file).
    metadata: dict

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the estimator into ``directory`` (every file atomically); returns the directory."""

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SavedEstimator":
        """Rebuild a saved estimator."""


@runtime_checkable
class RatioEstimator(SavedEstimator, Protocol):
    """An estimator of log r̂(x|θ0, θ1) whose θ-dependence can be evaluated on a grid.

    ``grid_log_density`` returns f(x, θ) = log p̂(x|θ) + c(x): the per-event constant c(x) cancels in every
    ratio, so log r̂(x|θ0, θ1) = f(x, θ0) − f(x, θ1).
    """

    def grid_state(self, sample, *, device: str = "cpu") -> Any:
        """Per-event quantities every grid point reuses (embeddings, polynomial coefficients, flat columns)."""

    def grid_log_density(self, state: Any, theta: np.ndarray) -> np.ndarray:
        """f(x_n, θ_t) for θ of shape (T, D), from :meth:`grid_state`; shape (N, T), float64."""

    def log_ratio(self, sample, theta0: np.ndarray, theta1: np.ndarray, *, device: str = "cpu") -> np.ndarray:
        """log r̂(x|θ0, θ1) of every event for two points of shape (D,); shape (N,), float64."""


@runtime_checkable
class ScoreEstimator(SavedEstimator, Protocol):
    """An estimator of the local score t̂(x) = ∇_θ log p(x|θ) at its reference point ``metadata["reference"]``."""

    def score(self, sample, *, device: str = "cpu") -> np.ndarray:
        """t̂(x) of every event, shape (N, D), float64."""


@runtime_checkable
class EventClassifier(SavedEstimator, Protocol):
    """A trained two-class event classifier (``kind == "classifier"``), as ``lfi classify`` uses it."""

    def signal_score(self, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray) -> np.ndarray:
        """A score per event, larger = more signal-like (the log-odds), shape (N,)."""
        ...

    @property
    def size(self) -> dict[str, int]:
        """The model's size for tables: ``{"parameters": n}`` or ``{"trees": n, "leaves": m}``."""
        ...


@runtime_checkable
class NuisanceFactors(SavedEstimator, Protocol):
    """Learned nuisance factors f̂(x, ν) as a function of the observed event (``kind == "nuisance_ratio"``), as
    ``lfi nuisance-train`` fits them (docs/statistics.md §16)."""

    @property
    def names(self) -> list[str]:
        """The nuisances it learned, in order."""
        ...

    def nuisance_model(self, sample, names=("all",)):
        """The coefficients a(x), b(x) of log f̂ = aν + bν² on the events of ``sample``
        (:class:`lfi.limits.nuisance.NuisanceModel`, N × K)."""
        ...
