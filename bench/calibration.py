"""Calibration against the exact truth: the toy (default) or parton-level WBF (``--simulator wbf``).

Simulates a training sample (default 200 k events) and an independent test sample, trains RASCAL and
ALICES with the default MLP, and compares their expected −2Δlog L maps with the exact map and with
1-D and 2-D histogram baselines: contour areas at 68.27/95.45/99.73 % CL, area ratios to the truth, the
mean squared difference to the exact map over its 95 % region and the prior-weighted MSE(log r).
Prints a table and writes JSON.

    python bench/calibration.py [--train-events 200000] [--epochs 60] [--out bench/results/calibration]
    python bench/calibration.py --simulator wbf --out bench/results/calibration_wbf   # L: 36 SM events
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path


import numpy as np
import torch

import simulators
from lfi import limits
from lfi.evaluate import histogram_map, ratio_map, truth_map
from lfi.train import TrainConfig
from lfi.workflows import train_estimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-events", type=int, default=200_000)
    parser.add_argument("--test-events", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--methods", default="rascal,alices")
    parser.add_argument("--estimator", default="mlp")
    parser.add_argument("--simulator", choices=["toy", "wbf"], default="toy")
    parser.add_argument("--lumi", type=float, default=None,
                        help="pb^-1 (default: 20 for the toy, σ_SM = 1.05 pb; 36 expected SM events for wbf)")
    parser.add_argument("--grid", default=None, help="default -1:1:81 (toy) or -16.5:16.5:67 (wbf) per parameter")
    parser.add_argument("--out", default="bench/results/calibration")
    parser.add_argument("--option", action="append", default=[], help="extra KEY=VALUE training options")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(torch.get_num_threads(), 1))

    train_path, test_path = out / "train.h5", out / "test.h5"
    if not train_path.exists():
        _simulate(args.simulator, args.train_events, seed=1).save(train_path)
    if not test_path.exists():
        _simulate(args.simulator, args.test_events, seed=2).save(test_path)
    from lfi.events import EventSample

    test = EventSample.load(test_path)
    scale = 1.0 if args.simulator == "toy" else 16.5  # θ = 1 of 1805.00020 is 16.5 TeV⁻²
    if args.grid is None:
        args.grid = "-1:1:81,-1:1:81" if args.simulator == "toy" else "-16.5:16.5:67,-16.5:16.5:67"
    if args.lumi is None:
        args.lumi = 20.0 if args.simulator == "toy" else 36.0 / float(test.weights[:, test.benchmark_index("sm")].sum())
    axes = limits.grid_axes(args.grid)
    points = limits.grid_points(axes)
    theta_true = np.zeros(2)

    maps, timings, log_r_mse = {}, {}, {}
    start = time.perf_counter()
    maps["truth"] = truth_map(test, points, theta_true, args.lumi)
    timings["truth"] = time.perf_counter() - start
    for observables in (["pt_j1"], ["delta_phi_jj"], ["pt_j1", "delta_phi_jj"], ["pt_j1", "delta_eta_jj"],
                        ["delta_phi_jj", "delta_eta_jj"]):
        maps["histogram_" + "_".join(observables)] = histogram_map(test, observables, points, theta_true, args.lumi)

    from lfi.cli.train import parse_options

    for method in args.methods.split(","):
        model_dir = out / f"{args.estimator}_{method}"
        start = time.perf_counter()
        model = train_estimator(train_path, args.estimator, method, model_dir,
                                config=TrainConfig(epochs=args.epochs, patience=args.patience),
                                options=parse_options(args.option), resume=(model_dir / "checkpoint.pt").exists(),
                                progress=False)
        timings[f"train_{method}"] = time.perf_counter() - start
        start = time.perf_counter()
        maps[method] = ratio_map(model, test, points, theta_true, args.lumi)
        timings[f"map_{method}"] = time.perf_counter() - start
        log_r_mse[method] = _log_r_mse(model, test, scale)

    rows, result = [], {"machine": f"{platform.machine()}, {torch.get_num_threads()} threads, CPU", "args": vars(args),
                        "timings_s": timings, "maps": {}}
    for name, q in maps.items():
        summary = limits.contour_summary(q, axes)
        entry = {"areas": summary["areas"], "best_fit": summary["best_fit"]}
        if name != "truth":
            diff = limits.map_difference(q, maps["truth"], axes)
            entry.update(area_ratio=diff["area_ratio"], mse_in_95=diff["mse"])
        if name in log_r_mse:
            entry["log_r_mse"] = log_r_mse[name]
        result["maps"][name] = entry
        rows.append((name, entry))
        np.save(out / f"q_{name}.npy", q.reshape([len(a) for a in axes]))
    print(f"\n{'map':<36}{'A68':>10}{'A95':>10}{'A68/true':>10}{'A95/true':>10}{'MSE(q) 95%':>12}{'MSE(log r)':>12}"
          f"{'trimmed':>10}")
    for name, e in rows:
        ratio = e.get("area_ratio", {"68.27": 1.0, "95.45": 1.0})
        mse = e.get("mse_in_95", 0.0)
        lr = e.get("log_r_mse", {"mse": float("nan"), "mse_trimmed": float("nan")})
        print(f"{name:<36}{e['areas']['68.27']:>10.4g}{e['areas']['95.45']:>10.4g}{ratio['68.27']:>10.3f}"
              f"{ratio['95.45']:>10.3f}{mse:>12.4g}{lr['mse']:>12.4g}{lr['mse_trimmed']:>10.4g}")
    (out / "calibration.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out / 'calibration.json'}")


def _simulate(name: str, n_events: int, seed: int):
    options = {"workers": 2} if name == "wbf" else {}
    return simulators.get(name).simulate(n_events, seed=seed, **options)


def _log_r_mse(model, test, scale: float, n_events: int = 20_000, n_side: int = 11) -> dict:
    """MSE(log r̂) against the exact log r(x|θ, SM) for events at the SM, prior-weighted over θ (``docs/statistics.md`` §7:
    Gaussian of width 0.2·√2 in units where the parameter range is [−1, 1], i.e. θ/scale), full and trimmed."""
    from lfi.truth import exact_log_likelihood

    events = test[:n_events]
    axes = limits.grid_axes(f"{-scale}:{scale}:{n_side},{-scale}:{scale}:{n_side}")
    theta = limits.grid_points(axes)
    state = model.grid_state(events)
    estimated = model.grid_log_density(state, theta)
    estimated_ref = model.grid_log_density(state, np.zeros((1, 2)))
    exact = exact_log_likelihood(events, theta)
    exact_ref = exact_log_likelihood(events, np.zeros((1, 2)))
    return limits.log_r_mse((estimated - estimated_ref).T, (exact - exact_ref).T, theta, prior_width=0.2 * np.sqrt(2) * scale,
                            weights=events.weights_at(np.zeros(2)))


if __name__ == "__main__":
    main()
