"""Learned EFT limits against the exact truth: the toy (default) or parton-level WBF (``--simulator wbf``); at
detector level (``--level detector``) against the best 2-D histogram instead.

Simulates a training sample and an independent test sample, trains every estimator × method row at one stated
budget (the same epochs and events per epoch for every row), and compares each expected −2Δlog L map with the
exact one and with 1-D and 2-D histogram baselines: contour areas at 68.27/95.45/99.73 % CL, area ratios to the
truth, the mean squared difference to the exact map over its 95 % region and the prior-weighted MSE(log r)
(ratio estimators). Score methods (sally, sallino) are evaluated with their own statistics.

Resumable: every finished row is a JSON file under ``OUT/rows/`` and is skipped on a rerun (an interrupted
training resumes from its checkpoint). Prints a table and writes ``OUT/calibration.json`` and ``OUT/table.md``.

    python bench/calibration.py [--train-events 200000] [--epochs 60] [--out bench/results/calibration]
    python bench/calibration.py --simulator wbf --out bench/results/calibration_wbf   # L: 36 SM events
    python bench/calibration.py --simulator wbf --estimators mlp,part_sm,mixer --methods alices,rascal,sally \\
        --events-per-epoch 200000 --epochs 30 --out results/eft_accuracy
    python bench/calibration.py --simulator wbf --level detector --out results/eft_accuracy_wbf_detector  # 300 fb⁻¹

Estimator names are registry names, plus ``part_sm`` = ``part`` with ``pair=mass,delta_r`` and
``interaction=sm_running`` (the ParT with the SM interaction bias).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

import simulators
from lfi import limits
from lfi.evaluate import estimator_map, histogram_map, truth_map
from lfi.files import atomic_write_text
from lfi.train import TrainConfig
from lfi.workflows import train_estimator
from machine import cpu_name
from scoring import estimated_log_r

#: Named encoder set-ups beyond the registry names.
PRESETS = {"part_sm": ("part", {"pair": "mass,delta_r", "interaction": "sm_running"})}
HISTOGRAMS = (["pt_j1"], ["delta_phi_jj"], ["pt_j1", "delta_phi_jj"], ["pt_j1", "delta_eta_jj"],
              ["delta_phi_jj", "delta_eta_jj"])
#: Detector level has no exact likelihood: learned maps are compared with the best of these (smallest 95 % area).
DETECTOR_HISTOGRAMS = (["pt_j1"], ["delta_phi_jj"], ["m_jj"], ["pt_j1", "delta_phi_jj"], ["m_jj", "delta_phi_jj"],
                       ["pt_j1", "delta_eta_jj"], ["delta_phi_jj", "delta_eta_jj"], ["pt_4l", "delta_phi_jj"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-events", type=int, default=200_000)
    parser.add_argument("--test-events", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--events-per-epoch", type=int, default=None, help="default: the training split's size")
    parser.add_argument("--methods", default="rascal,alices")
    parser.add_argument("--estimators", "--estimator", default="mlp", help="comma-separated, e.g. mlp,part_sm")
    parser.add_argument("--simulator", choices=["toy", "wbf"], default="toy")
    parser.add_argument("--level", choices=["parton", "detector"], default="parton",
                        help="wbf: parton level (exact likelihood) or detector level (compared with histograms)")
    parser.add_argument("--lumi", type=float, default=None,
                        help="pb^-1 (default: 20 for the toy, σ_SM = 1.05 pb; 36 expected SM events for parton-level "
                             "wbf; 3e5 = 300 fb^-1 at detector level)")
    parser.add_argument("--grid", default=None, help="default -1:1:81 (toy) or -16.5:16.5:67 (wbf) per parameter")
    parser.add_argument("--out", default="bench/results/calibration")
    parser.add_argument("--option", action="append", default=[], help="extra KEY=VALUE training options")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, ...")
    parser.add_argument("--amp", default="auto", help="auto (bf16 on CUDA), off, bf16, fp16")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2, help="processes for the WBF simulation")
    parser.add_argument("--ensemble", type=int, default=1,
                        help="members per row (seeds 0, 1, ...): the row is the ensemble mean, and the table gives the "
                             "spread (standard deviation) of the members' area ratios")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    (out / "rows").mkdir(parents=True, exist_ok=True)

    train_path, test_path = out / "train.h5", out / "test.h5"
    if not train_path.exists():
        _simulate(args, args.train_events, seed=1).save(train_path)
    if not test_path.exists():
        _simulate(args, args.test_events, seed=2).save(test_path)
    from lfi.events import EventSample

    test = EventSample.load(test_path)
    n_train = EventSample.read_info(train_path)["events"]  # selected events: fewer than generated for wbf
    scale = 1.0 if args.simulator == "toy" else 16.5  # θ = 1 of 1805.00020 is 16.5 TeV⁻²
    if args.grid is None:
        args.grid = "-1:1:81,-1:1:81" if args.simulator == "toy" else "-16.5:16.5:67,-16.5:16.5:67"
    exact = args.simulator == "toy" or args.level == "parton"
    if args.lumi is None:
        args.lumi = (20.0 if args.simulator == "toy" else 3e5 if not exact else
                     36.0 / float(test.weights[:, test.benchmark_index("sm")].sum()))
    axes = limits.grid_axes(args.grid)
    points = limits.grid_points(axes)
    theta_true = np.zeros(2)

    maps, seconds = {}, {}
    if exact:
        start = time.perf_counter()
        maps["truth"] = truth_map(test, points, theta_true, args.lumi)
        seconds["truth"] = time.perf_counter() - start
    two_d = []
    for observables in HISTOGRAMS if exact else DETECTOR_HISTOGRAMS:
        name = "histogram_" + "_".join(observables)
        maps[name] = histogram_map(test, observables, points, theta_true, args.lumi)
        two_d += [name] if len(observables) == 2 else []
    if exact:
        args.reference = "truth"
    else:
        args.reference = min(two_d, key=lambda k: limits.contour_summary(maps[k], axes)["areas"]["95.45"])
    reference = maps[args.reference]
    entries = {name: {**_entry(q, reference, axes, exact), **({"seconds": seconds[name]} if name in seconds else {})}
               for name, q in maps.items()}

    from lfi.cli.train import parse_options

    # method-major: one method on every encoder before the next method, so a partial run compares encoders
    rows = [(e, m) for m in args.methods.split(",") for e in args.estimators.split(",")]
    for done, (estimator, method) in enumerate(rows, start=1):
        entries[f"{estimator}_{method}"] = _row(estimator, method, args, train_path, test, points, reference, axes,
                                                scale, parse_options(args.option), exact)
        table = _write(out, args, n_train, len(test), {**entries, **_other_rows(out, entries)},
                       pending=len(rows) - done)  # a partial table after each row
    print("\n" + table)
    _plot_ratios({**entries, **_other_rows(out, entries)}, args.reference, out / "area_ratios.png")
    print(f"\nwrote {out / 'calibration.json'}, {out / 'table.md'} and {out / 'area_ratios.png'}")


def _write(out: Path, args, n_train: int, n_test: int, entries: dict, pending: int) -> str:
    """calibration.json and table.md with the machine, the sizes and how many rows are still to come."""
    machine = f"{cpu_name()}, {torch.get_num_threads()} threads, {_gpu_name(args.device)}"
    result = {"machine": machine, "args": vars(args), "train_events": n_train, "test_events": n_test,
              "rows_pending": pending, "maps": entries}
    atomic_write_text(out / "calibration.json", json.dumps(result, indent=2))
    table = _table(entries, args.reference)
    status = f" {pending} row(s) still to run." if pending else ""
    atomic_write_text(out / "table.md", f"Machine: {machine}; {n_train} training and {n_test} test "
                      f"events; {args.epochs} epochs (patience {args.patience}) of "
                      f"{args.events_per_epoch or 'all'} events, batch {args.batch_size}; L = {args.lumi:.4g} pb⁻¹; "
                      f"ratios relative to {args.reference}.{status}\n\n{table}\n")
    return table


def _plot_ratios(entries: dict, reference: str, path: Path) -> None:
    """Horizontal bars: each map's contour area relative to the reference at 68 % and 95 % CL, a line at 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lfi.roc_figure import save_figure

    names = [n for n, e in entries.items() if "area_ratio" in e]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    for offset, level, label in ((-0.18, "68.27", "68 % CL"), (0.18, "95.45", "95 % CL")):
        spread = [entries[n].get("members", {}).get("area_ratio_spread", {}).get(level) or np.nan for n in names]
        ax.barh(y + offset, [entries[n]["area_ratio"][level] or np.nan for n in names], height=0.34, label=label,
                xerr=spread if not np.isnan(spread).all() else None, capsize=2)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"contour area / {reference}" + (" (error bars: spread of the ensemble members)"
                                                   if any("members" in entries[n] for n in names) else ""))
    ax.legend(fontsize=8)
    save_figure(fig, path)
    plt.close(fig)


