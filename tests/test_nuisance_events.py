"""Nuisance variations in event files (format version 2) and from the embedded WBF generator."""

from __future__ import annotations

from dataclasses import replace

import h5py
import numpy as np
import pytest

import simulators
from lfi.errors import EventFileError
from lfi.events import EventSample, merge_samples


@pytest.fixture(scope="module")
def wbf():
    return simulators.get("wbf").simulate(1200, seed=8, level="parton", nuisances=True)


def test_scale_factor_at_unit_scale_is_exactly_one_and_the_stored_variations_are_the_factors(wbf):
    from simulators.pythia.variations import ALTERNATIVE_PDF_SET, pdf_factors

    t = wbf.truth_events
    arguments = (t["parton_ids"][:, :2], t["pdf_x"], t["pdf_q2_fac"], t["pdf_xf"])
    np.testing.assert_array_equal(pdf_factors(*arguments, scale=1.0), 1.0)
    sm = wbf.weights[:, wbf.benchmark_index("sm")]
    for name, kwargs in (("mu_f_up", {"scale": 2.0}), ("mu_f_down", {"scale": 0.5}),
                         ("pdf_cteq6l1", {"pdf_set": ALTERNATIVE_PDF_SET})):
        factor = wbf.weights[:, wbf.benchmark_index(name)] / sm
        np.testing.assert_allclose(factor, pdf_factors(*arguments, **kwargs), rtol=1e-12)
        assert np.all(factor > 0) and np.std(factor) > 1e-3  # a shape effect, not a constant
    # μ_F × 2 and × ½ move the rate in opposite directions
    up, down = (wbf.cross_sections[wbf.benchmark_index(n)] / wbf.cross_sections[0] - 1 for n in ("mu_f_up", "mu_f_down"))
    assert up * down < 0


def test_version_2_round_trip_and_info(wbf, tmp_path):
    path = wbf.save(tmp_path / "n.h5")
    with h5py.File(path) as f:
        assert f.attrs["version"] == 2
    loaded = EventSample.load(path)
    assert loaded.nuisance_names == ["mu_f", "pdf"]
    np.testing.assert_array_equal(loaded.nuisance_benchmarks, wbf.nuisance_benchmarks)
    assert list(np.flatnonzero(loaded.is_nuisance_benchmark)) == [16, 17, 18]
    info = EventSample.read_info(path)
    assert info["nuisances"] == {"mu_f": ["mu_f_up", "mu_f_down"], "pdf": ["pdf_cteq6l1", None]}
    model = loaded.nuisance_model()
    sm = loaded.weights[:, 0]
    np.testing.assert_allclose(sm * np.exp(model.log_factors(np.array([1.0, 0.0]))[:, 0]),
                               loaded.weights[:, loaded.benchmark_index("mu_f_up")], rtol=1e-12)
    np.testing.assert_allclose(sm * np.exp(model.log_factors(np.array([0.0, 1.0]))[:, 0]),
                               loaded.weights[:, loaded.benchmark_index("pdf_cteq6l1")], rtol=1e-12)


def test_a_file_without_nuisances_stays_version_1_and_opens(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "v1.h5")
    with h5py.File(path) as f:
        assert f.attrs["version"] == 1 and "nuisances" not in f
    loaded = EventSample.load(path)
    assert loaded.nuisance_names == [] and loaded.nuisance_benchmarks.shape == (0, 2)
    with pytest.raises(EventFileError, match="stores no nuisance variations"):
        loaded.nuisance_model()


