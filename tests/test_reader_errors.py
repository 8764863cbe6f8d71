"""Bad input to the readers and the import/export/info commands: one ``LfiError`` line, never a traceback.

Each test pins one failure that ``tests/test_fuzz_readers.py`` (or a user) can meet: a damaged or odd file
gives an :class:`~lfi.errors.EventFileError` naming the file (and the dataset, column or event), a bad option
an :class:`~lfi.errors.OptionError`, an unknown name an :class:`~lfi.errors.UnknownNameError` that lists the
valid ones; no warning is printed before the error line.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from lfi.cli import main
from lfi.errors import EventFileError, LfiError, OptionError, UnknownNameError
from lfi.events import EventSample

h5py = pytest.importorskip("h5py")


def one_error(read, path, kind=EventFileError) -> str:
    """The message of the one error ``read(path)`` raises, with no warning on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(LfiError) as info:
            read(path)
    assert type(info.value) is kind, repr(info.value)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    return message


def cli_error(capsys, argv: list[str], out: Path | None = None) -> str:
    """Run ``lfi``: exit code 1, one stderr line, no output and no temporary file."""
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and " error: " in err, err
    if out is not None:
        assert not out.exists() and not list(out.parent.glob(f".{out.stem}.*")), "no output, no temporary file"
    return err


def edit(path: Path, change) -> Path:
    with h5py.File(path, "r+") as f:
        change(f)
    return path


def replace(f, name: str, data) -> None:
    attrs = dict(f[name].attrs) if isinstance(f.get(name), h5py.Dataset) else {}
    del f[name]
    f.create_dataset(name, data=data)
    f[name].attrs.update(attrs)


# ------------------------------------------------------------------------------------------ lfi event files
@pytest.fixture()
def saved(small_sample, tmp_path) -> Path:
    return small_sample.save(tmp_path / "events.h5")


def test_a_named_datatype_where_a_dataset_belongs(saved):
    """h5py's Datatype has a dtype but cannot be sliced (was: TypeError 'Datatype' object is not subscriptable)."""
    edit(saved, lambda f: (f.__delitem__("events/process"), f.__setitem__("events/process", np.dtype("i2"))))
    assert "/events/process: is a Datatype, expected a dataset" in one_error(EventSample.load, saved)


def test_hdf5_library_errors_on_damaged_structure_are_one_line(saved):
    """A damaged B-tree makes h5py raise RuntimeError or KeyError (were tracebacks)."""
    data = bytearray(saved.read_bytes())
    at = data.find(b"TREE")
    data[at : at + 4] = b"\0\0\0\0"
    saved.write_bytes(bytes(data))
    for read in (EventSample.load, EventSample.read_info):
        assert "truncated or corrupted" in one_error(read, saved)


def test_a_damaged_global_heap_is_an_error_not_an_endless_loop(saved):
    """HDF5 2.0 loops forever loading a global heap collection with a zeroed object header (the names live there)."""
    data = bytearray(saved.read_bytes())
    at = data.find(b"GCOL")
    data[at + 16 : at + 32] = bytes(16)  # the first object: index 0 (free space) of size 0
    saved.write_bytes(bytes(data))
    code = ("import sys\nfrom lfi.events import EventSample\nfor read in (EventSample.load, EventSample.read_info):\n"
            "    try:\n        read(sys.argv[1])\n    except Exception as err:\n        print(type(err).__name__, err)\n")
    run = subprocess.run([sys.executable, "-c", code, str(saved)], capture_output=True, text=True, timeout=120)
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("EventFileError") and "global heap collection" in line for line in lines), run


def test_integers_that_do_not_fit_the_dtype_are_refused_not_wrapped(saved):
    """Type code 257 stored as int64 used to wrap silently to 1 (a jet)."""
    edit(saved, lambda f: replace(f, "events/types", np.where(f["events/types"][()] > 0, 257, 0).astype(np.int64)))
    assert "/events/types: values outside the range of int8" in one_error(EventSample.load, saved)


