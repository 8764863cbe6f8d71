"""``lfi limits``: expected (Asimov) likelihood maps and CL contours for models, histograms and the truth."""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["add_commands"]

log = logging.getLogger("lfi.limits")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "limits",
        help="expected (Asimov) likelihood maps and CL contours on a parameter grid",
        description="Evaluate expected −2Δlog L on a θ grid for trained estimators, histogram baselines and "
        "the exact truth; write q maps and Wilks p-value maps (.npy), a summary (limits.json) with contour "
        "areas and best fits, and a contour figure (contours.png).",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="test event file (not the training file)")
    p.add_argument("--model", nargs="*", default=[], metavar="DIR", help="trained estimator directories")
    p.add_argument("--histogram", action="append", default=[], metavar="OBS[,OBS]",
                   help="1-D or 2-D histogram baseline of named observables (repeatable)")
    p.add_argument("--binning", choices=["auto", "reference"], default="auto",
                   help="histogram bins: weighted quantiles, or the reference binning of PHYSICS §3")
    p.add_argument("--truth", action="store_true", help="add the exact likelihood (needs a sample that carries it)")
    p.add_argument("--lumi", type=float, required=True, metavar="L", help="integrated luminosity in pb^-1")
    p.add_argument("--grid", required=True, metavar="SPEC", help='"low:high:n,low:high:n" per parameter')
    p.add_argument("--true", default=None, metavar="V1,V2", help="true point θ* (default: the SM, all zeros)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=run)


def _save_npy(path: Path, array: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    from lfi import limits
    from lfi.evaluate import bdt_ratio_map, histogram_map, ratio_map, score_map, truth_map
    from lfi.events import EventSample

    if not (args.model or args.histogram or args.truth):
        raise ValueError("nothing to evaluate: give --model, --histogram or --truth")
    sample = EventSample.load(args.data)
    axes = limits.grid_axes(args.grid)
    if len(axes) != sample.n_parameters:
        raise ValueError(f"--grid has {len(axes)} axes but the sample has {sample.n_parameters} parameters")
    points = limits.grid_points(axes)
    theta_true = np.zeros(sample.n_parameters) if args.true is None else np.array([float(v) for v in args.true.split(",")])
    maps: dict[str, np.ndarray] = {}
    if args.truth:
        maps["truth"] = truth_map(sample, points, theta_true, args.lumi)
    for spec in args.histogram:
        names = [n for n in spec.split(",") if n]
        maps["histogram_" + "_".join(names)] = histogram_map(sample, names, points, theta_true, args.lumi, binning=args.binning)
    if args.model:
        import estimators
        from estimators.bdt import BDTEstimator

        for directory in args.model:
            model = estimators.load(directory)
            method = model.metadata.get("method", "model")
            name = f"{method}_{Path(directory).name}"
            if isinstance(model, BDTEstimator):
                maps[name] = bdt_ratio_map(model, sample, points, theta_true, args.lumi)
            elif model.head.kind == "score":
                maps[name] = score_map(model, sample, points, theta_true, args.lumi, method=method, device=args.device)
            else:
                maps[name] = ratio_map(model, sample, points, theta_true, args.lumi, device=args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shape = tuple(len(a) for a in axes)
    summary = {"data": args.data, "lumi_pb": args.lumi, "theta_true": theta_true.tolist(), "grid": args.grid,
               "parameters": sample.parameters, "maps": {}}
    for name, q in maps.items():
        _save_npy(out / f"q_{name}.npy", q.reshape(shape))
        _save_npy(out / f"p_{name}.npy", limits.p_value(np.clip(q, 0.0, None), dof=len(axes)).reshape(shape))
        summary["maps"][name] = limits.contour_summary(q, axes)
        if "truth" in maps and name != "truth":
            summary["maps"][name]["versus_truth"] = limits.map_difference(q, maps["truth"], axes)
    (out / "limits.json").write_text(json.dumps(summary, indent=2))
    _print_table(summary)
    if len(axes) == 2:
        from lfi.report import plot_contours

        figure = plot_contours({k: v.reshape(shape) for k, v in maps.items()}, axes, out / "contours.png",
                               parameters=sample.parameters, units=sample.units, theta_true=theta_true,
                               title=f"expected limits, L = {args.lumi:g} pb⁻¹")
        print(f"figure: {figure}")
    print(f"wrote {len(maps)} maps and limits.json to {out}")
    return 0


def _print_table(summary: dict) -> None:
    """Contour areas per map; "*" marks a region cut off by the grid edge (its area is a lower bound)."""
    levels = None
    for name, entry in summary["maps"].items():
        if levels is None:
            levels = list(entry["areas"])
            print(f"{'map':<32} " + " ".join(f"{'area ' + lv + '%':>15}" for lv in levels) + f"  {'best fit':>20}")
        cells = []
        for lv in levels:
            area = entry["areas"][lv]
            text = f"{area:.4g}" if area is not None else "nan"
            cells.append(f"{text + ('*' if entry['open'][lv] else ' '):>15}")
        best = ", ".join(f"{v:.3g}" for v in entry["best_fit"])
        print(f"{name:<32} {' '.join(cells)}  {best:>20}")
    if any(any(e["open"].values()) for e in summary["maps"].values()):
        print("* the region reaches the grid edge: its area is a lower bound (widen --grid)")