def test_a_variation_without_a_nominal_is_refused_in_one_line(small_sample):
    # no morphing, and the variation sits at θ = (1, -1) where no physics benchmark is
    varied = replace(small_sample, benchmark_names=["sm", "bsm", "jes_up"],
                     benchmark_theta=[[0.0, 0.0], [1.0, -1.0], [0.5, 0.5]],
                     weights=np.hstack([small_sample.weights, small_sample.weights[:, :1] * 1.1]),
                     nuisance_names=["jes"], nuisance_benchmarks=[[2, -1]])
    with pytest.raises(EventFileError, match="'jes_up' has no nominal") as err:
        varied.nuisance_model()
    assert "\n" not in str(err.value)
    at_sm = replace(varied, benchmark_theta=[[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(at_sm.nuisance_model().linear[:, 0], np.log(1.1), rtol=1e-12)


def test_inconsistent_variations_are_refused_when_merging_or_concatenating(wbf):
    other = replace(wbf, nuisance_names=["mu_f"], nuisance_benchmarks=wbf.nuisance_benchmarks[:1],
                    process_names=["wbf2"])
    with pytest.raises(EventFileError, match="nuisance variations \\['mu_f'\\] differ from \\['mu_f', 'pdf'\\]"):
        merge_samples([wbf, other], names=["a.h5", "b.h5"])
    with pytest.raises(EventFileError, match="different nuisances"):
        EventSample.concatenate([wbf, other])


def test_bad_nuisance_tables_name_the_dataset(wbf):
    with pytest.raises(EventFileError, match="/nuisances/benchmarks: a nuisance variation cannot be a morphing basis"):
        replace(wbf, nuisance_benchmarks=[[1, -1], [18, -1]])
    with pytest.raises(EventFileError, match="/nuisances/names: names must be distinct"):
        replace(wbf, nuisance_names=["pdf", "pdf"])


def test_limits_profile_the_nuisances_beside_the_fixed_maps(wbf, tmp_path, capsys):
    import json

    from lfi.cli import main

    path = wbf.save(tmp_path / "wbf.h5")
    out = tmp_path / "limits"
    assert main(["limits", "--data", str(path), "--truth", "--histogram", "pt_j1", "--nuisance", "mu_f,pdf,mu_f",
                 "--normalisation", "wbf=0.1", "--lumi", "300/fb", "--grid", "-20:20:15,-20:20:15",
                 "--out", str(out)]) == 0
    maps = json.loads((out / "limits.json").read_text())["maps"]
    assert set(maps) == {"truth", "histogram_pt_j1", "truth_profiled", "histogram_pt_j1_profiled"}
    for name in ("truth", "histogram_pt_j1"):
        fixed, profiled = maps[name]["areas"], maps[f"{name}_profiled"]["areas"]
        assert all(profiled[cl] >= fixed[cl] for cl in ("68.27", "95.45"))
        assert profiled["95.45"] > fixed["95.45"]
        description = maps[f"{name}_profiled"]["profiled"]
        assert description["nuisances"] == ["mu_f", "pdf", "norm_wbf"]
        only = description["areas_with_only"]
        assert fixed["95.45"] <= only["rate"]["95.45"] and fixed["95.45"] <= only["shape"]["95.45"]
    q = np.load(out / "q_truth.npy"), np.load(out / "q_truth_profiled.npy")
    assert np.all(q[1] <= q[0] + 1e-9)
    from lfi.report import map_labels

    labels = map_labels(maps)
    assert labels["truth_profiled"] == "exact likelihood, ν profiled"
    assert labels["histogram_pt_j1_profiled"] == "1-D histogram (pt_j1), ν profiled"
    assert (out / "contours.png").is_file()


def test_limits_refuse_an_unknown_nuisance_or_process_in_one_line(wbf, tmp_path, capsys):
    from lfi.cli import main

    path = wbf.save(tmp_path / "wbf.h5")
    for option, value, expected in (("--nuisance", "jes", "no nuisance 'jes' in the sample; it has mu_f, pdf"),
                                    ("--normalisation", "ttbar=0.1", "no process 'ttbar' in the sample")):
        assert main(["limits", "--data", str(path), "--truth", option, value, "--lumi", "300/fb",
                     "--out", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and expected in err
    assert not (tmp_path / "out").exists()


def test_a_profiled_sally_map_reuses_the_score_of_its_fixed_map(wbf, tmp_path, monkeypatch):
    """One forward pass over the test sample serves SALLY's map and its profiled map."""
    import json

    from estimators.estimator import Estimator
    from lfi.cli import main

    path = wbf.save(tmp_path / "wbf.h5")
    model = tmp_path / "sally"
    assert main(["train", "--data", str(path), "--estimator", "mlp", "--method", "sally", "--epochs", "1",
                 "--out", str(model)]) == 0
    calls = []
    original = Estimator.score

    def counted(self, sample, **kwargs):
        calls.append(len(sample))
        return original(self, sample, **kwargs)

    monkeypatch.setattr(Estimator, "score", counted)
    out = tmp_path / "limits"
    assert main(["limits", "--data", str(path), "--model", str(model), "--nuisance", "mu_f", "--lumi", "300/fb",
                 "--grid", "-20:20:9,-20:20:9", "--out", str(out)]) == 0
    assert calls == [len(wbf)]
    maps = json.loads((out / "limits.json").read_text())["maps"]
    assert maps["sally_sally_profiled"]["areas"]["95.45"] >= maps["sally_sally"]["areas"]["95.45"]


def test_detector_level_stores_the_shower_variations_and_they_keep_the_total_rate():
    """ISR/FSR μ_R weights from Pythia's uncertainty bands: stored as the nuisances isr and fsr, and unitary (the
    shower does not change the total cross section, so every factor averages to 1 over all generated events)."""
    from simulators.pythia.variations import SHOWER_VARIATIONS, shower_settings
    from simulators.wbf.generate import generate_chunk, pythia_settings

    chunk = generate_chunk({"n": 400, "seed": 11, "level": "detector", "settings": pythia_settings(
        "detector", extra=tuple(shower_settings())), "shower_variations": True})
    factors = chunk["shower_factors"]
    assert factors.shape == (400, 2 * len(SHOWER_VARIATIONS)) and np.all(factors > 0)
    mean, error = factors.mean(axis=0), factors.std(axis=0) / np.sqrt(len(factors))
    assert np.all(np.abs(mean - 1.0) < 4 * error), (mean, error)
    assert np.all(factors.std(axis=0) > 0.01)  # a real per-event effect

    sample = simulators.get("wbf").simulate(150, seed=5, level="detector", nuisances=True)
    assert sample.nuisance_names == ["mu_f", "pdf", "isr", "fsr"]
    model = sample.nuisance_model()
    sm = sample.weights[:, 0]
    for k, name in enumerate(("isr", "fsr"), start=2):
        for sign, side in ((1.0, "up"), (-1.0, "down")):
            nu = np.zeros(4)
            nu[k] = sign
            np.testing.assert_allclose(sm * np.exp(model.log_factors(nu)[:, 0]),
                                       sample.weights[:, sample.benchmark_index(f"{name}_{side}")], rtol=1e-10)
