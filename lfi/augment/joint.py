"""Joint likelihood ratio r(x,z|θ0,θ1) and joint score t(x,z|θ) from morphed event weights.

With weights w_e(θ) ∝ dσ(z_e|θ) (docs/method.md §2; Brehmer et al., arXiv:1805.00020, eqs. 15–16):

    r(x_e, z_e|θ0, θ1) = [w_e(θ0)/σ(θ0)] / [w_e(θ1)/σ(θ1)],
    t(x_e, z_e|θ)      = ∇θ w_e(θ)/w_e(θ) − ∇θ σ(θ)/σ(θ),

where σ(θ) = Σ_e w_e(θ) over the whole sample. Each event may have its own θ (training draws a
different θ per event). Shapes: N events, C basis benchmarks, D parameters.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import EventFileError, OptionError
from lfi.events import EventSample
from lfi.morphing import Morpher

__all__ = ["JointQuantities"]


class JointQuantities:
    """Morphed weights, cross sections, joint ratios and scores of one sample.

    Parameters
    ----------
    sample : EventSample
        Must carry a morphing setup (else :class:`lfi.errors.EventFileError`).
    """

    def __init__(self, sample: EventSample):
        if not sample.can_morph:
            raise EventFileError("this sample carries no /morphing group: its weights are known only at the "
                                 "benchmarks, and weights at other θ are needed here")
        self.morpher: Morpher = sample.morpher()
        self.basis_weights = sample.weights[:, sample.morphing_basis]  # (N, C) pb
        self.basis_sigma = self.basis_weights.sum(axis=0)  # (C,) pb

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        """σ(θ) in pb, shape (T,) for θ of shape (T, D)."""
        return self.morpher.weights(theta) @ self.basis_sigma

    def weights(self, theta: np.ndarray, events: np.ndarray | slice = slice(None)) -> np.ndarray:
        """w_e(θ) in pb for every event and every θ, shape (N, T)."""
        return self.basis_weights[events] @ self.morpher.weights(theta).T

    def weights_and_gradients(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """w_e(θ) in pb, shape (N,), and ∇θ w_e(θ) in pb per unit θ, shape (N, D), of every event at one θ (D,)."""
        theta = np.asarray(theta, dtype=np.float64).reshape(1, -1)
        gradients = self.morpher.weight_gradients(theta)[0]  # (D, C)
        return self.basis_weights @ self.morpher.weights(theta)[0], self.basis_weights @ gradients.T

    def _per_event(self, theta: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, ...]:
        """w_e(θ_e), ∇w_e(θ_e), σ(θ_e), ∇σ(θ_e) for paired events and points θ (N, D)."""
        mw = self.morpher.weights(theta)  # (N, C)
        gw = self.morpher.weight_gradients(theta)  # (N, D, C)
        wb = self.basis_weights[events]  # (N, C)
        w = np.einsum("nc,nc->n", wb, mw)
        grad_w = np.einsum("nc,ndc->nd", wb, gw)
        return w, grad_w, mw @ self.basis_sigma, gw @ self.basis_sigma

    def log_ratio(self, events: np.ndarray, theta0: np.ndarray, theta1: np.ndarray) -> np.ndarray:
        """log r(x_e, z_e|θ0_e, θ1_e), shape (N,); θ0, θ1 of shape (N, D) or (D,).

        Raises OptionError (a ValueError) if a weight is not positive at θ0 or θ1 (the joint ratio has no log then).
        """
        return self.ratio_and_scores(events, theta0, theta1)[0]

    def ratio_and_scores(self, events: np.ndarray, theta0: np.ndarray,
                         theta1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log r(x_e, z_e|θ0_e, θ1_e) (N,) and the joint scores t(x_e, z_e|θ0_e), t(x_e, z_e|θ1_e) (N, D) of a
        training batch, from one morphing evaluation per point (not one per quantity).

        Raises OptionError (a ValueError) if a weight is not positive at θ0 or θ1 (the joint ratio has no log then).
        """
        (log_p0, score0, w0), (log_p1, score1, w1) = (self._log_p_and_score(events, t) for t in (theta0, theta1))
        if np.any(w0 <= 0) or np.any(w1 <= 0):
            raise OptionError("joint log ratio needs positive weights; this sample has non-positive morphed weights")
        return log_p0 - log_p1, score0, score1

    def _log_p_and_score(self, events: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log(w_e(θ_e)/σ(θ_e)) (NaN where w ≤ 0), t(x_e, z_e|θ_e) and w_e(θ_e) for paired events and points."""
        theta = np.broadcast_to(np.asarray(theta, float), (len(events), self.morpher.n_parameters))
        w, grad_w, s, grad_s = self._per_event(theta, events)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = np.log(w) - np.log(s)
        return log_p, grad_w / w[:, None] - grad_s / s[:, None], w

    def score(self, events: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """t(x_e, z_e|θ_e), shape (N, D); θ of shape (N, D) or (D,)."""
        return self._log_p_and_score(events, theta)[1]
