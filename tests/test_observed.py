"""Observed limits (lfi limits --observed), pseudo-data (lfi pseudodata) and luminosity as typed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lfi import limits
from lfi.errors import EventFileError, OptionError
from lfi.evaluate import estimator_map, histogram_map, truth_map
from lfi.evaluate_observed import observed_estimator_map, observed_histogram_map, observed_truth_map
from lfi.events import draw_pseudodata
from lfi.limits.observed import extended_observed_t, q_from_t, sally_observed_q
from lfi.luminosity import parse_luminosity
from lfi.report import map_label
from lfi.workflows.limits import lumi_warnings

AXES = limits.grid_axes("-1:1:21,-1:1:21")
POINTS = limits.grid_points(AXES)


@pytest.mark.parametrize("text, pb", [("300/fb", 3e5), ("139fb-1", 1.39e5), ("3/ab", 3e6), ("20/pb", 20.0),
                                      ("300 fb^-1", 3e5), ("300 fb⁻¹", 3e5), ("1/fb", 1e3), ("0.5 /fb", 500.0),
                                      ("2e3", 2e3), (36, 36.0), ("10 1/nb", 1e-2)])
def test_luminosity_as_typed(text, pb):
    assert parse_luminosity(text).pb == pytest.approx(pb, rel=1e-12)


@pytest.mark.parametrize("text", ["300 fb", "-3/fb", "0", "fb", "3/gb", "1e999", "nan"])
def test_luminosity_that_is_none_is_one_line_naming_the_option(text):
    with pytest.raises(OptionError, match="^--lumi: ") as err:
        parse_luminosity(text)
    assert "\n" not in str(err.value)


def test_a_bare_number_says_how_it_was_read():
    assert parse_luminosity("300/fb").note() is None
    note = parse_luminosity("300").note()
    assert "pb⁻¹" in note and "300/fb" in note
    assert "fb⁻¹" in parse_luminosity("100", bare_unit="fb").note()


def test_too_few_events_warns_and_suggests_fb_for_a_bare_number():
    summary = {"expected_events": 0.04, "lumi_pb": 300.0, "maps": {"truth": {"open": {"95.45": False}}}}
    (line,) = lumi_warnings(summary, bare_number=True)
    assert "0.04 expected events" in line and "300/fb" in line
    (line,) = lumi_warnings(summary, bare_number=False)
    assert "raise the luminosity" in line
    summary = {"expected_events": 50.0, "lumi_pb": 3e5, "maps": {"truth": {"open": {"95.45": True}}}}
    (line,) = lumi_warnings(summary)
    assert "truth" in line and "widen --grid" in line


def test_extended_likelihood_on_asimov_counts_is_the_asimov_formula():
    """Σ c_i log p_i with c_i = L·w_i(θ*) turns the observed extended likelihood into docs/statistics.md §2."""
    rng = np.random.default_rng(1)
    n_events, lumi = 500, 40.0
    log_p = rng.normal(size=(len(POINTS), n_events))
    log_p[len(POINTS) // 2] = 0.3  # θ* in the middle of the grid
    sigma = rng.uniform(0.5, 2.0, len(POINTS))
    w_true = rng.uniform(0, 1, n_events) * 2 / n_events
    sigma[len(POINTS) // 2] = w_true.sum()  # the Asimov data hold L·σ(θ*) events
    counts = lumi * w_true
    observed = extended_observed_t(log_p @ counts, sigma, lumi, counts.sum())
    expected = limits.extended_asimov_q(limits.expected_log_r(log_p, w_true), sigma, lumi,
                                        sigma_true=w_true.sum(), mean_log_r_true=0.3)
    np.testing.assert_allclose(observed - observed[len(POINTS) // 2], expected, rtol=1e-10, atol=1e-9)


def test_sally_observed_with_zero_observed_score_is_the_expected_map():
    fisher = np.array([[3.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(sally_observed_q(POINTS, fisher, [0.1, 0.0], [0.0, 0.0]),
                               limits.sally_q(POINTS, fisher, [0.1, 0.0]))
    best = POINTS[np.argmin(sally_observed_q(POINTS, fisher, [0.0, 0.0], fisher @ [0.3, -0.2]))]
    np.testing.assert_allclose(best, [0.3, -0.2], atol=1e-12)  # θ̂ = θ_ref + I⁻¹u


def test_q_from_t_refuses_an_all_infinite_map():
    with pytest.raises(ValueError, match="zero at every grid point"):
        q_from_t(np.full(3, np.inf))


def test_observed_maps_on_the_asimov_data_set_equal_the_expected_maps(toy_sample, tmp_path):
    """Counts L·w_i(θ*) on the simulated events themselves: truth, histogram, a ratio, a SALLINO and a SALLY estimator
    (its observed score is centred on the simulated mean, so the Asimov fit sits at θ_ref). The
    maps of a subsample take σ(θ) from the sum of its weights, the exact map from the exact σ: its Asimov data set
    holds L·σ_exact(θ*) events."""
    from lfi.train import TrainConfig
    from lfi.truth import exact_cross_section
    from lfi.workflows import train_estimator

    sample = toy_sample[:6000]
    theta_true, lumi = np.zeros(2), 30.0
    counts = lumi * sample.weights_at(theta_true)
    exact_counts = counts * float(exact_cross_section(sample, theta_true[None])[0]) / counts.sum() * lumi
    pairs = [(truth_map(sample, POINTS, theta_true, lumi),
              observed_truth_map(sample, sample, POINTS, lumi, counts=exact_counts)),
             (histogram_map(sample, ["pt_j1", "delta_phi_jj"], POINTS, theta_true, lumi),
              observed_histogram_map(sample, sample, ["pt_j1", "delta_phi_jj"], POINTS, theta_true, lumi, counts=counts))]
    toy_file = sample.save(tmp_path / "train.h5")
    for method in ("alices", "sallino", "sally"):
        model = train_estimator(toy_file, "mlp", method, tmp_path / method, progress=False,
                                config=TrainConfig(epochs=1, batch_size=256), options={"events_per_epoch": 1024})
        pairs.append((estimator_map(model, sample, POINTS, theta_true, lumi),
                      observed_estimator_map(model, sample, sample, POINTS, theta_true, lumi, counts=counts)))
    for expected, observed in pairs:
        np.testing.assert_allclose(observed, expected - expected.min(), rtol=1e-7, atol=1e-7)


def test_observed_exact_limits_cover_the_true_point_at_the_nominal_rate():
    """300 pseudo-experiments of ~105 toy events at θ* = (0.2, −0.1): the fraction with q_obs(θ*) below the Wilks
    threshold is the CL within three binomial standard deviations, at 68.27 % and 95.45 %."""
    import simulators.toy as toy

    sample, source = toy.simulate(20_000, seed=21), toy.simulate(40_000, seed=22)
    axes = limits.grid_axes("-1:1:41,-1:1:41")
    points = limits.grid_points(axes)
    theta_star, lumi, n_toys = np.array([0.2, -0.1]), 100.0, 300
    at_star = int(np.argmin(np.abs(points - theta_star).sum(axis=1)))
    assert np.allclose(points[at_star], theta_star)
    q_star = np.array([observed_truth_map(sample, draw_pseudodata(source, theta_star, lumi, seed=k), points, lumi)[at_star]
                       for k in range(n_toys)])
    for cl in (0.6827, 0.9545):
        covered = np.mean(q_star <= limits.q_threshold(cl, 2))
        assert abs(covered - cl) < 3 * np.sqrt(cl * (1 - cl) / n_toys), (cl, covered)


def test_pseudodata_is_poisson_around_l_sigma_at_theta(toy_sample):
    theta, lumi = np.array([0.5, -0.5]), 40.0
    expected = lumi * toy_sample.weights_at(theta).sum()
    draws = [draw_pseudodata(toy_sample, theta, lumi, seed=k) for k in range(200)]
    sizes = np.array([len(d) for d in draws])
    assert abs(sizes.mean() - expected) < 4 * np.sqrt(expected / len(sizes))
    assert sizes.var(ddof=1) == pytest.approx(expected, rel=0.35)  # Poisson: variance = mean
    first = draws[0]
    assert np.all(first.weights == 1.0 / lumi)
    assert first.metadata["pseudodata"]["theta"] == theta.tolist() and first.metadata["pseudodata"]["events"] == len(first)
    # events are drawn ∝ w(θ): the mean of an observable matches the weighted mean of the source
    x = np.concatenate([d.observables["pt_j1"] for d in draws])
    w = toy_sample.weights_at(theta)
    mean = np.average(toy_sample.observables["pt_j1"], weights=w)
    spread = np.sqrt(np.average((toy_sample.observables["pt_j1"] - mean) ** 2, weights=w))
    assert abs(x.mean() - mean) < 4 * spread / np.sqrt(len(x))


def test_pseudodata_refusals(toy_sample, small_sample):
    with pytest.raises(EventFileError, match="no /morphing"):
        draw_pseudodata(small_sample, [0.0, 0.0], 10.0, source="hand.h5")
    negative = toy_sample[:100]
    negative.weights = negative.weights.copy()
    negative.weights[:3] *= -1
    with pytest.raises(EventFileError, match="3 events have negative weights"):
        draw_pseudodata(negative, [0.0, 0.0], 10.0)
    with pytest.raises(OptionError, match="needs 2 values"):
        draw_pseudodata(toy_sample, [0.0], 10.0)


def test_observed_maps_are_labelled():
    entry = {"observed": "data.h5"}
    assert map_label("truth_observed", entry) == "exact likelihood, observed"
    assert map_label("sally_m", {"model": {"method": "sally", "estimator": "mlp"}}) == "SALLY local (MLP)"


def test_lfi_pseudodata_then_limits_observed(tmp_path):
    import simulators.toy as toy

    toy.simulate(8000, seed=31).save(tmp_path / "mc.h5")
    toy.simulate(8000, seed=32).save(tmp_path / "source.h5")

    def lfi(*args):
        return subprocess.run([sys.executable, "-m", "lfi.cli", *args], capture_output=True, text=True, cwd=tmp_path)

    made = lfi("pseudodata", "--data", "source.h5", "--theta", "0.3,-0.2", "--lumi", "0.05/fb", "--seed", "3",
               "--out", "data.h5")
    assert made.returncode == 0, made.stderr
    assert "L = 0.05 fb⁻¹" in made.stdout
    run = lfi("limits", "--data", "mc.h5", "--truth", "--histogram", "pt_j1", "--lumi", "50/pb", "--observed",
              "data.h5", "--grid", "-1:1:21,-1:1:21", "--out", "out")
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "out" / "limits.json").read_text())
    assert {"truth", "truth_observed", "histogram_pt_j1", "histogram_pt_j1_observed"} <= set(summary["maps"])
    n_data = summary["observed"]["events"]
    assert n_data > 0 and f"{n_data} observed" in run.stdout
    assert "expected events at θ* = 0, 0" in run.stdout
    assert summary["expected_events"] == pytest.approx(50 * float(toy.simulate(8000, seed=31).cross_sections[0]))
    assert (tmp_path / "out" / "contours.png").exists()
    bad = lfi("limits", "--data", "mc.h5", "--truth", "--lumi", "50 fb", "--out", "out2")
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0 and "--lumi" in bad.stderr
    assert not (tmp_path / "out2").exists()


def test_sally_maps_say_they_are_local_and_warn_far_from_the_reference(toy_sample, tmp_path, caplog):
    """A SALLY estimator evaluated with an expected map whose 95 % region reaches far beyond the rate-only region:
    limits.json says it is local, with the fraction that the rate alone excludes; a warning says what to trust."""
    from lfi.train import TrainConfig
    from lfi.workflows import train_estimator
    from lfi.workflows.limits import expected_limits

    train = toy_sample[:8000].save(tmp_path / "train.h5")
    test = toy_sample[8000:].save(tmp_path / "test.h5")
    train_estimator(train, "mlp", "sally", tmp_path / "sally", progress=False, config=TrainConfig(epochs=1),
                    options={"events_per_epoch": 512})
    narrow = expected_limits(test, models=[tmp_path / "sally"], lumi=20.0, grid="-1:1:21,-1:1:21")
    entry = narrow.summary["maps"]["sally_sally"]["approximation"]
    assert entry["kind"].startswith("local") and entry["reference"] == [0.0, 0.0]
    fraction = entry["fraction_of_95_region_excluded_by_rate_alone"]
    assert 0.0 <= fraction <= 1.0
    with caplog.at_level("WARNING", logger="lfi.limits"):
        wide = expected_limits(test, models=[tmp_path / "sally"], lumi=0.5, grid="-8:8:41,-8:8:41")
    fraction = wide.summary["maps"]["sally_sally"]["approximation"]["fraction_of_95_region_excluded_by_rate_alone"]
    assert fraction > 0.05  # at 0.5 pb⁻¹ SALLY's ellipse is wide, while the quartic rate excludes far points
    assert any("local approximation" in r.message for r in caplog.records)
