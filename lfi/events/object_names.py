"""The object names of the expression language (``docs/selections.md`` §2) and the objects they pick in a sample.

``j1, j2, …`` are the jets of an event ordered by decreasing p_T, ``l1…`` its leptons and so on; ``jets``,
``leptons``, … are whole collections. :class:`EventObjects` looks them up in the (N, P, 4) four-momenta and
(N, P) type codes of an :class:`lfi.events.EventSample`, all events at once.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from lfi import objects

__all__ = ["COLLECTIONS", "OBJECT_PREFIXES", "OWN_QUANTITIES", "parse_object_name", "EventObjects"]

COLLECTIONS: dict[str, frozenset[int]] = {
    "jets": frozenset({objects.JET, objects.BJET}),
    "bjets": frozenset({objects.BJET}),
    "leptons": frozenset({objects.ELECTRON, objects.POSITRON, objects.MUON, objects.ANTIMUON}),
    "electrons": frozenset({objects.ELECTRON, objects.POSITRON}),
    "muons": frozenset({objects.MUON, objects.ANTIMUON}),
    "photons": frozenset({objects.PHOTON}),
    "objects": frozenset(range(1, objects.N_TYPES)),
}
"""Collection name → the type codes (``lfi.objects``) of its members."""

OBJECT_PREFIXES = {"j": "jets", "b": "bjets", "l": "leptons", "e": "electrons", "mu": "muons", "a": "photons",
                   "photon": "photons"}
"""Prefix of a numbered object name (``j`` of ``j1``) → its collection."""

OWN_QUANTITIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "pt": objects.pt, "eta": objects.eta, "phi": objects.phi, "e": lambda p: p[..., 0], "m": objects.mass}
"""Kinematics of four-momenta (..., 4) by their names in expressions: p_T, E and m in GeV, η dimensionless, φ in
rad. These names stand for an object's own quantities inside the condition of ``n(collection, condition)``."""

_OBJECT_NAME = re.compile(rf"({'|'.join(sorted(OBJECT_PREFIXES, key=len, reverse=True))})(\d+)")


def parse_object_name(name: str) -> tuple[str, int] | None:
    """(collection, rank) of a numbered object name such as ``j2`` → ``("jets", 2)``; None for other names.

    Ranks count from 1 (``j0`` gives rank 0, which the caller refuses).
    """
    match = _OBJECT_NAME.fullmatch(name)
    return (OBJECT_PREFIXES[match.group(1)], int(match.group(2))) if match else None


class EventObjects:
    """The objects of every event of a sample, looked up by collection and p_T rank (results are cached).

    Parameters
    ----------
    momenta : ndarray, shape (N, P, 4)
        (E, px, py, pz) in GeV, zero-padded.
    types : ndarray, shape (N, P), int
        Type codes of ``lfi.objects``; 0 marks a padded slot.
    """

    def __init__(self, momenta: np.ndarray, types: np.ndarray) -> None:
        self.momenta = np.asarray(momenta, dtype=np.float64)
        self.types = np.asarray(types)
        self._pt = objects.pt(self.momenta)
        self._order: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._own: dict[str, np.ndarray] = {}

    def members(self, collection: str) -> np.ndarray:
        """Which slots hold a member of ``collection``: bool array, shape (N, P)."""
        return np.isin(self.types, list(COLLECTIONS[collection]))

    def _ordered(self, collection: str) -> tuple[np.ndarray, np.ndarray]:
        """Slot indices sorted by decreasing p_T of the members, shape (N, P), and whether each is a member."""
        if collection not in self._order:
            members = self.members(collection)
            order = np.argsort(-np.where(members, self._pt, -np.inf), axis=1, kind="stable")
            self._order[collection] = order, np.take_along_axis(members, order, axis=1)
        return self._order[collection]

    def nth(self, collection: str, rank: int) -> tuple[np.ndarray, np.ndarray]:
        """Four-momenta of the member with the ``rank``-th highest p_T (rank ≥ 1) of every event.

        Returns
        -------
        momenta : ndarray, shape (N, 4)
            (E, px, py, pz) in GeV; zero where the event has fewer than ``rank`` members.
        present : ndarray, shape (N,), bool
            Whether the event has that member.
        """
        n, slots = self.types.shape
        if rank > slots:
            return np.zeros((n, 4)), np.zeros(n, dtype=bool)
        order, members = self._ordered(collection)
        slot = order[:, rank - 1]
        present = members[:, rank - 1]
        return np.where(present[:, None], self.momenta[np.arange(n), slot], 0.0), present

    def own(self, quantity: str) -> np.ndarray:
        """One of :data:`OWN_QUANTITIES` of every slot, shape (N, P)."""
        if quantity not in self._own:
            self._own[quantity] = OWN_QUANTITIES[quantity](self.momenta)
        return self._own[quantity]
