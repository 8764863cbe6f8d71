"""MadMiner v0.9 HDF5 import and export.

- Round trip lfi → MadMiner → lfi on a hand-made sample whose weights are exact polynomials in θ:
  weights, benchmarks, morphing and objects come back to 1e-12 (bit-identical where possible).
- The morphing matrix is checked against MadMiner's formula w_b(θ) = Σ_c M[c,b] Π_p θ_p^{comp[c,p]}
  written out here, and against the polynomial the weights were built from (independent truth).
- A file written here with plain h5py in MadMiner's own layout (no lfi columns, a nuisance
  benchmark, background events) imports as an object-less sample.
- If the ``madminer`` package is importable, MadMiner itself reads our export.
"""

from __future__ import annotations

import numpy as np
import pytest

from lfi.cli import main
from lfi.events import EventFileError, EventSample
from lfi.morphing import monomial_components
from simulators.io.common import NO_OBJECT_SLOTS
from simulators.io.madminer_export import write_madminer
from simulators.io.madminer_import import read_madminer

h5py = pytest.importorskip("h5py")

COMPONENTS = monomial_components(2, 2)  # 1, a, b, a², ab, b²
THETA = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5], [0.3, -1.0], [0.7, 0.2]])
NAMES = ["sm", "b1", "b2", "b3", "b4", "b5", "extra"]
BASIS = np.array([1, 0, 2, 3, 5, 4])  # deliberately not in storage order


def _alpha(theta: np.ndarray) -> np.ndarray:
    """Monomials α_c(θ), shape (T, C)."""
    return np.prod(np.atleast_2d(theta)[:, None, :] ** COMPONENTS[None], axis=-1)


@pytest.fixture()
def sample() -> EventSample:
    """300 events with polynomial weights, objects, globals, observables and two processes."""
    rng = np.random.default_rng(7)
    n = 300
    coefficients = rng.normal(0.0, 1.0, (n, len(COMPONENTS))) * 1e-3  # pb per event; signs vary
    n_obj = rng.integers(1, 5, n)
    momenta = rng.normal(0.0, 50.0, (n, 4, 4)).astype(np.float32)
    types = rng.integers(1, 8, (n, 4)).astype(np.int8)
    empty = np.arange(4)[None, :] >= n_obj[:, None]
    momenta[empty], types[empty] = 0.0, 0
    return EventSample(
        parameters=["f_W", "f_WW"],
        benchmark_names=NAMES,
        benchmark_theta=THETA,
        momenta=momenta,
        types=types,
        weights=coefficients @ _alpha(THETA).T,
        globals_=rng.normal(size=(n, 2)),
        global_names=["met", "met_phi"],
        observables={"m_jj": rng.uniform(0, 2000, n), "met": rng.uniform(0, 300, n)},  # "met" clashes with a global
        process=rng.integers(0, 2, n),
        process_names=["signal", "zz background"],
        sampled_from=rng.integers(-1, 3, n),
        morphing_components=COMPONENTS,
        morphing_basis=BASIS,
        units="TeV^-2",
        metadata={"simulator": "hand", "objects": True},
        truth_events={"coefficients": coefficients},
    )


