"""Losses by name (``docs/method.md`` §5; Brehmer et al., arXiv:1805.00020 and 1805.00013; MadMiner 1907.10621).

Ratio estimators output ℓ = log r̂(x|θ0, θ1); ŝ = 1/(1 + r̂) = sigmoid(−ℓ). Labels: y = 1 for events drawn
at θ1, y = 0 for events drawn at θ0. Everything that can overflow is computed from ℓ and log r in log
space (BCE with logits) or in float64 with log r̂ clamped to ±30 (ROLR's squared ratios stay finite
for r̂ up to 1e13 and r up to 1e6 and beyond).

Every loss takes an optional per-event weight w (negative weights allowed) and returns the weighted mean
Σ w·loss / Σ w. With negative weights the weighted mean is still an unbiased estimate of the expected
loss, but it is not bounded below per batch: watch the validation loss.

Signatures: ``loss(batch, outputs) -> Tensor`` (scalar) where ``outputs`` holds the model's ``log_r``,
``score0`` = ∇θ0 log r̂ (when the method needs it), ``score`` (SALLY) or ``logits`` (classifiers); for the
density methods (NDE, SCANDAL) ``log_p`` = log p̂(x|θ0) and ``score0`` = ∇θ0 log p̂(x|θ0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from lfi.train.methods import DENSITY, METHOD_KIND, METHODS, WITH_SCORE, method_kind

__all__ = ["Loss", "LOSSES", "get_loss", "METHOD_KIND"]

_EXP_CLAMP = 30.0  # e^30 ≈ 1e13: (r̂ − r)² ≈ 1e26 stays finite even in float32


def _weighted_mean(values: Tensor, weight: Tensor | None) -> Tensor:
    if weight is None:
        return values.mean().float()
    weight = weight.to(values.dtype)
    return ((weight * values).sum() / weight.sum()).float()


def _rolr(log_r_hat: Tensor, log_r: Tensor, y: Tensor) -> Tensor:
    """y·(r̂ − r)² + (1 − y)·(1/r̂ − 1/r)², per event (float64)."""
    log_r_hat, log_r, y = log_r_hat.double(), log_r.double(), y.double()
    r_hat, r = torch.exp(log_r_hat.clamp(max=_EXP_CLAMP)), torch.exp(log_r.clamp(max=_EXP_CLAMP))
    inv_hat, inv = torch.exp((-log_r_hat).clamp(max=_EXP_CLAMP)), torch.exp((-log_r).clamp(max=_EXP_CLAMP))
    return y * (r_hat - r) ** 2 + (1 - y) * (inv_hat - inv) ** 2


def _carl(log_r_hat: Tensor, y: Tensor) -> Tensor:
    """BCE(ŝ, y) with ŝ = sigmoid(−ℓ), per event."""
    return F.binary_cross_entropy_with_logits(-log_r_hat, y, reduction="none")


def _alice(log_r_hat: Tensor, log_r: Tensor) -> Tensor:
    """BCE(ŝ, s(x,z)) with s = 1/(1 + r(x,z)) = sigmoid(−log r), per event."""
    return F.binary_cross_entropy_with_logits(-log_r_hat, torch.sigmoid(-log_r), reduction="none")


def _score_mse(score_hat: Tensor, score: Tensor) -> Tensor:
    return ((score_hat - score) ** 2).sum(dim=-1)


@dataclass(frozen=True)
class Loss:
    """A named loss: which model outputs it needs and how it combines them.

    Attributes
    ----------
    name : str
    kind : {"ratio", "score", "classifier"}
        The head it trains.
    needs_score : bool
        Whether t̂ = ∇θ0 log r̂ (∇θ0 log p̂ for SCANDAL) must be computed (by autograd) for the score term.
    alpha : float
        Weight of the score term for RASCAL, ALICES, CASCAL, SCANDAL.
    focal_alpha, focal_gamma : float
        Focal-loss parameters.
    """

    name: str
    kind: str
    needs_score: bool = False
    alpha: float = 1.0
    focal_alpha: float = 0.75
    focal_gamma: float = 3.0

    @property
    def density(self) -> bool:
        """Whether the model outputs log p̂(x|θ0) (``log_p``) rather than log r̂(x|θ0, θ1)."""
        return self.name in DENSITY

    def __call__(self, batch: dict[str, Tensor], outputs: dict[str, Tensor]) -> Tensor:
        w = batch.get("weight")
        if self.kind == "score":
            return _weighted_mean(_score_mse(outputs["score"], batch["score0"]), w)
        if self.kind == "classifier":
            return _weighted_mean(self._classification(outputs["logits"], batch["label"]), w)
        if self.density:  # events drawn at θ0 (y = 0): −log p̂(x|θ0) (+ α·‖t̂ − t‖² for SCANDAL)
            base = -outputs["log_p"].double()
            if self.needs_score:
                base = base + self.alpha * _score_mse(outputs["score0"], batch["score0"]).double()
            return _weighted_mean(base, w)
        log_r_hat, log_r, y = outputs["log_r"], batch["log_r"], batch["y"]
        base = {
            "carl": lambda: _carl(log_r_hat, y),
            "cascal": lambda: _carl(log_r_hat, y),
            "rolr": lambda: _rolr(log_r_hat, log_r, y),
            "rascal": lambda: _rolr(log_r_hat, log_r, y),
            "alice": lambda: _alice(log_r_hat, log_r),
            "alices": lambda: _alice(log_r_hat, log_r),
        }[self.name]()
        if self.needs_score:
            base = base + self.alpha * (1 - y) * _score_mse(outputs["score0"], batch["score0"])
        return _weighted_mean(base, w)

    def _classification(self, logits: Tensor, label: Tensor) -> Tensor:
        if logits.shape[-1] == 1:  # binary: one logit
            target = label.to(logits.dtype)
            ce = F.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="none")
            if self.name == "ce":
                return ce
            p_true = torch.exp(-ce)
            alpha = torch.where(label == 1, self.focal_alpha, 1 - self.focal_alpha)
            return alpha * (1 - p_true) ** self.focal_gamma * ce
        ce = F.cross_entropy(logits, label.long(), reduction="none")
        if self.name == "ce":
            return ce
        p_true = torch.exp(-ce)
        return self.focal_alpha * (1 - p_true) ** self.focal_gamma * ce


LOSSES = METHODS
#: Default weight α of the score term by method (1 where not listed).
DEFAULT_ALPHA = {"scandal": 1e-2}


def get_loss(method: str, alpha: float | None = None, focal_alpha: float = 0.75, focal_gamma: float = 3.0) -> Loss:
    """The loss of a method by name; ``sallino`` trains exactly like ``sally`` (the difference is in the limits).
    ``alpha`` defaults to :data:`DEFAULT_ALPHA` (1 for RASCAL, ALICES, CASCAL; 0.01 for SCANDAL).

    Raises
    ------
    KeyError
        Unknown method; the message lists the valid names.
    """
    kind = method_kind(method)
    method = method.lower()
    name = "sally" if method == "sallino" else method
    alpha = DEFAULT_ALPHA.get(name, 1.0) if alpha is None else alpha
    return Loss(name, kind, method in WITH_SCORE, alpha, focal_alpha, focal_gamma)
