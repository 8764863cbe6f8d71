"""Corrupted input files: every reader either returns a valid sample or raises one ``LfiError`` line.

Small valid files are written here (an lfi event file, plain and gzip-compressed; an LHE file, plain and
gzipped; a Delphes ROOT file; a MadMiner file), then corrupted the ways disks, copies and transfers
corrupt files: truncated at a random offset, random bits flipped, a random block zeroed, a block copied
from elsewhere in the file over another one (and, for the text format, random characters replaced by
characters that LHE text is made of). For each corrupted file the reader must

- return an ``EventSample`` that passes ``validate()`` (``read_info``: a summary the CLI can print), or
- raise an :class:`lfi.errors.LfiError` whose message is one line naming the file,

and never another exception type, never a Python warning. The ``lfi import`` and ``lfi info`` commands run
in-process on corrupted files: exit code 1, one line on stderr, no output file and no temporary file left.

Hypothesis runs derandomised (fixed examples, no example database) so that CI is reproducible.
"""

from __future__ import annotations

import gzip
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lfi.cli import main
from lfi.cli.info import format_info
from lfi.errors import LfiError
from lfi.events import EventSample

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")
pytest.importorskip("pylhe")

# No shrinking: a corruption is already a few numbers, and shrinking re-reads files for minutes.
FUZZ = dict(deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_names = itertools.count()


# ------------------------------------------------------------------------------------------ valid files
def _lhe_text(n: int = 12, seed: int = 4) -> str:
    """A MadGraph-like LHE file: header with the event count and <initrwgt>, <init> (σ in pb), events with <rwgt>."""
    rng = np.random.default_rng(seed)
    lines = ['<LesHouchesEvents version="3.0">', "<header>", "<MGGenerationInfo>",
             f"#  Number of Events        :       {n}", "#  Integrated weight (pb)  :  0.5", "</MGGenerationInfo>",
             "<initrwgt>", '<weightgroup name="mg_reweighting" weight_name_strategy="includeIdInWeightName">',
             '<weight id="sm">set param_card dim6 1 0.0</weight>', '<weight id="w1">set param_card dim6 1 1.0</weight>',
             "</weightgroup>", "</initrwgt>", "</header>", "<init>",
             "2212 2212 6.5e+03 6.5e+03 0 0 247000 247000 -4 1", "5.0e-01 1.0e-03 1.0 1", "</init>"]
    for i in range(n):
        particles = [(11, 1), (-11, 1), (13, 1), (-13, 1), (2, 1), (-1, 1), (14, 1), (25, 2)]
        w0 = 0.5 if i % 4 else -0.5
        lines += ["<event>", f" {len(particles) + 2} 1 {w0:.8e} 1.25e+02 7.8e-03 1.2e-01",
                  "  2 -1 0 0 501 0 0 0 1.0e+02 1.0e+02 0 0 9", " -1 -1 0 0 0 501 0 0 -2.0e+02 2.0e+02 0 0 9"]
        for pid, status in particles:
            px, py, pz = rng.normal(0.0, 60.0, 3)
            lines.append(f" {pid} {status} 1 2 0 0 {px:.8e} {py:.8e} {pz:.8e} {np.sqrt(px*px + py*py + pz*pz):.8e} 0.0 0 9")
        lines += ["<rwgt>", f"<wgt id='sm'> {w0:.8e} </wgt>", f"<wgt id='w1'> {w0 * rng.uniform(0.5, 2):.8e} </wgt>",
                  "</rwgt>", "</event>"]
    return "\n".join(lines + ["</LesHouchesEvents>"]) + "\n"


def _write_delphes(path: Path, n: int = 40, seed: int = 5) -> Path:
    """A Delphes-layout TTree (dotted branch names, ``X_size`` counters) in three baskets."""
    rng = np.random.default_rng(seed)
    one = np.ones(n, dtype=np.int64)
    arrays = {}
    for kind, mean in (("Jet", 3.0), ("Electron", 1.0), ("Muon", 1.0), ("Photon", 0.5)):
        counts = rng.poisson(mean, n)
        k = int(counts.sum())
        for var, low, high in (("PT", 5.0, 150.0), ("Eta", -4.0, 4.0), ("Phi", -np.pi, np.pi)):
            arrays[f"{kind}.{var}"] = ak.unflatten(rng.uniform(low, high, k).astype(np.float32), counts)
        if kind == "Jet":
            arrays["Jet.Mass"] = ak.unflatten(rng.uniform(0.0, 20.0, k).astype(np.float32), counts)
            arrays["Jet.BTag"] = ak.unflatten(rng.integers(0, 4, k).astype(np.uint32), counts)
        if kind in ("Electron", "Muon"):
            arrays[f"{kind}.Charge"] = ak.unflatten(rng.choice([-1, 1], k).astype(np.int32), counts)
    arrays["MissingET.MET"] = ak.unflatten(rng.uniform(0.0, 100.0, n).astype(np.float32), one)
    arrays["MissingET.Phi"] = ak.unflatten(rng.uniform(-np.pi, np.pi, n).astype(np.float32), one)
    arrays["Event.Weight"] = ak.unflatten(rng.uniform(0.1, 1.0, n).astype(np.float32), one)
    arrays["Weight.Weight"] = ak.unflatten(rng.uniform(0.0, 1.0, 2 * n).astype(np.float32), 2 * one)
    with uproot.recreate(path) as f:
        f.mktree("Delphes", {k: v.type.content for k, v in arrays.items()}, counter_name=lambda b: b.split(".")[0] + "_size")
        for lo in range(0, n, 15):
            f["Delphes"].extend({k: v[lo : lo + 15] for k, v in arrays.items()})
    return path


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, bytes]:
    """The bytes of each small valid file, by kind."""
    import simulators.toy as toy
    from simulators.io.madminer_export import write_madminer

    folder = tmp_path_factory.mktemp("valid")
    sample = toy.simulate(200, seed=1)
    paths = {
        "lfi": sample.save(folder / "toy.h5"),
        "lfi-gzip": sample.save(folder / "toy-gzip.h5", compression="gzip"),
        "madminer": write_madminer(sample, folder / "mm.h5"),
        "delphes": _write_delphes(folder / "events.root"),
    }
    text = _lhe_text()
    (folder / "events.lhe").write_text(text)
    with gzip.open(folder / "events.lhe.gz", "wt") as f:
        f.write(text)
    paths["lhe"], paths["lhe.gz"] = folder / "events.lhe", folder / "events.lhe.gz"
    return {kind: path.read_bytes() for kind, path in paths.items()}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corrupted")


