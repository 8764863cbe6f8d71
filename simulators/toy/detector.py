"""The toy's detector: smearing z → x, its response kernels, and the object list built from x.

Response (independent per coordinate):
- x_pt = z_pt·exp(σ_pt·n): log-normal, relative resolution σ_pt (default 20 %);
- x_dphi = wrap(z_dphi + σ_dphi·n) into (−π, π]: wrapped Gaussian, σ_dphi in rad;
- x_deta = z_deta + σ_deta·n: Gaussian.

Objects are a deterministic function of x plus nuisances whose distribution does not depend on θ
(event rapidity and azimuth, two leptons), so the likelihood ratio of the object list equals the one
of x and the exact truth stays the truth for every estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfi.objects import ANTIMUON, ELECTRON, JET, MUON, POSITRON, four_momenta, mass, wrap_phi

__all__ = ["Detector", "OBSERVABLES"]

OBSERVABLES = ("pt_j1", "pt_j2", "delta_phi_jj", "delta_eta_jj", "m_jj", "pt_l1")
_JET_MASS = 5.0  # GeV
_SECOND_JET_FRACTION = 0.6


def _gauss(u: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * (u / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


@dataclass(frozen=True)
class Detector:
    """Resolutions of the toy detector.

    Attributes
    ----------
    sigma_pt : float
        Relative (log-normal) pT resolution.
    sigma_dphi : float
        Δφ resolution, rad.
    sigma_deta : float
        Δη resolution.
    """

    sigma_pt: float = 0.2
    sigma_dphi: float = 0.4
    sigma_deta: float = 0.4

    def smear(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Observed x from latent z, both shape (N, 3)."""
        n = rng.normal(size=z.shape)
        return np.column_stack(
            [
                z[:, 0] * np.exp(self.sigma_pt * n[:, 0]),
                wrap_phi(z[:, 1] + self.sigma_dphi * n[:, 1]),
                z[:, 2] + self.sigma_deta * n[:, 2],
            ]
        )

    def kernel(self, d: int, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Response of coordinate d on a grid: x-grid and K[i, j] = p(x_i | z_j).

        For d = 0 both grids are in log pT (the kernel is then a Gaussian in log pT).

        Parameters
        ----------
        d : int
        v : ndarray, shape (M,)
            Uniform grid of the latent variable (log z_pt for d = 0).

        Returns
        -------
        x_grid : ndarray, shape (K,)
        kernel : ndarray, shape (K, M)
        """
        step = v[1] - v[0]
        if d == 1:
            x = np.linspace(-np.pi, np.pi, len(v))
            diff = x[:, None] - v[None, :]
            kernel = sum(_gauss(diff + 2 * np.pi * k, self.sigma_dphi) for k in range(-3, 4))
            return x, kernel
        sigma = self.sigma_pt if d == 0 else self.sigma_deta
        pad = int(np.ceil(7 * sigma / step))
        x = v[0] + step * np.arange(-pad, len(v) + pad)
        return x, _gauss(x[:, None] - v[None, :], sigma)

    def objects(self, x: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Object list, globals and observables from x, shape (N, 3).

        Returns
        -------
        dict with ``momenta`` (N, 4, 4) GeV, ``types`` (N, 4), ``globals`` (N, 2) = (met GeV, met_phi rad),
        ``observables`` dict of (N,) arrays.
        """
        n = len(x)
        pt1, dphi, deta = x[:, 0], x[:, 1], x[:, 2]
        pt2 = _SECOND_JET_FRACTION * pt1
        eta0, phi0 = rng.normal(0.0, 1.0, n), rng.uniform(-np.pi, np.pi, n)
        jet1 = four_momenta(pt1, eta0 + deta / 2, wrap_phi(phi0 + dphi / 2), _JET_MASS)
        jet2 = four_momenta(pt2, eta0 - deta / 2, wrap_phi(phi0 - dphi / 2), _JET_MASS)
        lepton_pt = 20.0 + rng.exponential(30.0, (n, 2))
        lepton_eta = rng.normal(0.0, 1.2, (n, 2))
        lepton_phi = rng.uniform(-np.pi, np.pi, (n, 2))
        leptons = four_momenta(lepton_pt, lepton_eta, lepton_phi, 0.0)
        muon = rng.uniform(size=n) < 0.5
        lepton_types = np.where(muon[:, None], [MUON, ANTIMUON], [ELECTRON, POSITRON])
        momenta = np.concatenate([jet1[:, None], jet2[:, None], leptons], axis=1)
        types = np.concatenate([np.full((n, 2), JET), lepton_types], axis=1)
        pts = np.concatenate([pt1[:, None], pt2[:, None], lepton_pt], axis=1)
        order = np.argsort(-pts, axis=1, kind="stable")
        momenta = np.take_along_axis(momenta, order[:, :, None], axis=1)
        types = np.take_along_axis(types, order, axis=1)
        met_x, met_y = -momenta[:, :, 1].sum(axis=1), -momenta[:, :, 2].sum(axis=1)
        m_jj = mass(jet1 + jet2)
        observables = {
            "pt_j1": pt1,
            "pt_j2": pt2,
            "delta_phi_jj": dphi,
            "delta_eta_jj": deta,
            "m_jj": m_jj,
            "pt_l1": lepton_pt.max(axis=1),
        }
        return {
            "momenta": momenta,
            "types": types,
            "globals": np.column_stack([np.hypot(met_x, met_y), np.arctan2(met_y, met_x)]),
            "observables": observables,
        }
