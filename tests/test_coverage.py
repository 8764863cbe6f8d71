"""lfi coverage: toys under the true hypothesis cover at the nominal rate (toy model, exact likelihood), and the
report is complete and consistent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfi.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coverage")
    for name, events, seed in (("sample", 20_000, 21), ("source", 40_000, 22)):
        assert main(["simulate", "toy", "--events", str(events), "--seed", str(seed),
                     "--out", str(folder / f"{name}.h5")]) == 0
    return folder


def test_toys_cover_at_the_nominal_rate_and_the_report_is_consistent(files, capsys):
    out = files / "coverage"
    toys = 240
    assert main(["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                 "--histogram", "pt_j1", "--lumi", "100/pb", "--at", "0.2,-0.1", "--toys", str(toys), "--grid",
                 "-1:1:21,-1:1:21", "--out", str(out)]) == 0
    assert "covered 68.27 %" in capsys.readouterr().out
    result = json.loads((out / "coverage.json").read_text())
    (point,) = result["points"]
    assert point["theta"] == [0.2, -0.1]
    assert abs(point["mean_events"] - point["expected_events"]) < 4 * np.sqrt(point["expected_events"] / toys)
    truth = point["maps"]["truth"]
    for level, cl in (("68.27", 0.6827), ("95.45", 0.9545)):
        q = np.asarray(truth["q"])
        assert len(q) == toys and np.all(q >= 0)
        assert truth["covered"][level] == pytest.approx(np.mean(q <= result["wilks_thresholds"][level]))
        assert abs(truth["covered"][level] - cl) < 3 * np.sqrt(cl * (1 - cl) / toys)
        assert truth["neyman_critical_value"][level] == pytest.approx(np.quantile(q, cl))
    assert set(point["maps"]) == {"truth", "histogram_pt_j1"}
    assert result["labels"]["histogram_pt_j1"] == "1-D histogram (pt_j1)"
    assert (out / "coverage.png").stat().st_size > 0


def test_bad_requests_are_one_line(files, capsys):
    for extra, expected in ((["--toys", "0"], "--toys must be positive"), (["--at", "0.1"], "--at needs 2 values")):
        arguments = ["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                     "--lumi", "100/pb", "--out", str(files / "bad")]
        arguments += extra if "--at" in extra else ["--at", "0,0", *extra]
        assert main(arguments) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and expected in err
    assert not (files / "bad").exists()


def test_observed_profiled_maps_against_independent_computations(toy_file_of):
    """The observed profiled histogram map on the Asimov counts L·w(θ*) equals the expected profiled map (another
    code path, itself checked against Nelder–Mead); the observed profiled truth map with a normalisation nuisance
    equals a direct 1-D minimisation over ν of t(θ, ν) = t(θ) + 2L·σ(θ)((1 + δ)^ν − 1) − 2n·ν·log(1 + δ) + (ν − a)²."""
    from scipy.optimize import minimize_scalar

    from lfi import limits
    from lfi.evaluate_observed import observed_truth_t
    from lfi.evaluate_profiled import (nuisance_model_for, observed_profiled_histogram_map,
                                       observed_profiled_unbinned_map, profiled_histogram_map)
    from lfi.events import EventSample, draw_pseudodata
    from lfi.limits.observed import q_from_t

    sample = EventSample.load(toy_file_of(4000, 5))
    lumi, theta, delta, centre = 50.0, np.array([0.3, -0.2]), 0.2, 0.7
    points = limits.grid_points(limits.grid_axes("-1:1:9,-1:1:9"))
    model = nuisance_model_for(sample, normalisations={"toy": delta})
    asimov = lumi * sample.weights_at(theta)
    expected_h = profiled_histogram_map(sample, ["pt_j1"], points, theta, lumi, model)
    observed_h = observed_profiled_histogram_map(sample, sample, ["pt_j1"], points, theta, lumi, model, counts=asimov)
    np.testing.assert_allclose(observed_h, expected_h - expected_h.min(), atol=1e-6)

    data = draw_pseudodata(EventSample.load(toy_file_of(20_000, 6)), theta, lumi, seed=3)
    data_model = nuisance_model_for(data, normalisations={"toy": delta})
    t_fixed = observed_truth_t(sample, data, points, lumi)
    got = observed_profiled_unbinned_map(t_fixed, sample, points, lumi, model, data_model, centre=[centre])
    sigma = np.array([sample.weights_at(p).sum() for p in points])

    def profiled(t, s):
        return minimize_scalar(lambda nu: t + 2 * lumi * s * ((1 + delta) ** nu - 1) - 2 * len(data) * nu * np.log1p(delta)
                               + (nu - centre) ** 2, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}).fun

    direct = np.array([profiled(t, s) for t, s in zip(t_fixed, sigma)])
    np.testing.assert_allclose(got, direct - direct.min(), atol=1e-6)
    assert np.max(np.abs(got - q_from_t(t_fixed))) > 0.05  # the nuisance matters here


def test_profiled_toys_cover_at_the_nominal_rate(files, capsys):
    out = files / "coverage_profiled"
    toys = 200  # on the 21² grid of the fixed-ν test: a coarser grid overcovers (its minimum misses the best fit)
    assert main(["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                 "--histogram", "pt_j1", "--lumi", "100/pb", "--at", "0.2,-0.1", "--toys", str(toys), "--grid",
                 "-1:1:21,-1:1:21", "--normalisation", "toy=0.3", "--out", str(out)]) == 0
    capsys.readouterr()
    result = json.loads((out / "coverage.json").read_text())
    (point,) = result["points"]
    assert result["nuisances"] == ["norm_toy"]
    assert set(point["maps"]) == {"truth", "histogram_pt_j1", "truth_profiled", "histogram_pt_j1_profiled"}
    assert result["labels"]["truth_profiled"] == "exact likelihood, ν profiled"
    for name in ("truth_profiled", "histogram_pt_j1_profiled"):
        for level, cl in (("68.27", 0.6827), ("95.45", 0.9545)):
            covered = point["maps"][name]["covered"][level]
            assert abs(covered - cl) < 3 * np.sqrt(cl * (1 - cl) / toys), (name, level, covered)
    # a 30 % normalisation freedom loosens the statistic at the true point: smaller q on average than with ν fixed
    assert np.mean(point["maps"]["truth_profiled"]["q"]) != np.mean(point["maps"]["truth"]["q"])
    assert main(["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                 "--lumi", "100/pb", "--at", "0,0", "--nuisance", "mu_f", "--out", str(files / "bad2")]) == 1
    assert "no nuisance 'mu_f'" in capsys.readouterr().err
