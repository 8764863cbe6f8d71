"""Expected likelihood maps with nuisance parameters profiled: ratio estimators and the truth (unbinned),
histograms (binned) and SALLY (linearised, through the Fisher information) (docs/statistics.md §14); and the
observed profiled maps of the truth and histograms that the toys of ``lfi coverage --nuisance`` use (§15).

The nuisance model comes from the sample's stored variations (:meth:`lfi.events.EventSample.nuisance_model`)
and from normalisation uncertainties per process; :mod:`lfi.limits.nuisance` does the profiling. Shapes: N test
events, T grid points, K nuisances. Units: weights in pb, luminosity in pb⁻¹.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.errors import OptionError, UnknownNameError
from lfi.events import EventSample
from lfi.limits.information import profile_information
from lfi.limits.observed import q_from_t
from lfi.limits.nuisance import NuisanceModel, profiled_binned_q, profiled_unbinned_q
from lfi.protocols import NuisanceFactors

__all__ = ["nuisance_model_for", "profiled_unbinned_map", "profiled_histogram_map", "profiled_sally_map",
           "observed_profiled_unbinned_map", "observed_profiled_histogram_map"]

_PROFILE_BLOCK = 4_000_000  # (event, grid point, nuisance²) entries per block of the Newton step


def nuisance_model_for(sample: EventSample, names: Sequence[str] = (),
                       normalisations: Mapping[str, float] | None = None,
                       learned: NuisanceFactors | None = None) -> NuisanceModel:
    """The nuisances to profile: stored variations by name (``"all"`` for every one) and a log-normal normalisation
    uncertainty per process (process name → relative uncertainty δ).

    With ``learned`` (a nuisance model of ``lfi nuisance-train``) the named nuisances are the learned ones, their
    factors f̂(x) evaluated on the sample's events (§16), and the sample needs no stored variations.

    Raises
    ------
    lfi.errors.UnknownNameError
        A nuisance or process the sample (or the learned model) does not have (the message lists those it has).
    lfi.errors.OptionError
        Nothing to profile, or δ ≤ −1.
    """
    models = []
    if learned is not None:
        models.append(learned.nuisance_model(sample, list(names) or ["all"]))
        names = []
    names = list(sample.nuisance_names) if list(names) == ["all"] else list(dict.fromkeys(names))
    if names:
        unknown = [n for n in names if n not in sample.nuisance_names]
        if unknown:
            have = ", ".join(sample.nuisance_names) or "none (simulate with --nuisances)"
            raise UnknownNameError(f"--nuisance: no nuisance {unknown[0]!r} in the sample; it has {have}")
        stored = sample.nuisance_model()
        keep = [sample.nuisance_names.index(n) for n in names]
        models.append(NuisanceModel(tuple(names), stored.linear[:, keep], stored.quadratic[:, keep]))
    for process, relative in (normalisations or {}).items():
        if process not in sample.process_names:
            raise UnknownNameError(f"--normalisation: no process {process!r} in the sample; it has "
                                   f"{', '.join(sample.process_names)}")
        try:
            models.append(NuisanceModel.normalisation(f"norm_{process}",
                                                      sample.process == sample.process_names.index(process), relative))
        except ValueError as err:
            raise OptionError(f"--normalisation {process}={relative}: {err}") from None
    if not models:
        raise OptionError("no nuisance to profile: give --nuisance NAME (or all) or --normalisation PROCESS=δ")
    try:
        return NuisanceModel.combine(models)
    except ValueError as err:  # a stored nuisance called norm_<process>
        raise OptionError(f"--nuisance/--normalisation: {err}") from None


def _in_blocks(sample: EventSample, model: NuisanceModel, chunk: int, n_points: int, compute) -> np.ndarray:
    """``compute(block)`` for consecutive slices of the grid, sized so that a Newton step's (event, point,
    nuisance²) arrays stay near :data:`_PROFILE_BLOCK` entries; concatenated, shape (T,)."""
    step = max(1, min(chunk, _PROFILE_BLOCK // max(1, len(sample) * model.n_nuisances ** 2)))
    out = np.empty(n_points)
    for start in range(0, n_points, step):
        block = slice(start, start + step)
        out[block] = compute(block)
    return out


def profiled_unbinned_map(q_fixed: np.ndarray, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
                          lumi: float, model: NuisanceModel, *, chunk: int = 128) -> np.ndarray:
    """min_ν q(θ, ν) of an unbinned map (ratio estimator or truth) from its fixed-nuisance map ``q_fixed`` (T,)."""
    joint = JointQuantities(sample)
    w_true = sample.weights_at(np.asarray(theta_true, float))
    return _in_blocks(sample, model, chunk, len(points), lambda block: profiled_unbinned_q(
        q_fixed[block], joint.weights(points[block]), w_true, model, lumi)[0])


def profiled_histogram_map(sample: EventSample, observables: Sequence[str], points: np.ndarray,
                           theta_true: np.ndarray, lumi: float, model: NuisanceModel, *, binning: str = "auto",
                           n_bins: int | None = None, chunk: int = 128) -> np.ndarray:
    """min_ν q(θ, ν) of a 1-D or 2-D histogram (the bins of :func:`lfi.evaluate.histogram_map`)."""
    from lfi.evaluate import histogram_binning

    w_true = sample.weights_at(np.asarray(theta_true, float))
    x, edges = histogram_binning(sample, observables, w_true, binning=binning, n_bins=n_bins)
    bins, n = limits.bin_index(x, edges)
    joint = JointQuantities(sample)
    return _in_blocks(sample, model, chunk, len(points), lambda block: profiled_binned_q(
        bins, n, joint.weights(points[block]), w_true, model, lumi)[0])


def profiled_sally_map(score: np.ndarray, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
                       lumi: float, model: NuisanceModel) -> np.ndarray:
    """SALLY's linearised q(θ) = (θ − θ*)ᵀ I_prof (θ − θ*) with the nuisances profiled out of the Fisher information.

    The score of ν_k at ν = 0 is known per event, a_ek − E[a_k]; with the learned t̂(x) it fills the (D + K)²
    information, the standard-normal constraints add 1 to the ν block, and the Schur complement profiles ν.
    """
    from lfi.fisher import score_information

    theta_true = np.asarray(theta_true, float)
    info = score_information(sample, score, lumi, theta_true, nuisances=model)
    return limits.sally_q(points, profile_information(info, list(range(sample.n_parameters))), theta_true)


def observed_profiled_unbinned_map(t_fixed: np.ndarray, sample: EventSample, points: np.ndarray, lumi: float,
                                   model: NuisanceModel, data_model: NuisanceModel, *, centre: np.ndarray | None = None,
                                   counts: np.ndarray | None = None, chunk: int = 128) -> np.ndarray:
    """Observed q(θ) = t(θ) − min t of an unbinned likelihood (the truth or a ratio estimator) with the nuisances
    profiled, t(θ) = min_ν t(θ, ν), shape (T,).

    Parameters
    ----------
    t_fixed : ndarray, shape (T,)
        The observed −2 log L(θ) with ν = 0 (:func:`lfi.evaluate_observed.observed_truth_t`,
        :func:`lfi.evaluate_observed.observed_ratio_t`).
    model : NuisanceModel
        The simulated events' coefficients (σ(θ, ν)).
    data_model : NuisanceModel
        The observed events' coefficients, exp(aν + bν²) per event: a learned f̂(x) (exact for its own model), or a
        source event's stored factors for the events a toy drew (exact where they depend on x alone: parton level,
        normalisations).
    centre : ndarray, shape (K,), optional
        Global observables of the constraints (default 0).
    counts : ndarray, shape (M,), optional
        How often each observed event counts (default 1).
    """
    from lfi.evaluate_observed import counts_or_ones

    counts = counts_or_ones(counts, data_model.linear)  # one per observed event
    observed = (counts @ data_model.linear, counts @ data_model.quadratic)
    joint = JointQuantities(sample)
    return q_from_t(_in_blocks(sample, model, chunk, len(points), lambda block: profiled_unbinned_q(
        t_fixed[block], joint.weights(points[block]), None, model, lumi, observed=observed, centre=centre)[0]))


def observed_profiled_histogram_map(sample: EventSample, data: EventSample, observables: Sequence[str],
                                    points: np.ndarray, theta_ref: np.ndarray, lumi: float, model: NuisanceModel, *,
                                    centre: np.ndarray | None = None, binning: str = "auto", n_bins: int | None = None,
                                    counts: np.ndarray | None = None, chunk: int = 128) -> np.ndarray:
    """Observed q(θ) of a histogram with the nuisances profiled (the bins of
    :func:`lfi.evaluate_observed.observed_histogram_map`), shape (T,)."""
    from lfi.evaluate_observed import observed_bins

    index, n_total, observed = observed_bins(sample, data, observables, theta_ref, binning=binning, n_bins=n_bins,
                                             counts=counts)
    joint = JointQuantities(sample)
    w_ref = sample.weights_at(np.asarray(theta_ref, float))
    return q_from_t(_in_blocks(sample, model, chunk, len(points), lambda block: profiled_binned_q(
        index, n_total, joint.weights(points[block]), w_ref, model, lumi, counts=observed, centre=centre)[0]))
