"""Nuisance parameters: per-event exponential interpolation, Gaussian constraints and the profiled Asimov q
(docs/statistics.md §14).

Each nuisance ν_k has a standard-normal constraint and scales every event's weight by a factor that is
exponential in ν (as MadMiner's nuisance morphing; Brehmer et al., arXiv:1907.10621, Sec. 3.4):

    w_e(θ, ν) = w_e(θ)·f_e(ν),    log f_e(ν) = Σ_k a_ek ν_k + b_ek ν_k²,

with, from the weights of the variations ν_k = ±1 at the nominal θ, a_ek = ½ log(r⁺/r⁻) and b_ek = ½ log(r⁺r⁻)
(r^± = w^±/w_nominal; with only an upward variation a = log r⁺, b = 0). A normalisation uncertainty δ of a
process is a = log(1 + δ) on its events. The factor does not depend on θ: a variation measured at one θ is used at
all θ.

With Asimov data at (θ*, ν = 0), n = L·σ* expected events, the extended likelihood gives

    q(θ, ν) = q(θ) + 2L·Σ_e w_e(θ)[f_e(ν) − 1] − 2n·E_θ*[log f(ν)] + |ν|²                (unbinned)
    q(θ, ν) = 2 Σ_b [ν_b − n_b − n_b log(ν_b/n_b)] + |ν|²,  ν_b = L Σ_{e∈b} w_e(θ) f_e(ν)     (binned)

where q(θ) is the map with ν fixed at 0 (:func:`lfi.limits.asimov.extended_asimov_q` for a ratio estimator or
the truth: its per-event factor enters only through E[log f], which uses the factor of each simulated event as
that of its observed x, exact at parton level). The profiled map is min_ν q(θ, ν), found per grid point by Newton's
method, vectorised over the grid. It is never above the fixed map (ν = 0 is a candidate, so the profiled
likelihood is never below the fixed one and its contours never smaller) and equals it when the nuisances have no
effect (a = b = 0).

Shapes: N events, T grid points, K nuisances, B bins. Weights in pb, luminosity in pb⁻¹.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lfi.limits.checks import check_lumi

__all__ = ["NuisanceModel", "profiled_unbinned_q", "profiled_binned_q"]

log = logging.getLogger("lfi.limits")

_MAX_ITERATIONS = 50
_TOLERANCE = 1e-6  # a grid point is done when its Newton decrement gᵀH⁻¹g is below _TOLERANCE²


@dataclass(frozen=True)
class NuisanceModel:
    """Per-event interpolation coefficients of K nuisances.

    Attributes
    ----------
    names : tuple of str, length K
    linear, quadratic : ndarray, shape (N, K)
        a_ek and b_ek of log f_e(ν) = Σ_k a_ek ν_k + b_ek ν_k².
    """

    names: tuple[str, ...]
    linear: np.ndarray
    quadratic: np.ndarray

    def __post_init__(self) -> None:
        a, b = np.asarray(self.linear, dtype=np.float64), np.asarray(self.quadratic, dtype=np.float64)
        if a.ndim != 2 or a.shape != b.shape or a.shape[1] != len(self.names):
            raise ValueError(f"linear and quadratic must both have shape (N, K) with K = {len(self.names)} names, got "
                             f"{a.shape} and {b.shape}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ValueError("the nuisance coefficients must be finite")
        object.__setattr__(self, "linear", a)
        object.__setattr__(self, "quadratic", b)

    @property
    def n_nuisances(self) -> int:
        return len(self.names)

    @classmethod
    def from_variations(cls, names: Sequence[str], nominal: np.ndarray, up: np.ndarray,
                        down: np.ndarray | None = None) -> "NuisanceModel":
        """Coefficients from the weights of the ν = +1 (and ν = −1) variations.

        Parameters
        ----------
        names : K names
        nominal : array_like, shape (N,)
            Weights at the nominal point in pb (> 0).
        up : array_like, shape (N, K)
            Weights with ν_k = +1, all others 0 (> 0).
        down : array_like, shape (N, K), optional
            Weights with ν_k = −1; a column of NaN marks a nuisance with an upward variation only.

        Raises
        ------
        ValueError
            Naming the nuisance and the number of events, if a weight is not positive (no logarithm).
        """
        names = tuple(names)
        w = np.asarray(nominal, dtype=np.float64)
        up = np.asarray(up, dtype=np.float64)
        down = np.full_like(up, np.nan) if down is None else np.asarray(down, dtype=np.float64)
        if w.ndim != 1 or up.shape != (len(w), len(names)) or down.shape != up.shape:
            raise ValueError(f"need nominal (N,), up and down (N, K) with K = {len(names)} names; got {w.shape}, "
                             f"{up.shape} and {down.shape}")
        if np.any(w <= 0):
            raise ValueError(f"{int(np.sum(w <= 0))} events have a non-positive nominal weight: the nuisance "
                             "interpolation needs log(w_variation / w_nominal)")
        linear, quadratic = np.empty_like(up), np.empty_like(up)
        for k, name in enumerate(names):
            one_sided = np.all(np.isnan(down[:, k]))
            if not one_sided and np.any(np.isnan(down[:, k])):
                raise ValueError(f"nuisance {name!r}: its down variation is missing for some events only")
            for label, column in (("up", up[:, k]), ("down", None if one_sided else down[:, k])):
                if column is not None and not np.all(column > 0):
                    raise ValueError(f"nuisance {name!r}: {int(np.sum(~(column > 0)))} events have a non-positive "
                                     f"{label} weight; exponential interpolation needs positive weights")
            log_up = np.log(up[:, k] / w)
            if one_sided:
                linear[:, k], quadratic[:, k] = log_up, 0.0
            else:
                log_down = np.log(down[:, k] / w)
                linear[:, k], quadratic[:, k] = 0.5 * (log_up - log_down), 0.5 * (log_up + log_down)
        return cls(names, linear, quadratic)

    @classmethod
    def normalisation(cls, name: str, events: np.ndarray, relative: float) -> "NuisanceModel":
        """A log-normal normalisation uncertainty: the weights of the selected events scale by (1 + δ)^ν.

        Parameters
        ----------
        events : array_like of bool, shape (N,)
            The events it acts on (e.g. one process).
        relative : float
            δ > −1, e.g. 0.1 for 10 %.
        """
        if not relative > -1.0:
            raise ValueError(f"normalisation {name!r}: the relative uncertainty must be > -1, got {relative!r}")
        mask = np.asarray(events, dtype=bool)
        linear = np.where(mask, np.log1p(relative), 0.0)[:, None]
        return cls((name,), linear, np.zeros_like(linear))

    @classmethod
    def combine(cls, models: Sequence["NuisanceModel"]) -> "NuisanceModel":
        """All nuisances of several models on the same events (names must differ)."""
        names = tuple(n for m in models for n in m.names)
        if len(set(names)) != len(names):
            raise ValueError(f"nuisance names must be distinct, got {list(names)}")
        return cls(names, np.concatenate([m.linear for m in models], axis=1),
                   np.concatenate([m.quadratic for m in models], axis=1))

    def log_factors(self, nu: np.ndarray) -> np.ndarray:
        """log f_e(ν_t), shape (N, T) for ν of shape (T, K)."""
        nu = np.atleast_2d(np.asarray(nu, dtype=np.float64))
        return self.linear @ nu.T + self.quadratic @ (nu**2).T

    def rate_part(self, weights: np.ndarray) -> "NuisanceModel":
        """The same nuisances acting on the total rate only: one factor for all events with the cross section
        of each variation (at ν_k = ±1) equal to this model's, for events weighted with ``weights`` (N,)."""
        w = np.asarray(weights, dtype=np.float64)
        total = w.sum()
        linear, quadratic = np.empty(self.n_nuisances), np.empty(self.n_nuisances)
        for k in range(self.n_nuisances):
            unit = np.zeros(self.n_nuisances)
            unit[k] = 1.0
            log_up = np.log(w @ np.exp(self.log_factors(unit)[:, 0]) / total)
            log_down = np.log(w @ np.exp(self.log_factors(-unit)[:, 0]) / total)
            linear[k], quadratic[k] = 0.5 * (log_up - log_down), 0.5 * (log_up + log_down)
        ones = np.ones((len(w), 1))
        return NuisanceModel(self.names, ones * linear, ones * quadratic)

    def shape_part(self, weights: np.ndarray) -> "NuisanceModel":
        """What is left when the rate part is taken out: each variation keeps its shape but not its total."""
        rate = self.rate_part(weights)
        return NuisanceModel(self.names, self.linear - rate.linear, self.quadratic - rate.quadratic)