def test_floats_beyond_float32_give_the_error_without_a_warning(saved):
    """float64 momenta of 1e300 warned 'overflow encountered in cast' before the error line."""
    edit(saved, lambda f: replace(f, "events/momenta", np.full(f["events/momenta"].shape, 1e300)))
    assert "non-finite momentum" in one_error(EventSample.load, saved)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda f: f.attrs.__setitem__("metadata", "[1, 2]"), "attribute /metadata is a JSON list, expected an object"),
    (lambda f: f.attrs.__setitem__("version", "one"), "format version 'one' is not supported"),
    (lambda f: f.attrs.__setitem__("format", np.arange(50)), "attribute /format is array([ 0, 1, 2,"),
    (lambda f: f["benchmarks"].attrs.__setitem__("parameters", "a"), "attribute parameters of /benchmarks is 'a'"),
    (lambda f: f["benchmarks"].attrs.__setitem__("units", 3), "attribute units of /benchmarks is 3, expected text"),
    (lambda f: replace(f, "benchmarks/theta", np.zeros((0, 2))), "/benchmarks/theta: shape (0, 2), expected (2, 2)"),
    (lambda f: replace(f, "events/process", np.zeros((50, 1), np.int16)), "/events/process: shape (50, 1), expected 1"),
    (lambda f: replace(f, "truth/events/z", 1.0), "/truth/events/z: shape (), expected 50 rows"),
    (lambda f: (f.__delitem__("events/observables"), f.create_dataset("events/observables", data=[1.0])),
     "/events/observables is a Dataset, expected a group"),
    (lambda f: (f.create_dataset("morphing/components", data=np.zeros((0, 2), np.int32)),
                f.create_dataset("morphing/basis", data=np.zeros(0, np.int32))),
     "/morphing/components: shape (0, 2), expected (C, 2) with C ≥ 1"),
])
def test_datasets_and_attributes_of_the_wrong_kind_are_named(saved, change, expected):
    """Each was a ValueError, TypeError or AttributeError traceback, or a sample breaking the contract."""
    edit(saved, change)
    assert expected in one_error(EventSample.load, saved)


def test_read_info_checks_what_it_reports(saved):
    """lfi info: a morphing basis index beyond the benchmarks was an IndexError; a NaN weight gave NaN σ."""
    edit(saved, lambda f: (f.create_dataset("morphing/components", data=np.array([[0, 0], [1, 0]], np.int32)),
                           f.create_dataset("morphing/basis", data=np.array([0, 5], np.int32))))
    assert "/morphing/basis: indices must lie in 0..1" in one_error(EventSample.read_info, saved)
    edit(saved, lambda f: (f.__delitem__("morphing"), f["events/weights"].__setitem__((7, 1), np.nan)))
    assert "/events/weights: non-finite weight nan in event 7" in one_error(EventSample.read_info, saved)


