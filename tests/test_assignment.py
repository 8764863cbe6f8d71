"""Jet–parton assignment: truth matching, the symmetric tensor attention head and its decoding, the χ² fit, the
efficiency table, ``lfi assign-train`` / ``lfi assign`` and the partons read from Pythia."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lfi.assignment import Chi2Assignment, efficiency_table, match_partons, topology
from lfi.assignment.candidates import neutrino
from lfi.objects import BJET, ELECTRON, JET, MUON, PAD, four_momenta, mass, pt

# --------------------------------------------------------------------------------------------- truth matching


def _jets(etas, phis, pts=None):
    etas, phis = np.asarray(etas, float), np.asarray(phis, float)
    pts = np.full(etas.shape, 50.0) if pts is None else np.asarray(pts, float)
    return four_momenta(pts, etas, phis, 0.0)


def test_matching_is_greedy_unique_and_within_the_radius():
    # partons 0 and 1 both near jet 0; parton 0 is closer and takes it, parton 1 falls back to jet 1 (ΔR 0.3)
    partons = _jets([[0.0, 0.1, 2.0, -1.0]], [[0.0, 0.0, 0.0, 1.0]])
    present = np.array([[True, True, True, False]])
    objects = _jets([[0.02, 0.35, 2.5, -1.0, 2.0]], [[0.0, 0.15, 0.0, 1.0, 0.0]])
    types = np.array([[JET, BJET, JET, JET, MUON]])
    got = match_partons(partons, present, objects, types)
    # parton 2: the only object within 0.4 is the muon (not a jet) → none; parton 3 is absent → none
    assert got.tolist() == [[0, 1, -1, -1]]
    assert got.dtype == np.int16


def test_matching_ties_go_to_the_lower_parton_then_the_lower_slot():
    partons = _jets([[0.0, 0.0]], [[0.0, 0.0]])  # two identical partons
    objects = _jets([[0.1, -0.1]], [[0.0, 0.0]])  # two jets at the same distance
    got = match_partons(partons, np.ones((1, 2), bool), objects, np.full((1, 2), JET))
    assert got.tolist() == [[0, 1]]


def test_matching_ignores_padding_and_leaves_unmatched_partons():
    partons = _jets([[0.0, 1.0, 3.0]], [[0.0, 0.0, 0.0]])
    objects = np.zeros((1, 3, 4))
    objects[0, 0] = _jets([0.05], [0.0])[0]
    types = np.array([[JET, PAD, PAD]])
    assert match_partons(partons, np.ones((1, 3), bool), objects, types).tolist() == [[0, -1, -1]]


# --------------------------------------------------------------------------------------------- events with known truth


def _boost(p, parent):
    """Boost four-momenta p (N, 4) from the rest frame of ``parent`` (N, 4) to the lab."""
    beta = parent[:, 1:] / parent[:, :1]
    b2 = np.sum(beta**2, axis=1, keepdims=True)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[:, 1:], axis=1, keepdims=True)
    energy = gamma * (p[:, :1] + bp)
    space = p[:, 1:] + ((gamma - 1.0) * bp / np.maximum(b2, 1e-300) + gamma * p[:, :1]) * beta
    return np.concatenate([energy, space], axis=1)


def _decay(parent, m1, m2, rng):
    """Isotropic two-body decay of ``parent`` (N, 4) into masses m1, m2 (GeV)."""
    m = mass(parent)
    q = np.sqrt(np.maximum((m**2 - (m1 + m2) ** 2) * (m**2 - (m1 - m2) ** 2), 0)) / (2 * m)
    cos, phi = rng.uniform(-1, 1, len(m)), rng.uniform(0, 2 * np.pi, len(m))
    sin = np.sqrt(1 - cos**2)
    direction = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=1)
    d1 = np.concatenate([np.sqrt(q**2 + m1**2)[:, None], q[:, None] * direction], axis=1)
    d2 = np.concatenate([np.sqrt(q**2 + m2**2)[:, None], -q[:, None] * direction], axis=1)
    return _boost(d1, parent), _boost(d2, parent)


def _resonance(n, m, rng):
    return four_momenta(rng.uniform(20, 200, n), rng.uniform(-1.5, 1.5, n), rng.uniform(-np.pi, np.pi, n), m)


def known_truth_events(n, seed=0, m_top=172.5, m_w=80.4, m_h=125.0):
    """t t̄ H events built from exact decays: 6 jets (b_had, q1, q2, b_lep, b1_h, b2_h), one electron, MET = the
    neutrino's p_T; p_T-ordered objects and the jet_partons truth. Only events whose W-constrained neutrino
    (the smaller-|p_z| solution) is the true one are kept."""
    rng = np.random.default_rng(seed)
    b_had, w_had = _decay(_resonance(n, m_top, rng), 0.0, m_w, rng)
    q1, q2 = _decay(w_had, 0.0, 0.0, rng)
    b_lep, w_lep = _decay(_resonance(n, m_top, rng), 0.0, m_w, rng)
    lepton, nu = _decay(w_lep, 0.0, 0.0, rng)
    b1, b2 = _decay(_resonance(n, m_h, rng), 0.0, 0.0, rng)
    met, met_phi = pt(nu), np.arctan2(nu[:, 2], nu[:, 1])
    keep = np.abs(neutrino(lepton, met, met_phi)[:, 3] - nu[:, 3]) < 1e-6 * nu[:, 0]
    jets = np.stack([b_had, q1, q2, b_lep, b1, b2], axis=1)[keep]
    objects = np.concatenate([jets, lepton[keep, None]], axis=1)
    types = np.array([BJET, JET, JET, BJET, BJET, BJET, ELECTRON])[None].repeat(len(objects), 0)
    order = np.argsort(-pt(objects), axis=1, kind="stable")
    objects = np.take_along_axis(objects, order[..., None], axis=1)
    types = np.take_along_axis(types, order, axis=1)
    jet_partons = np.argsort(order, axis=1)[:, :6].astype(np.int16)  # where parton column c went
    globals_ = np.stack([met[keep], met_phi[keep]], axis=1)
    return objects, types, globals_, jet_partons


def test_chi2_fit_finds_the_true_assignment_of_exact_decays():
    objects, types, globals_, truth = known_truth_events(400)
    assert len(objects) > 100
    chi2 = Chi2Assignment("tth", {"t_had": (172.5, 15.0), "w_had": (80.4, 8.0), "t_lep": (172.5, 15.0),
                                  "higgs": (125.0, 12.0)})
    assignment, value = chi2.assign(objects, types, globals_, ["met", "met_phi"], batch_size=64)
    table = efficiency_table(topology("tth"), truth, assignment, np.full(len(objects), 6))
    full = next(r for r in table if r["events"] == "full" and r["jets"] == "all")
    assert full["n"] == len(objects) and full["event"] == 1.0
    np.testing.assert_allclose(value, 0.0, atol=1e-6)


def test_chi2_fit_measures_the_masses_of_the_truth_matched_candidates():
    objects, types, globals_, truth = known_truth_events(300, seed=1)
    fitted = Chi2Assignment.fit("tth", objects, types, globals_, ["met", "met_phi"], truth)
    for term, expected in (("t_had", 172.5), ("w_had", 80.4), ("t_lep", 172.5), ("higgs", 125.0)):
        assert fitted.masses[term][0] == pytest.approx(expected, abs=1e-3)


def test_chi2_leaves_events_with_too_few_jets_unassigned():
    objects, types, globals_, _ = known_truth_events(50, seed=2)
    types = types.copy()
    types[:, 0] = PAD  # 5 jets at most where the leading object was a jet
    chi2 = Chi2Assignment("tth", {"t_had": (172.5, 15.0), "w_had": (80.4, 8.0), "t_lep": (172.5, 15.0),
                                  "higgs": (125.0, 12.0)})
    assignment, value = chi2.assign(objects, types, globals_, ["met", "met_phi"])
    five = (np.isin(types, (JET, BJET)).sum(axis=1) < 6)
    assert five.any()
    assert np.all(np.concatenate(assignment, axis=1)[five] == -1) and np.all(np.isinf(value[five]))


def test_efficiency_table_counts_a_swapped_symmetric_pair_as_right():
    truth = np.array([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, -1, 5]], np.int16)
    guess = [np.array([[0, 2, 1], [0, 1, 2]]), np.array([[3], [4]]), np.array([[5, 4], [4, 5]])]
    rows = efficiency_table(topology("tth"), truth, guess, np.array([6, 6]))
    everything = next(r for r in rows if r["events"] == "all" and r["jets"] == "= 6")
    assert everything["t_had"] == 1.0 and everything["higgs"] == 1.0 and everything["t_lep"] == 0.5
    assert everything["event"] == 0.5  # event 2: its t_lep is wrong (its higgs is not reconstructable)
    full = next(r for r in rows if r["events"] == "full" and r["jets"] == "= 6")
    assert full["n"] == 1 and full["event"] == 1.0


# --------------------------------------------------------------------------------------------- the attention head


def _model(topology_name="tth", seed=0):
    from estimators.assignment import AssignmentModel

    torch.manual_seed(seed)
    config = {"n_objects": 7, "n_globals": 2, "embed_dims": [16], "pair_embed_dims": [8], "num_heads": 2,
              "num_layers": 1}
    return AssignmentModel("part", config, topology_name, {"dim": 8}).eval()


def _tensors(objects, types, globals_):
    return (torch.as_tensor(objects, dtype=torch.float32), torch.as_tensor(types, dtype=torch.long),
            torch.as_tensor(globals_, dtype=torch.float32))


def test_swapping_interchangeable_jets_leaves_prediction_and_loss_unchanged():
    from estimators.assignment_training import AssignmentLoss, assignment_targets

    objects, types, globals_, truth = known_truth_events(64, seed=3)
    model = _model()
    with torch.no_grad():
        out = model(*_tensors(objects, types, globals_))
        # swap the inputs of the two quarks of the hadronic W, and of the two Higgs b's, in every event
        swapped_objects, swapped_types = objects.copy(), types.copy()
        rows = np.arange(len(objects))
        for a, b in ((1, 2), (4, 5)):
            ia, ib = truth[:, a], truth[:, b]
            swapped_objects[rows, ia], swapped_objects[rows, ib] = objects[rows, ib], objects[rows, ia]
            swapped_types[rows, ia], swapped_types[rows, ib] = types[rows, ib], types[rows, ia]
        swapped = model(*_tensors(swapped_objects, swapped_types, globals_))
    b_had, q1, q2 = truth[:, 0], truth[:, 1], truth[:, 2]
    lo, hi = np.minimum(q1, q2), np.maximum(q1, q2)
    np.testing.assert_allclose(out["log_p_0"][rows, b_had, lo, hi], swapped["log_p_0"][rows, b_had, lo, hi],
                               rtol=1e-4, atol=1e-5)
    h_lo, h_hi = np.minimum(truth[:, 4], truth[:, 5]), np.maximum(truth[:, 4], truth[:, 5])
    np.testing.assert_allclose(out["log_p_2"][rows, h_lo, h_hi], swapped["log_p_2"][rows, h_lo, h_hi],
                               rtol=1e-4, atol=1e-5)
    # the loss with the partons of a pair listed the other way round
    loss = AssignmentLoss(3)
    swapped_truth = truth[:, [0, 2, 1, 3, 5, 4]]
    values = []
    for t in (truth, swapped_truth):
        target, present = assignment_targets("tth", t, 7)
        values.append(float(loss({"target": torch.from_numpy(target), "present": torch.from_numpy(present)}, out)))
    assert values[0] == pytest.approx(values[1], rel=1e-6)


def test_tensor_is_symmetric_and_invalid_tuples_have_no_probability():
    model = _model()
    head = model.heads[0]
    s = head.weights()
    torch.testing.assert_close(s, s.transpose(-1, -2))
    objects, types, globals_, _ = known_truth_events(8, seed=4)
    with torch.no_grad():
        out = model(*_tensors(objects, types, globals_))
    p = out["log_p_0"].exp()
    torch.testing.assert_close(p.sum(dim=(1, 2, 3)), torch.ones(len(objects)))
    lepton_slot = int(np.flatnonzero(types[0] == ELECTRON)[0])
    assert float(p[0, lepton_slot].sum()) < 1e-30 and float(p[0, :, lepton_slot].sum()) < 1e-30
    assert float(p[0, 2, 3, 1]) == 0.0 and float(p[0, 1, 1, 3]) == 0.0  # unordered pair stored once; no jet twice


def test_decoding_never_uses_a_jet_twice_and_finds_the_best_consistent_choice():
    from estimators.assignment import INVALID_LOGIT, decode

    rng = np.random.default_rng(5)
    b, p = 12, 6
    jets = rng.uniform(size=(b, p)) < 0.85
    log_p = []
    for rank, symmetric in ((3, True), (1, False), (2, True)):
        logits = torch.as_tensor(rng.normal(scale=3.0, size=(b,) + (p,) * rank), dtype=torch.float32)
        valid = np.ones((b,) + (p,) * rank, bool)
        for axes in itertools.product(range(p), repeat=rank):
            if len(set(axes)) < rank or (symmetric and axes[-2] > axes[-1]):
                valid[(slice(None),) + axes] = False
        for axis in range(rank):
            shape = [b] + [1] * rank
            shape[axis + 1] = p
            valid &= jets.reshape(shape)
        logits = logits.masked_fill(torch.from_numpy(~valid), INVALID_LOGIT)
        log_p.append(torch.log_softmax(logits.reshape(b, -1), 1).view_as(logits))
    chosen, scores = decode(log_p, candidates=10_000)  # every tuple is a candidate: the exact optimum
    flat = torch.cat(chosen, dim=1).numpy()
    for e in range(b):
        used = flat[e][flat[e] >= 0]
        assert len(set(used.tolist())) == len(used)
        assert np.all(jets[e, used])
    # brute force: the best sum of log P over consistent full assignments, where one exists
    for e in range(b):
        options = [list(zip(*np.nonzero(lp[e].numpy() > 0.5 * INVALID_LOGIT))) for lp in log_p]
        best = -np.inf
        for combo in itertools.product(*options):
            flat_combo = [j for t in combo for j in t]
            if len(set(flat_combo)) == len(flat_combo):
                best = max(best, sum(float(lp[e][t]) for lp, t in zip(log_p, combo)))
        if np.isfinite(best):
            assert float(scores[e].sum()) == pytest.approx(best, rel=1e-5)
        else:
            assert np.any(np.isinf(scores[e].numpy()))
    assert np.isfinite(scores.numpy()).all(axis=1).any()  # some events are fully assigned


# --------------------------------------------------------------------------------------------- Pythia events, CLI


@pytest.fixture(scope="module")
def tth_file(tmp_path_factory):
    from simulators.processes.tth import simulate

    path = tmp_path_factory.mktemp("assign") / "tth.h5"
    simulate(1000, seed=3, progress=False).save(path)
    return path


def test_pythia_partons_have_the_resonance_masses():
    """The partons read from the record rebuild Pythia's top, W and Higgs masses (independent facts: m_H = 125 GeV
    with a 4 MeV width; m_t = 172.5 GeV and m_W = 80.4 GeV with widths of 1.4 and 2.1 GeV)."""
    from simulators.processes.pipeline import generate_chunk
    from simulators.processes.tth import PROCESS

    task = {"n": 250, "seed": 4, "configuration": 0, "settings": list(PROCESS.configurations[0]),
            "reconstruction": PROCESS.reconstruction, "detector": {}, "partons": PROCESS.partons}
    objects = generate_chunk(task)["objects"]
    partons, present = objects["partons"], objects["parton_present"]
    assert present.all()
    assert np.median(mass(partons[:, 0] + partons[:, 1] + partons[:, 2])) == pytest.approx(172.5, abs=1.5)
    assert np.median(mass(partons[:, 1] + partons[:, 2])) == pytest.approx(80.4, abs=1.5)
    np.testing.assert_allclose(mass(partons[:, 4] + partons[:, 5]), 125.0, atol=0.5)
    assert np.all(pt(partons[:, 1]) >= pt(partons[:, 2]))


def test_simulated_tth_carries_matched_jets(tth_file):
    from lfi.events import EventSample

    sample = EventSample.load(tth_file)
    truth = sample.truth_events["jet_partons"]
    assert truth.shape == (len(sample), 6)
    for row, kinds in zip(truth, sample.types):
        used = row[row >= 0]
        assert len(set(used.tolist())) == len(used)
        assert np.all(np.isin(kinds[used], (JET, BJET)))
    _, present = topology("tth").targets(truth)
    full = present.all(axis=1)
    n_jets = sample.observables["n_jets"]
    assert not full[n_jets < 6].any()  # six partons need six jets
    assert 0.05 < full.mean() < 0.35  # about 0.15 (docs/generator.md §8)


def test_assign_commands_train_apply_and_refuse_clashes(tth_file, tmp_path, capsys):
    from lfi.cli import main
    from lfi.events import EventSample

    nn_dir, chi2_dir = tmp_path / "nn", tmp_path / "chi2"
    assert main(["assign-train", "--data", str(tth_file), "--estimator", "part", "--topology", "tth", "--out",
                 str(nn_dir), "--epochs", "1", "--batch-size", "64", "--device", "cpu", "--quiet",
                 "--option", "embed_dims=16", "--option", "num_layers=1"]) == 0
    assert main(["assign-train", "--data", str(tth_file), "--estimator", "chi2", "--topology", "tth", "--out",
                 str(chi2_dir)]) == 0
    with_chi2 = tmp_path / "chi2.h5"
    assert main(["assign", "--data", str(tth_file), "--model", str(chi2_dir), "--out", str(with_chi2)]) == 0
    both = tmp_path / "both.h5"
    assert main(["assign", "--data", str(with_chi2), "--model", str(nn_dir), "--out", str(both),
                 "--prefix", "nn_", "--as-globals"]) == 0
    sample = EventSample.load(both)
    for name in ("m_t_had", "m_higgs", "chi2", "nn_m_t_had", "nn_p_assign_higgs", "nn_p_detect_t_lep"):
        assert name in sample.observables and np.all(np.isfinite(sample.observables[name]))
    assert np.all((sample.observables["nn_p_detect_higgs"] >= 0) & (sample.observables["nn_p_detect_higgs"] <= 1))
    # --as-globals: the network's observables are also event-level inputs (the χ² ones, added without it, are not)
    assert sample.global_names[:2] == ["met", "met_phi"] and "nn_m_higgs" in sample.global_names
    assert "m_higgs" not in sample.global_names
    np.testing.assert_allclose(sample.globals_[:, sample.global_names.index("nn_m_higgs")],
                               sample.observables["nn_m_higgs"], rtol=1e-6)
    assigned = sample.observables["m_t_had"] > 0
    assert np.all(assigned == (sample.observables["n_jets"] >= 6))  # χ² assigns every event with six jets
    capsys.readouterr()
    assert main(["assign", "--data", str(with_chi2), "--model", str(chi2_dir), "--out", str(tmp_path / "x.h5")]) == 1
    err = capsys.readouterr().err
    assert "already has the observable(s)" in err and "--prefix" in err and not (tmp_path / "x.h5").exists()
    assert main(["assign", "--data", str(tth_file), "--model", str(tmp_path), "--out", str(tmp_path / "y.h5")]) != 0
    assert "config.json" in capsys.readouterr().err


def test_saved_model_predicts_the_same_after_loading(tmp_path):
    from estimators.assignment import AssignmentModel

    objects, types, globals_, _ = known_truth_events(32, seed=6)
    model = _model("ttbar", seed=1)
    model.save(tmp_path / "m")
    again = AssignmentModel.load(tmp_path / "m")
    a, b = model.predict(objects, types, globals_), again.predict(objects, types, globals_)
    for x, y in zip(a["assignment"], b["assignment"]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(a["assignment_probability"], b["assignment_probability"], rtol=1e-6)


@pytest.mark.parametrize("encoder, options", [("part", {"embed_dims": [16], "num_layers": 1}),
                                              ("sett", {"dim": 16, "num_layers": 1}),
                                              ("particlenet", {"conv_dims": [[16, 16]], "embed_dim": 16})])
def test_object_embeddings_follow_the_objects_and_pool_to_the_event_embedding(encoder, options):
    from estimators.encoders import build_encoder

    torch.manual_seed(0)
    model = build_encoder(encoder, n_objects=7, n_globals=2, **options).eval()
    objects, types, globals_, _ = known_truth_events(6, seed=7)
    inputs = _tensors(objects, types, globals_)
    with torch.no_grad():
        per_object, event = model.encode_objects(*inputs)
        assert per_object.shape == (len(objects), 7, model.object_dim)
        torch.testing.assert_close(event, model(*inputs))
        order = torch.tensor([3, 0, 6, 1, 5, 2, 4])
        moved, _ = model.encode_objects(inputs[0][:, order], inputs[1][:, order], inputs[2])
    torch.testing.assert_close(moved, per_object[:, order], rtol=1e-4, atol=1e-5)


def test_encoders_without_object_embeddings_refuse_the_head():
    from estimators.assignment import AssignmentModel
    from lfi.errors import OptionError

    for encoder in ("mlp", "mixer", "iaformer"):
        with pytest.raises(OptionError, match="no per-object embeddings"):
            AssignmentModel(encoder, {"n_objects": 7, "n_globals": 2}, "ttbar")
