"""Delphes import: real ROOT files written by the tests with uproot, in the Delphes branch layout
(jagged ``Jet.PT/Eta/Phi/Mass/BTag``, ``Electron``, ``Muon``, ``Photon``, ``MissingET.MET/Phi``,
``Event.Weight``, ``Weight.Weight``).

Reference values are computed here from the numbers written (E = √(pT² cosh²η + m²), charge →
type code, selection by pT and |η|), independently of the reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lfi.objects import PHOTON

from lfi.cli import main
from lfi.events import EventFileError, EventSample
from simulators.io.common import Benchmarks
from simulators.io.delphes import read_delphes

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")

KINDS = ("Jet", "Electron", "Muon", "Photon")


def make_arrays(n: int, seed: int, n_weights: int = 3) -> dict[str, "ak.Array"]:
    """Random Delphes-like events as jagged arrays keyed by Delphes branch name."""
    rng = np.random.default_rng(seed)
    one = np.ones(n, dtype=np.int64)

    def jagged(counts, values):
        return ak.unflatten(values, counts)

    arrays = {}
    for kind, mean in zip(KINDS, (3.0, 1.0, 1.0, 0.5)):
        counts = rng.poisson(mean, n)
        k = counts.sum()
        arrays[f"{kind}.PT"] = jagged(counts, rng.uniform(5.0, 150.0, k).astype(np.float32))
        arrays[f"{kind}.Eta"] = jagged(counts, rng.uniform(-4.0, 4.0, k).astype(np.float32))
        arrays[f"{kind}.Phi"] = jagged(counts, rng.uniform(-np.pi, np.pi, k).astype(np.float32))
        if kind == "Jet":
            arrays["Jet.Mass"] = jagged(counts, rng.uniform(0.0, 20.0, k).astype(np.float32))
            arrays["Jet.BTag"] = jagged(counts, rng.integers(0, 4, k).astype(np.uint32))
        if kind in ("Electron", "Muon"):
            arrays[f"{kind}.Charge"] = jagged(counts, rng.choice([-1, 1], k).astype(np.int32))
    arrays["MissingET.MET"] = jagged(one, rng.uniform(0.0, 100.0, n).astype(np.float32))
    arrays["MissingET.Phi"] = jagged(one, rng.uniform(-np.pi, np.pi, n).astype(np.float32))
    arrays["Event.Weight"] = jagged(one, rng.uniform(-0.2, 1.0, n).astype(np.float32))
    if n_weights:
        arrays["Weight.Weight"] = jagged(one * n_weights, rng.uniform(0.0, 1.0, n * n_weights).astype(np.float32))
    return arrays


def write_root(path: Path, arrays: dict, tree: str = "Delphes", step: int | None = None) -> Path:
    """Write the arrays as a TTree with Delphes' dotted branch names and ``X_size`` counters."""
    n = len(next(iter(arrays.values())))
    step = step or n
    with uproot.recreate(path) as f:
        f.mktree(tree, {k: v.type.content for k, v in arrays.items()}, counter_name=lambda b: b.split(".")[0] + "_size")
        for lo in range(0, n, step):
            f[tree].extend({k: v[lo : lo + step] for k, v in arrays.items()})
    return path


@pytest.fixture(scope="module")
def delphes_file(tmp_path_factory) -> tuple[Path, dict]:
    arrays = make_arrays(500, seed=5)
    return write_root(tmp_path_factory.mktemp("delphes") / "events.root", arrays, step=150), arrays


def _expected_objects(arrays, i, min_pt, max_eta, btag_bit=0):
    """(E, px, py, pz, type) of event i after selection, pT-ordered — computed directly."""
    masses = {"Electron": 0.000511, "Muon": 0.10566, "Photon": 0.0}
    rows = []
    for kind in KINDS:
        pt, eta, phi = (np.asarray(arrays[f"{kind}.{v}"][i], dtype=np.float64) for v in ("PT", "Eta", "Phi"))
        for j in range(len(pt)):
            if pt[j] < min_pt[kind.lower()] or abs(eta[j]) > max_eta[kind.lower()]:
                continue
            if kind == "Jet":
                m = float(arrays["Jet.Mass"][i][j])
                code = 2 if (int(arrays["Jet.BTag"][i][j]) >> btag_bit) & 1 else 1
            else:
                m = masses[kind]
                if kind == "Photon":
                    code = 7
                else:
                    negative = int(arrays[f"{kind}.Charge"][i][j]) < 0
                    code = {"Electron": (4, 3), "Muon": (6, 5)}[kind][negative]
            energy = np.sqrt((pt[j] * np.cosh(eta[j])) ** 2 + m**2)
            rows.append((pt[j], (energy, pt[j] * np.cos(phi[j]), pt[j] * np.sin(phi[j]), pt[j] * np.sinh(eta[j]), code)))
    rows.sort(key=lambda r: -r[0])
    return [r[1] for r in rows]


