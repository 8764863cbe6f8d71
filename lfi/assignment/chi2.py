"""The χ² permutation fit: the assignment of jets whose top, W and Higgs candidate masses are closest to their
expected values (docs/assignment.md §3), vectorised over all permutations of the leading jets.

χ² = ((m_bqq − μ_t,had)/σ_t,had)² + ((m_qq − μ_W)/σ_W)² + ((m_bℓν − μ_t,lep)/σ_t,lep)² [+ ((m_bb − μ_H)/σ_H)²]

with the neutrino of :func:`lfi.assignment.candidates.neutrino`. The means and widths are measured on the
truth-matched candidates of a training sample (:meth:`Chi2Assignment.fit`: median and half the central 68 %
interval), so the fit knows the detector's mass scale but nothing else about the events.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lfi.errors import ModelError, OptionError
from lfi.files import atomic_write_text
from lfi.objects import mass

from .candidates import jet_mask, lepton_plus_neutrino
from .topology import Topology, topology as topology_named

__all__ = ["Chi2Assignment", "CHI2_KIND", "MASS_TERMS"]

CHI2_KIND = "chi2_assignment"
"""The ``kind`` in a saved χ² model's ``config.json``."""
MASS_TERMS = {"t_had": ("t_had", "w_had"), "t_lep": ("t_lep",), "higgs": ("higgs",)}
"""The mass terms of each particle."""
_CONFIG = "config.json"


def _jet_slots(types: np.ndarray, max_jets: int) -> np.ndarray:
    """The object slots of the first ``max_jets`` jets of each event (p_T order), −1 padded, shape (N, max_jets)."""
    is_jet = jet_mask(types)
    order = np.argsort(~is_jet, axis=1, kind="stable")[:, :max_jets]
    slots = np.where(np.take_along_axis(is_jet, order, axis=1), order, -1)
    if slots.shape[1] < max_jets:
        slots = np.pad(slots, ((0, 0), (0, max_jets - slots.shape[1])), constant_values=-1)
    return slots


def _particle_tuples(rank: int, symmetric: bool, n: int) -> list[tuple[int, ...]]:
    tuples = itertools.permutations(range(n), rank)
    return [t for t in tuples if not symmetric or t[-2] < t[-1]]


def _permutations(top: Topology, n: int) -> np.ndarray:
    """Every consistent assignment of ``n`` jet positions to the topology's particles, shape (T, n_jets)."""
    out = []
    for combo in itertools.product(*(_particle_tuples(p.rank, p.symmetric, n) for p in top.particles)):
        flat = [j for t in combo for j in t]
        if len(set(flat)) == len(flat):
            out.append(flat)
    return np.array(out, dtype=np.int64).reshape(-1, top.n_jets)


