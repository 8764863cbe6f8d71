"""Tests of lfi.metrics against independent numbers.

Reference values and where they come from:
- AUC = Mann–Whitney U / (n_S n_B): scipy.stats.mannwhitneyu (ties counted ½), rtol 1e-12.
- Gaussian scores, signal N(μ, 1) vs background N(0, 1): AUC = Φ(μ/√2), ε_B(ε_S) = 1 − Φ(Φ⁻¹(1 − ε_S) + μ)
  (scipy.stats.norm), stratified samples, atol 2e-3.
- Seed 000 (arXiv:2211.05143) significance table at L = 100 fb⁻¹, δ = 0.2: with s = 1000·ε_S signal events
  and b from the s/√b column, the s/√(b + (δb)²) column is reproduced to the table's rounding (rtol 1 %).
- Asimov significance, Cowan et al. arXiv:1007.1727 Eq. (97): s = 5, b = 1 → √(2(6 ln 6 − 5)) = 3.3913 (by hand).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu, norm

from lfi import metrics
from lfi.metrics import (
    asimov_significance,
    auc,
    background_efficiency,
    classification_summary,
    equivalent_luminosity_factor,
    luminosity_for_significance,
    rejection,
    roc_curve,
    significance,
)


def test_auc_identical_and_separated():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    # The same events in both classes: exactly 0.5 through the tie handling.
    assert auc(np.r_[x, x], np.r_[np.ones(1000), np.zeros(1000)]) == pytest.approx(0.5, abs=1e-12)
    assert auc(np.zeros(10), np.r_[np.ones(5), np.zeros(5)]) == 0.5
    assert auc(np.r_[x + 100, x], np.r_[np.ones(1000), np.zeros(1000)]) == 1.0
    assert auc(np.r_[x - 100, x], np.r_[np.ones(1000), np.zeros(1000)]) == 0.0


def test_auc_matches_mann_whitney_with_ties():
    rng = np.random.default_rng(1)
    sig, bkg = rng.integers(0, 20, 700).astype(float), rng.integers(-5, 15, 500).astype(float)
    u = mannwhitneyu(sig, bkg).statistic
    got = auc(np.r_[sig, bkg], np.r_[np.ones(700), np.zeros(500)])
    assert got == pytest.approx(u / (700 * 500), rel=1e-12)


def test_gaussian_scores_match_analytic():
    n, mu = 200_000, 1.0
    u = (np.arange(n) + 0.5) / n
    scores = np.r_[norm.ppf(u) + mu, norm.ppf(u)]
    labels = np.r_[np.ones(n), np.zeros(n)]
    assert auc(scores, labels) == pytest.approx(norm.cdf(mu / np.sqrt(2)), abs=2e-4)
    eps_b, eps_s, thresholds = roc_curve(scores, labels)
    targets = np.array([0.3, 0.5, 0.7])
    expected = 1 - norm.cdf(norm.ppf(1 - targets) + mu)
    np.testing.assert_allclose(background_efficiency(eps_b, eps_s, targets), expected, atol=2e-5)
    np.testing.assert_allclose(rejection(expected), 1 / expected)
    assert thresholds[0] == np.inf and np.all(np.diff(thresholds) < 0)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60))
def test_weighted_roc_equals_duplicated_events(seed, n):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 8, n).astype(float)  # many ties
    labels = np.r_[1, 0, rng.integers(0, 2, n - 2)]
    counts = rng.integers(1, 4, n)
    weighted = roc_curve(scores, labels, counts)
    duplicated = roc_curve(np.repeat(scores, counts), np.repeat(labels, counts))
    for a, b in zip(weighted, duplicated):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert auc(scores, labels, counts) == pytest.approx(auc(np.repeat(scores, counts), np.repeat(labels, counts)), rel=1e-12)


def test_negative_weights_are_explicit():
    rng = np.random.default_rng(2)
    scores, labels = rng.normal(size=400), np.r_[np.ones(200), np.zeros(200)]
    weights = rng.uniform(0.5, 1.5, 400)
    # A negative-weight copy of an event cancels it: "keep" equals dropping both.
    extra = np.r_[3, 250]
    with_cancel = auc(np.r_[scores, scores[extra]], np.r_[labels, labels[extra]], np.r_[weights, -weights[extra]])
    keep = np.ones(400, dtype=bool)
    keep[extra] = False
    assert with_cancel == pytest.approx(auc(scores[keep], labels[keep], weights[keep]), rel=1e-12)
    signed = np.where(np.arange(400) % 7 == 0, -weights, weights)
    clipped = auc(scores, labels, signed, negative_weights="clip")
    positive = signed > 0
    assert clipped == pytest.approx(auc(scores[positive], labels[positive], signed[positive]), rel=1e-12)
    with pytest.raises(ValueError, match="negative weights"):
        auc(scores, labels, signed, negative_weights="error")
    with pytest.raises(ValueError, match="negative_weights must be"):
        auc(scores, labels, signed, negative_weights="drop")
    with pytest.raises(ValueError, match="background class"):
        auc(scores, labels, np.where(labels == 1, 1.0, -1.0))


def test_bad_inputs():
    with pytest.raises(ValueError, match="labels must be 0/1"):
        roc_curve([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="signal class"):
        roc_curve([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="non-finite"):
        roc_curve([np.nan, 0.2], [0, 1])
    with pytest.raises(ValueError, match="signal_efficiency"):
        background_efficiency([0, 1], [0, 1], 0.0)


def test_significance_hand_numbers():
    assert significance(10.0, 100.0) == 1.0
    assert significance(10.0, 100.0, rel_syst=0.1) == pytest.approx(10 / np.sqrt(200))
    assert significance(1.0, 0.0) == np.inf
    np.testing.assert_allclose(significance([3.0, 4.0], [9.0, 16.0]), [1.0, 1.0])
    with pytest.raises(ValueError, match="b ≥ 0"):
        significance(1.0, -1.0)


@pytest.mark.parametrize(
    "model, eps_s, z, z_sys",
    [
        ("BDT", 0.3, 20.77, 6.79), ("BDT", 0.7, 16.82, 2.01),
        ("PN", 0.3, 23.09, 8.29), ("PN", 0.7, 17.68, 2.21),
        ("ParT int. SM", 0.3, 25.36, 9.88), ("ParT int. SM", 0.7, 20.53, 2.98),
        ("ParT int. SM (FL)", 0.3, 26.19, 10.48), ("SetT int. SM", 0.7, 20.18, 2.88),
    ],
)
def test_significance_reproduces_seed_table(model, eps_s, z, z_sys):
    s = 1000.0 * eps_s  # the table's signal yield at L = 100 fb⁻¹ (inferred: s = 300 at ε_S = 0.3 for every row)
    b = (s / z) ** 2
    assert significance(s, b) == pytest.approx(z)
    assert significance(s, b, rel_syst=0.2) == pytest.approx(z_sys, rel=0.01)


def test_luminosity_equivalents():
    # Seed 000: "PN requires 82 % (42 %, 60 %) more luminosity".
    assert equivalent_luminosity_factor(2.98, 2.21) == pytest.approx(1.82, abs=0.005)
    assert equivalent_luminosity_factor(9.88, 8.29) == pytest.approx(1.42, abs=0.005)
    assert equivalent_luminosity_factor(10.48, 8.29) == pytest.approx(1.60, abs=0.005)
    lumi = luminosity_for_significance(0.01, 1.0, 5.0)
    assert lumi == pytest.approx(2.5e5)
    assert significance(lumi * 0.01, lumi * 1.0) == pytest.approx(5.0)
    lumi_sys = luminosity_for_significance(0.01, 1.0, 2.0, rel_syst=0.002)
    assert significance(lumi_sys * 0.01, lumi_sys * 1.0, rel_syst=0.002) == pytest.approx(2.0)
    assert luminosity_for_significance(0.01, 1.0, 5.0, rel_syst=0.0021) == np.inf  # saturates at s/(δ b) < 5


def test_asimov_significance():
    assert asimov_significance(5.0, 1.0) == pytest.approx(np.sqrt(2 * (6 * np.log(6) - 5)), rel=1e-12)
    assert asimov_significance(5.0, 1.0) == pytest.approx(3.3913, abs=1e-4)
    assert asimov_significance(1.0, 1e6) == pytest.approx(1e-3, rel=1e-5)  # → s/√b for s ≪ b
    assert asimov_significance(5.0, 1.0, rel_syst=1e-7) == pytest.approx(asimov_significance(5.0, 1.0), rel=1e-6)
    assert asimov_significance(10.0, 1e4, rel_syst=0.01) == pytest.approx(10 / np.sqrt(1e4 + 100**2), rel=1e-3)


def test_classification_summary_json():
    n = 20_000
    u = (np.arange(n) + 0.5) / n
    scores = np.r_[norm.ppf(u) + 1.0, norm.ppf(u)]
    labels = np.r_[np.ones(n), np.zeros(n)]
    weights = np.r_[np.full(n, 0.01 / n), np.full(n, 1.0 / n)]  # σ_S = 0.01 pb, σ_B = 1 pb
    s = classification_summary(scores, labels, weights, lumi=1e5, rel_syst=0.2)
    json.dumps(s, allow_nan=False)
    assert [row["eps_s"] for row in s["working_points"]] == [0.3, 0.5, 0.7]
    row = s["working_points"][1]
    assert row["s"] == pytest.approx(500.0)
    assert row["b"] == pytest.approx(1e5 * (1 - norm.cdf(1.0)), rel=1e-3)
    assert row["significance"] == pytest.approx(500 / np.sqrt(row["b"]))
    assert row["significance_syst"] == pytest.approx(500 / np.sqrt(row["b"] + (0.2 * row["b"]) ** 2))
    separated = classification_summary(np.r_[np.ones(5), np.zeros(5)], np.r_[np.ones(5), np.zeros(5)])
    assert separated["auc"] == 1.0 and separated["working_points"][0]["rejection"] is None


def test_public_api_is_pinned():
    assert sorted(metrics.__all__) == sorted(
        ["DEFAULT_SIGNAL_EFFICIENCIES", "roc_curve", "auc", "background_efficiency", "rejection", "significance",
         "asimov_significance", "luminosity_for_significance", "equivalent_luminosity_factor", "classification_summary"]
    )
    assert "torch" not in metrics.__dict__