CUTS_PT = {"jet": 30.0, "electron": 15.0, "muon": 12.0, "photon": 20.0}
CUTS_ETA = {"jet": 4.5, "electron": 2.5, "muon": 2.4, "photon": 2.0}


def test_objects_follow_the_selection_and_type_codes(delphes_file):
    path, arrays = delphes_file
    sample = read_delphes(path, min_pt=CUTS_PT, max_eta=CUTS_ETA, btag_bit=1, chunk_size=64)
    assert len(sample) == 500
    for i in range(0, 500, 7):
        expected = _expected_objects(arrays, i, CUTS_PT, CUTS_ETA, btag_bit=1)
        k = len(expected)
        assert (sample.types[i, k:] == 0).all()
        assert sample.types[i, :k].tolist() == [e[4] for e in expected]
        np.testing.assert_allclose(sample.momenta[i, :k], np.array([e[:4] for e in expected]).reshape(k, 4), rtol=2e-6, atol=2e-4)
    met = np.asarray(ak.firsts(arrays["MissingET.MET"]), dtype=np.float64)
    np.testing.assert_allclose(sample.globals_[:, 0], met, rtol=1e-6)
    np.testing.assert_array_equal(sample.weights[:, 0], np.asarray(ak.firsts(arrays["Event.Weight"]), dtype=np.float64))
    assert sample.metadata["objects"] is True and sample.metadata["source"] == "delphes"


def test_chunked_reading_gives_the_same_sample_as_one_read(delphes_file):
    path, _ = delphes_file
    small = read_delphes(path, chunk_size=37)
    whole = read_delphes(path, chunk_size=10_000)
    np.testing.assert_array_equal(small.momenta, whole.momenta)
    np.testing.assert_array_equal(small.types, whole.types)
    np.testing.assert_array_equal(small.weights, whole.weights)
    for name in whole.observables:
        np.testing.assert_array_equal(small.observables[name], whole.observables[name])


def test_benchmarks_map_to_weight_entries_by_id(delphes_file):
    path, arrays = delphes_file
    stored = np.asarray(arrays["Weight.Weight"], dtype=np.float64)  # (N, 3): ids rw_a, rw_b, rw_c
    benchmarks = Benchmarks(points=(("sm", (0.0, 0.0)), ("rw_c", (0.0, 1.0)), ("rw_a", (1.0, 0.0))), sampled_from="sm")
    sample = read_delphes(path, benchmarks, weight_ids=["rw_a", "rw_b", "rw_c"], chunk_size=100)
    np.testing.assert_array_equal(sample.weights[:, 0], np.asarray(ak.firsts(arrays["Event.Weight"]), dtype=np.float64))
    np.testing.assert_array_equal(sample.weights[:, 1], stored[:, 2])
    np.testing.assert_array_equal(sample.weights[:, 2], stored[:, 0])
    assert (sample.sampled_from == 0).all()
    with pytest.raises(ValueError, match="'rw_c'"):
        read_delphes(path, benchmarks, weight_ids=["rw_a", "rw_b"])


def test_weight_normalisation_options_and_runs_of_one_process(tmp_path):
    a = write_root(tmp_path / "a.root", make_arrays(100, seed=1, n_weights=0))
    b = write_root(tmp_path / "b.root", make_arrays(300, seed=2, n_weights=0))
    wa, wb = (float(np.sum(read_delphes(p).weights)) for p in (a, b))
    average = read_delphes([a, b], weight_norm="average")
    # each file averaged to its σ, then the two runs combined with their event shares 1/4 and 3/4
    assert average.cross_sections[0] == pytest.approx(0.25 * wa / 100 + 0.75 * wb / 300, rel=1e-12)
    fixed = read_delphes([a, b], process=["sig", "bkg"], cross_section=[2.0, 5.0])
    np.testing.assert_allclose([fixed.weights[fixed.process == i].sum() for i in (0, 1)], [2.0, 5.0], rtol=1e-12)


