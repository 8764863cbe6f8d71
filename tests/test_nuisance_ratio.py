"""The learned nuisance ratio (lfi nuisance-train): it estimates E[w_variation/w_nominal | x], reproduces known
factors, round-trips through its directory, and lets trained ratio estimators be profiled in limits and toys."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from estimators.nuisance_ratio import NuisanceRatio
from lfi.cli import main
from lfi.errors import EventFileError, LfiError, OptionError, UnknownNameError, UnknownOptionError
from lfi.events import EventSample

SPREAD = 0.5  # standard deviation of the hidden (z-dependent) part of the up variation's log factor


def _shape(sample: EventSample) -> np.ndarray:
    """The x-dependent part g(x) of the variation's log factor: a smooth step in the leading jet's p_T (GeV)."""
    return 0.3 * np.tanh((sample.observables["pt_j1"] - 95.0) / 60.0)


def _with_variation(sample: EventSample, hidden: float, seed: int = 1, rate: float = 0.0) -> EventSample:
    """The sample with a nuisance ``x``: up = nominal·exp(g(x) + hidden·ε), ε ~ N(0, 1) per event (a stand-in for
    the shower history z), down = nominal·exp(−g(x)), with g shifted by ``rate`` (a rate part); stored at the SM as
    benchmarks ``x_up``, ``x_down``."""
    g = rate + _shape(sample)
    eps = np.random.default_rng(seed).normal(size=len(sample))
    nominal = sample.weights[:, :1]
    b = sample.n_benchmarks
    return replace(sample, benchmark_names=sample.benchmark_names + ["x_up", "x_down"],
                   benchmark_theta=np.vstack([sample.benchmark_theta, np.zeros((2, sample.n_parameters))]),
                   weights=np.hstack([sample.weights, nominal * np.exp(g + hidden * eps)[:, None],
                                      nominal * np.exp(-g)[:, None]]),
                   nuisance_names=["x"], nuisance_benchmarks=[[b, b + 1]])


@pytest.fixture(scope="module")
def varied(toy_file_of):
    return _with_variation(EventSample.load(toy_file_of(20_000, 3)), SPREAD)


@pytest.fixture(scope="module")
def learned(varied):
    return NuisanceRatio.fit(varied)


def test_the_learned_factor_is_the_conditional_mean_not_the_per_event_factor(varied, learned):
    """E[exp(g + sε) | x] = exp(g(x) + s²/2): the classifier must find the offset s²/2 that no single event has."""
    g = _shape(varied)
    logs = learned.log_factors(varied)
    offset = logs["x_up"] - g
    assert abs(offset.mean() - SPREAD**2 / 2) < 0.04 and offset.mean() > 0.07  # 0.125 expected, 0 per event
    assert np.corrcoef(logs["x_up"], g)[0, 1] > 0.9
    residual = logs["x_down"] + g  # no hidden part: the exact factor, up to the trees' steps
    assert np.sqrt(np.mean(residual**2)) < 0.01 and np.max(np.abs(residual)) < 0.2
    model = learned.nuisance_model(varied)
    np.testing.assert_allclose(model.linear[:, 0], 0.5 * (logs["x_up"] - logs["x_down"]), rtol=1e-12)
    np.testing.assert_allclose(model.quadratic[:, 0], 0.5 * (logs["x_up"] + logs["x_down"]), rtol=1e-12)


def test_save_load_round_trip_and_one_line_errors(varied, learned, tmp_path):
    learned.save(tmp_path / "model")
    loaded = NuisanceRatio.load(tmp_path / "model")
    assert loaded.names == ["x"] and loaded.variations == {"x": ("x_up", "x_down")}
    for name, values in learned.log_factors(varied).items():
        np.testing.assert_array_equal(loaded.log_factors(varied)[name], values)
    with pytest.raises(LfiError, match="no such estimator directory"):
        NuisanceRatio.load(tmp_path / "missing")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "config.json").write_text(json.dumps({"kind": "ratio"}))
    with pytest.raises(LfiError, match="not a nuisance model") as err:
        NuisanceRatio.load(tmp_path / "foreign")
    assert "\n" not in str(err.value)
    with pytest.raises(UnknownNameError, match="has no 'y'; it learned x"):
        learned.nuisance_model(varied, ["y"])
    with pytest.raises(UnknownNameError, match="no nuisance 'y' in the sample; it has x"):
        NuisanceRatio.fit(varied, ["y"])
    with pytest.raises(OptionError, match="validation must lie in \\(0, 1\\), got 1.5"):
        NuisanceRatio.fit(varied, validation=1.5)
    with pytest.raises(UnknownOptionError, match="unknown option 'leaves' for bdt"):
        NuisanceRatio.fit(varied, options={"leaves": "7"})
    with pytest.raises(EventFileError, match="stores no nuisance variations"):
        NuisanceRatio.fit(replace(varied, nuisance_names=[], nuisance_benchmarks=None))


@pytest.fixture(scope="module")
def files(tmp_path_factory, toy_file_of):
    """A varied toy training file without the hidden part (the factor is then a function of x, as at parton level)
    and with a 20 % rate part, a learned nuisance model and an ALICES model trained on it."""
    folder = tmp_path_factory.mktemp("nuisance_ratio")
    _with_variation(EventSample.load(toy_file_of(20_000, 3)), 0.0, rate=0.2).save(folder / "train.h5")
    _with_variation(EventSample.load(toy_file_of(4_000, 5)), 0.0, seed=2, rate=0.2).save(folder / "test.h5")
    assert main(["nuisance-train", "--data", str(folder / "train.h5"), "--out", str(folder / "nuisance")]) == 0
    assert main(["train", "--data", str(folder / "train.h5"), "--estimator", "mlp", "--method", "alices",
                 "--epochs", "1", "--out", str(folder / "alices")]) == 0
    return folder


def test_learned_factors_give_the_profiled_truth_of_the_stored_ones_and_profile_a_ratio_model(files, capsys):
    """Where the stored factor is a function of x, profiling with the learned factors reproduces the profiled truth
    contours of the stored ones; and the trained ALICES model gets a profiled map as well."""
    common = ["limits", "--data", str(files / "test.h5"), "--truth", "--lumi", "50/pb", "--grid", "-1:1:21,-1:1:21"]
    assert main(common + ["--nuisance", "x", "--out", str(files / "stored")]) == 0
    assert main(common + ["--model", str(files / "alices"), "--nuisance-model", str(files / "nuisance"),
                          "--out", str(files / "learned")]) == 0
    stored = json.loads((files / "stored" / "limits.json").read_text())["maps"]
    learned = json.loads((files / "learned" / "limits.json").read_text())["maps"]
    for cl in ("68.27", "95.45"):
        assert learned["truth_profiled"]["areas"][cl] == pytest.approx(stored["truth_profiled"]["areas"][cl], rel=0.01)
        assert stored["truth_profiled"]["areas"][cl] > 1.05 * stored["truth"]["areas"][cl]  # the nuisance matters
    assert learned["truth_profiled"]["profiled"]["nuisances"] == ["x"]
    assert learned["truth_profiled"]["profiled"]["nuisance_model"] == str(files / "nuisance")
    assert "nuisance_model" not in stored["truth_profiled"]["profiled"]
    fixed, profiled = (np.load(files / "learned" / f"q_alices_alices{suffix}.npy") for suffix in ("", "_profiled"))
    assert np.all(profiled <= fixed + 1e-9) and np.max(fixed - profiled) > 0.1


def test_toys_profile_a_trained_ratio_model_only_with_a_learned_nuisance_model(files, capsys):
    common = ["coverage", "--data", str(files / "test.h5"), "--source", str(files / "train.h5"), "--model",
              str(files / "alices"), "--lumi", "50/pb", "--at", "0.2,-0.1", "--toys", "3", "--grid", "-1:1:11,-1:1:11"]
    assert main(common + ["--nuisance", "x", "--out", str(files / "refused")]) == 1
    assert "learn them with lfi nuisance-train" in capsys.readouterr().err
    assert main(common + ["--nuisance-model", str(files / "nuisance"), "--out", str(files / "toys")]) == 0
    maps = json.loads((files / "toys" / "coverage.json").read_text())["points"][0]["maps"]
    assert set(maps) == {"alices_alices", "alices_alices_profiled"}
    q = np.array(maps["alices_alices_profiled"]["q"])
    assert q.shape == (3,) and np.all(np.isfinite(q)) and np.all(q >= 0)