def _check(weights: np.ndarray, weights_true: np.ndarray | None, model: NuisanceModel) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weights, dtype=np.float64)
    w_true = np.zeros(w.shape[0]) if weights_true is None else np.asarray(weights_true, dtype=np.float64)
    if w.ndim != 2 or w_true.shape != (w.shape[0],) or model.linear.shape[0] != w.shape[0]:
        raise ValueError(f"need weights (N, T), weights_true (N,) and a model of N events; got {w.shape}, "
                         f"{w_true.shape} and {model.linear.shape[0]} events")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(w_true))):
        raise ValueError("weights and weights_true must be finite")
    return w, w_true


def _newton(objective, n_points: int, n_nuisances: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimise objective(ν (T, K), derivatives) per grid point; returns (value (T,), ν̂ (T, K)).

    Damped Newton steps, vectorised over the grid: a step that would raise the objective (beyond rounding) is halved;
    a point is done when its Newton decrement gᵀH⁻¹g falls below 1e-12 (q then moves by less than that).
    """
    nu = np.zeros((n_points, n_nuisances))
    value, gradient, hessian = objective(nu, True)
    eye = np.eye(n_nuisances)
    active = np.isfinite(value)
    for _ in range(_MAX_ITERATIONS):
        lowest = np.linalg.eigvalsh(hessian)[:, 0]
        shift = np.where(lowest < 1e-6, 1e-6 - lowest, 0.0)  # keep every step a descent direction
        step = np.linalg.solve(hessian + shift[:, None, None] * eye, gradient[:, :, None])[:, :, 0]
        active &= np.einsum("tk,tk->t", gradient, step) > _TOLERANCE**2
        if not np.any(active):
            break
        step[~active] = 0.0
        scale = np.ones(n_points)
        for _ in range(30):  # halve the step where the objective would rise beyond rounding
            trial = objective(nu - scale[:, None] * step, False)[0]
            worse = active & ~(trial <= value + 1e-10 * np.maximum(1.0, np.abs(value)))
            if not np.any(worse):
                break
            scale = np.where(worse, 0.5 * scale, scale)
        nu = nu - scale[:, None] * step
        value, gradient, hessian = objective(nu, True)
    else:
        log.warning("profiling the nuisances did not converge in %d Newton steps at every grid point", _MAX_ITERATIONS)
    return value, nu


def _factor_terms(model: NuisanceModel, weights: np.ndarray, nu: np.ndarray, derivatives: bool):
    """w_e(θ_t) f_e(ν_t) (N, T), and with derivatives d_etk = ∂ log f_e/∂ν_k (N, T, K)."""
    with np.errstate(over="ignore"):  # a trial step far out: an infinite q, and the step is halved
        wf = weights * np.exp(model.log_factors(nu))
    if not derivatives:
        return wf, None
    d = model.linear[:, None, :] + 2.0 * model.quadratic[:, None, :] * nu[None, :, :]
    return wf, d


def profiled_unbinned_q(q_fixed: np.ndarray, weights: np.ndarray, weights_true: np.ndarray | None, model: NuisanceModel,
                        lumi: float, *, observed: tuple[np.ndarray, np.ndarray] | None = None,
                        centre: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Profiled Asimov q(θ) = min_ν q(θ, ν) for an unbinned likelihood (ratio estimators, the truth), or the
    profiled observed t(θ) with ``observed``.

    q(θ, ν) = q_fixed(θ) + 2L(σ(θ, ν) − σ(θ)) − 2 Σ_data log f(x, ν) + |ν − a|², where the data term is the
    Asimov data set's (L·w_e(θ*) per simulated event) or, with ``observed``, the observed events' own.

    Parameters
    ----------
    q_fixed : array_like, shape (T,)
        q(θ) with ν = 0 (the usual map), computed with σ(θ) = Σ_e weights[e, t].
    weights : array_like, shape (N, T)
        w_e(θ_t) in pb; their sum is σ(θ_t).
    weights_true : array_like, shape (N,), or None
        w_e(θ*) in pb (the Asimov data set); None with ``observed``.
    model : NuisanceModel
        Coefficients of the same N events.
    lumi : float
        pb⁻¹.
    observed : (ndarray, ndarray), optional
        Σ over the observed events of their coefficients a_ek and b_ek (each (K,)), log f = aν + bν²; ``q_fixed``
        is then the observed fixed-nuisance t(θ).
    centre : ndarray, shape (K,), optional
        The global observables a of the constraints (default 0; toys draw them from N(0, 1)).

    Returns
    -------
    q : ndarray, shape (T,)
        ≤ q_fixed + |a|² (the value at ν = 0).
    nu_hat : ndarray, shape (T, K)
        The profiled nuisances per grid point.
    """
    lumi = check_lumi(lumi)
    w, w_true = _check(weights, weights_true, model)
    q_fixed = np.asarray(q_fixed, dtype=np.float64)
    if q_fixed.shape != (w.shape[1],):
        raise ValueError(f"q_fixed must have shape (T,) = ({w.shape[1]},), got {q_fixed.shape}")
    if observed is None:
        if weights_true is None:
            raise ValueError("give weights_true (Asimov data) or observed (observed data)")
        n = lumi * w_true.sum()
        data_linear, data_quadratic = n * (w_true @ model.linear) / w_true.sum(), n * (w_true @ model.quadratic) / w_true.sum()
    else:
        data_linear, data_quadratic = (np.asarray(v, dtype=np.float64).reshape(model.n_nuisances) for v in observed)
    a = _centre(centre, model)
    sigma = w.sum(axis=0)
    finite = np.isfinite(q_fixed)
    eye = np.eye(model.n_nuisances)

    def objective(nu: np.ndarray, derivatives: bool):
        wf, d = _factor_terms(model, w, nu, derivatives)
        value = (q_fixed + 2.0 * lumi * (wf.sum(axis=0) - sigma) - 2.0 * (nu @ data_linear + nu**2 @ data_quadratic)
                 + np.sum((nu - a) ** 2, axis=1))
        value = np.where(finite, value, np.inf)
        if not derivatives:
            return value, None, None
        gradient = (2.0 * lumi * np.einsum("nt,ntk->tk", wf, d) - 2.0 * (data_linear + 2.0 * nu * data_quadratic)
                    + 2.0 * (nu - a))
        hessian = 2.0 * lumi * (np.einsum("nt,ntk,ntl->tkl", wf, d, d)
                                + 2.0 * np.einsum("nt,nk->tk", wf, model.quadratic)[:, :, None] * eye)
        hessian += (2.0 - 4.0 * data_quadratic)[None, :, None] * eye
        return value, np.where(finite[:, None], gradient, 0.0), np.where(finite[:, None, None], hessian, eye)

    value, nu = _newton(objective, len(q_fixed), model.n_nuisances)
    at_zero = q_fixed + float(a @ a)
    return np.where(finite, np.minimum(value, at_zero), at_zero), nu


def _centre(centre: np.ndarray | None, model: NuisanceModel) -> np.ndarray:
    if centre is None:
        return np.zeros(model.n_nuisances)
    a = np.asarray(centre, dtype=np.float64).reshape(-1)
    if a.shape != (model.n_nuisances,) or not np.all(np.isfinite(a)):
        raise ValueError(f"centre must be {model.n_nuisances} finite numbers, got {a.tolist()}")
    return a


def profiled_binned_q(bins: np.ndarray, n_bins: int, weights: np.ndarray, weights_true: np.ndarray,
                      model: NuisanceModel, lumi: float, *, counts: np.ndarray | None = None,
                      centre: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Profiled Asimov q(θ) of a histogram: ν_b(θ, ν) = L Σ_{e∈b} w_e(θ) f_e(ν) against the Asimov counts at
    (θ*, ν = 0), or against observed ``counts``, with the constraint |ν − a|².

    Parameters
    ----------
    bins : array_like of int, shape (N,)
        Bin of every event (:func:`lfi.limits.histogram.bin_index`).
    n_bins : int
    weights, weights_true, model, lumi, centre
        As in :func:`profiled_unbinned_q`.
    counts : ndarray, shape (n_bins,), optional
        Observed counts per bin (default: the Asimov counts L Σ_{e∈b} w_e(θ*)); the value is then the observed
        −2 log L up to a constant.

    Returns
    -------
    q : ndarray, shape (T,)
    nu_hat : ndarray, shape (T, K)
    """
    from scipy import sparse

    lumi = check_lumi(lumi)
    w, w_true = _check(weights, weights_true, model)
    index = np.asarray(bins, dtype=np.int64)
    if index.shape != (w.shape[0],) or (len(index) and (index.min() < 0 or index.max() >= n_bins)):
        raise ValueError(f"bins must be (N,) = ({w.shape[0]},) integers in [0, {n_bins})")
    onehot = sparse.csr_matrix((np.ones(len(index)), (index, np.arange(len(index)))), shape=(n_bins, len(index)))
    counts = lumi * (onehot @ w_true) if counts is None else np.asarray(counts, dtype=np.float64)  # (B,)
    if counts.shape != (n_bins,):
        raise ValueError(f"counts must have shape ({n_bins},), got {counts.shape}")
    a = _centre(centre, model)
    data = counts > 0
    eye = np.eye(model.n_nuisances)
    n_points, k = w.shape[1], model.n_nuisances

    def objective(nu: np.ndarray, derivatives: bool):
        wf, d = _factor_terms(model, w, nu, derivatives)
        yields = lumi * (onehot @ wf).T  # (T, B)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a far trial step: rejected, halved
            logs = np.where(data, counts * np.log(np.where(data, yields, 1.0) / np.where(data, counts, 1.0)), 0.0)
        excluded = np.any(data & (yields <= 0), axis=1)
        with np.errstate(invalid="ignore"):  # inf − inf after an overflowing trial step: NaN, rejected
            value = np.where(excluded, np.inf, 2.0 * np.sum(yields - counts - logs, axis=1) + np.sum((nu - a) ** 2, axis=1))
        if not derivatives:
            return value, None, None
        first = lumi * (onehot @ (wf[:, :, None] * d).reshape(len(w), -1)).reshape(n_bins, n_points, k)  # ∂ν_b
        second = lumi * (onehot @ (wf[:, :, None, None] * (d[:, :, :, None] * d[:, :, None, :]
                                                           + 2.0 * model.quadratic[:, None, :, None] * eye)
                                   ).reshape(len(w), -1)).reshape(n_bins, n_points, k, k)
        ratio = np.where(data[None, :], counts[None, :] / np.where(yields > 0, yields, 1.0), 0.0)  # (T, B)
        gradient = 2.0 * np.einsum("tb,btk->tk", 1.0 - ratio, first) + 2.0 * (nu - a)
        hessian = (2.0 * np.einsum("tb,btkl->tkl", 1.0 - ratio, second)
                   + 2.0 * np.einsum("tb,btk,btl->tkl", ratio / np.where(yields > 0, yields, 1.0), first, first)
                   + 2.0 * eye)
        return value, gradient, hessian

    value, nu = _newton(objective, n_points, k)
    return value, nu