def test_cli_import_delphes(delphes_file, tmp_path, capsys):
    path, _ = delphes_file
    out = tmp_path / "d.h5"
    code = main(
        ["import", "delphes", str(path), "--out", str(out), "--min-pt", "jet=30,muon=12", "--max-objects", "4", "--chunk-size", "128"]
    )
    assert code == 0
    sample = EventSample.load(out)
    assert sample.momenta.shape == (500, 4, 4)
    assert sample.metadata["min_pt_gev"]["jet"] == 30.0
    assert sample.metadata["files"][0]["objects_dropped"] > 0
    assert "object slots" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ bad input
def _cli_error(tmp_path, capsys, *args) -> str:
    out = tmp_path / "never.h5"
    assert main(["import", "delphes", *args, "--out", str(out)]) == 1
    assert not out.exists() and not list(tmp_path.glob(".never.h5*"))
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_root_file_without_delphes_branches(tmp_path, capsys):
    arrays = {"px": ak.Array([[1.0, 2.0], [3.0]]), "Event.Weight": ak.Array([[1.0], [1.0]])}
    path = write_root(tmp_path / "other.root", arrays)
    err = _cli_error(tmp_path, capsys, str(path))
    # jets are required; the optional collections (leptons, photons, MET) would be read as empty
    assert str(path) in err and "Jet.PT" in err and "Event.Weight" not in err.split(";")[0]
    assert "MissingET" not in err.split(";")[0] and "Photon" not in err.split(";")[0]
    with pytest.raises(EventFileError, match="lacks Delphes branch"):
        read_delphes(path)


def test_missing_optional_collection_is_empty_with_one_warning(tmp_path, caplog):
    """A card without photons (no Photon branches) is read; its events have no photons, the rest is unchanged."""
    arrays = make_arrays(40, seed=3)
    full = read_delphes(write_root(tmp_path / "full.root", arrays))
    without = {k: v for k, v in arrays.items() if not k.startswith("Photon.")}
    with caplog.at_level("WARNING", logger="simulators.io.delphes"):
        sample = read_delphes(write_root(tmp_path / "nophoton.root", without))
    warnings = [r.getMessage() for r in caplog.records if "Photon" in r.getMessage()]
    assert len(warnings) == 1 and "nophoton.root" in warnings[0] and "read as empty" in warnings[0]
    assert not (sample.types == PHOTON).any() and (full.types == PHOTON).any()
    kept = full.types != PHOTON
    assert np.array_equal(np.sort(np.where(kept, full.types, 0), axis=1)[:, ::-1][:, : sample.types.shape[1]],
                          np.sort(sample.types, axis=1)[:, ::-1][:, : sample.types.shape[1]])
    assert np.array_equal(sample.globals_, full.globals_)


def test_partly_missing_collection_is_refused(tmp_path):
    arrays = {k: v for k, v in make_arrays(10, seed=4).items() if k != "Electron.Charge"}
    with pytest.raises(EventFileError, match="lacks Delphes branch.*Electron.Charge"):
        read_delphes(write_root(tmp_path / "partial.root", arrays))


def test_root_file_without_the_tree(tmp_path, capsys):
    path = write_root(tmp_path / "t.root", make_arrays(5, seed=0), tree="Events")
    err = _cli_error(tmp_path, capsys, str(path))
    assert str(path) in err and "no TTree 'Delphes'" in err and "Events" in err


def test_file_that_is_not_root(tmp_path, capsys):
    path = tmp_path / "fake.root"
    path.write_bytes(b"not a root file at all" * 10)
    err = _cli_error(tmp_path, capsys, str(path))
    assert str(path) in err and "not a readable ROOT file" in err


def test_events_without_selected_objects_have_no_object_slots(delphes_file):
    path, _ = delphes_file
    everything_cut = {name: 1e9 for name in ("jet", "electron", "muon", "photon")}
    sample = read_delphes(path, min_pt=everything_cut, chunk_size=200)
    assert sample.momenta.shape == (500, 0, 4) and sample.types.shape == (500, 0)
    assert (sample.observables["n_jets"] == 0).all()
