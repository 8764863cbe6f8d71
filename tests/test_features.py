"""Tests of estimators.features: pairwise features against a float64 NumPy reference, SM matrices, scaling.

References: the pairwise features are recomputed here event by event in NumPy float64 from their definitions
(ParT, arXiv:2202.03772; docs/method.md §7), with Δφ wrapped by arctan2(sin, cos) instead of the module's remainder.
The SM matrices are typed in from the docs/method.md §7 text; the coupling check values g_s(μ0) = 1.2177 and
g_e(μ0) = 0.3139 are quoted there to four decimals (tolerance 5e-5).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from estimators import features as F

EPS = 1e-8
J, BJ, EM, EP, MM, MP, GAM = range(1, 8)


# --------------------------------------------------------------------------------------------------
# NumPy reference
# --------------------------------------------------------------------------------------------------
def reference_pairs(momenta: np.ndarray, types: np.ndarray) -> np.ndarray:
    """(P, 4) float64, (P,) → (P, P, 6) in the order of F.PAIR_FEATURES, 0 for pairs with padding."""
    n = len(types)
    out = np.zeros((n, n, 6))
    e, px, py, pz = momenta.T
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(pz / pt)
        y = 0.5 * np.log((e + pz) / (e - pz))
    phi = np.arctan2(py, px)
    for i in range(n):
        for j in range(n):
            if types[i] == 0 or types[j] == 0:
                continue
            dphi = np.arctan2(np.sin(phi[i] - phi[j]), np.cos(phi[i] - phi[j]))
            s = momenta[i] + momenta[j]
            m2 = s[0] ** 2 - s[1] ** 2 - s[2] ** 2 - s[3] ** 2
            delta = math.hypot(y[i] - y[j], dphi)
            ptmin = min(pt[i], pt[j])
            out[i, j] = [
                math.sqrt(max(m2, 0.0)),
                math.hypot(eta[i] - eta[j], dphi),
                math.log(max(ptmin * delta, EPS)),
                math.log(max(ptmin / (pt[i] + pt[j]), EPS)),
                math.log(max(delta, EPS)),
                math.log(max(m2, EPS)),
            ]
    return out


def random_events(n_events: int, n_slots: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Massive and massless objects with p_T 5–500 GeV, |η| < 4, random multiplicities including 0 and 1."""
    rng = np.random.default_rng(seed)
    pt = np.exp(rng.uniform(np.log(5.0), np.log(500.0), (n_events, n_slots)))
    eta = rng.uniform(-4, 4, (n_events, n_slots))
    phi = rng.uniform(-np.pi, np.pi, (n_events, n_slots))
    mass = np.where(rng.random((n_events, n_slots)) < 0.5, 0.0, rng.uniform(0, 50, (n_events, n_slots)))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(mass**2 + px**2 + py**2 + pz**2)
    momenta = np.stack([e, px, py, pz], axis=-1)
    types = rng.integers(1, 8, (n_events, n_slots))
    n_real = rng.integers(0, n_slots + 1, n_events)
    n_real[:3] = [0, 1, n_slots]
    types[np.arange(n_slots)[None, :] >= n_real[:, None]] = 0
    momenta[types == 0] = 0.0
    return momenta, types


