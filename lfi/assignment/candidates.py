"""Kinematics of the top, W and Higgs candidates that an assignment builds (docs/assignment.md §4).

The leptonic top is b + lepton + neutrino; the neutrino's p_z solves m(ℓν) = m_W with the missing transverse
momentum as its p_T (the solution of smaller |p_z|; the real part when there is none).
"""

from __future__ import annotations

import numpy as np

from lfi.errors import OptionError
from lfi.objects import BJET, ELECTRON, JET, PHOTON, mass, pt

from .topology import Topology

__all__ = ["W_MASS", "leading_lepton", "neutrino", "particle_momenta", "candidate_observables", "jet_mask",
           "lepton_plus_neutrino"]

W_MASS = 80.4
"""GeV, the W mass of the neutrino constraint."""


def leading_lepton(momenta: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The four-momentum (GeV) of the leading e/μ of each event, shape (N, 4); zero without one."""
    is_lepton = (types >= ELECTRON) & (types < PHOTON)
    first = np.argmax(is_lepton, axis=1)
    lepton = np.take_along_axis(momenta, first[:, None, None], axis=1)[:, 0]
    return np.where(is_lepton.any(axis=1)[:, None], lepton, 0.0)


def neutrino(lepton: np.ndarray, met: np.ndarray, met_phi: np.ndarray) -> np.ndarray:
    """The neutrino four-momentum (GeV) of a W → ℓν decay, shape (N, 4).

    Parameters
    ----------
    lepton : ndarray, shape (N, 4)
        GeV; treated as massless.
    met, met_phi : ndarray, shape (N,)
        Missing transverse momentum (GeV) and its azimuth.
    """
    px, py = met * np.cos(met_phi), met * np.sin(met_phi)
    lpt2 = np.maximum(pt(lepton) ** 2, 1e-12)
    lpz = lepton[:, 3]
    lep_e = np.sqrt(lpt2 + lpz**2)
    mu = 0.5 * W_MASS**2 + lepton[:, 1] * px + lepton[:, 2] * py
    centre = mu * lpz / lpt2
    root = np.sqrt(np.maximum(centre**2 - (lep_e**2 * met**2 - mu**2) / lpt2, 0.0))
    pz = np.where(np.abs(centre - root) < np.abs(centre + root), centre - root, centre + root)
    return np.stack([np.sqrt(met**2 + pz**2), px, py, pz], axis=1)


def particle_momenta(momenta: np.ndarray, jets: np.ndarray) -> np.ndarray:
    """The summed four-momentum of each event's jet tuple, shape (N, 4), GeV; zero where a slot is −1.

    Parameters
    ----------
    momenta : ndarray, shape (N, P, 4)
    jets : ndarray, shape (N, R), int
        Object slots.
    """
    valid = np.all(jets >= 0, axis=1)
    gathered = np.take_along_axis(momenta, np.maximum(jets, 0)[..., None], axis=1)
    return np.where(valid[:, None], gathered.sum(axis=1), 0.0)


def candidate_observables(momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray, global_names: list[str],
                          topology: Topology, assignment: list[np.ndarray], prefix: str = "") -> dict[str, np.ndarray]:
    """Masses and p_T of the assigned candidates, as observables (GeV; 0 where a particle is unassigned).

    Parameters
    ----------
    momenta : ndarray, shape (N, P, 4)
    types : ndarray, shape (N, P)
    globals_ : ndarray, shape (N, G)
        Must include ``met`` and ``met_phi`` when the topology has ``t_lep``.
    global_names : list of str
    topology : Topology
    assignment : list of ndarray, one (N, rank) per particle
        Object slots, −1 for unassigned.
    prefix : str
        Put in front of every name (e.g. ``chi2_``).

    Returns
    -------
    dict of str to ndarray, shape (N,)
        ``m_<particle>``, ``pt_<particle>`` for each particle, and ``m_w_had`` (the last two jets of ``t_had``).
    """
    out: dict[str, np.ndarray] = {}
    for particle, jets in zip(topology.particles, assignment):
        total = particle_momenta(momenta, jets)
        if particle.name == "t_lep":
            valid = np.all(jets >= 0, axis=1)
            total = np.where(valid[:, None], total + lepton_plus_neutrino(momenta, types, globals_, global_names), 0.0)
        out[f"{prefix}m_{particle.name}"] = mass(total)
        out[f"{prefix}pt_{particle.name}"] = pt(total)
        if particle.name == "t_had":
            out[f"{prefix}m_w_had"] = mass(particle_momenta(momenta, jets[:, 1:]))
    return out


def lepton_plus_neutrino(momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray,
                         global_names: list[str]) -> np.ndarray:
    """The leading lepton plus its W-constrained neutrino, shape (N, 4), GeV (the leptonic top without its b).

    Raises
    ------
    OptionError
        When the events have no ``met`` or ``met_phi`` global.
    """
    for key in ("met", "met_phi"):
        if key not in global_names:
            raise OptionError(f"the leptonic top needs the global {key!r}; the events have {list(global_names)}")
    lepton = leading_lepton(momenta, types)
    met, met_phi = globals_[:, global_names.index("met")], globals_[:, global_names.index("met_phi")]
    return lepton + neutrino(lepton, met, met_phi)


def jet_mask(types: np.ndarray) -> np.ndarray:
    """Whether each object slot holds a jet or b-jet, shape of ``types``."""
    return np.isin(types, (JET, BJET))
