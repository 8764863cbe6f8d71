"""The SM processes of the embedded generator (ggf, zz, tth, ttbar): selection, object types, weights and
cross sections against Pythia's own numbers (docs/generator.md §6), and the isolation and pairing helpers
against brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest

import simulators
from lfi.errors import OptionError
from lfi.objects import BJET, JET, PAD, PHOTON, delta_r, eta, pt
from simulators.pythia.detector import pairs_within_events

LEPTONS = (3, 4, 5, 6)


@pytest.fixture(scope="module")
def samples():
    sizes = {"ggf": 300, "zz": 400, "tth": 300, "ttbar": 500}
    return {name: simulators.get(name).simulate(n, seed=5, progress=False) for name, n in sizes.items()}


@pytest.mark.parametrize("name", ["ggf", "zz", "tth", "ttbar"])
def test_weights_sum_to_the_selected_cross_section(samples, name):
    sample = samples[name]
    meta = sample.metadata
    steps = meta["cutflow"][name]
    assert len(sample) == steps[-1]["events"] > 0 and steps[0]["events"] > steps[-1]["events"]
    assert np.all(sample.weights > 0) and sample.weights.shape == (len(sample), 1)
    assert sample.weights.sum() == pytest.approx(steps[-1]["sigma_pb"], rel=1e-12)
    assert steps[0]["sigma_pb"] == pytest.approx(meta["sigma_pb"], rel=1e-12)  # all generated weights: Pythia's σ
    assert sample.parameters == [] and sample.benchmark_names == ["sm"] and sample.process_names == [name]


# σ × BR measured with Pythia 8.317 at the same settings, independent of this code (docs/generator.md §6);
# zz there used m_ll > 10 GeV, here 12 GeV, so only an upper bound
@pytest.mark.parametrize("name, sigma_pb", [("ggf", 3.02e-3), ("tth", 0.0594), ("ttbar", 148.7)])
def test_cross_section_agrees_with_pythia_measurements(samples, name, sigma_pb):
    meta = samples[name].metadata
    assert abs(meta["sigma_pb"] - sigma_pb) < 4 * meta["sigma_err_pb"] + 0.03 * sigma_pb


def test_zz_cross_section_below_the_looser_mass_cut(samples):
    meta = samples["zz"].metadata
    assert 0.03 < meta["sigma_pb"] < 6.85e-2 + 3 * meta["sigma_err_pb"]


@pytest.mark.parametrize("name", ["ggf", "zz"])
def test_four_lepton_selection(samples, name):
    sample = samples[name]
    types = sample.types
    assert types.shape[1] == 12
    lepton_counts = np.stack([(types == t).sum(axis=1) for t in LEPTONS], axis=1)
    pairs = lepton_counts[:, [0, 2]] == lepton_counts[:, [1, 3]]  # e- with e+, mu- with mu+
    assert np.all(lepton_counts.sum(axis=1) == 4) and np.all(pairs)
    jets = (types == JET) | (types == BJET)
    assert np.all(jets.sum(axis=1) >= 2)
    assert np.all(pt(sample.momenta)[jets] > 25.0) and np.all(np.abs(eta(sample.momenta)[jets]) < 4.5)
    # the same observables and globals as detector-level wbf, so that the files combine
    assert set(sample.observables) == {"pt_j1", "pt_j2", "m_jj", "delta_eta_jj", "delta_phi_jj", "m_4l", "pt_4l",
                                       "m_z1", "m_z2"}
    assert sample.global_names == ["met", "met_phi"]


@pytest.mark.parametrize("name", ["tth", "ttbar"])
def test_single_lepton_selection(samples, name):
    sample = samples[name]
    p, types = sample.momenta, sample.types
    assert types.shape[1] == 18 and set(np.unique(types)) <= {PAD, JET, BJET, PHOTON, *LEPTONS}
    is_lepton = np.isin(types, LEPTONS)
    assert np.all(is_lepton.sum(axis=1) == 1)
    assert np.all(pt(p)[is_lepton] > 25.0)
    jets = (types == JET) | (types == BJET)
    assert np.all(jets.sum(axis=1) >= 4) and np.all((types == BJET).sum(axis=1) >= 2)
    assert np.all(np.abs(eta(p)[jets]) < 2.5) and np.all(pt(p)[jets] > 25.0)
    ht = np.sum(np.where(jets, pt(p), 0.0), axis=1)
    assert np.all(ht > 250.0) and np.allclose(ht, sample.observables["ht"], rtol=1e-5)
    # objects ordered by p_T, padding last
    object_pt = np.where(types != PAD, pt(p), -1.0)
    assert np.all(np.diff(object_pt, axis=1) <= 1e-3)
    # both charge configurations (W+ -> l nu and W- -> l nu) are generated
    charges = np.isin(types, (4, 6)).sum(axis=1)
    assert 0 < charges.mean() < 1


def test_tth_has_more_b_jets_than_ttbar(samples):
    n_b = {k: (samples[k].types == BJET).sum(axis=1).mean() for k in ("tth", "ttbar")}
    assert n_b["tth"] > n_b["ttbar"] + 0.3  # H -> b bbar: two more b quarks


def test_same_seed_same_events():
    first = simulators.get("zz").simulate(120, seed=9, progress=False)
    second = simulators.get("zz").simulate(120, seed=9, progress=False)
    assert np.array_equal(first.momenta, second.momenta) and np.array_equal(first.weights, second.weights)


def test_too_few_events_for_the_configurations():
    with pytest.raises(OptionError, match="one per decay configuration"):
        simulators.get("tth").simulate(1)


def test_no_selected_event_is_one_clear_error():
    with pytest.raises(OptionError, match="no zz event passed the selection"):
        simulators.get("zz").simulate(2, seed=1)


def test_pairs_within_events_matches_a_loop():
    rng = np.random.default_rng(0)
    count = rng.integers(0, 4, size=6)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    owner = rng.integers(0, 6, size=9)
    item, member = pairs_within_events(owner, start, count)
    expected = [(i, m) for i, e in enumerate(owner) for m in range(start[e], start[e] + count[e])]
    assert list(zip(item.tolist(), member.tolist())) == expected


def test_isolation_matches_a_loop():
    from simulators.pythia.isolated import ISOLATION, _isolated

    rng = np.random.default_rng(1)
    n_events, per_event = 4, 30
    p3 = rng.normal(size=(n_events * per_event, 3)) * 20
    p = np.concatenate([np.linalg.norm(p3, axis=1, keepdims=True), p3], axis=1)
    flat = {"p": p, "event": np.repeat(np.arange(n_events), per_event), "n": n_events}
    visible = rng.uniform(size=len(p)) < 0.8
    candidates = np.flatnonzero(rng.uniform(size=len(p)) < 0.2)
    got = _isolated(flat, candidates, visible)
    for c, isolated in zip(candidates, got):
        others = [j for j in np.flatnonzero(visible) if j != c and flat["event"][j] == flat["event"][c]]
        cone = sum(pt(p[j]) for j in others if delta_r(p[c], p[j]) < ISOLATION["radius"])
        assert isolated == (cone < ISOLATION["max_fraction"] * pt(p[c]))
