"""Reconstructed objects: their type codes and the NumPy kinematics of their four-momenta.

The one home of both facts; simulators, readers and estimators import them from here. A leaf module:
it imports only NumPy and the standard library.

Type codes (docs/event-format.md §4; the row order of the SM interaction matrices of :mod:`estimators.features`)
----------------------------------------------------------------------------------------------------------------
====  ==========  =========  ==========================================
code  name        constant   PDG id of the particle it stands for
====  ==========  =========  ==========================================
0     ``pad``     PAD        — (an empty slot, zero four-momentum)
1     ``jet``     JET        quarks u, d, s, c and gluons (1–4, 21)
2     ``b-jet``   BJET       b quarks (5)
3     ``e-``      ELECTRON   11
4     ``e+``      POSITRON   −11
5     ``mu-``     MUON       13
6     ``mu+``     ANTIMUON   −13
7     ``photon``  PHOTON     22
====  ==========  =========  ==========================================

Kinematics
----------
Four-momenta are arrays whose trailing axis holds (E, px, py, pz) in GeV; every function broadcasts over the
leading axes ``...``. Angles are in rad, η and y are dimensionless.

Convention at p_T = 0: a vector along the beam has no finite η (θ = 0 or π). :func:`eta` and :func:`rapidity`
return ``±ETA_MAX`` (sign of pz, ``ETA_MAX = 1000``) for it and 0 for the zero vector (a padded slot). In float64
every finite ratio pz/p_T gives |arcsinh(pz/p_T)| ≤ ln(2·1.8e308) ≈ 710 < 1000, so the value is beyond that of any
object with p_T > 0: it fails every |η| acceptance, orders as the most forward object, and keeps Δη and ΔR finite
(two objects along the same beam direction have Δη = 0).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "OBJECT_TYPES",
    "N_TYPES",
    "PAD",
    "JET",
    "BJET",
    "ELECTRON",
    "POSITRON",
    "MUON",
    "ANTIMUON",
    "PHOTON",
    "LEPTON_TYPE_BY_PDG",
    "lepton_types",
    "ETA_MAX",
    "pt",
    "phi",
    "eta",
    "rapidity",
    "mass2",
    "mass",
    "four_momenta",
    "wrap_phi",
    "delta_phi",
    "delta_r",
]

OBJECT_TYPES = ("pad", "jet", "b-jet", "e-", "e+", "mu-", "mu+", "photon")
"""Name of each type code: ``OBJECT_TYPES[code]``."""
PAD, JET, BJET, ELECTRON, POSITRON, MUON, ANTIMUON, PHOTON = range(8)
N_TYPES = len(OBJECT_TYPES)
"""Number of type codes, padding included (8)."""
LEPTON_TYPE_BY_PDG = {11: ELECTRON, -11: POSITRON, 13: MUON, -13: ANTIMUON}
"""PDG id of a charged lepton → type code (PDG 11 is the electron e⁻, −11 the positron)."""

ETA_MAX = 1000.0
"""|η| and |y| of a vector along the beam (p_T = 0, pz ≠ 0); see the module docstring."""


def lepton_types(pdg_ids: np.ndarray, default: int = PAD) -> np.ndarray:
    """Type codes of charged leptons from their PDG ids, elementwise.

    Parameters
    ----------
    pdg_ids : array_like of int, any shape
        PDG ids (11 e⁻, −11 e⁺, 13 μ⁻, −13 μ⁺).
    default : int
        Code of any other id.

    Returns
    -------
    ndarray of int8, shape of ``pdg_ids``
    """
    ids = np.asarray(pdg_ids)
    out = np.full(ids.shape, default, dtype=np.int8)
    for pdg, code in LEPTON_TYPE_BY_PDG.items():
        out[ids == pdg] = code
    return out


def pt(p: np.ndarray) -> np.ndarray:
    """Transverse momentum √(px² + py²) in GeV.

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
    """
    return np.hypot(p[..., 1], p[..., 2])


def phi(p: np.ndarray) -> np.ndarray:
    """Azimuth arctan2(py, px) in rad, in [−π, π]; 0 for p_T = 0.

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
    """
    return np.arctan2(p[..., 2], p[..., 1])


def eta(p: np.ndarray) -> np.ndarray:
    """Pseudorapidity η = arcsinh(pz/p_T) = −ln tan(θ/2), dimensionless.

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
        Clipped to [−ETA_MAX, ETA_MAX]: ``sign(pz)·ETA_MAX`` for p_T = 0 and pz ≠ 0 (along the beam), 0 for the
        zero vector (px = py = pz = 0). The clip changes no value of finite pz/p_T (module docstring).
    """
    pz, transverse = p[..., 3], pt(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.arcsinh(pz / transverse)  # ±inf along the beam, nan for 0/0
    return np.clip(np.where(np.isnan(value), 0.0, value), -ETA_MAX, ETA_MAX)


def rapidity(p: np.ndarray) -> np.ndarray:
    """Rapidity y = ½ ln((E + pz)/(E − pz)), dimensionless; equals η for massless particles.

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
        Clipped to [−ETA_MAX, ETA_MAX]: ``sign(pz)·ETA_MAX`` where E ≤ |pz| and pz ≠ 0 (massless along the beam,
        or spacelike by rounding), 0 where E ≤ −|pz| (the zero vector of a padded slot, or a negative energy).
    """
    e, pz = p[..., 0], p[..., 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 0.5 * np.log(np.maximum(e + pz, 0.0) / np.maximum(e - pz, 0.0))
    return np.clip(np.where(np.isnan(value), 0.0, value), -ETA_MAX, ETA_MAX)


def mass2(p: np.ndarray) -> np.ndarray:
    """Invariant mass squared E² − px² − py² − pz² in GeV² (negative for spacelike vectors).

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
    """
    return p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2 - p[..., 3] ** 2


def mass(p: np.ndarray) -> np.ndarray:
    """Invariant mass √max(E² − |p⃗|², 0) in GeV (0 for spacelike vectors, e.g. massless ones after rounding).

    The invariant mass of several objects is that of their summed four-momenta, e.g. ``mass(p_a + p_b)``.

    Parameters
    ----------
    p : ndarray, shape (..., 4)
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, shape (...)
    """
    return np.sqrt(np.maximum(mass2(p), 0.0))


def four_momenta(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """(E, px, py, pz) from transverse momentum, pseudorapidity, azimuth and mass.

    Parameters
    ----------
    pt, eta, phi, mass : array_like, broadcastable to one shape (...)
        p_T and mass in GeV, φ in rad (any range), η dimensionless.

    Returns
    -------
    ndarray, shape (..., 4), float64
        px = p_T cos φ, py = p_T sin φ, pz = p_T sinh η, E = √(|p⃗|² + m²), in GeV.
    """
    pt, eta, phi, mass = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, mass))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return np.stack(np.broadcast_arrays(energy, px, py, pz), axis=-1)


def wrap_phi(angle: np.ndarray) -> np.ndarray:
    """An angle wrapped into (−π, π] (up to rounding at the edge), in rad.

    Parameters
    ----------
    angle : array_like, any shape
        rad.

    Returns
    -------
    ndarray, shape of ``angle``
    """
    return np.pi - np.mod(np.pi - np.asarray(angle), 2 * np.pi)


def delta_phi(phi_a: np.ndarray, phi_b: np.ndarray) -> np.ndarray:
    """Azimuthal difference φ_a − φ_b wrapped into (−π, π], in rad (broadcasting).

    Parameters
    ----------
    phi_a, phi_b : array_like, broadcastable
        Azimuths in rad, e.g. :func:`phi` of four-momenta.

    Returns
    -------
    ndarray, the broadcast shape
    """
    return wrap_phi(np.asarray(phi_a) - np.asarray(phi_b))


def delta_r(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Angular distance ΔR = √(Δη² + Δφ²) of two four-momenta (pseudorapidity η, broadcasting).

    Parameters
    ----------
    p_a, p_b : ndarray, shapes (..., 4) broadcastable
        (E, px, py, pz) in GeV.

    Returns
    -------
    ndarray, the broadcast shape without the trailing 4
        Dimensionless; η follows the convention of :func:`eta` at p_T = 0.
    """
    return np.hypot(eta(p_a) - eta(p_b), delta_phi(phi(p_a), phi(p_b)))
