"""Expected limits from files: load a test sample and trained estimators, compute every likelihood map on a
θ grid, summarise the contours, write maps, summary and figure. Callable from Python and notebooks;
``lfi limits`` only parses its arguments and prints :func:`format_table` and :func:`format_training`.

Everything a user can get wrong (the grid, θ*, the luminosity, observables, models, the device, the output
directory, a grid too large for memory) is checked before the first map is computed and refused with one
:class:`lfi.errors.LfiError` line.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.errors import EventFileError, OptionError, UnknownNameError
from lfi.evaluate import estimator_map, histogram_map, truth_map
from lfi.events import EventSample
from lfi.files import atomic_write, atomic_write_text
from lfi.limits.checks import check_lumi
from lfi.workflows.limits_checks import (DEFAULT_GRID_POINTS, available_memory, check_out_dir,
                                         chunk_for_memory, default_grid, memory_estimate, resolve_grid,
                                         resolve_theta_true)
from lfi.workflows.limits_models import load_models, resolve_model_device, training_record

__all__ = ["LimitsResult", "expected_limits", "write_limits", "format_table", "format_training", "lumi_warnings",
           "check_out_dir",
           "default_grid", "DEFAULT_GRID_POINTS", "memory_estimate", "available_memory", "training_record"]

log = logging.getLogger("lfi.limits")


@dataclass
class LimitsResult:
    """Likelihood maps on one θ grid and their contour summary.

    Attributes
    ----------
    axes : list of ndarray
        Grid axes, one per parameter (in ``units``).
    maps : dict of str to ndarray, shape (T,)
        Expected q(θ) = −2Δlog L per map, T = product of the axis lengths.
    summary : dict
        JSON-able: data file, luminosity (pb⁻¹), θ*, grid, parameters, and per map the contour areas, open
        flags, best fit, (with a truth map) the comparison to the truth and (for a model whose directory tells)
        ``training``: epochs run, the maximum and whether early stopping ended it; for an ensemble ``members``:
        each member's contour areas and their spread (standard deviation) per CL.
    member_maps : dict of str to list of ndarray, shape (T,)
        For ensembles: every member's q(θ) (the map itself uses the members' mean log r̂).
    parameters : list of str
    units : str
    theta_true : ndarray, shape (D,)
    lumi : float
        Integrated luminosity in pb⁻¹.
    """

    axes: list[np.ndarray]
    parameters: list[str]
    units: str
    theta_true: np.ndarray
    lumi: float
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    member_maps: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)



def expected_limits(data: str | os.PathLike, *, models: Sequence[str | os.PathLike] = (),
                    histograms: Sequence[Sequence[str]] = (), truth: bool = False, lumi: float,
                    grid: str | Sequence[np.ndarray] | None = None, theta_true: Sequence[float] | None = None,
                    binning: str = "auto", device: str = "cpu",
                    observed: str | os.PathLike | None = None, nuisances: Sequence[str] = (),
                    normalisations: dict[str, float] | None = None, stream: int | None = None,
                    nuisance_model: str | os.PathLike | None = None) -> LimitsResult:
    """Expected (Asimov) likelihood maps of estimators, histograms and the truth on a θ grid, and with
    ``observed`` the same maps for an observed event sample.

    Every argument is checked before the first map is computed (see the module docstring).

    Parameters
    ----------
    data : path-like
        Test event file (not the training file: a model trained on it gets a warning, its limits are biased).
    models : sequence of path-like
        Saved estimator directories (any family: networks, ``bdt``); each map is named ``<method>_<dir name>``.
    histograms : sequence of sequence of str
        Observable names of 1-D or 2-D histogram baselines; each map is named ``histogram_<names>``.
    truth : bool
        Add the exact likelihood (needs a sample that carries it).
    lumi : float
        Integrated luminosity in pb⁻¹.
    grid : str or sequence of ndarray, optional
        ``"low:high:n,low:high:n"`` or the axes themselves, one per parameter. Default: :data:`DEFAULT_GRID_POINTS`
        points per parameter over the range the sample's benchmarks span (:func:`default_grid`); the summary's
        ``grid`` says which grid was used.
    theta_true : sequence of float, optional
        The true point θ* (default: the SM, all zeros); it must lie on the grid's range.
    binning : {"auto", "reference"}
        Histogram bins (see :func:`lfi.evaluate.histogram_map`).
    device : str
        Where networks run: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
    stream : int, optional
        Read ``data`` in chunks of this many events instead of loading it (:mod:`lfi.evaluate_streaming`): memory set
        by the chunk. Not with ``observed``, nuisances or SALLINO; no ensemble member spreads; automatic histogram
        bins from the first chunk.
    observed : path-like, optional
        An unweighted event file (data, or ``lfi pseudodata``): every map is also evaluated on it
        (:mod:`lfi.evaluate_observed`) and stored as ``<name>_observed``, with its best fit; each event counts once.
    nuisances : sequence of str
        Stored nuisance variations to profile (``["all"]`` for every one); with ``normalisations`` (process →
        relative uncertainty) every expected map is also computed with the nuisances profiled and stored as
        ``<name>_profiled`` (:mod:`lfi.workflows.limits_profiled`).
    nuisance_model : path-like, optional
        A directory of ``lfi nuisance-train``: the nuisances are its learned factors f̂(x) on the sample's events
        instead of the stored per-event factors (``nuisances`` then picks among them; default all).

    Raises
    ------
    lfi.errors.LfiError
        One line for anything a user can fix: ``OptionError`` (grid, θ*, luminosity, binning, device, a grid too
        large for memory), ``UnknownNameError`` (observable), ``EventFileError`` (the file, or a sample without
        morphing or truth), ``ModelError`` (a model that does not fit the sample).
    """
    if not (models or histograms or truth):
        raise OptionError("nothing to evaluate: give models, histograms or truth")
    lumi = check_lumi(lumi)
    if binning not in ("auto", "reference"):
        raise OptionError(f"binning must be auto or reference, got {binning!r}")
    histograms = [list(names) for names in histograms]
    for names in histograms:
        if not names:
            raise OptionError("--histogram needs one or two observable names, e.g. pt_j1 or pt_j1,delta_phi_jj")
        if binning == "reference":
            limits.reference_edges(names)
    data = Path(data)
    if stream is not None and (stream < 1 or observed is not None or nuisances or normalisations or nuisance_model):
        raise OptionError("--stream N (N ≥ 1 events per chunk) makes the expected maps only: not with --observed, "
                          "--nuisance, --normalisation or --nuisance-model")
    sample = EventSample.load(data) if stream is None else EventSample.load(data, slice(0, stream))  # stream: 1st chunk
    if grid is None:
        grid = default_grid(sample)
        log.info("grid: %s (%d points per parameter over the benchmarks' range; set --grid to choose)",
                 grid, DEFAULT_GRID_POINTS)
    axes = resolve_grid(grid)
    if len(axes) not in (1, 2):
        raise OptionError(f"--grid has {len(axes)} axes: contours need a grid over 1 or 2 parameters")
    if len(axes) != sample.n_parameters:
        raise OptionError(f"the grid has {len(axes)} axes but the sample has {sample.n_parameters} parameters")
    if not sample.can_morph:
        raise EventFileError(f"{data}: carries no /morphing group: its weights are known only at the benchmarks, "
                             "and a likelihood map needs them at every θ of the grid")
    theta_true = resolve_theta_true(theta_true, axes, sample.parameters)
    for names in histograms:
        missing = [name for name in names if name not in sample.observables]
        if missing:
            raise UnknownNameError(f"--histogram: no observable {missing[0]!r} in {data}; it has "
                                   f"{', '.join(sorted(sample.observables))}")
    if truth:
        from lfi.truth import has_exact_likelihood

        if not has_exact_likelihood(sample):
            raise EventFileError(f"--truth: {data} carries no exact likelihood (needs /truth/events/"
                                 "density_coefficients and /truth/sigma_coefficients; the toy has them)")
    profile = None
    if nuisances or normalisations or nuisance_model:
        from lfi.workflows.nuisance_ratio import profiling_models

        [profile] = profiling_models([sample], nuisances, normalisations, nuisance_model)
    n_points = int(np.prod([len(a) for a in axes]))
    grid_spec = grid if isinstance(grid, str) else ",".join(f"{a[0]:g}:{a[-1]:g}:{len(a)}" for a in axes)
    chunk = chunk_for_memory(grid_spec, n_points, len(sample), len(axes), len(models) + len(histograms) + truth)
    loaded = load_models(models, sample, data)
    data_events = None if observed is None else _load_observed(Path(observed), sample, histograms, truth)
    if loaded:
        device = resolve_model_device(device)
    points = limits.grid_points(axes)
    result = LimitsResult(axes, sample.parameters, sample.units, theta_true, lumi)
    streamed = None
    if stream is not None:
        from lfi.evaluate_streaming import streamed_maps

        streamed = streamed_maps(data, stream, points=points, theta_true=theta_true, lumi=lumi,
                                 models=[(name, estimator) for name, estimator, _ in loaded], histograms=histograms,
                                 truth=truth, binning=binning, device=device, chunk=chunk)
        result.maps.update(streamed.maps)
    if truth and streamed is None:
        result.maps["truth"] = truth_map(sample, points, theta_true, lumi, chunk=chunk)
    described: dict[str, dict] = {}
    for names in histograms:
        if streamed is None:
            result.maps["histogram_" + "_".join(names)] = histogram_map(sample, names, points, theta_true, lumi,
                                                                        binning=binning, chunk=chunk)
        described["histogram_" + "_".join(names)] = {"observables": list(names)}
    training = {}
    scores: dict[str, np.ndarray] = {}  # one forward pass per score estimator, for its map and its profiled map
    for name, estimator, directory in loaded:
        if streamed is None:
            if estimator.kind == "score" and profile is not None:
                scores[name] = estimator.score(sample, device=device)
            result.maps[name] = _model_map(estimator, directory, sample, points, theta_true, lumi, device, chunk,
                                           scores.get(name))
        members = getattr(estimator, "members", None) if streamed is None else None  # spread: each member's map
        if members:
            result.member_maps[name] = [_model_map(m, directory, sample, points, theta_true, lumi, device, chunk, None)
                                        for m in members]
        described[name] = {"model": {"estimator": _estimator_name(estimator), "method": estimator.metadata.get("method"),
                                     "directory": str(directory), **({"members": len(members)} if members else {})}}
        record = training_record(directory, estimator.metadata)
        if record is not None:
            training[name] = record
    sigma_of = JointQuantities(sample).sigma if streamed is None else streamed.sigma
    _describe_local_maps(loaded, result.maps, described, sigma_of, points, theta_true, lumi)
    if profile is not None:
        from lfi.workflows.limits_profiled import profiled_maps

        for name, (q, description) in profiled_maps(result.maps, loaded, histograms, sample, points, axes, theta_true,
                                                    lumi, profile, binning=binning, chunk=chunk,
                                                    scores=scores).items():
            result.maps[f"{name}_profiled"] = q
            factors = {"nuisance_model": str(nuisance_model)} if nuisance_model is not None else {}
            described[f"{name}_profiled"] = {**described.get(name, {}), "profiled": description | factors}
    if data_events is not None:
        observed_maps = _observed_maps(data_events, sample, loaded, histograms, truth, points, theta_true, lumi,
                                       binning, device, chunk)
        for name, q in observed_maps.items():
            result.maps[f"{name}_observed"] = q
            described[f"{name}_observed"] = {**described.get(name, {}), "observed": str(observed)}
    result.summary = {"data": str(data), "lumi_pb": float(lumi), "theta_true": theta_true.tolist(),
                      "expected_events": float(lumi * (sample.weights_at(theta_true).sum() if streamed is None
                                                       else sigma_of(theta_true[None])[0])),
                      **({"observed": {"data": str(observed), "events": len(data_events)}}
                         if data_events is not None else {}),
                      "grid": grid if isinstance(grid, str) else [[float(a[0]), float(a[-1]), len(a)] for a in axes],
                      "parameters": sample.parameters, "units": sample.units,
                      "events": len(sample) if streamed is None else streamed.events, "maps": {},
                      **({"stream": {"chunk_events": stream}} if streamed is not None else {})}
    for name, q in result.maps.items():
        entry = {**limits.contour_summary(q, axes), **described.get(name, {})}
        if "truth" in result.maps and name != "truth":
            entry["versus_truth"] = limits.map_difference(q, result.maps["truth"], axes)
        if name in training:
            entry["training"] = training[name]
        if name in result.member_maps:
            entry["members"] = _member_spread(result.member_maps[name], axes)
        result.summary["maps"][name] = entry
    return result


def _load_observed(path: Path, sample: EventSample, histograms: list[list[str]], truth: bool) -> EventSample:
    """The observed events, checked against the simulated sample: same parameters, the histograms' observables,
    the truth where the exact likelihood is asked for."""
    events = EventSample.load(path)
    if events.parameters != sample.parameters:
        raise EventFileError(f"--observed {path}: parameters {events.parameters} differ from the simulated sample's "
                             f"{sample.parameters}")
    for names in histograms:
        missing = [name for name in names if name not in events.observables]
        if missing:
            raise UnknownNameError(f"--observed {path}: no observable {missing[0]!r} for the histogram")
    if truth:
        from lfi.truth import has_exact_likelihood

        if not has_exact_likelihood(events):
            raise EventFileError(f"--observed {path}: carries no exact likelihood for --truth (pseudo-data drawn from "
                                 "a sample with truth keep it; real data cannot have it)")
    if not len(events):
        log.warning("--observed %s holds no events: the observed maps measure the rate alone", path)
    return events


def _observed_maps(data_events: EventSample, sample: EventSample, loaded, histograms, truth: bool, points, theta_true,
                   lumi: float, binning: str, device: str, chunk: int) -> dict[str, np.ndarray]:
    from lfi.evaluate_observed import observed_estimator_map, observed_histogram_map, observed_truth_map

    maps = {}
    if truth:
        maps["truth"] = observed_truth_map(sample, data_events, points, lumi, chunk=chunk)
    for names in histograms:
        maps["histogram_" + "_".join(names)] = observed_histogram_map(sample, data_events, names, points, theta_true,
                                                                      lumi, binning=binning, chunk=chunk)
    for name, estimator, _ in loaded:
        maps[name] = observed_estimator_map(estimator, sample, data_events, points, theta_true, lumi, device=device,
                                            chunk=chunk)
    return maps


def _describe_local_maps(loaded, maps: dict, described: dict, sigma_of, points: np.ndarray,
                         theta_true: np.ndarray, lumi: float) -> None:
    """Say in each score estimator's entry that its map is a local approximation around θ_ref, and warn when its
    95 % region reaches points that the rate alone excludes (``sigma_of``: θ (T, D) → σ(θ) in pb, shape (T,)):
    there the expansion no longer holds."""
    scores = [(name, estimator) for name, estimator, _ in loaded if estimator.kind == "score"]
    if not scores:
        return
    sigma_true = float(sigma_of(theta_true[None])[0])
    rate_only = limits.extended_asimov_q(np.zeros(len(points)), sigma_of(points), lumi, sigma_true=sigma_true,
                                         mean_log_r_true=0.0)
    threshold = limits.q_threshold(0.9545, points.shape[1])
    for name, estimator in scores:
        inside = maps[name] <= threshold
        beyond = float(np.sum(inside & (rate_only > threshold)) / max(np.sum(inside), 1))
        reference = np.asarray(estimator.metadata.get("reference", np.zeros(points.shape[1])), float).tolist()
        described[name]["approximation"] = {
            "kind": f"local: {str(estimator.metadata.get('method', 'sally')).upper()} expands the likelihood around "
                    "the score's reference point", "reference": reference,
            "fraction_of_95_region_excluded_by_rate_alone": beyond}
        if beyond > 0.05:
            log.warning("%s is a local approximation around θ_ref = %s: %.0f %% of its 95 %% region is excluded by the "
                        "rate alone, so the expansion does not hold that far out; trust a ratio method or the "
                        "histograms there", name, reference, 100 * beyond)


def lumi_warnings(summary: dict, bare_number: bool = False) -> list[str]:
    """What to change when the luminosity makes the limits meaningless: fewer than one expected event (a bare
    number that reads as pb⁻¹ but would make sense as fb⁻¹ says so), or contours larger than the grid."""
    lines = []
    events, lumi = summary["expected_events"], summary["lumi_pb"]
    if events < 1:
        hint = (f"; a bare number is pb⁻¹: did you mean {lumi:g}/fb ({1000 * events:.3g} events)?" if bare_number
                and 1000 * events >= 1 else "; raise the luminosity")
        lines.append(f"L = {lumi:g} pb⁻¹ gives {events:.3g} expected events at θ*: no meaningful limit{hint}")
    open_95 = [name for name, entry in summary["maps"].items() if entry.get("open", {}).get("95.45")]
    if open_95:
        lines.append(f"the 95 % CL region of {', '.join(open_95)} reaches the grid edge: widen --grid (or raise the "
                     "luminosity) to see the whole contour")
    return lines


def _estimator_name(estimator) -> str | None:
    """``mlp``, ``part``, ``bdt``, …; for an ensemble the name of its members' estimator."""
    members = getattr(estimator, "members", None)
    if members:
        return _estimator_name(members[0])
    return getattr(estimator, "encoder_name", None)