def as_torch(momenta: np.ndarray, types: np.ndarray, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(momenta, dtype=dtype), torch.tensor(types, dtype=torch.long)


# --------------------------------------------------------------------------------------------------
# pairwise features
# --------------------------------------------------------------------------------------------------
def test_pair_features_match_numpy_reference_float64():
    momenta, types = random_events(24, 7, seed=1)
    got = F.pair_features(*as_torch(momenta, types)).numpy()
    want = np.stack([reference_pairs(m, t) for m, t in zip(momenta, types)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_pair_features_select_and_order_channels():
    momenta, types = random_events(4, 5, seed=2)
    m, t = as_torch(momenta, types)
    full = F.pair_features(m, t)
    sub = F.pair_features(m, t, "ln_m2,delta_r")
    torch.testing.assert_close(sub, full[..., [5, 1]], rtol=0, atol=0)
    assert F.pair_features(m, t, "none").shape == (4, 5, 5, 0)


def test_pair_features_are_symmetric():
    m, t = as_torch(*random_events(8, 6, seed=3))
    f = F.pair_features(m, t)
    torch.testing.assert_close(f, f.transpose(1, 2), rtol=1e-12, atol=1e-12)


def test_identical_objects_massive_and_massless():
    # a massive jet (m = 10 GeV) twice, and an exactly massless photon (|p| = 13 GeV) twice
    p_jet = np.array([0.0, 30.0, 40.0, 20.0])
    p_jet[0] = math.sqrt(10.0**2 + 30.0**2 + 40.0**2 + 20.0**2)
    p_gam = np.array([13.0, 3.0, 4.0, 12.0])
    momenta = np.stack([p_jet, p_jet, p_gam, p_gam])[None]
    types = np.array([[J, J, GAM, GAM]])
    got = F.pair_features(*as_torch(momenta, types))[0].numpy()
    np.testing.assert_allclose(got, reference_pairs(momenta[0], types[0]), rtol=1e-10, atol=1e-10)
    jet_pair, gam_pair = got[0, 1], got[2, 3]
    np.testing.assert_allclose(jet_pair, [20.0, 0.0, math.log(EPS), math.log(0.5), math.log(EPS), math.log(400.0)],
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(gam_pair, [0.0, 0.0, math.log(EPS), math.log(0.5), math.log(EPS), math.log(EPS)],
                               rtol=1e-12, atol=1e-12)


def test_one_object_and_all_padding():
    momenta = np.zeros((2, 4, 4))
    momenta[0, 0] = [50.0, 30.0, 0.0, 40.0]
    types = np.zeros((2, 4), dtype=int)
    types[0, 0] = EM
    got = F.pair_features(*as_torch(momenta, types)).numpy()
    want = np.stack([reference_pairs(m, t) for m, t in zip(momenta, types)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert np.all(got[1] == 0) and np.all(got[0][1:] == 0) and np.all(got[0][:, 1:] == 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_degenerate_kinematics_stay_finite(dtype):
    # collinear massless pair, an object along the beam (pT = 0), a zero-energy real object, soft photon
    momenta = torch.tensor([[[100.0, 60.0, 0.0, 80.0], [50.0, 30.0, 0.0, 40.0], [70.0, 0.0, 0.0, 70.0],
                             [0.0, 0.0, 0.0, 0.0], [1e-3, 1e-3, 0.0, 0.0]]], dtype=dtype)
    types = torch.tensor([[J, J, MM, GAM, GAM]])
    f = F.pair_features(momenta, types)
    assert torch.isfinite(f).all()
    assert torch.isfinite(F.object_features(momenta, types)).all()
    assert torch.isfinite(F.interaction_matrix(momenta, types, "sm_running")).all()


def test_float32_agrees_with_float64_on_well_separated_pairs():
    momenta, types = random_events(16, 6, seed=4)
    f64 = F.pair_features(*as_torch(momenta, types, torch.float64))
    f32 = F.pair_features(*as_torch(momenta, types, torch.float32)).double()
    # all channels except the masses are O(1–10); float32 keeps ~1e-6 relative after a few operations
    torch.testing.assert_close(f32[..., 1:5], f64[..., 1:5], rtol=1e-4, atol=1e-4)


def test_pair_feature_option_errors_list_valid_values():
    with pytest.raises(ValueError, match="ln_kt"):
        F.parse_pair("mass,deltaR")
    with pytest.raises(ValueError, match="sm_running"):
        F.parse_interaction("sm")
    assert F.parse_pair(None) == () and F.parse_pair("none") == ()
    assert F.parse_pair(["mass", "delta_r"]) == F.parse_pair(" mass, delta_r ") == ("mass", "delta_r")


# --------------------------------------------------------------------------------------------------
# SM interaction matrices (docs/method.md §7)
# --------------------------------------------------------------------------------------------------
def physics_sm_const() -> np.ndarray:
    g_s, g_z, g_e = 1.22, 0.758, 0.31
    m = np.zeros((8, 8))
    entries = {(J, J): g_s, (J, BJ): g_s, (BJ, BJ): g_s, (EM, EP): g_z, (MM, MP): g_z,
               (EM, GAM): g_e, (EP, GAM): g_e, (MM, GAM): g_e, (MP, GAM): g_e,
               (J, GAM): g_e / 2, (BJ, GAM): g_e / 3}
    for (a, b), v in entries.items():
        m[a, b] = m[b, a] = v
    return m


def test_sm_matrices_equal_physics_table_and_are_symmetric():
    const = F.sm_matrix("sm_const").numpy()
    ids = F.sm_matrix("sm_ids").numpy()
    np.testing.assert_allclose(const, physics_sm_const(), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ids, (physics_sm_const() != 0).astype(float))
    for m in (const, ids):
        np.testing.assert_array_equal(m, m.T)
    assert const[0].sum() == 0 and const[GAM, GAM] == 0 and const[EM, EM] == 0 and const[EM, MP] == 0


def test_couplings_at_mu0_match_physics_check_values():
    mu0 = torch.tensor(91.1876, dtype=torch.float64)
    assert abs(F.g_s(mu0).item() - 1.2177) < 5e-5
    assert abs(F.g_e(mu0).item() - 0.3139) < 5e-5


def test_running_couplings_follow_the_one_loop_formulas():
    q = torch.tensor([5.0, 40.0, 500.0, 3000.0], dtype=torch.float64)
    for qi, gs, ge in zip(q.tolist(), F.g_s(q).tolist(), F.g_e(q).tolist()):
        log = math.log(qi**2 / 91.1876**2)
        a_s = 0.118 / (1 + 0.118 * (33 - 12) / (12 * math.pi) * log)
        a = (1 / 127.5) / (1 - 3 * (1 / 127.5) / (3 * math.pi) * log)
        assert gs == pytest.approx(math.sqrt(4 * math.pi * a_s), rel=1e-12)
        assert ge == pytest.approx(math.sqrt(4 * math.pi * a), rel=1e-12)
    assert (F.g_s(q).diff() < 0).all() and (F.g_e(q).diff() > 0).all()


@pytest.mark.parametrize("kind", ["sm_ids", "sm_const", "sm_running"])
def test_interaction_matrix_per_event(kind):
    momenta, types = random_events(10, 6, seed=5)
    m, t = as_torch(momenta, types)
    u = F.interaction_matrix(m, t, kind)
    torch.testing.assert_close(u, u.transpose(1, 2), rtol=0, atol=0)
    pad = (t == 0).unsqueeze(2) | (t == 0).unsqueeze(1)
    assert (u[pad] == 0).all()
    if kind != "sm_running":
        table = F.sm_matrix(kind).numpy()
        np.testing.assert_array_equal(u.numpy(), table[types[:, :, None], types[:, None, :]])
    else:
        pt = np.hypot(momenta[..., 1], momenta[..., 2])
        for b, i, j in zip(*np.nonzero(types[:, :, None] * types[:, None, :])):
            q = torch.tensor((pt[b, i] + pt[b, j]) / 2, dtype=torch.float64)
            pair = tuple(sorted((types[b, i], types[b, j])))
            gs, ge = F.g_s(q).item(), F.g_e(q).item()
            want = {(J, J): gs, (J, BJ): gs, (BJ, BJ): gs, (EM, EP): 0.758, (MM, MP): 0.758, (J, GAM): ge / 2,
                    (BJ, GAM): ge / 3}.get(pair, ge if pair in {(EM, GAM), (EP, GAM), (MM, GAM), (MP, GAM)} else 0.0)
            assert u[b, i, j].item() == pytest.approx(want, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------------------------------
# per-object, global features and the scaler
# --------------------------------------------------------------------------------------------------
def test_object_and_global_features():
    momenta, types = random_events(6, 5, seed=6)
    m, t = as_torch(momenta, types)
    x = F.object_features(m, t)
    assert x.shape == (6, 5, len(F.OBJECT_FEATURES))
    assert (x[t == 0] == 0).all()
    real = t != 0
    pt = np.hypot(momenta[..., 1], momenta[..., 2])
    np.testing.assert_allclose(x[..., 0][real].numpy(), np.log(pt[types != 0]), rtol=1e-12)
    n = F.N_CONTINUOUS_OBJECT_FEATURES
    np.testing.assert_array_equal(x[..., n:][real].argmax(-1).numpy() + 1, types[types != 0])
    # η and φ relative to the leading real object, against NumPy (φ differences wrapped into [−π, π))
    eta = np.arcsinh(momenta[..., 3] / np.where(pt > 0, pt, 1.0))
    phi = np.arctan2(momenta[..., 2], momenta[..., 1])
    lead = np.argmax(np.where(types != 0, pt, -1.0), axis=1)
    rows = np.arange(len(types))
    d_eta = eta - eta[rows, lead][:, None]
    d_phi = (phi - phi[rows, lead][:, None] + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(x[..., 3][real].numpy(), d_eta[types != 0], atol=1e-9)
    np.testing.assert_allclose(x[..., 4][real].numpy(), d_phi[types != 0], atol=1e-9)
    assert (x[rows, lead, 3:5] == 0).all()
    g = F.global_features(m, t, torch.ones(6, 2, dtype=torch.float64))
    np.testing.assert_allclose(g[:, 2].numpy(), np.log1p((pt * (types != 0)).sum(1)), rtol=1e-12)
    np.testing.assert_array_equal(g[:, 3].numpy(), (types != 0).sum(1))


def test_input_scaler_standardises_and_lives_in_state_dict():
    momenta, types = random_events(200, 6, seed=7)
    m, t = as_torch(momenta, types, torch.float32)
    globals_ = torch.randn(200, 2) * 30 + 5
    scaler = F.InputScaler(n_globals=2, pair="mass,ln_kt")
    scaler.fit_input_scaling(m, t, globals_, chunk_size=64)
    x = scaler.objects(m, t)[..., : F.N_CONTINUOUS_OBJECT_FEATURES][t != 0].double()
    n = F.N_CONTINUOUS_OBJECT_FEATURES
    torch.testing.assert_close(x.mean(0), torch.zeros(n, dtype=torch.float64), rtol=0, atol=1e-5)
    torch.testing.assert_close(x.std(0, unbiased=False), torch.ones(n, dtype=torch.float64), rtol=0, atol=1e-5)
    off_diag = (t != 0).unsqueeze(2) & (t != 0).unsqueeze(1) & ~torch.eye(6, dtype=torch.bool)
    pairs = scaler.pairs(m, t)[off_diag].double()
    torch.testing.assert_close(pairs.mean(0), torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-5)
    assert (scaler.pairs(m, t)[~off_diag & ~torch.eye(6, dtype=torch.bool)] == 0).all()
    g = scaler.globals(m, t, globals_).double()
    torch.testing.assert_close(g.std(0, unbiased=False), torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-5)
    state = scaler.state_dict()
    assert {"object_mean", "object_std", "global_mean", "global_std", "pair_mean", "pair_std", "fitted"} <= set(state)
    fresh = F.InputScaler(n_globals=2, pair="mass,ln_kt")
    assert not fresh.fitted
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.objects(m, t), scaler.objects(m, t), rtol=0, atol=0)
    assert fresh.fitted