def test_unwritable_output_is_one_line(small_sample, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(EventFileError, match="cannot write the event file"):
        small_sample.save(blocker / "events.h5")
    src = small_sample.save(tmp_path / "s.h5")
    assert "cannot write the MadMiner file" in cli_error(capsys, ["export", "madminer", str(src), "--out", str(blocker / "mm.h5")])


def test_info_on_a_folder_or_a_missing_file(tmp_path, capsys):
    assert "not a file" in cli_error(capsys, ["info", str(tmp_path)])
    assert "no such file" in cli_error(capsys, ["info", str(tmp_path / "absent.h5")])


def test_sample_errors_a_user_can_cause_are_lfi_errors(small_sample):
    with pytest.raises(UnknownNameError, match=r"no benchmark 'zz'; benchmarks are \['sm', 'bsm'\]"):
        small_sample.benchmark_index("zz")
    with pytest.raises(OptionError, match="sum to 1"):
        small_sample.split((0.5, 0.2))
    with pytest.raises(EventFileError, match="no /morphing group"):
        small_sample.morpher()
    other = EventSample.concatenate([small_sample])
    other.benchmark_names = ["sm", "other"]
    with pytest.raises(EventFileError, match="different benchmarks"):
        EventSample.concatenate([small_sample, other])


# ------------------------------------------------------------------------------------------ LHE
def lhe_text(weight: str = "5.0e-01", px: str = "3.0e+01", wgt_attribute: str = "id", events: int = 3) -> str:
    lines = ['<LesHouchesEvents version="3.0">', "<header>", "<initrwgt>", '<weightgroup name="rw">',
             '<weight id="w1">set param_card dim6 1 1.0</weight>', "</weightgroup>", "</initrwgt>", "</header>",
             "<init>", "2212 2212 6.5e+03 6.5e+03 0 0 247000 247000 -4 1", "5.0e-01 1.0e-03 1.0 1", "</init>"]
    for i in range(events):
        lines += ["<event>", f" 2 1 {weight if i == 1 else '5.0e-01'} 1.25e+02 7.8e-03 1.2e-01",
                  f" 13 1 1 2 0 0 {px if i == 1 else '3.0e+01'} 4.0e+01 0.0e+00 5.0e+01 0.0 0 9",
                  " -13 1 1 2 0 0 -3.0e+01 -4.0e+01 0.0e+00 5.0e+01 0.0 0 9",
                  "<rwgt>", f"<wgt {wgt_attribute}='w1'> 1.0e+00 </wgt>", "</rwgt>", "</event>"]
    return "\n".join(lines + ["</LesHouchesEvents>"]) + "\n"


def read_lhe_with_w1(path):
    from simulators.io.common import Benchmarks
    from simulators.io.lhe import read_lhe

    return read_lhe(path, Benchmarks(points=(("sm", (0.0, 0.0)), ("w1", (1.0, 0.0))), sampled_from="sm"))


def test_lhe_reads(tmp_path):
    path = tmp_path / "ok.lhe"
    path.write_text(lhe_text())
    assert len(read_lhe_with_w1(path)) == 3


@pytest.mark.parametrize(("text", "expected"), [
    (lhe_text(weight="nan"), "event 2 has a non-finite weight"),  # was '<memory>: dataset /events/weights: ...'
    (lhe_text(px="1e39"), "event 2 has a non-finite momentum (or one beyond float32)"),  # and an overflow warning
    (lhe_text(wgt_attribute="xd"), "not a readable LHE file (missing key 'id')"),  # pylhe's KeyError was a traceback
])
def test_bad_lhe_events_name_the_file_and_the_event(tmp_path, text, expected):
    path = tmp_path / "bad.lhe.gz"
    with gzip.open(path, "wt") as f:
        f.write(text)
    assert expected in one_error(read_lhe_with_w1, path)


def test_lhe_options_and_missing_files_are_one_line(tmp_path, capsys):
    path = tmp_path / "ok.lhe"
    path.write_text(lhe_text())
    out = tmp_path / "out.h5"
    base = ["import", "lhe", str(path), "--out", str(out)]
    assert "give one process name for all files or one per file" in cli_error(capsys, [*base, "--process", "a", "b"], out)
    assert "needs 6 basis benchmarks" in cli_error(capsys, [*base, "--benchmarks", "sm=0,0", "w1=1,0", "--morphing-degree", "2"], out)
    assert "sampled-from benchmark 'zz' is not one of the benchmarks" in cli_error(capsys, [*base, "--sampled-from", "zz"], out)
    assert "benchmark 'sm=0': expected NAME=VALUE,VALUE" in cli_error(capsys, [*base, "--benchmarks", "sm=0"], out)
    assert "no such file" in cli_error(capsys, ["import", "lhe", str(tmp_path / "absent.lhe"), "--out", str(out)], out)


def test_a_singular_morphing_basis_is_an_option_error():
    from simulators.io.common import Benchmarks

    points = (("a", (0.0,)), ("b", (0.0,)))
    with pytest.raises(OptionError, match="morphing basis a, b: morphing basis is singular"):
        Benchmarks(parameters=("x",), points=points, morphing_degree=1)
    with pytest.raises(OptionError, match="degree of 0 or more"):
        Benchmarks(parameters=("x",), points=points, morphing_degree=-1)


# ------------------------------------------------------------------------------------------ Delphes
def write_root(path: Path, nan_phi_at: int | None = None) -> Path:
    """30 Delphes-like events, 0, 1 or 2 objects of each kind; optionally a NaN Jet.Phi at one flat index."""
    uproot = pytest.importorskip("uproot")
    ak = pytest.importorskip("awkward")
    n = 30
    one = np.ones(n, dtype=np.int64)
    counts = np.arange(n) % 3
    k = int(counts.sum())
    arrays = {}
    for kind in ("Jet", "Electron", "Muon", "Photon"):
        for var, low, high in (("PT", 30.0, 90.0), ("Eta", -1.0, 1.0), ("Phi", -3.0, 3.0)):
            arrays[f"{kind}.{var}"] = ak.unflatten(np.linspace(low, high, k).astype(np.float32), counts)
    phi = np.linspace(-3.0, 3.0, k).astype(np.float32)
    if nan_phi_at is not None:
        phi[nan_phi_at] = np.nan
    arrays["Jet.Phi"] = ak.unflatten(phi, counts)
    arrays["Jet.Mass"] = ak.unflatten(np.full(k, 5.0, np.float32), counts)
    arrays["Jet.BTag"] = ak.unflatten(np.zeros(k, np.uint32), counts)
    for kind in ("Electron", "Muon"):
        arrays[f"{kind}.Charge"] = ak.unflatten(np.ones(k, np.int32), counts)
    arrays["MissingET.MET"] = ak.unflatten(np.full(n, 10.0, np.float32), one)
    arrays["MissingET.Phi"] = ak.unflatten(np.zeros(n, np.float32), one)
    arrays["Event.Weight"] = ak.unflatten(np.full(n, 0.1, np.float32), one)
    with uproot.recreate(path) as f:
        f.mktree("Delphes", {key: v.type.content for key, v in arrays.items()}, counter_name=lambda b: b.split(".")[0] + "_size")
        f["Delphes"].extend(arrays)
    return path


@pytest.fixture()
def root_file(tmp_path) -> Path:
    return write_root(tmp_path / "events.root")


def test_delphes_nan_momentum_names_the_file_and_the_event(tmp_path):
    """A NaN Jet.Phi was reported as '<memory>: dataset /events/momenta: ...', without the file."""
    from simulators.io.delphes import read_delphes

    assert len(read_delphes(write_root(tmp_path / "ok.root"))) == 30
    path = write_root(tmp_path / "nan.root", nan_phi_at=4)  # objects per event 0, 1, 2, 0, 1, 2: index 4 is in event 5
    assert f"{path}: event 5 has a non-finite momentum" in one_error(read_delphes, path)


def test_truncated_root_file_is_one_line(root_file, tmp_path, capsys):
    """uproot raised OSError ('expected Chunk of length ...') while reading the TTree header: a traceback."""
    from simulators.io.delphes import read_delphes

    data = root_file.read_bytes()
    root_file.write_bytes(data[: len(data) * 3 // 10])
    assert "truncated or corrupted" in one_error(read_delphes, root_file)
    out = tmp_path / "out.h5"
    assert str(root_file) in cli_error(capsys, ["import", "delphes", str(root_file), "--out", str(out)], out)


@pytest.mark.parametrize(("option", "expected"), [
    (["--chunk-size", "0"], "chunk_size must be at least 1, got 0"),
    (["--btag-bit", "-1"], "btag_bit must be 0 or more"),
    (["--min-pt", "jet"], "--min-pt: expected KIND=VALUE[,KIND=VALUE...], got 'jet'"),
    (["--max-eta", "tau=2"], "max_eta: unknown collection 'tau'; choose from jet, electron, muon, photon"),
    (["--collections", "jet,tau"], "unknown collection 'tau'; choose from jet, electron, muon, photon, met"),
    (["--cross-section", "-1"], "cross sections must be positive numbers of pb"),
    (["--weight-ids-from", "absent.lhe"], "absent.lhe: no such file"),
])
def test_delphes_options_are_one_line(root_file, tmp_path, capsys, option, expected):
    out = tmp_path / "out.h5"
    assert expected in cli_error(capsys, ["import", "delphes", str(root_file), "--out", str(out), *option], out)


# ------------------------------------------------------------------------------------------ MadMiner
@pytest.fixture()
def madminer_file(tmp_path) -> Path:
    """100 toy events (7 benchmarks, morphing basis 1..6, object columns o1_E ... o4_type)."""
    import simulators.toy as toy
    from simulators.io.madminer_export import write_madminer

    return write_madminer(toy.simulate(100, seed=2), tmp_path / "mm.h5")


def read_madminer(path):
    from simulators.io.madminer_import import read_madminer as read

    return read(path)


def _column(f, name: str) -> int:
    return [n.decode() for n in f["observables/names"][()]].index(name)


def _set_column(name: str, value: float):
    def change(f):
        data = f["samples/observations"][()]
        data[3, _column(f, name)] = value
        replace(f, "samples/observations", data)
    return change


@pytest.mark.parametrize(("change", "expected"), [
    (_set_column("o1_type", np.nan), "/samples/observations: column 'o1_type' holds nan in event 3, expected an object type code"),
    (_set_column("o1_type", 300.0), "column 'o1_type' holds 300.0 in event 3"),  # wrapped to 44 with a cast warning
    (_set_column("o1_px", 1e300), "column 'o1_px' holds 1e+300 in event 3, expected a finite float32 momentum"),
    (lambda f: replace(f, "lfi/info", np.bytes_(json.dumps([1]))), "/lfi/info: a JSON list, expected an object"),
    (lambda f: replace(f, "lfi/info", np.bytes_(json.dumps({"metadata": 3}))), "metadata is a JSON int, expected an object"),
    (lambda f: replace(f, "lfi/process", np.full(100, 70000)), "/lfi/process: values outside the range of int16"),
    (lambda f: replace(f, "lfi/sampled_from", np.full(100, 9)), "/lfi/sampled_from: values must lie in -1..6"),
    (lambda f: f["samples/weights"].__setitem__((5, 0), np.inf), "/samples/weights: non-finite value inf in event 5"),
    (lambda f: replace(f, "benchmarks/values", np.zeros((7, 2))), "/benchmarks/values: the morphing basis benchmarks cannot morph"),
])
def test_madminer_files_that_do_not_fit_name_the_dataset(madminer_file, change, expected):
    edit(madminer_file, change)
    assert expected in one_error(read_madminer, madminer_file)


def test_madminer_nuisance_warning_only_for_a_file_that_reads(madminer_file, caplog):
    """The warning about left-out nuisance benchmarks came before the error line of a file that failed later."""
    edit(madminer_file, lambda f: (replace(f, "benchmarks/is_nuisance", np.eye(7, dtype=np.int64)[0]),
                                   replace(f, "samples/sampling_benchmarks", np.full(100, -1)),
                                   f.__delitem__("morphing"), f["samples/weights"].__setitem__((5, 1), np.nan)))
    one_error(read_madminer, madminer_file)
    assert "nuisance" not in caplog.text
