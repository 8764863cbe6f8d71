"""σ(θ)/σ_SM of pp → qq′H (t-channel WW and ZZ(+γ) fusion, 13 TeV) by direct MC integration, without Pythia's sampling.

Usage: ``python bench/wbf_sigma_integration.py [--points N] [--runs K] [--seed S]``

An independent check of the production linear coefficients of docs/eft.md §9 (the reweighted Pythia sample is checked in
``tests/test_wbf_validation.py``). Same physics inputs as the generator: Pythia's PDF set and factorisation scale
Q² = √((m_V² + p_T3²)(m_V² + p_T4²)), colour factor 1, CKM sums per incoming flavour, m_H = 125 GeV; matrix element
``production_coefficients`` (itself checked against the Lagrangian and Dirac traces in ``test_wbf_vertex_derivation``).
Importance sampling in (p_T3², p_T4²) ∝ m²/(p_T² + m²)², flat in φ3, φ4, y3, y4 ∈ (−7, 7), y_H ∈ (−5, 5); x1, x2
follow from momentum conservation. Prints σ_SM (pb) and the linear coefficients per TeV⁻² with statistical errors.

Results (8·10⁵ points, 2 cores shared, ~80 s): σ_SM = 3.47 pb (CC 2.54, NC 0.93); with photons F_W 0.0182(1),
F_WW 0.0074(1); without 0.0171(1), 0.0063(1); per process F_WW = 0.0066(2) (WW), 0.0095(3) / 0.0052(1) (ZZ with /
without photons). The F_W coefficients (0.0182, 0.0170) and the corrected F_WW coefficients of docs/eft.md §9
(0.0074, 0.0063) are reproduced, the earlier F_WW values (0.0084, 0.0073) are not — the same as with the reweighted
Pythia sample (0.0075, 0.0063).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

ROOT_S, M_H = 13000.0, 125.0
UP, DOWN = (2, 4), (1, 3, 5)


def sample(rng, n, m2=80.0**2, y_max=7.0, yh_max=5.0):
    r = rng.uniform(size=(n, 2))
    u = m2 * r / (1 - r)
    pt = np.sqrt(u)
    phi = rng.uniform(0, 2 * np.pi, (n, 2))
    y = rng.uniform(-y_max, y_max, (n, 2))
    yh = rng.uniform(-yh_max, yh_max, n)
    jets = [np.stack([pt[:, i] * np.cosh(y[:, i]), pt[:, i] * np.cos(phi[:, i]), pt[:, i] * np.sin(phi[:, i]),
                      pt[:, i] * np.sinh(y[:, i])], 1) for i in (0, 1)]
    pxh, pyh = -(jets[0][:, 1] + jets[1][:, 1]), -(jets[0][:, 2] + jets[1][:, 2])
    mth = np.sqrt(M_H**2 + pxh**2 + pyh**2)
    total = jets[0] + jets[1] + np.stack([mth * np.cosh(yh), pxh, pyh, mth * np.sinh(yh)], 1)
    x1, x2 = (total[:, 0] + total[:, 3]) / ROOT_S, (total[:, 0] - total[:, 3]) / ROOT_S
    # 1 / sampling density of (u3, u4, φ3, φ4, y3, y4, y_H), times d³p/E = ½ du dφ dy for both jets
    jac = (u[:, 0] + m2) ** 2 * (u[:, 1] + m2) ** 2 / m2**2 * (2 * y_max) ** 2 * (2 * np.pi) ** 2 * (2 * yh_max) / 4
    ok = (x1 < 1) & (x2 < 1)
    return jets[0][ok], jets[1][ok], x1[ok], x2[ok], pt[ok], jac[ok]


def weights(rng, n, pdf, params, ew):
    """Per-point weights (pb · N) of the 6 θ-coefficients: {("CC"|"NC", photons): (M, 6)}."""
    from simulators.wbf.matrix_element import production_coefficients
    from simulators.wbf.truth import pdf_table

    p3, p4, x1, x2, pt, jac = sample(rng, n)
    m = len(x1)
    zero = np.zeros(m)
    p1 = np.stack([x1 * ROOT_S / 2, zero, zero, x1 * ROOT_S / 2], 1)
    p2 = np.stack([x2 * ROOT_S / 2, zero, zero, -x2 * ROOT_S / 2], 1)
    s_hat = x1 * x2 * ROOT_S**2
    # (2π)⁴/(2π)⁹ · 2/S (δ(E) δ(p_z) over dx1 dx2) · 1/8 (three 1/(2E)) · 1/(2ŝ) flux, GeV⁻² → pb
    norm = 0.3894e9 * (2 * np.pi) ** -5 * (2 / ROOT_S**2) / 8 / (2 * s_hat) * jac
    v2 = params["v2ckm_sum"]
    out = {}
    for charged, m_v in ((True, params["m_W"]), (False, params["m_Z"])):
        q2 = np.sqrt((m_v**2 + pt[:, 0] ** 2) * (m_v**2 + pt[:, 1] ** 2))
        xf1, xf2 = pdf_table(pdf, x1, q2), pdf_table(pdf, x2, q2)
        for photons in ((True,) if charged else (True, False)):
            total = np.zeros((m, 6))
            for c1, members1 in (("u", UP), ("d", DOWN)):
                for bar1 in (False, True):
                    for c2, members2 in (("u", UP), ("d", DOWN)):
                        for bar2 in (False, True):
                            if charged and (c1 == c2) != (bar1 != bar2):  # W⁺W⁻ needs opposite charges
                                continue
                            lum = 1.0 / (x1 * x2)
                            for xf, members, bar in ((xf1, members1, bar1), (xf2, members2, bar2)):
                                lum = lum * sum(xf[:, (-q if bar else q) + 5] * (v2[q] if charged else 1.0)
                                                for q in members)
                            id1 = (2 if c1 == "u" else 1) * (-1 if bar1 else 1)
                            id2 = (2 if c2 == "u" else 1) * (-1 if bar2 else 1)
                            me = production_coefficients(p1, p2, p3, p4, np.full(m, id1), np.full(m, id2), charged,
                                                         ew, photons)
                            total += lum[:, None] * me
            out[("CC" if charged else "NC", photons)] = total * norm[:, None]
    return out


def ratio(w, n):
    """σ_SM (pb) and linear coefficients with errors from weights (M, 6) of n sampled points."""
    s = w.sum(0) / n
    lin = s[1:3] / s[0]
    err = [np.sqrt(((w[:, 1 + j] - lin[j] * w[:, 0]) ** 2).sum() / n - (s[1 + j] - lin[j] * s[0]) ** 2) / np.sqrt(n)
           / s[0] for j in range(2)]
    return s[0], lin, np.array(err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import pythia8mc

    from simulators.wbf.generate import generate_chunk, pythia_settings
    from simulators.wbf.matrix_element import EWInputs

    start = time.perf_counter()
    params = generate_chunk({"n": 10, "seed": 1, "level": "parton", "settings": pythia_settings("parton")})["params"]
    pdf = pythia8mc.Pythia("", False).getPDFPtr(2212)
    ew = EWInputs.madminer()
    rng = np.random.default_rng(args.seed)
    parts = [weights(rng, args.points, pdf, params, ew) for _ in range(args.runs)]
    n = args.points * args.runs
    w = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    rows = dict(w)
    for photons in (True, False):  # CC and NC weights live on the same points: add them point by point
        rows[("all", photons)] = w[("CC", True)] + w[("NC", photons)]
    for key, value in rows.items():
        sigma, lin, err = ratio(value, n)
        print(f"{key[0]:>3} photons={key[1]!s:5}  sigma_SM = {sigma:.3f} pb   F_W {lin[0]:.5f} +- {err[0]:.5f}   "
              f"F_WW {lin[1]:.5f} +- {err[1]:.5f}")
    print(f"# {n} points, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
