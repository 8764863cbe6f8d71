"""``lfi coverage``: do the asymptotic (Wilks) contours cover? Pseudo-experiments at chosen θ points, the observed
statistic recomputed per toy, the fraction inside each CL region with its binomial error, and the Neyman critical
values that would give exact coverage (docs/statistics.md §15).

For each test point θ and each toy k: n ~ Poisson(L·σ(θ)) events drawn from an independent ``source`` sample with
probabilities w_i(θ)/Σw(θ) (:func:`lfi.events.draw_pseudodata`), the observed map of every requested likelihood
(:mod:`lfi.evaluate_observed`) on the grid plus θ itself, and q_k = t(θ) − min t. θ is inside the CL region of toy k
when q_k ≤ the Wilks threshold; the fraction over toys estimates the coverage, with the binomial standard error
√(p(1 − p)/K). The CL quantile of the q_k is the Neyman critical value at θ: a contour drawn at that level covers by
construction.

With nuisances (``nuisances``, ``normalisations``), every toy also draws the global observables a ~ N(0, 1) of the
constraints (the data stay at ν = 0), and the truth and histogram maps are recomputed with ν profiled
(:func:`lfi.evaluate_profiled.observed_profiled_unbinned_map`, ``…_histogram_map``) as ``<map>_profiled``: the
coverage of the profiled contours. A drawn event's nuisance factor is its source event's: with stored variations
the unbinned truth is exact where they depend on x alone (parton level, normalisations); with a learned nuisance
model (``nuisance_model``, ``lfi nuisance-train``) the factor is f̂(x) of the event itself, and ratio estimators are
profiled too.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lfi import limits
from lfi.errors import EventFileError, OptionError
from lfi.events import EventSample, pseudodata_indices
from lfi.files import atomic_write_text

__all__ = ["coverage_study", "write_coverage", "format_coverage"]

log = logging.getLogger("lfi.limits")
DEFAULT_CL = (0.6827, 0.9545)


def _observed_maps(sample, data, points, theta, lumi, truth, histograms, loaded, ratio_t, binning, device) -> dict:
    """The observed maps of one toy; ``ratio_t`` holds the ratio estimators' observed −2 log L, computed once for
    their fixed and profiled maps."""
    from lfi.evaluate_observed import observed_estimator_map, observed_histogram_map, observed_truth_map
    from lfi.limits.observed import q_from_t

    maps = {}
    if truth:
        maps["truth"] = observed_truth_map(sample, data, points, lumi)
    for names in histograms:
        maps["histogram_" + "_".join(names)] = observed_histogram_map(sample, data, names, points, theta, lumi,
                                                                      binning=binning)
    for name, estimator, _ in loaded:
        maps[name] = (q_from_t(ratio_t[name]) if name in ratio_t else
                      observed_estimator_map(estimator, sample, data, points, theta, lumi, device=device))
    return maps


def _nuisance_models(sample, pool, nuisances, normalisations, nuisance_model):
    """The nuisance model of the simulated sample and of the source sample (the toys' events), same names."""
    from lfi.workflows.nuisance_ratio import profiling_models

    model, pool_model = profiling_models([sample, pool], nuisances, normalisations, nuisance_model)
    if pool_model.names != model.names:
        raise EventFileError(f"the source's nuisances {list(pool_model.names)} differ from the sample's {list(model.names)}")
    return model, pool_model


def _profiled_maps(sample, pseudo, index, points, theta, lumi, truth, histograms, ratio_t, binning, models_for,
                   rng) -> dict:
    """The profiled observed maps of one toy, with global observables drawn from N(0, 1)."""
    from lfi.evaluate_observed import observed_truth_t
    from lfi.evaluate_profiled import observed_profiled_histogram_map, observed_profiled_unbinned_map
    from lfi.limits.nuisance import NuisanceModel

    model, pool_model = models_for
    centre = rng.standard_normal(model.n_nuisances)
    data_model = NuisanceModel(pool_model.names, pool_model.linear[index], pool_model.quadratic[index])
    unbinned = ({"truth": observed_truth_t(sample, pseudo, points, lumi)} if truth else {}) | ratio_t
    maps = {f"{name}_profiled": observed_profiled_unbinned_map(t, sample, points, lumi, model, data_model, centre=centre)
            for name, t in unbinned.items()}
    for names in histograms:
        maps["histogram_" + "_".join(names) + "_profiled"] = observed_profiled_histogram_map(
            sample, pseudo, names, points, theta, lumi, model, centre=centre, binning=binning)
    return maps


def coverage_study(data: str | os.PathLike, source: str | os.PathLike, *, lumi: float,
                   test_points: Sequence[Sequence[float]], toys: int = 200, truth: bool = False,
                   histograms: Sequence[Sequence[str]] = (), models: Sequence[str | os.PathLike] = (),
                   grid: str | None = None, binning: str = "auto", seed: int = 0, device: str = "cpu",
                   cl: Sequence[float] = DEFAULT_CL, progress: bool | None = None, nuisances: Sequence[str] = (),
                   normalisations: Mapping[str, float] | None = None,
                   nuisance_model: str | os.PathLike | None = None) -> dict:
    """Coverage of the Wilks contours and Neyman critical values at each test point, for every requested map.

    Parameters
    ----------
    data : path-like
        The simulated sample the statistic uses (σ(θ), histogram yields; a test file for models).
    source : path-like
        An independent weighted sample with morphing to draw the pseudo-experiments from (and, for ``truth``, with
        the exact-likelihood truth).
    lumi : float
        pb⁻¹.
    test_points : sequence of (D,) points
    toys : int
        Pseudo-experiments per test point.
    nuisances, normalisations
        Stored variations to profile (names or ``["all"]``) and log-normal normalisations (process → δ), as in
        ``lfi limits --nuisance/--normalisation``: adds the ``<map>_profiled`` maps.
    nuisance_model : path-like, optional
        A directory of ``lfi nuisance-train``: the nuisances are its learned factors f̂(x) (``nuisances`` then
        selects among them), which also profiles ratio estimators' maps.

    Returns
    -------
    dict
        JSON-able: settings, and per map and test point the toys' q values, the covered fraction and its binomial
        error per CL, the Neyman critical value per CL and the Wilks threshold.
    """
    from tqdm.auto import tqdm

    from lfi.evaluate_observed import observed_ratio_t
    from lfi.workflows.limits_checks import default_grid, resolve_grid
    from lfi.workflows.limits_models import load_models, resolve_model_device

    if int(toys) < 1:
        raise OptionError(f"--toys must be positive, got {toys}")
    if not (truth or histograms or models):
        raise OptionError("nothing to test: give --truth, --histogram or --model")
    profiling = bool(list(nuisances) or normalisations or nuisance_model)
    if profiling and models and nuisance_model is None:
        raise OptionError("--nuisance/--normalisation with --model: a trained estimator's observed events need their "
                          "nuisance factors as a function of x; learn them with lfi nuisance-train and give "
                          "--nuisance-model DIR")
    sample, pool = EventSample.load(data), EventSample.load(source)
    if pool.parameters != sample.parameters:
        raise EventFileError(f"--source {source}: parameters {pool.parameters} differ from {data}'s {sample.parameters}")
    axes = resolve_grid(grid or default_grid(sample))
    grid_points = limits.grid_points(axes)
    loaded = load_models(models, sample, Path(data)) if models else []
    device = resolve_model_device(device) if loaded else device
    points = [np.asarray(p, dtype=np.float64).reshape(-1) for p in test_points]
    for p in points:
        if p.shape != (sample.n_parameters,):
            raise OptionError(f"--at needs {sample.n_parameters} values ({', '.join(sample.parameters)}), got {p.tolist()}")
    dof = sample.n_parameters
    thresholds = {f"{100 * c:.2f}": float(limits.q_threshold(c, dof)) for c in cl}
    from lfi.report import map_label

    labels = {"truth": map_label("truth")} if truth else {}
    labels |= {"histogram_" + "_".join(names): map_label("histogram_" + "_".join(names), {"observables": list(names)})
               for names in histograms}
    models_for = _nuisance_models(sample, pool, nuisances, normalisations, nuisance_model) if profiling else None
    profiled_models = [name for name, estimator, _ in loaded if estimator.kind == "ratio"] if profiling else []
    if profiling and len(profiled_models) < len(loaded):
        log.warning("score estimators are not profiled in the toys (SALLY's observed likelihood has no nuisance fit); "
                    "profile a ratio method instead")
    if profiling:
        labels |= {f"{name}_profiled": map_label(f"{name}_profiled", {"profiled": True})
                   for name in list(labels) + profiled_models}
    result = {"data": str(data), "source": str(source), "lumi_pb": float(lumi), "toys": int(toys), "seed": int(seed),
              "grid": grid or default_grid(sample), "wilks_thresholds": thresholds, "labels": labels, "points": [],
              "nuisances": list(models_for[0].names) if profiling else []}
    bar = tqdm(total=len(points) * int(toys), desc="toys", unit="toy", disable=None if progress is None else not progress)
    for j, theta in enumerate(points):
        with_theta = np.vstack([grid_points, theta])
        q_values: dict[str, list[float]] = {}
        counts = []
        for k in range(int(toys)):
            toy_seed = seed + 1_000_003 * j + k
            index = pseudodata_indices(pool, theta, lumi, seed=toy_seed, source=str(source))
            pseudo = pool.select(index)
            counts.append(len(pseudo))
            ratio_t = {name: observed_ratio_t(estimator, sample, pseudo, with_theta, lumi, device=device)
                       for name, estimator, _ in loaded if estimator.kind == "ratio"}
            maps = _observed_maps(sample, pseudo, with_theta, theta, lumi, truth, histograms, loaded, ratio_t, binning,
                                  device)
            if profiling:
                maps |= _profiled_maps(sample, pseudo, index, with_theta, theta, lumi, truth, histograms, ratio_t,
                                       binning, models_for, np.random.default_rng([toy_seed, 17]))
            for name, q in maps.items():
                q_values.setdefault(name, []).append(float(q[-1]))
            bar.update()
        entry = {"theta": theta.tolist(), "expected_events": float(lumi * pool.weights_at(theta).sum()),
                 "mean_events": float(np.mean(counts)), "maps": {}}
        for name, values in q_values.items():
            values = np.asarray(values)
            covered = {level: float(np.mean(values <= t)) for level, t in thresholds.items()}
            entry["maps"][name] = {
                "q": values.tolist(),
                "covered": covered,
                "binomial_error": {level: float(np.sqrt(c * (1 - c) / len(values))) for level, c in covered.items()},
                "neyman_critical_value": {f"{100 * c:.2f}": float(np.quantile(values, c)) for c in cl},
            }
        result["points"].append(entry)
    bar.close()
    return result


def format_coverage(result: dict) -> str:
    """One line per map and test point: covered fraction ± binomial error and the Neyman critical value per CL."""
    levels = list(result["wilks_thresholds"])
    header = " ".join(f"{'covered ' + lv + ' %':>21} {'q_c (Wilks ' + format(result['wilks_thresholds'][lv], '.2f') + ')':>18}"
                      for lv in levels)
    lines = [f"{'map':<30} {'θ':>16} {header}"]
    for entry in result["points"]:
        at = ", ".join(f"{v:g}" for v in entry["theta"])
        for name, m in entry["maps"].items():
            cells = " ".join(f"{m['covered'][lv]:>13.3f} ± {m['binomial_error'][lv]:.3f} "
                             f"{m['neyman_critical_value'][lv]:>18.3g}" for lv in levels)
            lines.append(f"{name:<30} {at:>16} {cells}")
    lines.append(f"{result['toys']} toys per point; nominal coverage = the CL when Wilks' theorem holds")
    return "\n".join(lines)


def write_coverage(result: dict, out: str | os.PathLike) -> list[Path]:
    """Write ``coverage.json`` and ``coverage.png`` (per map and point, the toys' q against the χ² density)."""
    from lfi.workflows.limits_checks import check_out_dir

    out = check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(out / "coverage.json", json.dumps(result, indent=2))]
    from lfi.coverage_figure import plot_coverage

    written.append(plot_coverage(result, out / "coverage.png"))
    return written
