"""``lfi fisher``: the Fisher information of a sample from the truth, the weights, histograms and SALLY models,
profiled and fixed 1σ errors, information ellipses beside likelihood contours, and where along an observable the
information sits (docs/statistics.md §13).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi import fisher
from lfi.errors import OptionError
from lfi.events import EventSample
from lfi.files import atomic_write_text
from lfi.fisher_figure import information_label
from lfi.limits.information import ensemble_information, profile_information, project_information

__all__ = ["FisherResult", "fisher_table", "summarise_information", "write_fisher", "format_fisher_table"]

log = logging.getLogger("lfi.fisher")


@dataclass
class FisherResult:
    """Information matrices of one sample at one point.

    Attributes
    ----------
    matrices : dict of str to ndarray, shape (D, D)
        ``truth``, ``joint``, ``rate``, ``histogram_<obs>[_<obs>]``, ``sally_<model>`` (an ensemble: the members'
        mean), in (unit θ)⁻².
    spreads : dict of str to ndarray, shape (D, D)
        For ensembles: the standard deviation of every entry over the members.
    labels : dict of str to str
        Legend text per matrix.
    histograms : dict of str to dict
        Per observable: ``edges`` (B + 1,), ``sigma`` (B,) in pb, ``full`` and ``rate`` (B, D, D).
    frame : list of (float, float)
        The parameter box the sample's benchmarks span (where its morphing is meant to be used): the figure's range.
    """

    parameters: list[str]
    units: str
    theta: np.ndarray
    lumi: float
    data: str
    matrices: dict[str, np.ndarray] = field(default_factory=dict)
    spreads: dict[str, np.ndarray] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    histograms: dict[str, dict] = field(default_factory=dict)
    frame: list[tuple[float, float]] = field(default_factory=list)


def _sally_models(models: Sequence[str | os.PathLike], sample: EventSample, data: Path) -> list:
    from lfi.workflows.limits_models import load_models

    loaded = load_models(models, sample, data)
    for name, estimator, directory in loaded:
        if estimator.kind != "score":
            raise OptionError(f"--model {directory}: a {estimator.metadata.get('method', estimator.kind)} estimator "
                              "has no score; the Fisher information needs a SALLY model (lfi train --method sally)")
    return loaded


def fisher_table(data: str | os.PathLike, *, lumi: float, theta: Sequence[float] | None = None,
                 models: Sequence[str | os.PathLike] = (), histograms: Sequence[Sequence[str]] = (),
                 truth: bool = False, binning: str = "auto", along: Sequence[str] = (),
                 device: str = "cpu", nuisances: Sequence[str] = (),
                 normalisations: dict[str, float] | None = None,
                 nuisance_model: str | os.PathLike | None = None) -> FisherResult:
    """Every requested information matrix of the sample in ``data`` at θ (default: the SM).

    The joint (weights) and rate-only information are always there; ``truth`` adds the exact likelihood's,
    ``histograms`` the 1-D/2-D histograms of named observables, ``models`` SALLY's (trained at θ, else a warning),
    ``along`` the information histogram along each named observable. With ``nuisances`` (stored variations by
    name, or ``["all"]``) or ``normalisations`` (process → δ), every matrix is also given with the nuisances
    profiled, as ``<name>_profiled``; ``nuisance_model`` (a directory of ``lfi nuisance-train``) takes the nuisances'
    factors from its learned f̂(x) instead of the stored ones.

    Raises
    ------
    lfi.errors.LfiError
        One line for a missing file, an unknown observable, a model that is not a score estimator, a sample without
        the truth when ``truth`` is asked for.
    """
    from lfi.workflows.limits_models import resolve_model_device

    path = Path(data)
    sample = EventSample.load(path)
    point = np.zeros(sample.n_parameters) if theta is None else np.asarray(theta, dtype=np.float64)
    if point.shape != (sample.n_parameters,):
        raise OptionError(f"--true needs {sample.n_parameters} values ({', '.join(sample.parameters)}), "
                          f"got {point.tolist()}")
    device = resolve_model_device(device) if models else device
    loaded = _sally_models(models, sample, path) if models else []
    model = None
    if nuisances or normalisations or nuisance_model:
        from lfi.workflows.nuisance_ratio import profiling_models

        [model] = profiling_models([sample], nuisances, normalisations, nuisance_model)
    span = np.asarray(sample.benchmark_theta, dtype=float)
    result = FisherResult(parameters=list(sample.parameters), units=sample.units, theta=point, lumi=float(lumi),
                          data=str(path), frame=list(zip(span.min(axis=0).tolist(), span.max(axis=0).tolist())))
    _fill(result, sample, lumi, point, truth, histograms, binning, loaded, device, model, along)
    return result


def _fill(result: FisherResult, sample: EventSample, lumi: float, point: np.ndarray, truth: bool, histograms,
          binning: str, loaded: list, device: str, model, along) -> None:
    dim = sample.n_parameters

    def add(name: str, info: np.ndarray, label: str | None = None) -> None:
        """The θ information with ν fixed, and with ν profiled where the matrix covers nuisances."""
        result.matrices[name] = project_information(info, range(dim)) if model is not None else info
        if label:
            result.labels[name] = label
        if model is not None:
            result.matrices[f"{name}_profiled"] = profile_information(info, range(dim))
            result.labels[f"{name}_profiled"] = f"{label or information_label(name)}, ν profiled"

    if truth:
        add("truth", fisher.truth_information(sample, lumi, point, nuisances=model))
    add("joint", fisher.joint_information(sample, lumi, point, nuisances=model))
    add("rate", fisher.rate_only_information(sample, lumi, point, nuisances=model))
    for observables in histograms:
        add("histogram_" + "_".join(observables),
            fisher.histogram_information(sample, observables, lumi, point, binning=binning, nuisances=model),
            f"{len(observables)}-D histogram ({', '.join(observables)})")
    for name, estimator, directory in loaded:
        reference = np.asarray(estimator.metadata.get("reference", np.zeros(sample.n_parameters)), dtype=float)
        if not np.allclose(reference, point):
            log.warning("warning: --model %s learnt the score at θ = %s, not at θ = %s: its information is that of a "
                        "score at another point", directory, reference.tolist(), point.tolist())
        members = getattr(estimator, "members", [estimator])
        matrices = np.stack([fisher.score_information(sample, m.score(sample, device=device), lumi, point,
                                                      nuisances=model) for m in members])
        mean, covariance = ensemble_information(matrices)
        add(name, mean)
        if len(members) > 1:
            result.spreads[name] = np.sqrt(np.einsum("ijij->ij", covariance))[:dim, :dim]
    for observable in along:
        edges, sigma, full, rate = fisher.observable_information_histogram(sample, observable, lumi, point)
        result.histograms[observable] = {"edges": edges, "sigma": sigma, "full": full, "rate": rate}


def summarise_information(info: np.ndarray, parameters: Sequence[str]) -> dict:
    """JSON-able facts of one information matrix: the matrix, its determinant, and per parameter the expected 1σ
    error with the others fixed (1/√I_ii) and profiled (√(I⁻¹)_ii; ``None`` where the profiled information is 0)."""
    fixed, profiled = {}, {}
    for i, name in enumerate(parameters):
        diagonal = info[i, i]
        fixed[name] = float(1.0 / np.sqrt(diagonal)) if diagonal > 0 else None
        remaining = float(profile_information(info, [i])[0, 0])
        profiled[name] = float(1.0 / np.sqrt(remaining)) if remaining > 1e-12 * max(diagonal, 1e-300) else None
    return {"matrix": info.tolist(), "determinant": float(np.linalg.det(info)),
            "error_fixed": fixed, "error_profiled": profiled}


def _summary(result: FisherResult) -> dict:
    summary = {"data": result.data, "lumi_pb": result.lumi, "theta": result.theta.tolist(),
               "parameters": result.parameters, "units": result.units, "information": {}}
    for name, info in result.matrices.items():
        entry = summarise_information(info, result.parameters)
        if name in result.labels:
            entry["label"] = result.labels[name]
        if name in result.spreads:
            entry["member_spread"] = result.spreads[name].tolist()
        summary["information"][name] = entry
    summary["along"] = {obs: {key: np.asarray(value).tolist() for key, value in h.items()}
                        for obs, h in result.histograms.items()}
    return summary


def write_fisher(result: FisherResult, out: str | os.PathLike, *, contours: str | os.PathLike | None = None
                 ) -> list[Path]:
    """Write ``fisher.json`` and, for two parameters, ``ellipses.png`` (68/95 % CL information ellipses, with the
    likelihood contours of a ``lfi limits`` directory ``contours`` beside them); one ``information_<obs>.png`` per
    information histogram. Every file atomically; returns the paths written."""
    from lfi.workflows.limits import check_out_dir

    out = check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(out / "fisher.json", json.dumps(_summary(result), indent=2))]
    if len(result.parameters) == 2:
        from lfi.fisher_figure import plot_information_ellipses

        limits, frame = None, result.frame
        if contours is not None:
            from lfi.workflows.report import read_limits

            limits = read_limits(Path(contours))
            frame = [(float(a[0]), float(a[-1])) for a in limits["axes"]]
        written.append(plot_information_ellipses(result.matrices, result.theta, out / "ellipses.png",
                                                 parameters=result.parameters, units=result.units,
                                                 lumi=result.lumi, limits=limits, labels=result.labels,
                                                 frame=frame))
    for observable, histogram in result.histograms.items():
        from lfi.fisher_figure import plot_information_histogram

        written.append(plot_information_histogram(histogram, observable, out / f"information_{observable}.png",
                                                   parameters=result.parameters, units=result.units,
                                                   lumi=result.lumi))
    return written


def format_fisher_table(result: FisherResult) -> str:
    """One row per information matrix: its determinant and each parameter's expected 1σ error, fixed / profiled."""
    header = f"{'information':<32} {'det I':>11} " + " ".join(f"{'σ(' + p + ') fixed / profiled':>30}"
                                                                for p in result.parameters)
    lines = [header]
    for name, info in result.matrices.items():
        entry = summarise_information(info, result.parameters)
        cells = []
        for p in result.parameters:
            fixed, profiled = entry["error_fixed"][p], entry["error_profiled"][p]
            text = f"{_number(fixed)} / {_number(profiled)}"
            cells.append(f"{text:>30}")
        lines.append(f"{name:<32} {entry['determinant']:>11.4g} " + " ".join(cells))
    lines.append(f"errors in {result.units or 'units of θ'}; ∞ where the information does not constrain the parameter")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "∞" if value is None else f"{value:.4g}"
