"""Detector-level WBF events: showered Pythia, fastjet jets, smearing, selection, silenced output."""

from __future__ import annotations

import numpy as np
import pytest

import simulators

N_EVENTS = 500


@pytest.fixture(scope="module")
def detector_run():
    return simulators.get("wbf").simulate(N_EVENTS, seed=21, level="detector")


def test_detector_sample_contract_and_selection(detector_run):
    s = detector_run
    meta = s.metadata
    steps = meta["cutflow"]["wbf"]
    assert steps[0]["events"] == N_EVENTS and steps[-1]["events"] == len(s) and 0.25 < len(s) / N_EVENTS < 0.7
    assert s.weights.shape == (len(s), 16)
    # the selection keeps the cross section of the selected events only
    assert s.cross_sections[0] < meta["pythia_sigma_gen_pb"]
    n_jets = np.isin(s.types, (1, 2)).sum(axis=1)
    n_leptons = np.isin(s.types, (3, 4, 5, 6)).sum(axis=1)
    assert n_jets.min() >= 2 and np.all(n_leptons == 4)
    assert np.all((s.types[:, ::1] == 0) | (np.hypot(s.momenta[..., 1], s.momenta[..., 2]) > 0))
    pts = np.hypot(s.momenta[..., 1], s.momenta[..., 2])
    assert np.all(np.diff(pts, axis=1) <= 1e-3)
    jet_pt = np.where(np.isin(s.types, (1, 2)), pts, np.inf)
    assert jet_pt.min() > 25.0
    assert s.global_names == ["met", "met_phi"] and np.all(np.isfinite(s.globals_))
    # smeared four-lepton mass: a resolution of a few GeV around m_H
    m4l = s.observables["m_4l"]
    assert abs(np.median(m4l) - 125) < 1.5 and np.mean(np.abs(m4l - 125) < 10) > 0.9
    assert np.all(s.observables["pt_j1"] >= s.observables["pt_j2"])
    assert "density_coefficients" not in s.truth_events and "weight_coefficients" in s.truth_events


def test_generation_prints_nothing(capfd):
    simulators.get("wbf").simulate(50, seed=2, level="detector")
    out, _ = capfd.readouterr()
    assert out == ""
