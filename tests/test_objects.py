"""lfi.objects: type codes and NumPy kinematics, checked against independent facts (not against the code)."""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from lfi import objects as O

RNG = np.random.default_rng(7)


def _from_angles(p_abs, theta, phi, m=0.0):
    """(E, px, py, pz) of a vector with |p⃗| = p_abs at polar angle θ and azimuth φ (spherical coordinates)."""
    p_abs, theta, phi = np.broadcast_arrays(*(np.asarray(a, float) for a in (p_abs, theta, phi)))
    return np.stack([np.sqrt(p_abs**2 + m**2), p_abs * np.sin(theta) * np.cos(phi),
                     p_abs * np.sin(theta) * np.sin(phi), p_abs * np.cos(theta)], axis=-1)


# ------------------------------------------------------------------------------------------------ type codes
def test_type_names_agree_with_the_code_constants():
    expected = {"pad": 0, "jet": 1, "b-jet": 2, "e-": 3, "e+": 4, "mu-": 5, "mu+": 6, "photon": 7}  # docs/event-format.md §4
    constants = {"pad": O.PAD, "jet": O.JET, "b-jet": O.BJET, "e-": O.ELECTRON, "e+": O.POSITRON, "mu-": O.MUON,
                 "mu+": O.ANTIMUON, "photon": O.PHOTON}
    assert constants == expected
    assert {name: O.OBJECT_TYPES.index(name) for name in expected} == expected
    assert O.N_TYPES == len(O.OBJECT_TYPES) == 8


def test_pdg_ids_of_charged_leptons():
    # PDG: 11 is the electron e⁻ (negative), −11 the positron; 13 the μ⁻, −13 the μ⁺.
    names = {pdg: O.OBJECT_TYPES[code] for pdg, code in O.LEPTON_TYPE_BY_PDG.items()}
    assert names == {11: "e-", -11: "e+", 13: "mu-", -13: "mu+"}
    ids = np.array([[11, -11, 13, -13], [22, 15, -15, 0]])
    got = O.lepton_types(ids)
    assert got.dtype == np.int8 and got.shape == ids.shape
    np.testing.assert_array_equal(got, [[3, 4, 5, 6], [0, 0, 0, 0]])
    np.testing.assert_array_equal(O.lepton_types([22], default=-1), [-1])


def test_estimator_type_names_are_the_same_object():
    pytest.importorskip("torch")
    from estimators import features

    assert features.TYPE_NAMES is O.OBJECT_TYPES and features.N_TYPES == O.N_TYPES


