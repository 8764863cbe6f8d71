"""Delphes ROOT files → EventSample, read with ``uproot`` in chunks of events.

Objects come from the Delphes collections ``Jet`` (PT, Eta, Phi, Mass, BTag), ``Electron`` and
``Muon`` (PT, Eta, Phi, Charge) and ``Photon`` (PT, Eta, Phi); ``MissingET`` (MET, Phi) gives the
globals ``met`` and ``met_phi``. A jet is a b-jet when bit ``btag_bit`` of ``BTag`` is set. Each
collection can be cut in pT and |η|; the highest-pT objects of all kinds fill the slots.

Weights: ``Event.Weight`` is the event's own weight; ``Weight.Weight`` holds the reweighting weights
in the order of the LHE ``<wgt>`` entries (Delphes does not store their ids: give them with
``weight_ids``, e.g. read from the LHE file's ``<initrwgt>`` by :func:`lhe_weight_ids`). Delphes stores
no cross section: by default the weights are taken as they are (pb per event, ``weight_norm="sum"``);
``weight_norm="average"`` divides by the number of events of each file (MadGraph's
``event_norm = average``), and ``cross_section`` rescales each process to a given total in pb.

Only the branches needed are read, ``chunk_size`` events at a time, so memory is the output
arrays plus one chunk, whatever the file size.

Shapes: N events, P object slots (E, px, py, pz in GeV), B benchmarks (weights in pb).
"""

from __future__ import annotations

import logging

import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError, UnknownNameError, first_line
from lfi.reading import reading
from lfi.objects import ANTIMUON, BJET, ELECTRON, JET, MUON, PHOTON, POSITRON, four_momenta
from simulators.io.common import Benchmarks, Chunk, FilePart, assemble
from simulators.io.lhe import _per_file
from simulators.io.objects import missing_et, order_objects

__all__ = ["read_delphes", "lhe_weight_ids", "COLLECTIONS", "REQUIRED", "DEFAULT_MIN_PT", "DEFAULT_MAX_ETA"]

log = logging.getLogger("simulators.io.delphes")

COLLECTIONS = {
    "jet": ("Jet.PT", "Jet.Eta", "Jet.Phi", "Jet.Mass", "Jet.BTag"),
    "electron": ("Electron.PT", "Electron.Eta", "Electron.Phi", "Electron.Charge"),
    "muon": ("Muon.PT", "Muon.Eta", "Muon.Phi", "Muon.Charge"),
    "photon": ("Photon.PT", "Photon.Eta", "Photon.Phi"),
    "met": ("MissingET.MET", "MissingET.Phi"),
}
"""Delphes branches read for each collection."""
REQUIRED = ("jet",)
"""Collections a file must have; any other requested collection whose branches are all absent (a card without
photons, say) is read as empty, with one warning per file."""

DEFAULT_MIN_PT = {"jet": 20.0, "electron": 10.0, "muon": 10.0, "photon": 10.0}
"""Default object selection: minimal pT in GeV."""
DEFAULT_MAX_ETA = {"jet": 5.0, "electron": 2.5, "muon": 2.5, "photon": 2.5}
"""Default object selection: maximal |η|."""

_MASS = {"electron": 0.000511, "muon": 0.10566, "photon": 0.0}  # GeV
_EVENT_WEIGHT, _WEIGHTS = "Event.Weight", "Weight.Weight"
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# Packages whose exceptions, of any type, mean a damaged ROOT file (uproot decompresses with these).
_ROOT_LIBRARIES = ("uproot", "awkward", "fsspec", "cramjam", "lz4", "zstandard", "xxhash", "isal", "deflate")


