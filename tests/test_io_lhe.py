"""LHE import: real Les Houches files written by the tests (plain text per the Les Houches Accord, gzipped).

Reference values come from the numbers the tests write into the files, not from the reader:
object kinematics, the <init> cross section and the reweighting factors. Tolerances: 1e-12
relative where the file carries 17 significant digits.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from lfi.cli import main
from lfi.events import EventFileError, EventSample
from lfi.morphing import monomial_components
from simulators.io.common import Benchmarks
from simulators.io.lhe import read_lhe

THETA = {"sm": (0.0, 0.0), "w1": (1.0, 0.0), "w2": (0.0, 1.0), "w3": (1.0, 1.0), "w4": (-1.0, 0.0), "w5": (0.0, -1.0)}
CHECK = ("chk", (0.5, -0.7))  # not in the basis: morphing must reproduce its stored weight
COMPONENTS = monomial_components(2, 2)


def _alpha(theta) -> np.ndarray:
    return np.prod(np.asarray(theta, float)[None, :] ** COMPONENTS, axis=1)


def make_events(n: int, seed: int, negative: float = 0.2) -> list[dict]:
    """Random WBF-like parton-level events: 2 quarks, 4 leptons, sometimes a neutrino or a tau."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(n):
        final = [11, -11, 13, -13, 2, -1] + ([14] if i % 3 == 0 else []) + ([15] if i % 5 == 0 else [])
        particles = []
        for pid in final:
            px, py, pz = rng.normal(0.0, 60.0, 3)
            particles.append((pid, 1, px, py, pz, float(np.sqrt(px * px + py * py + pz * pz))))
        coefficients = rng.uniform(0.5, 1.5, len(COMPONENTS))  # dσ(z|θ) ∝ Σ_c g_c α_c(θ), positive at every θ here
        sign = -1.0 if rng.random() < negative else 1.0
        events.append({"sign": sign, "particles": particles, "g": coefficients})
    return events


def write_lhe(
    path: Path,
    events: list[dict],
    xs: float,
    ids: tuple[str, ...] = tuple(THETA) + (CHECK[0],),
    declared: int | None = None,
    nominal_at: str = "sm",
) -> Path:
    """Write a Les Houches file: header with <initrwgt>, <init> with σ in pb, events with <rwgt>.

    The event weight is ±xs (MadGraph's event_norm = average); reweighting weight ``id`` is
    ±xs · Σ_c g_c α_c(θ_id) / Σ_c g_c α_c(θ_nominal).
    """
    thetas = {**THETA, CHECK[0]: CHECK[1]}
    lines = ['<LesHouchesEvents version="3.0">', "<header>", "<MGGenerationInfo>"]
    lines += [f"#  Number of Events        :       {len(events) if declared is None else declared}"]
    lines += [f"#  Integrated weight (pb)  :  {xs}", "</MGGenerationInfo>"]
    if ids:
        lines += ["<initrwgt>", '<weightgroup name="mg_reweighting" weight_name_strategy="includeIdInWeightName">']
        lines += [f'<weight id="{i}">set param_card dim6 1 {thetas.get(i, (0, 0))[0]}</weight>' for i in ids]
        lines += ["</weightgroup>", "</initrwgt>"]
    lines += ["</header>", "<init>", "2212 2212 6.5e+03 6.5e+03 0 0 247000 247000 -4 1", f"{xs:.17e} 1.0e-03 1.0 1", "</init>"]
    for event in events:
        w0 = event["sign"] * xs
        lines += ["<event>", f" {len(event['particles']) + 3} 1 {w0:.17e} 1.25e+02 7.8e-03 1.2e-01"]
        lines += ["  2 -1 0 0 501 0 0 0 1.0e+02 1.0e+02 0 0 9", " -1 -1 0 0 0 501 0 0 -2.0e+02 2.0e+02 0 0 9"]
        lines += [" 25 2 1 2 0 0 0 0 0 1.25e+02 1.25e+02 0 9"]  # an intermediate Higgs: not an object
        for pid, status, px, py, pz, e in event["particles"]:
            lines.append(f" {pid} {status} 3 3 0 0 {px:.17e} {py:.17e} {pz:.17e} {e:.17e} 0.0 0 9")
        if ids:
            ref = event["g"] @ _alpha(thetas[nominal_at])
            lines.append("<rwgt>")
            lines += [f"<wgt id='{i}'> {w0 * (event['g'] @ _alpha(thetas[i])) / ref:.17e} </wgt>" for i in ids]
            lines.append("</rwgt>")
        lines.append("</event>")
    text = "\n".join(lines + ["</LesHouchesEvents>"]) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return make_events(120, seed=3)


def _benchmarks(**options) -> Benchmarks:
    return Benchmarks(points=tuple(THETA.items()) + (CHECK,), parameters=("f_W", "f_WW"), **options)