def _other_rows(out: Path, entries: dict) -> dict:
    """Rows finished by earlier runs into the same OUT with other estimators or methods: the table shows them too."""
    files = sorted((out / "rows").glob("*.json"))
    return {f.stem: json.loads(f.read_text()) for f in files if f.stem not in entries}


def _entry(q: np.ndarray, reference: np.ndarray, axes, exact: bool) -> dict:
    """Areas and best fit; area ratios to the reference map, and the MSE of q inside its 95 % region when the
    reference is the exact likelihood."""
    summary = limits.contour_summary(q, axes)
    entry = {"areas": summary["areas"], "best_fit": summary["best_fit"]}
    if q is not reference:
        diff = limits.map_difference(q, reference, axes)
        entry.update(area_ratio=diff["area_ratio"], **({"mse_in_95": diff["mse"]} if exact else {}))
    return entry


def _row(estimator: str, method: str, args, train_path: Path, test, points, reference, axes, scale: float,
         options: dict, exact: bool) -> dict:
    """Train (or resume) one estimator × method and evaluate it; cached in OUT/rows/<name>.json."""
    name = f"{estimator}_{method}"
    done = Path(args.out) / "rows" / f"{name}.json"
    if done.exists():
        return json.loads(done.read_text())
    encoder, preset = PRESETS.get(estimator, (estimator, {}))
    options = {**preset, **options}
    if args.events_per_epoch:
        options["events_per_epoch"] = str(args.events_per_epoch)
    model_dir = Path(args.out) / "models" / name
    start = time.perf_counter()
    model = train_estimator(train_path, encoder, method, model_dir,
                            config=TrainConfig(epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                                               device=args.device, amp=args.amp), options=options,
                            resume=model_dir.exists(), progress=False, ensemble=args.ensemble)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    q = estimator_map(model, test, points, np.zeros(2), args.lumi, device=device)
    members = getattr(model, "members", None)
    entry = {**_entry(q, reference, axes, exact), "train_seconds": trained, "map_seconds": time.perf_counter() - start,
             "parameters": sum(p.numel() for p in (members or [model])[0].parameters())
             if hasattr((members or [model])[0], "parameters") else None}
    if members:
        entry["members"] = _member_ratios([estimator_map(m, test, points, np.zeros(2), args.lumi, device=device)
                                           for m in members], reference, axes)
    if model.kind == "ratio" and exact:
        entry["log_r_mse"] = _log_r_mse(model, test, scale)
    if model.metadata.get("method") in ("nde", "scandal") and exact:
        entry["log_p_difference"] = _log_p_difference(model, test, scale)
    atomic_write_text(done, json.dumps(entry, indent=2))
    return entry


