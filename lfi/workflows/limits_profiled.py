"""The profiled maps of a limits job: every expected map again with the nuisances profiled, and the areas with only
their rate part or only their shape part (docs/statistics.md §14)."""

from __future__ import annotations

import logging

import numpy as np

from lfi import limits
from lfi.evaluate_profiled import profiled_histogram_map, profiled_sally_map, profiled_unbinned_map
from lfi.events import EventSample
from lfi.limits.nuisance import NuisanceModel

__all__ = ["profiled_maps"]

log = logging.getLogger("lfi.limits")


def _one_map(kind: str, what, q_fixed: np.ndarray, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
             lumi: float, model: NuisanceModel, binning: str, chunk: int, score: np.ndarray | None) -> np.ndarray:
    if kind == "histogram":
        return profiled_histogram_map(sample, what, points, theta_true, lumi, model, binning=binning, chunk=chunk)
    if kind == "sally":
        return profiled_sally_map(score, sample, points, theta_true, lumi, model)
    return profiled_unbinned_map(q_fixed, sample, points, theta_true, lumi, model, chunk=chunk)


def profiled_maps(maps: dict[str, np.ndarray], loaded, histograms: list[list[str]], sample: EventSample,
                  points: np.ndarray, axes: list[np.ndarray], theta_true: np.ndarray, lumi: float,
                  model: NuisanceModel, *, binning: str, chunk: int,
                  scores: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, dict]]:
    """``{name: (q_profiled (T,), description)}`` for every expected map that can be profiled; the description has
    the nuisances and the contour areas with only the rate part and only the shape part of the nuisances
    profiled. SALLINO maps are left out (with a warning): a histogram per direction has no single nuisance fit.
    ``scores`` holds t̂(x) (N, D) of every score estimator by name, as computed for its fixed-ν map."""
    jobs: dict[str, tuple[str, object, np.ndarray | None]] = {}
    if "truth" in maps:
        jobs["truth"] = ("unbinned", None, None)
    for names in histograms:
        jobs["histogram_" + "_".join(names)] = ("histogram", names, None)
    for name, estimator, _ in loaded:
        if estimator.kind == "ratio":
            jobs[name] = ("unbinned", None, None)
        elif estimator.metadata.get("method", "sally") == "sally":
            reference = np.asarray(estimator.metadata.get("reference", np.zeros(sample.n_parameters)), float)
            if not np.allclose(reference, theta_true):
                log.warning("%s is not profiled: its score was learnt at θ_ref = %s, not at θ* = %s, and its profiled "
                            "information would be expanded around another point than its map", name,
                            reference.tolist(), theta_true.tolist())
                continue
            jobs[name] = ("sally", None, scores[name])
        else:
            log.warning("%s: SALLINO maps are not profiled (one histogram per direction has no single nuisance fit); "
                        "profile SALLY or a ratio method instead", name)
    w_true = sample.weights_at(theta_true)
    parts = {"rate": model.rate_part(w_true), "shape": model.shape_part(w_true)}
    out = {}
    for name, (kind, what, score) in jobs.items():
        q = _one_map(kind, what, maps[name], sample, points, theta_true, lumi, model, binning, chunk, score)
        areas = {part: limits.contour_summary(
            _one_map(kind, what, maps[name], sample, points, theta_true, lumi, sub, binning, chunk, score), axes)["areas"]
            for part, sub in parts.items()}
        out[name] = (q, {"of": name, "nuisances": list(model.names), "areas_with_only": areas})
    return out