def read_delphes(
    paths: str | Path | Iterable[str | Path],
    benchmarks: Benchmarks | None = None,
    *,
    weight_ids: Sequence[str] | None = None,
    process: str | Sequence[str] = "signal",
    tree: str = "Delphes",
    collections: Sequence[str] = ("jet", "electron", "muon", "photon", "met"),
    min_pt: Mapping[str, float] | None = None,
    max_eta: Mapping[str, float] | None = None,
    btag_bit: int = 0,
    max_objects: int | None = None,
    weight_norm: str = "sum",
    cross_section: float | Sequence[float] | None = None,
    chunk_size: int = 100_000,
) -> "EventSample":  # noqa: F821
    """Read one or more Delphes ROOT files into one EventSample.

    Parameters
    ----------
    paths : path or iterable of paths
    benchmarks : Benchmarks, optional
        Parameter points; a benchmark's weight is the ``Weight.Weight`` entry whose id (see
        ``weight_ids``) is its name, or ``Event.Weight`` for the generation benchmark or a
        background. Default: one benchmark ``"nominal"`` holding ``Event.Weight`` (or the first
        ``Weight.Weight`` entry when the file has no ``Event`` branch).
    weight_ids : sequence of str, optional
        Ids of the ``Weight.Weight`` entries in stored order; default: the benchmark names in the
        order given, without the generation benchmark.
    process : str or sequence of str
        One name for all files or one per file (runs of one process are averaged).
    tree : str
        Name of the Delphes TTree.
    collections : sequence of {"jet", "electron", "muon", "photon", "met"}
        Collections to read; each must be in the file.
    min_pt, max_eta : mapping of collection name to float, optional
        Object selection in GeV and |η|, updating ``DEFAULT_MIN_PT`` and ``DEFAULT_MAX_ETA``.
    btag_bit : int
        Bit of ``Jet.BTag`` that marks a b-jet (Delphes' working points are bits 0, 1, 2, ...).
    max_objects : int, optional
        Keep the highest-pT objects per event; default as many as the busiest event has.
    weight_norm : {"sum", "average"}
        Stored weights sum to the cross section (default) or average to it (then divided by the
        number of events in the file).
    cross_section : float or sequence of float, optional
        Rescale each process so its weights at the first benchmark sum to this many pb (one value
        per process, in order of first appearance).
    chunk_size : int
        Events read at a time.

    Raises
    ------
    EventFileError
        One line naming the file: missing, not ROOT, the missing tree or branches (with those
        available), a non-finite weight or momentum, data that cannot be read (truncated or corrupted).
    OptionError
        An option value that cannot work (``max_objects``, ``weight_norm``, ``chunk_size``,
        ``btag_bit``, ``cross_section``, weight ids that lack a benchmark).
    UnknownNameError
        An unknown collection name.
    """
    benchmarks = benchmarks or Benchmarks()
    if max_objects is not None and max_objects < 1:
        raise OptionError(f"max_objects must be at least 1, got {max_objects}")
    unknown = [c for c in collections if c not in COLLECTIONS]
    if unknown:
        raise UnknownNameError(f"unknown collection {unknown[0]!r}; choose from {', '.join(COLLECTIONS)}")
    if weight_norm not in ("sum", "average"):
        raise OptionError(f"weight_norm must be 'sum' or 'average', got {weight_norm!r}")
    if chunk_size < 1:
        raise OptionError(f"chunk_size must be at least 1, got {chunk_size}")
    if btag_bit < 0:
        raise OptionError(f"btag_bit must be 0 or more (bit 0 is Delphes' first b-tagging working point), got {btag_bit}")
    cuts = _cuts(min_pt, DEFAULT_MIN_PT, "min_pt"), _cuts(max_eta, DEFAULT_MAX_ETA, "max_eta")
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    reader = _Reader(benchmarks, weight_ids, tree, tuple(collections), cuts, btag_bit, max_objects, chunk_size)
    parts = [reader.read(path, proc) for path, proc in zip(paths, _per_file(process, len(paths)))]
    for part in parts:
        if weight_norm == "average":
            part.scale(1.0 / max(part.n_events, 1))
    processes = list(dict.fromkeys(p.process for p in parts))
    targets = _per_process(cross_section, processes)
    metadata = {
        "source": "delphes",
        "level": "detector",
        "tree": tree,
        "collections": list(collections),
        "min_pt_gev": cuts[0],
        "max_abs_eta": cuts[1],
        "btag_bit": btag_bit,
        "weight_norm": weight_norm,
    }
    if targets:
        _rescale(parts, processes, targets)
        metadata["cross_section_pb"] = dict(zip(processes, targets))
    global_names = ["met", "met_phi"] if "met" in collections else []
    return assemble(parts, benchmarks, global_names, metadata)


def lhe_weight_ids(path: str | Path) -> list[str]:
    """Reweighting weight ids declared in an LHE file's ``<initrwgt>``, in order (the order of ``Weight.Weight``)."""
    import pylhe

    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: " + ("not a file" if path.exists() else "no such file"))
    with reading(path, lambda reason: f"not a readable LHE file ({reason})", libraries=("pylhe",)):
        warnings.filterwarnings("error", message="Parse Error", category=RuntimeWarning)
        try:
            lhe = pylhe.LHEFile.fromfile(path)
            return lhe.header.initrwgt.list_weights_ids() if lhe.header is not None else []
        except RuntimeWarning as err:  # pylhe reports a broken XML stream as a warning
            raise EventFileError(f"{path}: not a readable LHE file ({first_line(err)})") from None


def _cuts(given: Mapping[str, float] | None, default: dict[str, float], what: str) -> dict[str, float]:
    cuts = dict(default)
    for name, value in (given or {}).items():
        if name not in default:
            raise UnknownNameError(f"{what}: unknown collection {name!r}; choose from {', '.join(default)}")
        cuts[name] = float(value)
    return cuts