def test_final_state_particles_become_pt_ordered_objects_with_type_codes(tmp_path, events):
    path = write_lhe(tmp_path / "ev.lhe", events[:6], xs=0.3)
    sample = read_lhe(path, _benchmarks(sampled_from="sm"))
    code = {11: 3, -11: 4, 13: 5, -13: 6, 2: 1, -1: 1}
    for i, event in enumerate(events[:6]):
        visible = [p for p in event["particles"] if p[0] in code]
        visible.sort(key=lambda p: -np.hypot(p[2], p[3]))
        assert sample.momenta.shape[1] == 6
        assert sample.types[i].tolist() == [code[p[0]] for p in visible]
        expected = np.array([[p[5], p[2], p[3], p[4]] for p in visible], dtype=np.float32)
        np.testing.assert_array_equal(sample.momenta[i], expected)
        nu = [p for p in event["particles"] if p[0] == 14]
        met = np.hypot(nu[0][2], nu[0][3]) if nu else 0.0
        assert sample.globals_[i, 0] == pytest.approx(met, rel=1e-6, abs=1e-6)
    assert sample.global_names == ["met", "met_phi"]
    assert sample.metadata["objects"] is True
    assert sample.metadata["files"][0]["skipped_final_state_pids"] == {"15": 2}  # events 0 and 5 have a tau


def test_weights_are_normalised_to_the_init_cross_section_and_keep_their_sign(tmp_path, events):
    xs = 0.37
    sample = read_lhe(write_lhe(tmp_path / "ev.lhe", events, xs=xs), _benchmarks(sampled_from="sm"))
    signs = np.array([e["sign"] for e in events])
    assert sample.cross_sections[0] == pytest.approx(xs, rel=1e-12)  # Σ weights at the generation point = <init> σ
    np.testing.assert_array_equal(np.sign(sample.weights[:, 0]), signs)  # negative weights kept
    assert sample.metadata["files"][0]["negative_weights"] == int((signs < 0).sum())
    expected_ratio = np.array([[e["g"] @ _alpha(t) / (e["g"] @ _alpha(THETA["sm"])) for t in THETA.values()] for e in events])
    np.testing.assert_allclose(sample.weights[:, : len(THETA)] / sample.weights[:, :1], expected_ratio, rtol=1e-12)
    assert (sample.sampled_from == 0).all()


def test_reweighting_weights_morph_to_a_benchmark_outside_the_basis(tmp_path, events):
    path = write_lhe(tmp_path / "ev.lhe", events, xs=1.0)
    sample = read_lhe(path, _benchmarks(sampled_from="sm", morphing_degree=2))
    assert [sample.benchmark_names[i] for i in sample.morphing_basis] == list(THETA)
    morphed = sample.weights_at(np.array(CHECK[1]))
    np.testing.assert_allclose(morphed, sample.weights[:, -1], rtol=1e-10)


def test_nominal_weight_is_used_for_the_generation_benchmark_without_its_own_id(tmp_path, events):
    path = write_lhe(tmp_path / "ev.lhe", events[:20], xs=2.0, ids=("w1",))
    sample = read_lhe(path, Benchmarks(points=(("sm", (0.0, 0.0)), ("w1", (1.0, 0.0))), sampled_from="sm"))
    assert sample.cross_sections[0] == pytest.approx(2.0, rel=1e-12)
    np.testing.assert_array_equal(np.sign(sample.weights[:, 0]), [e["sign"] for e in events[:20]])
    assert not sample.can_morph


def test_gzipped_file_reads_the_same_as_plain(tmp_path, events):
    plain = read_lhe(write_lhe(tmp_path / "ev.lhe", events, xs=0.5), _benchmarks())
    zipped = read_lhe(write_lhe(tmp_path / "ev.lhe.gz", events, xs=0.5), _benchmarks())
    np.testing.assert_array_equal(plain.weights, zipped.weights)
    np.testing.assert_array_equal(plain.momenta, zipped.momenta)


