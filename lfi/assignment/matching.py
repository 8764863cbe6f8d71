"""Truth matching of partons to reconstructed jets by ΔR (docs/assignment.md §1)."""

from __future__ import annotations

import numpy as np

from lfi.objects import BJET, JET, delta_r

__all__ = ["match_partons", "MATCH_RADIUS"]

MATCH_RADIUS = 0.4
"""A parton and a jet match when ΔR < 0.4 (the jet radius)."""


def match_partons(partons: np.ndarray, present: np.ndarray, momenta: np.ndarray, types: np.ndarray,
                  radius: float = MATCH_RADIUS) -> np.ndarray:
    """The jet slot of every parton, unique within an event, −1 where none is within ``radius``.

    Greedy by distance: the (parton, jet) pair of smallest ΔR in the event is matched first, then both leave the
    pool, and so on while a pair closer than ``radius`` remains. Exact ties go to the lower parton column, then
    to the lower object slot.

    Parameters
    ----------
    partons : ndarray, shape (N, K, 4)
        Parton four-momenta (E, px, py, pz), GeV.
    present : ndarray, shape (N, K), bool
        Which partons exist in the event.
    momenta : ndarray, shape (N, P, 4)
        Reconstructed objects, GeV.
    types : ndarray, shape (N, P)
        Object type codes (:mod:`lfi.objects`); only jets and b-jets are candidates.
    radius : float
        Largest ΔR of a match.

    Returns
    -------
    ndarray, shape (N, K), int16
        Object slot, or −1.
    """
    n, k = present.shape
    p = momenta.shape[1]
    is_jet = np.isin(types, (JET, BJET))
    with np.errstate(divide="ignore", invalid="ignore"):
        dr = delta_r(partons[:, :, None, :], momenta[:, None, :, :])
    dr = np.where(present[:, :, None] & is_jet[:, None, :] & np.isfinite(dr), dr, np.inf)
    out = np.full((n, k), -1, np.int16)
    rows = np.arange(n)
    for _ in range(min(k, p)):
        flat = dr.reshape(n, k * p)
        best = np.argmin(flat, axis=1)
        ok = flat[rows, best] < radius
        if not ok.any():
            break
        parton, slot = np.divmod(best[ok], p)
        out[rows[ok], parton] = slot
        dr[rows[ok], parton, :] = np.inf
        dr[rows[ok], :, slot] = np.inf
    return out