def test_round_trip_preserves_weights_benchmarks_morphing_and_objects(sample, tmp_path):
    path = write_madminer(sample, tmp_path / "mm.h5")
    back = read_madminer(path)
    np.testing.assert_array_equal(back.weights, sample.weights)
    assert back.benchmark_names == sample.benchmark_names and back.parameters == sample.parameters
    np.testing.assert_array_equal(back.benchmark_theta, sample.benchmark_theta)
    np.testing.assert_array_equal(back.morphing_components, sample.morphing_components)
    np.testing.assert_array_equal(back.morphing_basis, sample.morphing_basis)
    thetas = np.random.default_rng(1).uniform(-2, 2, (25, 2))
    np.testing.assert_allclose(back.weights_at(thetas), sample.weights_at(thetas), rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(back.momenta, sample.momenta)
    np.testing.assert_array_equal(back.types, sample.types)
    np.testing.assert_array_equal(back.globals_, sample.globals_)
    assert back.global_names == sample.global_names
    assert set(back.observables) == set(sample.observables)
    for name, values in sample.observables.items():
        np.testing.assert_array_equal(back.observables[name], values)
    np.testing.assert_array_equal(back.process, sample.process)
    assert back.process_names == sample.process_names
    np.testing.assert_array_equal(back.sampled_from, sample.sampled_from)
    assert back.units == "TeV^-2" and back.metadata["objects"] is True and back.metadata["simulator"] == "hand"


def test_layout_is_madminer_v09(sample, tmp_path):
    path = write_madminer(sample, tmp_path / "mm.h5")
    with h5py.File(path, "r") as f:
        assert f["benchmarks/names"].dtype == np.dtype("S256")
        assert [n.decode() for n in f["benchmarks/names"][()]] == NAMES
        assert f["samples/observations"].shape == (300, 2 + 2 + 4 * 5)  # observables, globals, objects (E, p, type)
        assert f["samples/weights"].dtype == np.float64
        assert f["morphing/morphing_matrix"].shape == (len(COMPONENTS), len(NAMES))
        # events from several generation benchmarks: all marked -1 so MadMiner uses every event with lfi's weights
        assert (f["samples/sampling_benchmarks"][()] == -1).all()
        assert not f["sample_summary/signal_events"][()].any()
        assert f["sample_summary/background_events"][()] == 300
        np.testing.assert_array_equal(f["lfi/sampled_from"][()], sample.sampled_from)
        for definition in f["observables/definitions"][()]:
            eval(definition.decode())  # MadMiner evaluates every definition when it loads a file
        assert len(f.attrs) == 0


def test_morphing_matrix_follows_madminers_formula(sample, tmp_path):
    """w(θ) = Σ_b w_b Σ_c M[c,b] Π_p θ_p^comp[c,p] reproduces the exact polynomial weights."""
    path = write_madminer(sample, tmp_path / "mm.h5")
    with h5py.File(path, "r") as f:
        matrix, components = f["morphing/morphing_matrix"][()], f["morphing/components"][()]
        weights = f["samples/weights"][()]
    assert not matrix[:, 6].any()  # the non-basis benchmark carries no morphing weight
    thetas = np.array([[0.7, 0.2], [-1.5, 2.0], [0.0, 0.0], [3.0, -0.4]])
    monomials = np.prod(thetas[:, None, :] ** components[None], axis=-1)  # (T, C)
    morphed = weights @ (monomials @ matrix).T  # (N, T)
    truth = sample.truth_events["coefficients"] @ _alpha(thetas).T
    np.testing.assert_allclose(morphed, truth, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(morphed[:, 0], sample.weights[:, 6], rtol=1e-9, atol=1e-15)  # benchmark "extra"
    np.testing.assert_allclose(monomials @ matrix, sample.morpher().weights(thetas) @ _basis_to_all(sample), rtol=1e-12, atol=1e-14)


def _basis_to_all(sample) -> np.ndarray:
    """(C, B) matrix placing basis weights at their benchmark columns."""
    out = np.zeros((len(sample.morphing_basis), sample.n_benchmarks))
    out[np.arange(len(sample.morphing_basis)), sample.morphing_basis] = 1.0
    return out


def SAMPLING(n: int) -> np.ndarray:
    """A quarter background (-1), then events generated at "sm" (0) and at "w1" (1) in the ratio 2:1."""
    ids = np.full(n, -1)
    ids[n // 4 :] = np.where(np.arange(n - n // 4) % 3 == 2, 1, 0)
    return ids


def write_plain_madminer(path, n=200, seed=2, matrix=None, drop=None):
    """A MadMiner file as MadMiner itself writes it (h5py, datasets only, S256 strings)."""
    rng = np.random.default_rng(seed)
    names = [b"sm", b"w1", b"w2", b"w3", b"w4", b"w5", b"scale_up"]  # the last one is a nuisance benchmark
    theta = np.vstack([THETA[:6], [[0.0, 0.0]]])
    coefficients = rng.normal(0, 1e-3, (n, 6))
    weights = np.hstack([coefficients @ _alpha(theta[:6]).T, 1.1 * (coefficients @ _alpha(theta[:1]).T)])
    if matrix is None:
        matrix = np.linalg.inv(_alpha(theta[:6]))  # (C, C): the first six benchmarks are the basis
    data = {
        "parameters/names": np.array([b"f_W", b"f_WW"], dtype="S256"),
        "parameters/lha_blocks": np.array([b"dim6", b"dim6"], dtype="S256"),
        "parameters/lha_ids": np.array([1, 2]),
        "parameters/max_power": np.array([2, 2]),
        "parameters/val_ranges": np.array([[-1.0, 1.0], [-1.0, 1.0]]),
        "parameters/transforms": np.array([b"None", b"None"], dtype="S256"),
        "benchmarks/names": np.array(names, dtype="S256"),
        "benchmarks/values": theta,
        "benchmarks/is_nuisance": np.array([0, 0, 0, 0, 0, 0, 1]),
        "benchmarks/is_reference": np.array([1, 0, 0, 0, 0, 0, 0]),
        "morphing/components": COMPONENTS.astype(np.int64),
        "morphing/morphing_matrix": matrix,
        "observables/names": np.array([b"pt_j1", b"delta_phi_jj"], dtype="S256"),
        "observables/definitions": np.array([b"j[0].pt", b"j[0].deltaphi(j[1])"], dtype="S256"),
        "samples/observations": rng.normal(size=(n, 2)),
        "samples/weights": weights,
        "samples/sampling_benchmarks": SAMPLING(n),
        "sample_summary/signal_events": np.bincount(SAMPLING(n)[SAMPLING(n) >= 0], minlength=7),
        "sample_summary/background_events": np.int64((SAMPLING(n) < 0).sum()),
    }
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if key != drop:
                f.create_dataset(key, data=value)
    return path, weights, coefficients


def test_plain_madminer_file_imports_as_an_object_less_sample(tmp_path):
    path, weights, coefficients = write_plain_madminer(tmp_path / "plain.h5")
    sample = read_madminer(path)
    assert sample.benchmark_names == ["sm", "w1", "w2", "w3", "w4", "w5"]
    # MadMiner normalises each generation sample on its own and combines them with N_b / N_signal:
    ids = SAMPLING(200)
    share = np.where(ids < 0, 1.0, np.where(ids == 0, 2 / 3, 1 / 3))
    assert np.bincount(ids[ids >= 0]).tolist() == [100, 50]
    np.testing.assert_allclose(sample.weights, weights[:, :6] * share[:, None], rtol=1e-15)
    assert sample.metadata["madminer_sample_factors"] == pytest.approx({"sm": 2 / 3, "w1": 1 / 3})
    assert sample.metadata["objects"] is False and sample.metadata["dropped_nuisance_benchmarks"] == ["scale_up"]
    assert sample.momenta.shape == (200, NO_OBJECT_SLOTS, 4) and not sample.types.any()
    assert sorted(sample.observables) == ["delta_phi_jj", "pt_j1"]
    assert sample.process_names == ["signal", "background"]
    np.testing.assert_array_equal(sample.process, (sample.sampled_from < 0).astype(int))
    np.testing.assert_array_equal(sample.morphing_basis, np.arange(6))
    theta = np.array([0.4, -0.6])
    np.testing.assert_allclose(sample.weights_at(theta), share * (coefficients @ _alpha(theta)[0]), rtol=1e-9, atol=1e-15)
    assert sample.metadata["madminer_parameters"]["lha_blocks"] == ["dim6", "dim6"]
    assert sample.metadata["madminer_reference_benchmark"] == "sm"
    # and out again: the MadMiner parameter card entries survive
    again = write_madminer(sample, tmp_path / "again.h5")
    with h5py.File(again, "r") as f:
        assert [b.decode() for b in f["parameters/lha_blocks"][()]] == ["dim6", "dim6"]
        assert f["benchmarks/is_reference"][()].tolist() == [1, 0, 0, 0, 0, 0]
        assert f["samples/observations"].shape == (200, 2)  # no object columns for an object-less sample
        np.testing.assert_array_equal(f["samples/sampling_benchmarks"][()], ids)  # MadMiner's own convention again
        np.testing.assert_allclose(f["samples/weights"][()], weights[:, :6], rtol=1e-14)


def test_cli_export_then_import(sample, tmp_path, capsys):
    src, mm, back = tmp_path / "s.h5", tmp_path / "mm.h5", tmp_path / "back.h5"
    sample.save(src)
    assert main(["export", "madminer", str(src), "--out", str(mm)]) == 0
    assert main(["import", "madminer", str(mm), "--out", str(back), "--quiet"]) == 0
    loaded = EventSample.load(back)
    np.testing.assert_array_equal(loaded.weights, sample.weights)
    np.testing.assert_array_equal(loaded.momenta, sample.momenta)
    assert main(["export", "madminer", str(src), "--out", str(mm), "--no-objects"]) == 0
    assert read_madminer(mm).metadata["objects"] is False


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("drop", "matrix", "expected"),
    [
        ("samples/weights", None, "dataset /samples/weights: missing"),
        ("benchmarks/values", None, "dataset /benchmarks/values: missing"),
        (None, np.eye(6), "dataset /morphing/morphing_matrix: does not match"),
        (None, np.ones((6, 3)), "dataset /morphing/morphing_matrix: 3 benchmarks carry morphing weight"),
    ],
)
def test_unexpected_layout_is_a_one_line_error_and_leaves_no_output(tmp_path, capsys, drop, matrix, expected):
    path, _, _ = write_plain_madminer(tmp_path / "bad.h5", matrix=matrix, drop=drop)
    out = tmp_path / "never.h5"
    assert main(["import", "madminer", str(path), "--out", str(out)]) == 1
    assert not out.exists() and not list(tmp_path.glob(".never.h5*"))
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and expected in err, err


def test_wrong_weight_shape_names_the_dataset(tmp_path):
    path, weights, _ = write_plain_madminer(tmp_path / "bad.h5")
    with h5py.File(path, "a") as f:
        del f["samples/weights"]
        f.create_dataset("samples/weights", data=weights[:, :3])
    with pytest.raises(EventFileError, match=r"/samples/weights: shape \(200, 3\), expected \(200, 7\)"):
        read_madminer(path)


def test_an_lfi_event_file_is_not_a_madminer_file(sample, tmp_path):
    path = sample.save(tmp_path / "lfi.h5")
    with pytest.raises(EventFileError, match="not a MadMiner v0.9 file"):
        read_madminer(path)


def test_madminer_reads_our_export(sample, tmp_path):
    """MadMiner's own DataAnalyzer loads the export and morphs it to the same cross sections."""
    try:
        from madminer.analysis import DataAnalyzer
    except ImportError as err:  # optional peer: pip install madminer
        pytest.skip(f"madminer is not importable ({err}); install it to compare with MadMiner itself")
    path = write_madminer(sample, tmp_path / "mm.h5")
    analyzer = DataAnalyzer(str(path))
    thetas = [np.array([0.5, -0.2]), np.array([-1.0, 1.5])]
    xsecs, _ = analyzer.xsecs(thetas=thetas, partition="all")
    np.testing.assert_allclose(xsecs, sample.weights_at(np.array(thetas)).sum(axis=0), rtol=1e-10)
    x, w = analyzer.weighted_events(theta=thetas[0])
    np.testing.assert_allclose(w, sample.weights_at(thetas[0]), rtol=1e-10, atol=1e-18)
    assert x.shape == (len(sample), analyzer.n_observables)
    # and the other way: MadMiner's cross sections of a file in its own convention equal our import's
    plain, _, _ = write_plain_madminer(tmp_path / "plain.h5")
    ours = read_madminer(plain)
    xsecs, _ = DataAnalyzer(str(plain)).xsecs(thetas=thetas, partition="all")
    np.testing.assert_allclose(xsecs, ours.weights_at(np.array(thetas)).sum(axis=0), rtol=1e-10)


def _with_nuisances(sample: EventSample) -> EventSample:
    """The sample plus a two-sided "jes" and a one-sided "pdf" variation at the SM (positive SM weights)."""
    from dataclasses import replace

    rng = np.random.default_rng(3)
    sm = np.abs(sample.weights[:, 0]) + 1e-4
    weights = sample.weights.copy()
    weights[:, 0] = sm
    variations = sm[:, None] * rng.uniform(0.8, 1.2, (len(sample), 3))
    b = sample.n_benchmarks
    return replace(sample, benchmark_names=NAMES + ["jes_up", "jes_down", "pdf_alt"],
                   benchmark_theta=np.vstack([THETA, np.zeros((3, 2))]), weights=np.hstack([weights, variations]),
                   morphing_components=None, morphing_basis=None,
                   nuisance_names=["jes", "pdf"], nuisance_benchmarks=[[b, b + 1], [b + 2, -1]])


def test_round_trip_keeps_the_nuisance_variations(sample, tmp_path):
    varied = _with_nuisances(sample)
    path = write_madminer(varied, tmp_path / "mm.h5")
    with h5py.File(path) as f:
        assert f["benchmarks/is_nuisance"][()].tolist() == [0] * len(NAMES) + [1, 1, 1]
        assert [v.decode() for v in f["nuisance_parameters/benchmark_negative"][()]] == ["jes_down", "None"]
    back = read_madminer(path)
    assert back.nuisance_names == ["jes", "pdf"] and back.benchmark_names == varied.benchmark_names
    np.testing.assert_array_equal(back.nuisance_benchmarks, varied.nuisance_benchmarks)
    np.testing.assert_allclose(back.weights, varied.weights, rtol=1e-12)
    model, model_back = varied.nuisance_model(), back.nuisance_model()
    np.testing.assert_allclose(model_back.linear, model.linear, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model_back.quadratic, model.quadratic, rtol=1e-12, atol=1e-15)


def test_madminer_style_variations_are_taken_against_the_reference_benchmark(sample, tmp_path):
    """MadMiner stores nuisance benchmarks at θ = 0 and takes them against the is_reference benchmark."""
    varied = _with_nuisances(sample)
    path = write_madminer(varied, tmp_path / "mm.h5")
    reference = NAMES.index("b1")  # θ = (1, 0)
    factor = np.random.default_rng(5).uniform(0.9, 1.1, len(sample))
    with h5py.File(path, "r+") as f:
        f["benchmarks/is_reference"][...] = np.arange(len(NAMES) + 3) == reference
        weights = f["samples/weights"][()]
        weights[:, len(NAMES)] = np.abs(weights[:, reference]) * factor  # jes_up against b1
        weights[:, reference] = np.abs(weights[:, reference])
        f["samples/weights"][...] = weights
    back = read_madminer(path)
    np.testing.assert_array_equal(back.benchmark_theta[back.benchmark_index("jes_up")], THETA[reference])
    np.testing.assert_allclose(back.nuisance_model().linear[:, 0] + back.nuisance_model().quadratic[:, 0],
                               np.log(factor), rtol=1e-10)


@pytest.mark.parametrize("positive, message", [
    ([b"jes_up", b"jes_up"], "benchmark 'jes_up' is used twice"),  # one benchmark for two nuisances
    ([b"jes_up", b"nope"], "nuisance 'pdf': no benchmark 'nope'"),  # a nuisance pointing at a missing benchmark
])
def test_a_bad_nuisance_benchmark_is_one_line(sample, tmp_path, positive, message):
    path = write_madminer(_with_nuisances(sample), tmp_path / "mm.h5")
    with h5py.File(path, "a") as f:
        del f["nuisance_parameters/benchmark_positive"]
        f["nuisance_parameters/benchmark_positive"] = np.array(positive, dtype="S256")
    with pytest.raises(EventFileError, match=message) as err:
        read_madminer(path)
    assert "\n" not in str(err.value)


def test_madminers_nuisance_coefficients_equal_ours(sample, tmp_path):
    """MadMiner's own NuisanceMorpher reads our export's nuisance table and finds our interpolation coefficients."""
    try:
        from madminer.analysis import DataAnalyzer
    except ImportError as err:  # optional peer: pip install madminer
        pytest.skip(f"madminer is not importable ({err}); install it to compare with MadMiner itself")
    from dataclasses import replace

    varied = replace(_with_nuisances(sample), morphing_components=COMPONENTS, morphing_basis=BASIS)
    analyzer = DataAnalyzer(str(write_madminer(varied, tmp_path / "mm.h5")), include_nuisance_parameters=True)
    assert list(analyzer.nuisance_parameters) == ["jes", "pdf"]
    model = varied.nuisance_model()
    np.testing.assert_allclose(analyzer.nuisance_morpher.calculate_a(varied.weights).T, model.linear, rtol=1e-10)
    np.testing.assert_allclose(analyzer.nuisance_morpher.calculate_b(varied.weights).T, model.quadratic, rtol=1e-10,
                               atol=1e-14)