SUFFIX = {"lfi": ".h5", "lfi-gzip": ".h5", "madminer": ".h5", "delphes": ".root", "lhe": ".lhe", "lhe.gz": ".lhe.gz"}


# ------------------------------------------------------------------------------------------ corruptions
_LHE_CHARACTERS = "0123456789-+.eE x<>/=\n\"'an"


@st.composite
def corruptions(draw, text: bool = False):
    """A corruption as (kind, parameters), positions as fractions of the file length (so they shrink well)."""
    fraction = st.integers(0, 10**6).map(lambda k: k / (10**6 + 1))
    kinds = ["truncate", "flip", "zero", "splice"] + (["text"] if text else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        return kind, draw(fraction)
    if kind == "flip":
        return kind, draw(st.lists(st.tuples(fraction, st.integers(0, 7)), min_size=1, max_size=8))
    if kind == "zero":
        return kind, (draw(fraction), draw(st.integers(1, 512)))
    if kind == "splice":
        return kind, (draw(fraction), draw(fraction), draw(st.integers(1, 512)))
    return kind, draw(st.lists(st.tuples(fraction, st.sampled_from(_LHE_CHARACTERS)), min_size=1, max_size=4))


def corrupt(data: bytes, corruption) -> bytes:
    kind, params = corruption
    out, n = bytearray(data), len(data)
    if kind == "truncate":
        return bytes(out[: int(params * n)])
    if kind == "flip":
        for where, bit in params:
            out[int(where * n)] ^= 1 << bit
    elif kind == "zero":
        start = int(params[0] * n)
        out[start : start + params[1]] = bytes(len(out[start : start + params[1]]))
    elif kind == "splice":
        source, target = int(params[0] * n), int(params[1] * n)
        block = bytes(out[source : source + params[2]])
        out[target : target + len(block)] = block
        out = out[:n]
    else:
        for where, char in params:
            out[int(where * n)] = ord(char)
    return bytes(out)


def _write_corrupted(scratch: Path, valid: dict[str, bytes], kind: str, corruption) -> Path:
    path = scratch / f"c{next(_names)}{SUFFIX[kind]}"
    path.write_bytes(corrupt(valid[kind], corruption))
    return path


# ------------------------------------------------------------------------------------------ the property
def _benchmarks():
    from simulators.io.common import Benchmarks

    return Benchmarks(points=(("sm", (0.0, 0.0)), ("w1", (1.0, 0.0))), sampled_from="sm")


def _read_lhe(path):
    from simulators.io.lhe import read_lhe

    return read_lhe(path, _benchmarks())


def _read_delphes(path):
    from simulators.io.delphes import read_delphes

    return read_delphes(path, chunk_size=16)


def _read_madminer(path):
    from simulators.io.madminer_import import read_madminer

    return read_madminer(path)


READERS = {
    "lfi": (EventSample.load, EventSample.read_info),
    "lfi-gzip": (EventSample.load, EventSample.read_info),
    "lhe": (_read_lhe,),
    "lhe.gz": (_read_lhe,),
    "delphes": (_read_delphes,),
    "madminer": (_read_madminer,),
}


def check_outcome(read, path: Path) -> str:
    """Read ``path``: a valid result or one LfiError line naming the file, and no warning. Returns "ok" or "error"."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = read(path)
        except LfiError as err:
            message = str(err)
            assert "\n" not in message.strip(), f"{type(err).__name__} of more than one line: {message!r}"
            assert str(path) in message, f"{type(err).__name__} does not name the file: {message!r}"
            outcome = "error"
        else:
            if isinstance(result, EventSample):
                result.validate(str(path))
            else:  # read_info: what `lfi info` prints must print
                json.dumps(result)
                format_info(result)
            outcome = "ok"
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    return outcome


# Examples per kind: the HDF5 readers are fast, the Delphes reader (uproot) is the slowest.
EXAMPLES = {"lfi": 150, "lfi-gzip": 100, "madminer": 150, "lhe": 200, "lhe.gz": 100, "delphes": 60}


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_a_corrupted_file_reads_as_a_valid_sample_or_one_error_line(kind, valid, scratch):
    @settings(max_examples=EXAMPLES[kind], **FUZZ)
    @given(corruption=corruptions(text=kind == "lhe"))
    def run(corruption):
        path = _write_corrupted(scratch, valid, kind, corruption)
        try:
            for read in READERS[kind]:
                check_outcome(read, path)
        finally:
            path.unlink()

    run()


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_a_file_truncated_anywhere_reads_or_is_one_error_line(kind, valid, scratch):
    """Hypothesis draws few truncations (one number each); sweep them: 30 offsets spread over the file."""
    for fraction in np.arange(30) / 30:
        path = _write_corrupted(scratch, valid, kind, ("truncate", fraction))
        try:
            for read in READERS[kind]:
                check_outcome(read, path)
        finally:
            path.unlink()


def test_the_valid_files_read(valid, scratch):
    for kind, readers in READERS.items():
        path = scratch / f"valid{SUFFIX[kind]}"
        path.write_bytes(valid[kind])
        assert all(check_outcome(read, path) == "ok" for read in readers), kind


# ------------------------------------------------------------------------------------------ the command line
COMMANDS = {
    "lfi": lambda path, out: ["info", str(path)],
    "lhe": lambda path, out: ["import", "lhe", str(path), "--out", str(out), "--benchmarks", "sm=0,0", "w1=1,0",
                              "--sampled-from", "sm"],
    "lhe.gz": lambda path, out: ["import", "lhe", str(path), "--out", str(out)],
    "delphes": lambda path, out: ["import", "delphes", str(path), "--out", str(out), "--chunk-size", "16"],
    "madminer": lambda path, out: ["import", "madminer", str(path), "--out", str(out)],
}


def check_command(argv: list[str], path: Path, out: Path, capsys) -> int:
    """Run ``lfi`` in-process: 0 with a loadable output, or 1 with one stderr line naming the file and no output."""
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    err = capsys.readouterr().err.strip()
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    leftovers = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.stem}."))
    assert leftovers == [], "temporary files left behind"
    if code == 0:
        if argv[0] == "import":
            EventSample.load(out).validate()
            out.unlink()
        return code
    assert code == 1, err
    assert len(err.splitlines()) == 1 and err.startswith(f"lfi {argv[0]}: error: ") and str(path) in err, err
    assert not out.exists()
    return code


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_cli_on_a_truncated_file_is_one_line_and_no_output(kind, valid, tmp_path, capsys):
    path = tmp_path / f"half{SUFFIX[kind]}"
    path.write_bytes(valid[kind][: len(valid[kind]) // 2])
    out = tmp_path / "out" / "events.h5"
    out.parent.mkdir()
    assert check_command(COMMANDS[kind](path, out), path, out, capsys) == 1


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_cli_on_corrupted_files(kind, valid, tmp_path, capsys):
    out = tmp_path / "out" / "events.h5"
    out.parent.mkdir()

    @settings(max_examples=10, **FUZZ)
    @given(corruption=corruptions(text=kind == "lhe"))
    def run(corruption):
        path = _write_corrupted(tmp_path, valid, kind, corruption)
        try:
            check_command(COMMANDS[kind](path, out), path, out, capsys)
        finally:
            path.unlink()

    run()