def _per_process(cross_section: float | Sequence[float] | None, processes: list[str]) -> list[float]:
    if cross_section is None:
        return []
    values = [float(cross_section)] if np.isscalar(cross_section) else [float(x) for x in cross_section]
    if len(values) != len(processes):
        raise OptionError(f"give one cross section per process ({', '.join(processes)}), got {len(values)}")
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise OptionError(f"cross sections must be positive numbers of pb, got {values}")
    return values


def _rescale(parts: list[FilePart], processes: list[str], targets: list[float]) -> None:
    """Scale each file so its weights at the first benchmark sum to its process's target (pb).

    ``assemble`` then averages the runs of a process, which keeps that sum.
    """
    for name, target in zip(processes, targets):
        for part in (p for p in parts if p.process == name):
            own = sum(float(c.weights[:, 0].sum()) for c in part.chunks)
            if not own > 0:
                raise EventFileError(f"{part.path}: weights sum to {own}: cannot rescale to {target} pb")
            part.scale(target / own)


class _Reader:
    """Reads Delphes files chunk by chunk into FileParts."""

    def __init__(self, benchmarks, weight_ids, tree, collections, cuts, btag_bit, max_objects, chunk_size):
        self.benchmarks, self.weight_ids, self.tree = benchmarks, weight_ids, tree
        self.collections, (self.min_pt, self.max_eta) = collections, cuts
        self.absent: set[str] = set()  # requested collections the current file lacks (read as empty)
        self.btag_bit, self.max_objects, self.chunk_size = btag_bit, max_objects, chunk_size

    def read(self, path: Path, process: str) -> FilePart:
        import uproot

        if not path.is_file():
            raise EventFileError(f"{path}: " + ("not a file" if path.exists() else "no such file"))
        part = FilePart(str(path), process)
        dropped, stage = 0, "open"

        def unreadable(reason: str) -> str:  # uproot raises many types for a non-ROOT or damaged file
            if stage == "open":
                return f"not a readable ROOT file ({reason})"
            if stage == "directory":
                return f"unreadable ROOT directory or tree header ({reason}); truncated or corrupted file?"
            return f"cannot read tree {self.tree!r} after {part.n_events} events ({reason})"

        with reading(path, unreadable, libraries=_ROOT_LIBRARIES):
            file = uproot.open(path)
            stage = "directory"
            with file:
                tree = self._tree(file, path)
                columns, sources = self._columns(tree, path)
                stage = "baskets"
                for arrays in tree.iterate(columns, step_size=self.chunk_size, library="ak"):
                    chunk, n_dropped = self._chunk(arrays, sources, path, part.n_events)
                    part.chunks.append(chunk)
                    dropped += n_dropped
        if part.n_events == 0:
            raise EventFileError(f"{path}: tree {self.tree!r} holds no events")
        part.info = {"objects_dropped": dropped, "weight_sources": [s or _EVENT_WEIGHT for s in sources]}
        return part

    def _tree(self, file, path: Path):
        try:
            tree = file[self.tree]
        except KeyError:
            keys = sorted({k.split(";")[0] for k in file.keys()})
            raise EventFileError(
                f"{path}: no TTree {self.tree!r} (a Delphes output file has one); keys: {', '.join(keys) or 'none'}"
            ) from None
        if not hasattr(tree, "iterate"):
            raise EventFileError(f"{path}: {self.tree!r} is a {type(tree).__name__}, not a TTree")
        return tree

    def _columns(self, tree, path: Path) -> tuple[list[str], list[str | int | None]]:
        """Branches to read, and for each benchmark where its weight is (None: Event.Weight, int: Weight.Weight index)."""
        names = {key.split("/")[-1] for key in tree.keys(recursive=True)}
        self.absent = {c for c in self.collections
                       if c not in REQUIRED and not any(b in names for b in COLLECTIONS[c])}
        for collection in sorted(self.absent):
            log.warning("%s: tree %r has no %s branches; the %s collection is read as empty", path, self.tree,
                        COLLECTIONS[collection][0].split(".")[0], collection)
        needed = [b for c in self.collections if c not in self.absent for b in COLLECTIONS[c]]
        has_event, has_weights = _EVENT_WEIGHT in names, _WEIGHTS in names
        sources = self._weight_sources()
        if not has_event and sources == [None]:  # nominal only: fall back to the first stored weight
            sources = [0] if has_weights else sources
        if any(s is None for s in sources):
            needed.append(_EVENT_WEIGHT)
        if any(isinstance(s, int) for s in sources):
            needed.append(_WEIGHTS)
        missing = [b for b in needed if b not in names]
        if missing:
            shown = ", ".join(sorted(names)[:15]) + (", ..." if len(names) > 15 else "")
            raise EventFileError(
                f"{path}: tree {self.tree!r} lacks Delphes branch(es) {', '.join(missing)}; it has: {shown or 'none'}"
            )
        return needed, sources

    def _weight_sources(self) -> list[int | None]:
        names = self.benchmarks.names
        if not self.benchmarks.points or self.benchmarks.background:
            return [None] * len(names)
        ids = list(self.weight_ids) if self.weight_ids is not None else [
            n for n in names if n != self.benchmarks.sampled_from
        ]
        try:
            by_id = self.benchmarks.weight_sources(ids)
        except KeyError as err:
            raise OptionError(
                f"no Weight.Weight entry with id {', '.join(map(repr, err.args[0]))}; weight ids are {ids}"
            ) from None
        return [None if s is None else ids.index(s) for s in by_id]

    def _chunk(self, arrays, sources, path: Path, offset: int) -> tuple[Chunk, int]:
        import awkward as ak

        n = len(arrays)
        counts = np.zeros(n, dtype=np.int64)
        p4, codes, owners = [], [], []
        for name in ("jet", "electron", "muon", "photon"):
            if name not in self.collections or name in self.absent:
                continue
            prefix = COLLECTIONS[name][0].split(".")[0]
            pt, eta, phi = (arrays[f"{prefix}.{v}"] for v in ("PT", "Eta", "Phi"))
            keep = (pt >= self.min_pt[name]) & (abs(eta) <= self.max_eta[name])
            if name == "jet":
                mass = arrays["Jet.Mass"][keep]
                code = ak.where((arrays["Jet.BTag"][keep] >> self.btag_bit) & 1 == 1, BJET, JET)
            else:
                mass = ak.zeros_like(pt[keep]) + _MASS[name]
                if name == "photon":
                    code = ak.zeros_like(pt[keep], dtype=np.int8) + PHOTON
                else:
                    negative = (ELECTRON, MUON)[name == "muon"]
                    positive = (POSITRON, ANTIMUON)[name == "muon"]
                    code = ak.where(arrays[f"{prefix}.Charge"][keep] < 0, negative, positive)
            num = ak.to_numpy(ak.num(pt[keep]))
            counts += num
            p4.append(four_momenta(*(ak.to_numpy(ak.flatten(a)) for a in (pt[keep], eta[keep], phi[keep], mass))))
            codes.append(ak.to_numpy(ak.flatten(code)).astype(np.int8))
            owners.append(np.repeat(np.arange(n), num))
        if p4:
            owner = np.concatenate(owners)
            momenta = np.concatenate(p4)
            bad = owner[~(np.abs(momenta) <= _FLOAT32_MAX).all(axis=1)]
            if len(bad):
                raise EventFileError(f"{path}: event {offset + bad.min()} has a non-finite momentum (or one beyond float32)")
            order = np.argsort(owner, kind="stable")  # group by event; order_objects sorts by pT within
            counts, momenta, types, dropped = order_objects(
                counts, momenta[order], np.concatenate(codes)[order], self.max_objects
            )
        else:
            momenta, types, dropped = np.zeros((0, 4), np.float32), np.zeros(0, np.int8), 0
        globals_ = np.zeros((n, 0))
        if "met" in self.collections and "met" in self.absent:
            globals_ = missing_et(np.zeros(n), np.zeros(n))
        elif "met" in self.collections:
            met = _first(arrays["MissingET.MET"], 0.0)
            phi = _first(arrays["MissingET.Phi"], 0.0)
            globals_ = missing_et(met * np.cos(phi), met * np.sin(phi))
        weights = np.empty((n, len(sources)))
        for b, source in enumerate(sources):
            if source is None:
                column = _first(arrays[_EVENT_WEIGHT], np.nan)
                what = _EVENT_WEIGHT
            else:
                column = ak.to_numpy(ak.fill_none(ak.pad_none(arrays[_WEIGHTS], source + 1)[:, source], np.nan))
                what = f"{_WEIGHTS}[{source}]"
            bad = np.flatnonzero(~np.isfinite(column))
            if len(bad):
                raise EventFileError(f"{path}: event {offset + bad[0]} has no finite {what}")
            weights[:, b] = column
        return Chunk(counts, momenta, types, globals_, weights), dropped


def _first(jagged, fill: float) -> np.ndarray:
    """First entry of each event of a jagged array (``fill`` where empty), shape (N,), float64."""
    import awkward as ak

    return ak.to_numpy(ak.fill_none(ak.firsts(jagged), fill)).astype(np.float64)

