"""``lfi report``: the expected EFT contours beside the classification results, from result directories.

Reads any mix of

- ``lfi limits`` output (``limits.json`` and ``q_<map>.npy``): every map's contours, areas, best fit;
- ``lfi classify`` output (``metrics.json`` with per-seed rows): the mean ROC and the metrics;
- ``bench/classification.py`` output (``table.json``): its rows;
- ``lfi fisher`` output (``fisher.json``): the expected 1σ errors of every information matrix (table only);

and writes into ``--out``::

    report.png, report.pdf      contours (68.27 % and 95.45 % CL) in the parameter plane | ROC curves
    report.md                   tables to paste into a note: contour areas relative to the exact likelihood
                                (or to the best histogram), 1-D intervals with the other parameter profiled,
                                classification metrics, training times
    limits_export.json          per map: areas, best fit, 1-D intervals, contour lines as point lists
    qmap_<dir>_<map>.yaml       each q map as a HEPData table
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError
from lfi.files import atomic_write_text
from lfi.workflows.classification import mean_std_text as _pm

__all__ = ["make_report", "read_limits", "read_classification"]

_CL = (0.6827, 0.9545)


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EventFileError(f"{path}: not a readable JSON result ({err})") from None
    if not isinstance(value, dict):
        raise EventFileError(f"{path}: expected a JSON object")
    return value


def read_limits(directory: Path) -> dict:
    """A ``lfi limits`` directory: its summary, grid axes and q maps (shape (n_0, n_1) each)."""
    from lfi.limits import grid_axes

    summary = _read_json(directory / "limits.json")
    try:
        axes = grid_axes(summary["grid"])
        maps = {name: np.load(directory / f"q_{name}.npy", allow_pickle=False) for name in summary["maps"]}
    except KeyError as err:
        raise EventFileError(f"{directory / 'limits.json'}: missing {err}") from None
    except (OSError, ValueError) as err:
        raise EventFileError(f"{directory}: a q map cannot be read ({err})") from None
    return {"directory": directory, "summary": summary, "axes": axes, "maps": maps}


def read_classification(directory: Path) -> dict:
    """A ``lfi classify`` directory (``metrics.json``) or a ``bench/classification.py`` one (``table.json``) as
    rows: label, AUC mean ± std, rejection and significances at the working points, mean ROC, training time."""
    if (directory / "table.json").is_file():
        table = _read_json(directory / "table.json")
        rows = [{"label": r["label"], "auc": r["auc"], "rejection": r["rejection"], "significance": r["significance"],
                 "significance_syst": r["significance_syst"], "roc": (r["roc_eps_s"], r["roc_eps_b"]),
                 "train_seconds": r.get("wall_seconds")} for r in table.get("rows", [])]
        context = table.get("context", {})
        return {"directory": directory, "title": context.get("title", directory.name), "rows": rows,
                "lumi_fb": context.get("lumi_fb"), "rel_syst": context.get("rel_syst"),
                "events": context.get("events", {})}
    metrics = _read_json(directory / "metrics.json")
    try:
        summary, seeds = metrics["summary"], metrics["seeds"]
        points = {f"{p['eps_s']:.1f}": p for p in summary["working_points"]}
        eps_b = np.nanmean(np.array([s["roc"]["eps_b"] for s in seeds], float), axis=0)
        label = f"{metrics['estimator']}" + (f" {_options_text(metrics['options'])}" if metrics.get("options") else "")
        label += " (focal)" if metrics.get("loss") == "focal" else ""
        row = {"label": label, "auc": summary["auc"], "rejection": {k: p["rejection"] for k, p in points.items()},
               "significance": {k: p["significance"] for k, p in points.items()},
               "significance_syst": {k: p["significance_syst"] for k, p in points.items()},
               "roc": (seeds[0]["roc"]["eps_s"], eps_b.tolist()),
               "train_seconds": float(sum(s["train_seconds"] for s in seeds))}
        background = " + ".join(p for p in metrics["processes"] if p != metrics["signal"])
    except (KeyError, TypeError, IndexError) as err:
        raise EventFileError(f"{directory / 'metrics.json'}: not an lfi classify result (missing {err})") from None
    return {"directory": directory, "title": f"{metrics['signal']} vs {background}", "rows": [row],
            "lumi_fb": metrics.get("lumi_fb"), "rel_syst": metrics.get("rel_syst"), "events": metrics.get("events", {})}


def _options_text(options: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items())


def _read_directory(path: Path) -> tuple[str, dict]:
    if not path.is_dir():
        raise OptionError(f"{path}: no such result directory")
    if (path / "limits.json").is_file():
        return "limits", read_limits(path)
    if (path / "metrics.json").is_file() or (path / "table.json").is_file():
        return "classification", read_classification(path)
    if (path / "fisher.json").is_file():
        return "fisher", {"directory": path, **_read_json(path / "fisher.json")}
    raise OptionError(f"{path}: neither an lfi limits result (limits.json), an lfi classify result "
                      "(metrics.json, or a bench table.json) nor an lfi fisher result (fisher.json)")


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}"



def _interval_text(intervals: list[dict]) -> str:
    if not intervals:
        return "–"
    parts = []
    for i in intervals:
        low = f"< {i['low']:.3g}" if i["open_low"] else f"{i['low']:.3g}"
        high = f"> {i['high']:.3g}" if i["open_high"] else f"{i['high']:.3g}"
        parts.append(f"[{low}, {high}]")
    return " ∪ ".join(parts)


def _limits_markdown(result: dict, intervals: dict) -> list[str]:
    from lfi.report import map_labels

    summary = result["summary"]
    maps = summary["maps"]
    labels = map_labels(maps)
    parameters, units = summary["parameters"], summary.get("units", "")
    lumi = summary["lumi_pb"]
    reference = "truth" if "truth" in maps else None
    if reference is None:
        histograms = [k for k in maps if k.startswith("histogram_") and maps[k]["areas"].get("95.45")]
        reference = min(histograms, key=lambda k: maps[k]["areas"]["95.45"]) if histograms else None
    events = summary.get("events")
    lines = [f"### {result['directory']}", "",
             f"Test sample {summary['data']}" + (f" ({events:,} events)" if events else "") +
             f"; L = {lumi:g} pb⁻¹ = {lumi / 1000:g} fb⁻¹; Asimov data at θ = {summary['theta_true']}; "
             f"parameters {', '.join(parameters)} in {units or 'their units'}. Areas in "
             f"{f'({units})²' if units else 'units of ' + ' × '.join(parameters)} "
             f"(\"*\": the region reaches the grid edge, the area is a lower bound); ratios relative to "
             f"{labels[reference] if reference else '–'}.", ""]
    head = " | ".join(f"{p}: 68 % / 95 % (other profiled)" for p in parameters)
    lines += [f"| map | area 68 % | area 95 % | ratio 68 % | ratio 95 % | best fit | {head} | training |",
              "|---|---|---|---|---|---|" + "---|" * len(parameters) + "---|"]
    for name, entry in maps.items():
        areas, open_ = entry["areas"], entry.get("open", {})
        ratios = []
        for level in ("68.27", "95.45"):
            ref = maps[reference]["areas"].get(level) if reference else None
            ratios.append(areas.get(level) / ref if ref and areas.get(level) is not None else None)
        cells = [f"{_fmt(areas.get(level))}{'*' if open_.get(level) else ''}" for level in ("68.27", "95.45")]
        best = ", ".join(f"{v:.3g}" for v in entry.get("best_fit") or []) or "–"
        one_d = " | ".join(f"{_interval_text(intervals[name][p]['68.27'])} / {_interval_text(intervals[name][p]['95.45'])}"
                           for p in parameters)
        training = entry.get("training") or {}
        trained = (f"{training['epochs']} epochs" if "epochs" in training else
                   f"{training['rounds']} rounds" if "rounds" in training else "–")
        lines.append(f"| {labels[name]} | {cells[0]} | {cells[1]} | {_fmt(ratios[0])} | {_fmt(ratios[1])} | "
                     f"{best} | {one_d} | {trained} |")
    return lines + [""]


def _classification_markdown(result: dict) -> list[str]:
    lumi, syst = result.get("lumi_fb"), result.get("rel_syst")
    events = ", ".join(f"{k} {v:,}" for k, v in (result.get("events") or {}).items())
    lines = [f"### {result['title']} ({result['directory']})", "",
             f"Events: {events}. Mean ± standard deviation over seeds; s/√b at {lumi:g} fb⁻¹, "
             f"background systematic δ = {syst:g}." if lumi is not None else f"Events: {events}.", "",
             "| classifier | AUC | 1/ε_B at ε_S = 0.3 | 0.5 | 0.7 | s/√b (ε_S = 0.5) | with δ | training [s] |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rej = r["rejection"]
        lines.append(f"| {r['label']} | {_pm(r['auc'], 4)} | {_pm(rej.get('0.3'), 1)} | {_pm(rej.get('0.5'), 1)} | "
                     f"{_pm(rej.get('0.7'), 2)} | {_pm(r['significance'].get('0.5'), 2)} | "
                     f"{_pm(r['significance_syst'].get('0.5'), 3)} | {_fmt(r.get('train_seconds'), 4)} |")
    return lines + [""]


def _fisher_markdown(result: dict) -> list[str]:
    """The expected 1σ errors of every information matrix of a ``lfi fisher`` directory."""
    from lfi.fisher_figure import information_label

    parameters, units = result["parameters"], result.get("units", "")
    lines = [f"### {result['directory']}", "",
             f"Sample {result['data']}; L = {result['lumi_pb'] / 1000:g} fb⁻¹; at θ = {result['theta']}. Expected 1σ "
             f"errors in {units or 'units of θ'} with the other parameters fixed / profiled (∞: not constrained).", "",
             "| information | det I | " + " | ".join(f"σ({p})" for p in parameters) + " |",
             "|---|---|" + "---|" * len(parameters)]
    for name, entry in result["information"].items():
        cells = [f"{_fmt(entry['error_fixed'][p])} / {_fmt(entry['error_profiled'][p])}".replace("–", "∞")
                 for p in parameters]
        lines.append(f"| {entry.get('label') or information_label(name)} | {_fmt(entry['determinant'])} | "
                     + " | ".join(cells) + " |")
    if (Path(result["directory"]) / "ellipses.png").is_file():
        lines += ["", f"Information ellipses: {Path(result['directory']) / 'ellipses.png'}"]
    return lines + [""]


def make_report(directories: Sequence[str | os.PathLike], out: str | os.PathLike) -> list[Path]:
    """Read result directories and write the report files (see the module docstring); returns their paths.

    Raises
    ------
    OptionError
        A directory that is no result, no directory at all, or limits with other than two parameters beside
        others (the figure draws one plane).
    """
    from lfi import limits
    from lfi.limits import q_threshold
    from lfi.report import map_labels, plot_report

    if not directories:
        raise OptionError("give at least one result directory (lfi limits, lfi classify or lfi fisher output)")
    results: dict[str, list] = {"limits": [], "classification": [], "fisher": []}
    for directory in directories:
        kind, result = _read_directory(Path(directory))
        results[kind].append(result)
    limit_results, class_results = results["limits"], results["classification"]
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: is a file")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    markdown = ["# lfi report", ""]
    export: dict = {"limits": [], "classification": []}
    contour_panel = None
    if limit_results:
        markdown += ["## Expected limits", ""]
    for result in limit_results:
        summary, axes = result["summary"], result["axes"]
        parameters, units = summary["parameters"], summary.get("units", "")
        intervals = {name: limits.profile_intervals(q, axes, parameters, _CL) for name, q in result["maps"].items()}
        markdown += _limits_markdown(result, intervals)
        entry = {"directory": str(result["directory"]), "parameters": parameters, "units": units,
                 "lumi_pb": summary["lumi_pb"], "maps": {}}
        labels = map_labels(summary["maps"])
        for name, q in result["maps"].items():
            lines = ({f"{100 * c:.2f}": [line.tolist() for line in limits.contour_lines(q, axes, float(q_threshold(c, 2)))]
                      for c in _CL} if len(axes) == 2 else {})
            entry["maps"][name] = {"label": labels[name],
                                   "areas": summary["maps"][name]["areas"],
                                   "best_fit": summary["maps"][name].get("best_fit"),
                                   "intervals_profiled": intervals[name], "contours": lines}
            table = limits.hepdata_table(q, axes, parameters, units,
                                         description=f"expected -2 Delta ln L of {labels[name]}"
                                                     f" at L = {summary['lumi_pb']:g} pb^-1 ({result['directory']})")
            written.append(atomic_write_text(out / f"qmap_{Path(result['directory']).name}_{name}.yaml", table))
        export["limits"].append(entry)
        if contour_panel is None and len(axes) == 2:
            maps = summary["maps"]
            contour_panel = {
                "maps": result["maps"], "axes": axes, "parameters": parameters, "units": units,
                "labels": labels,
                "best_fits": {k: maps[k].get("best_fit") for k in maps if k != "truth"},
                "theta_true": summary["theta_true"],
                "title": f"Expected limits, L = {summary['lumi_pb'] / 1000:g} fb$^{{-1}}$, √s = 13 TeV"
                         + (f", {summary['events']:,} test events" if summary.get("events") else ""),
            }
    if class_results:
        markdown += ["## Event classification", ""]
    roc_panel = None
    for result in class_results:
        markdown += _classification_markdown(result)
        export["classification"].append({"directory": str(result["directory"]), "title": result["title"],
                                         "rows": [{k: v for k, v in r.items() if k != "roc"} for r in result["rows"]]})
        if roc_panel is None:
            roc_panel = {"curves": {}, "title": result["title"]}
        for r in result["rows"]:
            roc_panel["curves"][r["label"]] = r["roc"]
    if results["fisher"]:
        markdown += ["## Fisher information", ""]
        for result in results["fisher"]:
            markdown += _fisher_markdown(result)
    if contour_panel or roc_panel:
        written += plot_report(contour_panel, roc_panel, out / "report.png")
    written.append(atomic_write_text(out / "limits_export.json", json.dumps(export, indent=1)))
    written.append(atomic_write_text(out / "report.md", "\n".join(markdown)))
    return written