def _member_ratios(member_maps: list[np.ndarray], reference: np.ndarray, axes) -> dict:
    """Each ensemble member's contour-area ratios to the reference and their spread (standard deviation) per CL."""
    ratios = [limits.map_difference(q, reference, axes)["area_ratio"] for q in member_maps]
    by_level = {level: [r[level] for r in ratios] for level in ratios[0]}
    spread = {level: float(np.std([v for v in values if v is not None], ddof=1))
              if sum(v is not None for v in values) > 1 else None for level, values in by_level.items()}
    return {"count": len(member_maps), "area_ratio": by_level, "area_ratio_spread": spread}


def _table(entries: dict, reference: str) -> str:
    ref = "truth" if reference == "truth" else "ref."
    density = any("log_p_difference" in e for e in entries.values())
    lines = [f"| map | area 68 % | area 95 % | 68 % / {ref} | 95 % / {ref} | MSE(q) in 95 % | MSE(log r) | trimmed "
             "| training [s] |" + (" log p̂ − log p, mean ± sd |" if density else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if density else "")]
    for name, e in entries.items():
        ratio = e.get("area_ratio", {"68.27": 1.0, "95.45": 1.0})
        lr = e.get("log_r_mse", {})
        spread = e.get("members", {}).get("area_ratio_spread", {})
        cells = [_fmt(e["areas"]["68.27"]), _fmt(e["areas"]["95.45"]), _ratio(ratio["68.27"], spread.get("68.27")),
                 _ratio(ratio["95.45"], spread.get("95.45")), _fmt(e.get("mse_in_95")), _fmt(lr.get("mse")), _fmt(lr.get("mse_trimmed")),
                 _fmt(e.get("train_seconds"), ".0f")]
        if density:
            d = e.get("log_p_difference")
            cells.append("–" if d is None else f"{d['mean_over_points']:.3f} ± {d['std_over_points']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio(value, spread) -> str:
    """An area ratio, with ± the ensemble members' spread when the row is an ensemble."""
    return _fmt(value, ".3f") + ("" if spread is None else f" ± {spread:.3f}")


def _gpu_name(device: str) -> str:
    """The CUDA device the trainings run on, or "no GPU" when they run on the CPU."""
    if device == "cpu" or not torch.cuda.is_available():
        return "no GPU"
    return torch.cuda.get_device_name(torch.device(device) if device.startswith("cuda") else 0)


def _fmt(value, spec: str = ".4g") -> str:
    return "–" if value is None else format(value, spec)


def _simulate(args, n_events: int, seed: int):
    options = {"workers": args.workers, "level": args.level} if args.simulator == "wbf" else {}
    return simulators.get(args.simulator).simulate(n_events, seed=seed, **options)


def _log_p_difference(model, test, scale: float, n_events: int = 20_000) -> dict:
    """A density estimator's log p̂(x|θ) against the exact log p(x|θ) on test events, at the SM and four points at
    (±0.5, ±0.5)·scale: per point the mean and standard deviation of the difference over events weighted at that θ
    (i.e. over x ∼ p(x|θ)); the mean is the normalisation offset, the spread the error in shape."""
    from lfi.truth import exact_log_likelihood

    events = test[:n_events]
    theta = np.array([[0.0, 0.0], [0.5, 0.5], [0.5, -0.5], [-0.5, 0.5], [-0.5, -0.5]]) * scale
    difference = model.grid_log_density(model.grid_state(events), theta) - exact_log_likelihood(events, theta)  # (N, T)
    weights = np.clip(np.stack([events.weights_at(t) for t in theta], 1), 0, None)  # (N, T) pb
    mean = (weights * difference).sum(0) / weights.sum(0)
    std = np.sqrt((weights * (difference - mean) ** 2).sum(0) / weights.sum(0))
    return {"theta": theta.tolist(), "mean": mean.tolist(), "std": std.tolist(),
            "mean_over_points": float(mean.mean()), "std_over_points": float(std.mean())}


def _log_r_mse(model, test, scale: float, n_events: int = 20_000, n_side: int = 11) -> dict:
    """MSE(log r̂) against the exact log r(x|θ, SM) for events at the SM, prior-weighted over θ (``docs/statistics.md`` §7:
    Gaussian of width 0.2·√2 in units where the parameter range is [−1, 1], i.e. θ/scale), full and trimmed."""
    from lfi.truth import exact_log_likelihood

    events = test[:n_events]
    axes = limits.grid_axes(f"{-scale}:{scale}:{n_side},{-scale}:{scale}:{n_side}")
    theta = limits.grid_points(axes)
    exact = exact_log_likelihood(events, theta)
    exact_ref = exact_log_likelihood(events, np.zeros((1, 2)))
    return limits.log_r_mse(estimated_log_r(model, events, theta), (exact - exact_ref).T, theta, prior_width=0.2 * np.sqrt(2) * scale,
                            weights=events.weights_at(np.zeros(2)))


if __name__ == "__main__":
    main()