@dataclass
class Chi2Assignment:
    """The χ² fit of the module docstring.

    Attributes
    ----------
    topology : str
        A key of :data:`lfi.assignment.TOPOLOGIES`.
    masses : dict of str to (float, float)
        Mean and width (GeV) of each term: ``t_had``, ``w_had``, ``t_lep``, ``higgs``.
    max_jets : int
        The leading jets permuted (37 800 assignments of 10 jets for t t̄ H).
    """

    topology: str
    masses: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_jets: int = 10

    def __post_init__(self) -> None:
        top = topology_named(self.topology)
        needed = {t for p in top.particles for t in MASS_TERMS[p.name]}
        missing = sorted(needed - set(self.masses))
        if missing:
            raise OptionError(f"the χ² fit of {self.topology} needs the masses of {', '.join(missing)}")
        if self.max_jets < top.n_jets:
            raise OptionError(f"max_jets must be ≥ {top.n_jets} for {self.topology}, got {self.max_jets}")

    @classmethod
    def fit(cls, topology: str, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray,
            global_names: list[str], jet_partons: np.ndarray, max_jets: int = 10) -> "Chi2Assignment":
        """Measure each term's mean and width on the truth-matched candidates of a sample.

        Parameters
        ----------
        topology : str
        momenta : ndarray, shape (N, P, 4)
            GeV.
        types : ndarray, shape (N, P)
        globals_ : ndarray, shape (N, G)
            With ``met`` and ``met_phi``.
        global_names : list of str
        jet_partons : ndarray, shape (N, 6)
            The truth of :data:`lfi.assignment.topology.JET_TRUTH_KEY`.
        """
        top = topology_named(topology)
        tuples, present = top.targets(jet_partons)
        masses = {}
        for k, (particle, jets) in enumerate(zip(top.particles, tuples)):
            rows = present[:, k]
            values = _term_masses(particle.name, momenta[rows], types[rows], globals_[rows], global_names,
                                  jets[rows])
            for term, m in values.items():
                if len(m) < 10:
                    raise OptionError(f"only {len(m)} events with a truth-matched {particle.name}: too few to measure "
                                      f"the {term} mass")
                low, mid, high = np.percentile(m, [16, 50, 84])
                masses[term] = (float(mid), float(max(0.5 * (high - low), 1.0)))
        return cls(topology, masses, max_jets)

    def assign(self, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray, global_names: list[str],
               batch_size: int = 256) -> tuple[list[np.ndarray], np.ndarray]:
        """The assignment of smallest χ² for every event.

        Returns
        -------
        list of ndarray, one (N, rank) int per particle
            Object slots (canonical order), −1 for every particle of an event with fewer jets than the topology
            needs.
        ndarray, shape (N,)
            The smallest χ² (inf where unassigned).
        """
        top = topology_named(self.topology)
        perms = _permutations(top, self.max_jets)
        n = len(momenta)
        best = np.full((n, top.n_jets), -1, np.int64)
        chi2 = np.full(n, np.inf)
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            slots = _jet_slots(types[sl], self.max_jets)
            values = self._chi2(top, momenta[sl], types[sl], globals_[sl], global_names, slots, perms)
            pick = np.argmin(values, axis=1)
            chi2[sl] = values[np.arange(len(pick)), pick]
            ok = np.isfinite(chi2[sl])
            chosen = np.take_along_axis(slots, perms[pick], axis=1)
            best[sl] = np.where(ok[:, None], chosen, -1)
        out, start = [], 0
        for particle in top.particles:
            out.append(particle.canonical(best[:, start : start + particle.rank]))
            start += particle.rank
        return out, chi2

    def _chi2(self, top: Topology, momenta, types, globals_, global_names, slots, perms) -> np.ndarray:
        """χ² of every permutation, shape (B, T); inf where a position has no jet."""
        jets = np.where((slots >= 0)[..., None], np.take_along_axis(momenta, np.maximum(slots, 0)[..., None], 1), 0.0)
        total = np.zeros((len(slots), len(perms)))
        position = 0
        for particle in top.particles:
            cols = perms[:, position : position + particle.rank]
            for term, table in _term_tables(particle.name, jets, momenta, types, globals_, global_names).items():
                mu, sigma = self.masses[term]
                pulls = ((table - mu) / sigma) ** 2
                index = cols[:, 1:] if term == "w_had" else cols
                total += pulls.reshape(len(slots), -1)[:, np.ravel_multi_index(index.T, pulls.shape[1:])]
            position += particle.rank
        has_jet = np.take_along_axis(slots >= 0, perms.reshape(1, -1).repeat(len(slots), 0), axis=1)
        return np.where(has_jet.reshape(len(slots), len(perms), -1).all(axis=2), total, np.inf)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` (kind, topology, masses, max_jets) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / _CONFIG, json.dumps({"kind": CHI2_KIND, **asdict(self)}, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Chi2Assignment":
        path = Path(directory) / _CONFIG
        try:
            config = json.loads(path.read_text())
            if config.pop("kind") != CHI2_KIND:
                raise KeyError("kind")
            config["masses"] = {k: tuple(v) for k, v in config["masses"].items()}
            return cls(**config)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ModelError(f"{path}: not a saved χ² assignment ({type(err).__name__}: {err})") from None


def _term_tables(name: str, jets: np.ndarray, momenta, types, globals_, global_names) -> dict[str, np.ndarray]:
    """The masses (GeV) of a particle's terms for every jet tuple: (B, J, J, J) and (B, J, J) for ``t_had``,
    (B, J) for ``t_lep``, (B, J, J) for ``higgs``."""
    if name == "t_had":
        pair = jets[:, :, None] + jets[:, None, :]
        return {"t_had": mass(jets[:, :, None, None] + pair[:, None]), "w_had": mass(pair)}
    if name == "higgs":
        return {"higgs": mass(jets[:, :, None] + jets[:, None, :])}
    return {"t_lep": mass(jets + lepton_plus_neutrino(momenta, types, globals_, global_names)[:, None])}


def _term_masses(name: str, momenta, types, globals_, global_names, jets: np.ndarray) -> dict[str, np.ndarray]:
    """The masses of a particle's terms for given jet tuples (N, rank), each shape (N,)."""
    picked = np.take_along_axis(momenta, jets[..., None], axis=1)
    if name == "t_had":
        return {"t_had": mass(picked.sum(axis=1)), "w_had": mass(picked[:, 1:].sum(axis=1))}
    if name == "higgs":
        return {"higgs": mass(picked.sum(axis=1))}
    return {"t_lep": mass(picked[:, 0] + lepton_plus_neutrino(momenta, types, globals_, global_names))}