def _member_spread(member_maps: list[np.ndarray], axes: list[np.ndarray]) -> dict:
    """Contour areas of every ensemble member and their spread (standard deviation over members) per CL."""
    areas = [limits.contour_summary(q, axes)["areas"] for q in member_maps]
    by_level = {level: [a[level] for a in areas] for level in areas[0]}
    spread = {level: (float(np.std([v for v in values if v is not None], ddof=1))
                      if sum(v is not None for v in values) > 1 else None) for level, values in by_level.items()}
    return {"count": len(member_maps), "areas": by_level, "area_spread": spread}


def _model_map(estimator, directory: Path, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
               lumi: float, device: str, chunk: int, score: np.ndarray | None) -> np.ndarray:
    try:
        return estimator_map(estimator, sample, points, theta_true, lumi, device=device, chunk=chunk, score=score)
    except RuntimeError as err:
        import torch

        if isinstance(err, torch.cuda.OutOfMemoryError):
            raise OptionError(f"--device {device}: out of GPU memory evaluating --model {directory}; use --device cpu")
        raise


def write_limits(result: LimitsResult, out: str | os.PathLike) -> list[Path]:
    """Write ``q_<name>.npy`` (q on the grid), ``p_<name>.npy`` (Wilks p-values), ``limits.json`` and, for two
    parameters, ``contours.png`` and ``contours.pdf`` into ``out``; every file atomically. Returns the paths written.

    Raises
    ------
    lfi.errors.OptionError
        If ``out`` is a file or cannot be made (see :func:`check_out_dir`).
    """
    out = check_out_dir(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError(f"--out {out}: cannot make the directory ({err.strerror or err})") from None
    written = []
    for name, q in result.maps.items():
        p = limits.p_value(np.clip(q, 0.0, None), dof=len(result.axes))
        for prefix, values in (("q", q), ("p", p)):
            path = out / f"{prefix}_{name}.npy"
            with atomic_write(path) as tmp:
                np.save(tmp, values.reshape(result.shape))
            written.append(path)
    written.append(atomic_write_text(out / "limits.json", json.dumps(result.summary, indent=2)))
    if len(result.axes) == 2:
        from lfi.report import plot_contours

        kind = "expected (Asimov) and observed" if "observed" in result.summary else "expected (Asimov)"
        title = f"{kind} limits, L = {result.lumi / 1000:g} fb⁻¹; 68.27 % CL (solid), 95.45 % CL (dashed)"

        from lfi.report import map_labels

        labels = map_labels({k: result.summary.get("maps", {}).get(k) for k in result.maps})
        for name in ("contours.png", "contours.pdf"):
            written.append(plot_contours({k: v.reshape(result.shape) for k, v in result.maps.items()}, result.axes,
                                         out / name, parameters=result.parameters, units=result.units,
                                         theta_true=result.theta_true, labels=labels,
                                         title=title,
                                         members={k: [q.reshape(result.shape) for q in v]
                                                  for k, v in result.member_maps.items()}))
    return written


def format_table(summary: dict) -> str:
    """Contour areas and best fit per map; "*" marks a region cut off by the grid edge (area = lower bound)."""
    lines, levels = [], None
    for name, entry in summary["maps"].items():
        if levels is None:
            levels = list(entry["areas"])
            lines.append(f"{'map':<32} " + " ".join(f"{'area ' + lv + '%':>15}" for lv in levels) + f"  {'best fit':>20}")
        cells = []
        for lv in levels:
            area = entry["areas"][lv]
            text = f"{area:.4g}" if area is not None else "nan"
            cells.append(f"{text + ('*' if entry['open'][lv] else ' '):>15}")
        best = ", ".join(f"{v:.3g}" for v in entry["best_fit"])
        lines.append(f"{name:<32} {' '.join(cells)}  {best:>20}")
    if any(any(e["open"].values()) for e in summary["maps"].values()):
        lines.append("* the region reaches the grid edge: its area is a lower bound (widen --grid)")
    return "\n".join(lines)


def format_training(summary: dict) -> list[str]:
    """One line per model whose training is known (epochs run, of how many, whether early stopping ended it), and
    one per ensemble (the spread of its members' contour areas)."""
    lines = []
    for name, entry in summary["maps"].items():
        record = entry.get("training")
        if not record:
            continue
        if "rounds" in record:
            best = f", best round {record['best_round']}" if record.get("best_round") else ""
            lines.append(f"{name}: trained {record['rounds']} boosting rounds{best}")
        elif record.get("max_epochs") is None:
            lines.append(f"{name}: trained {record['epochs']} epochs (maximum not recorded)")
        elif record["early_stopped"]:
            lines.append(f"{name}: trained {record['epochs']} of {record['max_epochs']} epochs, ended by early stopping")
        else:
            lines.append(f"{name}: trained {record['epochs']} of {record['max_epochs']} epochs, the maximum "
                         "(not ended by early stopping)")
    for name, entry in summary["maps"].items():
        members = entry.get("members")
        if members:
            spread = ", ".join(f"{level} %: ±{value:.3g}" for level, value in members["area_spread"].items()
                               if value is not None)
            lines.append(f"{name}: ensemble of {members['count']} members, spread of the contour areas {spread}")
    return lines