def test_module_is_a_leaf_importing_only_numpy_and_the_standard_library():
    tree = ast.parse(Path(O.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    assert roots <= {"__future__", "numpy"}, roots
    assert set(O.__all__) <= set(dir(O))


# ------------------------------------------------------------------------------------------------ kinematics
@pytest.mark.parametrize("m", [0.0, 7.5])
def test_eta_of_a_known_polar_angle(m):
    theta = np.array([0.01, 0.3, 1.0, np.pi / 2, 2.0, 3.1])
    phi = RNG.uniform(-np.pi, np.pi, len(theta))
    p = _from_angles(40.0, theta, phi, m)
    np.testing.assert_allclose(O.eta(p), -np.log(np.tan(theta / 2)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(O.phi(p), phi, atol=1e-12)
    np.testing.assert_allclose(O.pt(p), 40.0 * np.sin(theta), rtol=1e-12)
    np.testing.assert_allclose(O.mass(p), m, atol=1e-6)


def test_rapidity_equals_eta_for_massless_and_not_for_massive_particles():
    p = _from_angles(RNG.uniform(1, 500, 50), RNG.uniform(0.05, 3.09, 50), RNG.uniform(-3, 3, 50))
    np.testing.assert_allclose(O.rapidity(p), O.eta(p), rtol=1e-9, atol=1e-9)
    heavy = _from_angles(30.0, 0.4, 0.0, m=20.0)  # tanh y = pz/E
    assert O.rapidity(heavy) == pytest.approx(math.atanh(heavy[3] / heavy[0]), rel=1e-12)
    assert O.rapidity(heavy) < O.eta(heavy) - 0.1


def test_four_momenta_of_a_known_vector_and_the_round_trip():
    # pT = 3, pz = 4 (η = asinh(4/3)), φ = π/2, m = 12: E = √(9 + 16 + 144) = 13
    np.testing.assert_allclose(O.four_momenta(3.0, math.asinh(4 / 3), np.pi / 2, 12.0), [13.0, 0.0, 3.0, 4.0],
                               atol=1e-12)
    n = 200
    pt, eta = RNG.uniform(0.5, 300, n), RNG.uniform(-5, 5, n)
    phi, m = RNG.uniform(-np.pi, np.pi, n), RNG.uniform(0, 50, n)
    p = O.four_momenta(pt, eta, phi, m)
    assert p.shape == (n, 4) and p.dtype == np.float64
    np.testing.assert_allclose(O.pt(p), pt, rtol=1e-12)
    np.testing.assert_allclose(O.eta(p), eta, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(O.phi(p), phi, atol=1e-12)
    energy = pt * np.cosh(eta)  # an independent E: |p⃗| = pT cosh η
    np.testing.assert_allclose(p[:, 0], np.sqrt(energy**2 + m**2), rtol=1e-12)
    assert np.all(np.abs(O.mass2(p) - m**2) <= 1e-12 * p[:, 0] ** 2)  # m² up to the rounding of E² − |p⃗|²
    # a scalar mass broadcasts over an (N, 2) block
    assert O.four_momenta(pt.reshape(-1, 2), eta.reshape(-1, 2), phi.reshape(-1, 2), 0.0).shape == (n // 2, 2, 4)


def test_delta_phi_wraps_across_plus_minus_pi():
    eps = 0.1
    assert O.delta_phi(np.pi - eps, -np.pi + eps) == pytest.approx(-2 * eps)
    assert O.delta_phi(-np.pi + eps, np.pi - eps) == pytest.approx(2 * eps)
    assert O.delta_phi(7 * np.pi + 0.3, 0.0) == pytest.approx(-np.pi + 0.3)
    # the interval is (−π, π]: ±π both map to +π
    assert O.delta_phi(np.pi, 0.0) == pytest.approx(np.pi) and O.delta_phi(0.0, np.pi) == pytest.approx(np.pi)
    assert O.wrap_phi(-np.pi) == pytest.approx(np.pi)
    a, b = RNG.uniform(-20, 20, 1000), RNG.uniform(-20, 20, 1000)
    d = O.delta_phi(a, b)
    assert np.all((d > -np.pi) & (d <= np.pi))
    np.testing.assert_allclose(np.cos(d), np.cos(a - b), atol=1e-12)
    np.testing.assert_allclose(np.sin(d), np.sin(a - b), atol=1e-12)


def test_delta_r_of_known_directions():
    a = O.four_momenta(50.0, 0.3, 3.0, 0.0)
    b = O.four_momenta(20.0, -0.1, -3.0, 5.0)
    assert O.delta_r(a, b) == pytest.approx(math.hypot(0.4, 2 * np.pi - 6.0), rel=1e-12)
    # broadcasting: (3, 2, 4) against (1, 4)
    block = np.broadcast_to(a, (3, 2, 4))
    np.testing.assert_allclose(O.delta_r(block, b[None]), np.full((3, 2), O.delta_r(a, b)))


def test_eta_convention_at_zero_transverse_momentum():
    vectors = np.array([
        [0.0, 0.0, 0.0, 0.0],  # padding: the zero vector
        [100.0, 0.0, 0.0, 100.0],  # along +z
        [50.0, 0.0, 0.0, -50.0],  # along −z
        [90.0, 0.0, 0.0, 80.0],  # massive, along +z
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings escape
        eta, y = O.eta(vectors), O.rapidity(vectors)
    np.testing.assert_array_equal(eta, [0.0, O.ETA_MAX, -O.ETA_MAX, O.ETA_MAX])
    assert y[0] == 0.0 and y[1] == O.ETA_MAX and y[2] == -O.ETA_MAX
    assert y[3] == pytest.approx(math.atanh(80 / 90))  # a massive particle has finite y even at pT = 0
    # the cap lies beyond η of any vector with pT > 0 and finite pz/pT, and that η is not clipped
    tiny = np.array([1e5, 1e-300, 0.0, 1e5])
    assert O.eta(tiny) == pytest.approx(math.log(2e305), rel=1e-12) and O.eta(tiny) < O.ETA_MAX
    # two objects along the same beam direction are collinear; opposite ones are far apart; all finite
    assert O.delta_r(vectors[1], vectors[3]) == 0.0
    assert O.delta_r(vectors[1], vectors[2]) == pytest.approx(2 * O.ETA_MAX)


def test_mass_of_back_to_back_massless_objects_is_twice_their_energy():
    e = RNG.uniform(1, 1000, 100)
    theta, phi = RNG.uniform(0.01, 3.13, 100), RNG.uniform(-np.pi, np.pi, 100)
    a = _from_angles(e, theta, phi)
    b = _from_angles(e, np.pi - theta, phi + np.pi)
    np.testing.assert_allclose(a[:, 1:] + b[:, 1:], 0.0, atol=1e-9)
    np.testing.assert_allclose(O.mass(a + b), 2 * e, rtol=1e-12)
    np.testing.assert_allclose(O.mass2(a + b), 4 * e**2, rtol=1e-12)
    # the same pair from (pT, η, φ): η → −η, φ → φ + π
    pt = RNG.uniform(1, 100, 100)
    c, d = O.four_momenta(pt, 1.3, phi, 0.0), O.four_momenta(pt, -1.3, phi + np.pi, 0.0)
    np.testing.assert_allclose(O.mass(c + d), 2 * c[:, 0], rtol=1e-12)


def test_mass_of_a_spacelike_vector_is_zero():
    assert O.mass(np.array([1.0, 2.0, 0.0, 0.0])) == 0.0
    assert O.mass2(np.array([1.0, 2.0, 0.0, 0.0])) == -3.0
