"""The toy's parton-level model: amplitudes, base density and exact sampling of the latent z.

z = (z_pt, z_dphi, z_deta) mimics a WBF-like final state: a transverse momentum in GeV, a signed
azimuthal separation in rad and a signed rapidity separation. The differential cross section is

    dσ(z|θ) = σ0 · [ |A0(z) + θ0·A1(z) + θ1·A2(z)|² + ε ] · p0(z),

with complex amplitudes that factorise over the three coordinates, A_k(z) = c_k · Π_d f_kd(z_d), and a
normalised base density p0(z) = p_pt(z_pt) p_dphi(z_dphi) p_deta(z_deta). The θ-dependence is an
exact quadratic (6 morphing components) and dσ > 0 everywhere (ε > 0). A1 grows with z_pt and
modulates Δφ (like an energy-growing operator), A2 grows with z_pt and is odd in Δη, so no single
2-D histogram of the observables carries all the information.

Shapes: N events; the 6 components follow ``lfi.morphing.monomial_components(2, 2)``:
1, θ0, θ1, θ0², θ0θ1, θ1².
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["ToyModel", "COMPONENT_PAIRS"]

# (k, l) amplitude pairs behind each morphing component, θ-vector (1, θ0, θ1).
COMPONENT_PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))

Factor = Callable[[np.ndarray], np.ndarray]


def _one(z: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


@dataclass(frozen=True)
class ToyModel:
    """Parameters of the toy's parton-level physics.

    Attributes
    ----------
    sigma0 : float
        Cross-section scale in pb (σ at θ = 0 is σ0·(1 + ε)).
    pt_scale : float
        λ of the base spectrum p_pt(z) ∝ z·exp(−z/λ), GeV.
    pt_max : float
        Upper end of the z_pt domain, GeV.
    mu : float
        Scale of the energy growth of A1 and A2, GeV.
    deta_width, deta_max : float
        Width of the truncated Gaussian base in z_deta and its |z_deta| cut.
    c1, c2 : complex
        Couplings of A1 and A2 (A0 has c0 = 1).
    epsilon : float
        Non-interfering constant term that keeps dσ strictly positive.
    dphi_offset : float
        A1 ∝ (dphi_offset + cos z_dphi): the offset gives θ0 a linear effect on the rate.
    """

    sigma0: float = 1.0
    pt_scale: float = 40.0
    pt_max: float = 600.0
    mu: float = 100.0
    deta_width: float = 1.5
    deta_max: float = 5.0
    c1: complex = 1.0 + 0.4j
    c2: complex = 0.6 - 0.7j
    epsilon: float = 0.05
    dphi_offset: float = 0.3

    # ------------------------------------------------------------------ amplitude factors
    @property
    def couplings(self) -> np.ndarray:
        """c_k, shape (3,) complex."""
        return np.array([1.0, self.c1, self.c2], dtype=complex)

    def factors(self) -> list[list[Factor]]:
        """f_kd: factors[k][d] is the 1-D function of amplitude k in coordinate d."""
        growth = lambda z: z / self.mu  # noqa: E731
        return [
            [_one, _one, _one],
            [growth, lambda z: self.dphi_offset + np.cos(z), _one],
            [growth, _one, np.tanh],
        ]

    def base_densities(self) -> list[Factor]:
        """Unnormalised base densities per coordinate (normalised numerically where needed)."""
        lam, width = self.pt_scale, self.deta_width
        return [
            lambda z: np.where((z > 0) & (z <= self.pt_max), z * np.exp(-z / lam), 0.0),
            lambda z: np.where(np.abs(z) <= np.pi, 1.0, 0.0),
            lambda z: np.where(np.abs(z) <= self.deta_max, np.exp(-0.5 * (z / width) ** 2), 0.0),
        ]

    def component_terms(self) -> list[list[tuple[float, list[Factor]]]]:
        """For each morphing component, its separable terms (coefficient, [f_0(z_0), f_1(z_1), f_2(z_2)]).

        |Σ_k θ̃_k A_k|² + ε = Σ_c α_c(θ) Σ_terms coefficient·Π_d f_d(z_d), with θ̃ = (1, θ0, θ1).
        """
        c, f = self.couplings, self.factors()
        terms = []
        for k, l in COMPONENT_PAIRS:
            coefficient = (1.0 if k == l else 2.0) * float(np.real(c[k] * np.conj(c[l])))
            product = [(lambda fk, fl: (lambda z: fk(z) * fl(z)))(f[k][d], f[l][d]) for d in range(3)]
            entry = [(coefficient, product)]
            if (k, l) == (0, 0):
                entry.append((self.epsilon, [_one, _one, _one]))
            terms.append(entry)
        return terms

    # ------------------------------------------------------------------ per-event quantities
    def amplitudes(self, z: np.ndarray) -> np.ndarray:
        """A_k(z), shape (N, 3) complex, for z of shape (N, 3)."""
        f = self.factors()
        out = np.empty((len(z), 3), dtype=complex)
        for k in range(3):
            out[:, k] = self.couplings[k] * f[k][0](z[:, 0]) * f[k][1](z[:, 1]) * f[k][2](z[:, 2])
        return out

    def joint_coefficients(self, z: np.ndarray) -> np.ndarray:
        """g_c(z) with dσ(z|θ)/dz = σ0·p0(z)·Σ_c α_c(θ) g_c(z); shape (N, 6)."""
        a = self.amplitudes(z)
        out = np.empty((len(z), len(COMPONENT_PAIRS)))
        for i, (k, l) in enumerate(COMPONENT_PAIRS):
            out[:, i] = (1.0 if k == l else 2.0) * np.real(a[:, k] * np.conj(a[:, l]))
        out[:, 0] += self.epsilon
        return out

    # ------------------------------------------------------------------ sampling
    def sample(self, theta: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n latent points z from p(z|θ) exactly (unweighted), shape (n, 3).

        The envelope (1 + B·z_pt/μ)² + ε with B = Σ_k |θ̃_k c_k| (k ≥ 1) bounds the bracket for every
        z; multiplied by z·exp(−z/λ) it is a mixture of Gamma(2), Gamma(3), Gamma(4) densities, which
        is sampled exactly and thinned by accept–reject.
        """
        theta = np.asarray(theta, dtype=float)
        if n <= 0:  # a benchmark's share of a sample smaller than the basis (fewer than 6 events) can be empty
            return np.empty((0, 3))
        b = abs(theta[0] * self.c1) * (1 + abs(self.dphi_offset)) + abs(theta[1] * self.c2)
        lam, mu = self.pt_scale, self.mu
        # ∫ z^(s-1) e^{-z/λ} dz = Γ(s) λ^s for the shapes s = 2, 3, 4
        mix = np.array([(1 + self.epsilon) * 1 * lam**2, 2 * b / mu * 2 * lam**3, (b / mu) ** 2 * 6 * lam**4])
        mix = mix / mix.sum()
        chunks, have = [], 0
        while have < n:
            m = max(2 * (n - have), 1024)
            shape = rng.choice([2.0, 3.0, 4.0], size=m, p=mix)
            z = np.column_stack(
                [rng.gamma(shape, lam), rng.uniform(-np.pi, np.pi, m), rng.normal(0.0, self.deta_width, m)]
            )
            z = z[(z[:, 0] <= self.pt_max) & (np.abs(z[:, 2]) <= self.deta_max)]
            amp = self.amplitudes(z) @ np.array([1.0, theta[0], theta[1]])
            bracket = np.abs(amp) ** 2 + self.epsilon
            envelope = (1 + b * z[:, 0] / mu) ** 2 + self.epsilon
            keep = rng.uniform(size=len(z)) * envelope < bracket
            chunks.append(z[keep])
            have += int(keep.sum())
        return np.concatenate(chunks)[:n]