def test_gzipped_file_written_by_pylhe_reads(tmp_path):
    """pylhe's own writer (LHE v3, <rwgt> block, gzip by suffix) produces a file the reader accepts."""
    pylhe = pytest.importorskip("pylhe")
    init = pylhe.LHEInit(
        initInfo=pylhe.LHEInitInfo(2212, 2212, 6500.0, 6500.0, 0, 0, 247000, 247000, 3, 1),
        procInfo=[pylhe.LHEProcInfo(0.6, 0.01, 1.0, 1)],
        generators=[],
    )
    header = pylhe.LHEHeader(initrwgt=pylhe.LHEInitRWGT(entries=[pylhe.LHEInitRWGTWeight(id="bsm", name="f_W = 1")]))
    events = []
    for i in range(4):
        particles = [
            pylhe.LHEParticle(21, -1, 0, 0, 501, 502, 0.0, 0.0, 100.0, 100.0, 0.0, 0.0, 9.0),
            pylhe.LHEParticle(-13, 1, 1, 1, 0, 0, 30.0, 40.0, 0.0, 50.0, 0.0, 0.0, 9.0),
            pylhe.LHEParticle(5, 1, 1, 1, 0, 0, -3.0 * 3**i, -4.0 * 3**i, 0.0, 5.0 * 3**i, 0.0, 0.0, 9.0),  # pT 5·3^i
        ]
        info = pylhe.LHEEventInfo(3, 1, 0.3 if i else -0.3, 100.0, 0.0078, 0.12)
        events.append(pylhe.LHEEvent(eventinfo=info, particles=particles, weights={"bsm": 2.0 * info.weight}))
    path = tmp_path / "pylhe.lhe.gz"
    pylhe.LHEFile(init=init, events=events, header=header).tofile(path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    sample = read_lhe(path, Benchmarks(points=(("sm", (0.0, 0.0)), ("bsm", (1.0, 0.0))), sampled_from="sm"))
    assert sample.cross_sections == pytest.approx([0.6, 1.2], rel=1e-12)  # Σ XWGTUP = 0.6 = σ(<init>)
    assert sample.types.tolist() == [[6, 2], [6, 2], [6, 2], [2, 6]]  # μ+ (pT 50) and a b quark, by pT


def test_runs_of_one_process_are_averaged_and_processes_stay_apart(tmp_path):
    a, b = make_events(40, seed=1), make_events(60, seed=2)
    fa = write_lhe(tmp_path / "a.lhe", a, xs=1.0)
    fb = write_lhe(tmp_path / "b.lhe.gz", b, xs=1.5)
    runs = read_lhe([fa, fb], _benchmarks(sampled_from="sm"))
    # two runs of one process: the event-weighted mean of the two cross sections
    assert runs.cross_sections[0] == pytest.approx((40 * 1.0 + 60 * 1.5) / 100, rel=1e-12)
    assert runs.process_names == ["signal"]
    apart = read_lhe([fa, fb], _benchmarks(sampled_from="sm"), process=["signal", "other"])
    assert apart.process_names == ["signal", "other"]
    by_process = [apart.weights[apart.process == i, 0].sum() for i in range(2)]
    np.testing.assert_allclose(by_process, [1.0, 1.5], rtol=1e-12)
    # the cut flow of an import: one step, every event read, σ of the <init> block (docs/event-format.md §2)
    flows = apart.metadata["cutflow"]
    assert list(flows) == ["signal", "other"] and [len(f) for f in flows.values()] == [1, 1]
    assert [(f[0]["step"], f[0]["events"]) for f in flows.values()] == [("read", 40), ("read", 60)]
    np.testing.assert_allclose([f[0]["sigma_pb"] for f in flows.values()], [1.0, 1.5], rtol=1e-12)


def test_keep_normalisation_uses_weights_as_written(tmp_path, events):
    sample = read_lhe(write_lhe(tmp_path / "ev.lhe", events[:10], xs=0.25), normalisation="keep")
    np.testing.assert_allclose(sample.weights[:, 0], [0.25 * e["sign"] for e in events[:10]], rtol=1e-15)
    assert sample.benchmark_names == ["nominal"]


def test_cli_import_lhe_writes_a_loadable_event_file(tmp_path, events, capsys):
    path = write_lhe(tmp_path / "ev.lhe.gz", events, xs=0.8)
    out = tmp_path / "out" / "events.h5"
    specs = [f"{n}={t[0]},{t[1]}" for n, t in THETA.items()] + [f"{CHECK[0]}={CHECK[1][0]},{CHECK[1][1]}"]
    code = main(["import", "lhe", str(path), "--out", str(out), "--benchmarks", *specs, "--sampled-from", "sm", "--morphing-degree", "2"])
    assert code == 0
    sample = EventSample.load(out)
    assert sample.benchmark_names == [*THETA, CHECK[0]]
    assert sample.cross_sections[0] == pytest.approx(0.8, rel=1e-12)
    assert sample.can_morph and sample.units == "TeV^-2"
    assert "σ [pb]" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ bad input
def _truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _cli_error(tmp_path, capsys, *args) -> str:
    out = tmp_path / "never.h5"
    code = main(["import", "lhe", *args, "--out", str(out)])
    assert code == 1
    assert not out.exists() and not list(tmp_path.glob(".never.h5*")), "no output, not even a temporary file"
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("name", ["cut.lhe", "cut.lhe.gz"])
def test_truncated_file_is_a_one_line_error_and_leaves_no_output(tmp_path, events, capsys, name):
    path = _truncate(write_lhe(tmp_path / name, events, xs=1.0), 0.6)
    err = _cli_error(tmp_path, capsys, str(path))
    assert str(path) in err and "truncated" in err
    with pytest.raises(EventFileError, match="truncated"):
        read_lhe(path)


def test_missing_reweighting_ids_name_the_file_and_the_ids(tmp_path, events, capsys):
    path = write_lhe(tmp_path / "ev.lhe", events[:5], xs=1.0, ids=("w1", "w2"))
    err = _cli_error(tmp_path, capsys, str(path), "--benchmarks", "w1=1,0", "w9=2,0", "w8=3,0")
    assert str(path) in err and "'w9'" in err and "'w8'" in err and "w1, w2" in err


def test_fewer_events_than_the_header_declares_is_an_error(tmp_path, events):
    path = write_lhe(tmp_path / "ev.lhe", events[:5], xs=1.0, declared=10)
    with pytest.raises(EventFileError, match="declares 10 events but the file holds 5"):
        read_lhe(path)


def test_a_file_that_is_not_lhe_is_an_error(tmp_path, capsys):
    path = tmp_path / "notes.lhe"
    path.write_text("<html><body>not events</body></html>\n")
    err = _cli_error(tmp_path, capsys, str(path))
    assert str(path) in err


def test_missing_input_file(tmp_path, capsys):
    err = _cli_error(tmp_path, capsys, str(tmp_path / "absent.lhe"))
    assert "absent.lhe: no such file" in err


def test_adapters_load_pylhe_and_uproot_only_when_called():
    import subprocess
    import sys

    code = (
        "import sys, simulators.io, lfi.cli; lfi.cli.build_parser(); "
        "print(','.join(m for m in ('pylhe', 'uproot', 'awkward') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_import_without_benchmarks_says_which_reweighting_weights_it_leaves_out(tmp_path, events, capsys, caplog):
    path = write_lhe(tmp_path / "ev.lhe", events, xs=0.8)
    with caplog.at_level("WARNING", logger="lfi"):
        assert main(["import", "lhe", str(path), "--out", str(tmp_path / "nominal.h5"), "--quiet"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and f"declares {len(THETA) + 1} reweighting weights" in warnings[0]
    assert all(name in warnings[0] for name in list(THETA)[:3]) and "--benchmarks" in warnings[0]
    assert EventSample.load(tmp_path / "nominal.h5").benchmark_names == ["nominal"]


def test_a_sharded_import_reads_as_the_single_import(tmp_path, capsys):
    """`lfi import lhe A B C --shards --workers 2`: one shard per file; read as one sample it has the events, weights
    (runs of one process averaged, processes apart) and cut flows of the one-file-at-once import; a rerun after a
    lost shard imports only that file."""
    files = [write_lhe(tmp_path / f"{k}.lhe", make_events(n, seed=k), xs=xs)
             for k, (n, xs) in enumerate([(40, 1.0), (60, 1.5), (30, 0.7)])]
    specs = [f"{n}={t[0]},{t[1]}" for n, t in THETA.items()]
    common = ["--benchmarks", *specs, "--sampled-from", "sm", "--morphing-degree", "2", "--process", "signal",
              "signal", "other", "--observable", "lead=pt(l1)", "--quiet"]
    assert main(["import", "lhe", *map(str, files), "--out", str(tmp_path / "one.h5"), *common]) == 0
    shards = tmp_path / "shards"
    assert main(["import", "lhe", *map(str, files), "--out", str(shards), "--shards", "--workers", "2", *common]) == 0
    one, sharded = EventSample.load(tmp_path / "one.h5"), EventSample.load(shards)
    assert sharded.process_names == one.process_names == ["signal", "other"]
    np.testing.assert_allclose(sharded.weights, one.weights, rtol=1e-12)
    np.testing.assert_array_equal(sharded.momenta, one.momenta)
    np.testing.assert_array_equal(sharded.observables["lead"], one.observables["lead"])
    np.testing.assert_allclose(sharded.cross_sections, one.cross_sections, rtol=1e-12)
    before = (shards / "shard_0000.h5").stat().st_mtime_ns
    (shards / "shard_0002.h5").unlink()
    assert main(["import", "lhe", *map(str, files), "--out", str(shards), "--shards", *common]) == 0
    assert (shards / "shard_0000.h5").stat().st_mtime_ns == before
    np.testing.assert_allclose(EventSample.load(shards).weights, one.weights, rtol=1e-12)
    capsys.readouterr()
    assert main(["import", "lhe", str(files[0]), "--out", str(tmp_path / "x.h5"), "--workers", "2"]) == 1
    assert "--shards" in capsys.readouterr().err
