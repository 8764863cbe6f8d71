"""lfi and MadMiner side by side on the same events: accuracy against the exact likelihood, and wall time.

For each sample (the toy, and parton-level WBF where the per-event likelihood is exact too) this script simulates a
training and a test sample with lfi, exports both with lfi's MadMiner writer, and trains the same method with both
tools on the same training events with the same flat θ0 prior over the benchmarks' box and θ1 = SM:

- **MadMiner** (``bench/madminer_side.py``, in a virtual environment this script makes with ``madminer`` and the
  pinned CPU torch; nothing of MadMiner is imported here): ``SampleAugmenter`` + ``ParameterizedRatioEstimator``
  (ALICES, RASCAL) or ``ScoreEstimator`` (SALLY), at MadMiner's defaults;
- **lfi**: ``train_estimator(…, "mlp", method)`` at lfi's defaults, joint quantities computed per batch (no separate
  augmentation step).

Both are scored on the same test events by the same functions: MSE(log r̂) against the exact log r (prior-weighted,
full and trimmed, :func:`lfi.limits.log_r_mse`) and the 68 %/95 % contour areas of the expected map relative to the
exact one. After every epoch each tool's MSE(log r̂) on the first ``--curve-events`` test events is recorded against
its elapsed wall time (the evaluation left out), which gives the accuracy-against-time curves and "lfi's time to
MadMiner's final accuracy".

Resumable: each finished (sample, method, tool) row is a JSON file under ``OUT/<sample>/rows/`` and is skipped on a
rerun (an interrupted row starts again, as its wall time must be clean); ``--label`` keeps rows of another lfi
version apart (before/after a change). Prints the table and writes ``OUT/madminer_peer.json``, ``OUT/table.md`` and
``OUT/accuracy_vs_time.png``. Run time on a 2-core CPU: ≈ 1 h for both samples (the MadMiner environment's
installation ≈ 1 min on top).

    python bench/madminer_peer.py [--samples toy,wbf] [--methods alices,rascal,sally] [--out results/madminer_peer]
    python bench/madminer_peer.py --wbf-from results/eft_accuracy_wbf_parton   # reuse a simulated WBF sample
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from machine import cpu_name
from scoring import estimated_log_r

MADMINER = "madminer==0.9.6"
TORCH = "torch==2.13.0"
HERE = Path(__file__).resolve().parent
#: Per sample: generated training events, the parameter scale (θ units of the box edge) and the map's luminosity.
SAMPLES = {
    "toy": {"train_events": 200_000, "scale": 1.0},
    "wbf": {"train_events": 100_000, "scale": 16.5},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", default="toy,wbf")
    parser.add_argument("--methods", default="alices,rascal,sally")
    parser.add_argument("--tools", default="lfi,madminer")
    parser.add_argument("--out", default="results/madminer_peer")
    parser.add_argument("--venv", default=None, help="MadMiner's environment (default OUT/.venv-madminer)")
    parser.add_argument("--test-events", type=int, default=100_000, help="for the expected maps (fewer if the "
                        "test file has fewer)")
    parser.add_argument("--mse-events", type=int, default=20_000, help="the first test events, for MSE(log r)")
    parser.add_argument("--curve-events", type=int, default=5_000)
    parser.add_argument("--grid-side", type=int, default=41, help="grid points per parameter; side - 1 a multiple of 10 (the 11² MSE grid is a sub-grid)")
    parser.add_argument("--wbf-from", default=None, help="a folder with a parton-level WBF train.h5 and test.h5")
    parser.add_argument("--workers", type=int, default=2, help="processes for the WBF simulation")
    parser.add_argument("--label", default="", help="suffix of the lfi rows, e.g. _before")
    parser.add_argument("--train-events", type=int, default=None, help="override the generated training events")
    parser.add_argument("--epochs", type=int, default=None, help="both tools (default: each tool's own default)")
    parser.add_argument("--madminer-workers", type=int, default=8, help="MadMiner's DataLoader workers (its default: 8)")
    parser.add_argument("--madminer-inputs", choices=["all", "observables"], default="all",
                        help="MadMiner sees the high-level observables and the object list as columns (all), or only "
                             "the observables; rows other than the defaults are named madminer_w<K> / madminer_obs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    python = _madminer_python(Path(args.venv) if args.venv else out / ".venv-madminer") if "madminer" in args.tools else None

    rows = {}
    for name in args.samples.split(","):
        rows[name] = _run_sample(name, args, out / name, python)
        _write(out, args, rows)
    _plot_curves(rows, out / "accuracy_vs_time.png")
    print(_write(out, args, rows))
    print(f"\nwrote {out / 'madminer_peer.json'}, {out / 'table.md'} and {out / 'accuracy_vs_time.png'}")


def _madminer_python(venv: Path) -> Path:
    """MadMiner's own interpreter, installing the environment (pinned CPU torch first) on first use."""
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        print(f"installing {MADMINER} and {TORCH} into {venv} (once, ≈ 1 min)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", TORCH], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", MADMINER], check=True)
        (venv / ".complete").write_text(MADMINER + "\n")
    return python


def _run_sample(name: str, args, folder: Path, python: Path | None) -> dict:
    import simulators
    from lfi import limits
    from lfi.evaluate import truth_map
    from lfi.events import EventSample
    from lfi.truth import exact_log_likelihood
    from simulators.io.madminer_export import write_madminer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rows").mkdir(exist_ok=True)
    spec = SAMPLES[name]
    for part, n_events, seed in (("train", args.train_events or spec["train_events"], 1), ("test", args.test_events, 2)):
        path = folder / f"{part}.h5"
        if path.exists():
            continue
        if name == "wbf" and args.wbf_from:
            shutil.copyfile(Path(args.wbf_from) / f"{part}.h5", path)
        else:
            options = {"workers": args.workers, "level": "parton"} if name == "wbf" else {}
            simulators.get(name).simulate(n_events, seed=seed, **options).save(path)
    test = EventSample.load(folder / "test.h5")[: args.test_events]
    scored = test[: args.mse_events]
    objects = args.madminer_inputs == "all"
    for part, sample in (("train", None), ("test", test)):
        mm = folder / f"{part}_madminer{_inputs_suffix(args)}.h5"
        if not mm.exists():
            write_madminer(sample if sample is not None else EventSample.load(folder / "train.h5"), mm, objects=objects)

    scale = spec["scale"]
    axes = limits.grid_axes(f"{-scale}:{scale}:{args.grid_side},{-scale}:{scale}:{args.grid_side}")
    points = limits.grid_points(axes)
    sm = np.zeros(test.n_parameters)
    # 36 expected SM events for WBF as in bench/calibration.py; 20 pb⁻¹ for the toy (σ_SM ≈ 1 pb)
    lumi = 20.0 if name == "toy" else 36.0 / float(test.weights[:, test.benchmark_index("sm")].sum())
    truth = truth_map(test, points, sm, lumi)
    mse_axes = limits.grid_axes(f"{-scale}:{scale}:11,{-scale}:{scale}:11")
    mse_theta = limits.grid_points(mse_axes)  # a sub-grid of ``points`` when grid_side = 4k + 1
    exact = exact_log_likelihood(scored, mse_theta) - exact_log_likelihood(scored, sm[None])
    scoring = {"theta": mse_theta, "log_r": exact.T, "weights": scored.weights_at(sm), "events": len(scored),
               "prior_width": 0.2 * np.sqrt(2) * scale}
    curve_target = folder / "curve_target.npz"
    np.savez(curve_target, theta=mse_theta, log_r=exact.T[:, : args.curve_events],
             weights=scoring["weights"][: args.curve_events], prior_width=scoring["prior_width"])
    np.save(folder / "grid.npy", points)
    context = dict(test=test, points=points, axes=axes, truth=truth, lumi=lumi, scoring=scoring, folder=folder,
                   curve_target=curve_target, args=args, n_train=EventSample.read_info(folder / "train.h5")["events"])

    rows = {"truth": {"areas": limits.contour_summary(truth, axes)["areas"]}}
    for method in args.methods.split(","):
        for tool in args.tools.split(","):
            key = f"{method}_{tool}" + (args.label if tool == "lfi" else _madminer_suffix(args))
            done = folder / "rows" / f"{key}.json"
            if not done.exists():
                print(f"[{name}] {method} with {tool}", flush=True)
                row = _lfi_row(method, context) if tool == "lfi" else _madminer_row(method, context, python)
                done.write_text(json.dumps(row, indent=2))
            rows[key] = json.loads(done.read_text())
    for f in sorted((folder / "rows").glob("*.json")):  # rows of other labels or earlier runs
        rows.setdefault(f.stem, json.loads(f.read_text()))
    return rows


def _lfi_row(method: str, c: dict) -> dict:
    from lfi.evaluate import estimator_map
    from lfi.limits import log_r_mse
    from lfi.train import TrainConfig
    from lfi.workflows import train_estimator

    model_dir = c["folder"] / "models" / f"{method}_lfi{c['args'].label}"
    shutil.rmtree(model_dir, ignore_errors=True)  # a row's wall time must be clean: no resume
    target = np.load(c["curve_target"])
    curve_events = c["test"][: target["log_r"].shape[1]]
    curve, excluded = [], [0.0]
    start = time.perf_counter()

    def on_epoch(entry: dict, model) -> None:
        begin = time.perf_counter()
        point = {"epoch": entry["epoch"], "seconds": begin - start - excluded[0]}
        if model.kind == "ratio":
            point.update(log_r_mse(estimated_log_r(model, curve_events, target["theta"]), target["log_r"], target["theta"],
                                   prior_width=float(target["prior_width"]), weights=target["weights"]))
        curve.append(point)
        excluded[0] += time.perf_counter() - begin

    config = TrainConfig(device="cpu", **({"epochs": c["args"].epochs} if c["args"].epochs else {}))
    model = train_estimator(c["folder"] / "train.h5", "mlp", method, model_dir, config=config, progress=False,
                            on_epoch=on_epoch)
    seconds = time.perf_counter() - start - excluded[0]
    record = json.loads((model_dir / "train_options.json").read_text())
    fraction = record["options"]["data"]["validation_fraction"]
    per_epoch = record["options"]["data"]["events_per_epoch"] or round((1 - fraction) * c["n_train"])
    row = {"tool": f"lfi {_lfi_version()}", "augment_seconds": 0.0, "train_seconds": seconds, "epochs_run": len(curve),
           "examples": per_epoch, "parameters": sum(p.numel() for p in model.parameters()),
           "inputs": "the object list (four-momenta, types) and the event globals",
           "network": f"mlp encoder {model.config['encoder_config'].get('hidden', '(128, 128)')} + "
                      f"{model.config['head']} head, {config.epochs} epochs max., batch {config.batch_size}",
           "curve": curve}
    q = estimator_map(model, c["test"], c["points"], np.zeros(c["test"].n_parameters), c["lumi"])
    log_r = estimated_log_r(model, c["test"][: c["scoring"]["events"]], c["scoring"]["theta"]) if model.kind == "ratio" else None
    return {**row, **_scores(q, log_r, c)}


def _madminer_row(method: str, c: dict, python: Path) -> dict:
    folder, args = c["folder"], c["args"]
    work = folder / "models" / f"{method}_madminer{_madminer_suffix(args)}"
    shutil.rmtree(work, ignore_errors=True)
    inputs = _inputs_suffix(args)
    command = [str(python), str(HERE / "madminer_side.py"), "--train", str(folder / f"train_madminer{inputs}.h5"),
               "--test", str(folder / f"test_madminer{inputs}.h5"), "--method", method, "--n-samples", str(c["n_train"]),
               "--grid", str(folder / "grid.npy"), "--curve", str(c["curve_target"]),
               "--augmented", str(folder / f"augmented{inputs}"), "--out", str(work),
               "--n-workers", str(args.madminer_workers),
               *(["--epochs", str(args.epochs)] if args.epochs else [])]
    log_path = folder / f"{method}_madminer{_madminer_suffix(args)}.log"
    with open(log_path, "w") as log:
        status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": ""})
    if status.returncode:
        raise SystemExit(f"MadMiner's {method} run failed (exit {status.returncode}); see {log_path}")
    row = json.loads((work / "result.json").read_text())
    if method == "sally":
        adapter = _PrecomputedScore(np.load(work / "score.npy"))
        log_r = None
    else:
        adapter = _PrecomputedRatio(c["points"], np.load(work / "log_r.npy", mmap_mode="r"))
        log_r = adapter.grid_log_density(None, c["scoring"]["theta"]).T[:, : c["scoring"]["events"]]
    from lfi.evaluate import estimator_map

    q = estimator_map(adapter, c["test"], c["points"], np.zeros(c["test"].n_parameters), c["lumi"])
    scores = _scores(q, log_r, c)
    (work / "log_r.npy").unlink(missing_ok=True)  # (T, N) float32: large, and scored now
    return {**row, **scores}


def _inputs_suffix(args) -> str:
    return "" if args.madminer_inputs == "all" else "_obs"


def _madminer_suffix(args) -> str:
    """Row-name suffix of MadMiner settings other than its defaults."""
    return _inputs_suffix(args) + ("" if args.madminer_workers == 8 else f"_w{args.madminer_workers}")


class _PrecomputedRatio:
    """lfi's ratio-estimator protocol over log r̂(x|θ, SM) computed elsewhere on a fixed grid (MadMiner's output)."""

    kind = "ratio"

    def __init__(self, points: np.ndarray, log_r: np.ndarray) -> None:
        self.index = {tuple(np.round(p, 9)): i for i, p in enumerate(points)}
        self.log_r = log_r  # (T, N)

    def grid_state(self, sample, *, device: str = "cpu"):
        return None

    def grid_log_density(self, state, theta: np.ndarray) -> np.ndarray:
        rows = [self.index[tuple(np.round(t, 9))] for t in np.asarray(theta, float)]
        return self.log_r[rows].T.astype(np.float64)


class _PrecomputedScore:
    """lfi's score-estimator protocol over t̂(x) at the SM computed elsewhere (MadMiner's SALLY)."""

    kind = "score"

    def __init__(self, score: np.ndarray) -> None:
        self._score = score
        self.metadata = {"method": "sally", "reference": np.zeros(score.shape[1])}

    def score(self, sample, *, device: str = "cpu") -> np.ndarray:
        return self._score.astype(np.float64)


def _scores(q: np.ndarray, log_r: np.ndarray | None, c: dict) -> dict:
    """Contour areas relative to the exact map and, for ratio methods, MSE(log r̂) on all test events."""
    from lfi import limits

    diff = limits.map_difference(q, c["truth"], c["axes"])
    entry = {"areas": limits.contour_summary(q, c["axes"])["areas"], "area_ratio": diff["area_ratio"]}
    if log_r is not None:
        s = c["scoring"]
        entry["log_r_mse"] = limits.log_r_mse(log_r, s["log_r"], s["theta"], prior_width=s["prior_width"],
                                              weights=s["weights"])
    return entry


def time_to_accuracy(curve: list[dict], target: float) -> float | None:
    """Seconds at the first epoch whose MSE(log r̂) is at or below ``target``; None if never reached."""
    return next((p["seconds"] for p in curve if p.get("mse", np.inf) <= target), None)


def _comparisons(rows: dict) -> dict:
    """Per method: MadMiner's total wall time over lfi's time to MadMiner's final accuracy (on the curve events),
    and the plain end-to-end ratio."""
    result = {}
    for key, mm in rows.items():
        if not key.endswith("_madminer"):
            continue
        method = key.removesuffix("_madminer")
        mm_total = mm["augment_seconds"] + mm["train_seconds"]
        for lfi_key in [k for k in rows if k.startswith(f"{method}_lfi")]:
            lfi = rows[lfi_key]
            entry = {"end_to_end": mm_total / (lfi["augment_seconds"] + lfi["train_seconds"])}
            if mm["curve"] and "mse" in mm["curve"][-1]:
                target = mm["curve"][-1]["mse"]
                reached = time_to_accuracy(lfi["curve"], target)
                entry.update(madminer_final_mse=target, lfi_seconds_to_it=reached,
                             time_to_accuracy=None if reached is None else mm_total / reached)
            result[lfi_key] = entry
    return result


def _write(out: Path, args, rows: dict) -> str:
    from lfi.files import atomic_write_text

    machine = f"{cpu_name()}, {torch.get_num_threads()} threads, no GPU"
    comparisons = {name: _comparisons(r) for name, r in rows.items()}
    atomic_write_text(out / "madminer_peer.json", json.dumps(
        {"machine": machine, "args": vars(args), "samples": rows, "comparisons": comparisons}, indent=2, default=str))
    lines = [f"Machine: {machine}; expected maps from up to {args.test_events} test events on a {args.grid_side}² "
             f"grid, MSE(log r) on the first {args.mse_events} of them (prior-weighted over an 11² grid), curves on the "
             f"first {args.curve_events}.", ""]
    for name, r in rows.items():
        lines += [f"### {name}", "", "| method | tool | augment + train [s] | epochs | MSE(log r) full / trimmed "
                  "| area / truth 68 % / 95 % | MadMiner time / lfi time to MadMiner's accuracy |",
                  "|---|---|---|---|---|---|---|"]
        for key, e in r.items():
            if key == "truth":
                continue
            method, tool = key.split("_", 1)
            mse = e.get("log_r_mse")
            ratio = comparisons[name].get(key, {}).get("time_to_accuracy")
            lines.append(f"| {method} | {tool} | {e['augment_seconds']:.0f} + {e['train_seconds']:.0f} | "
                         f"{e['epochs_run']} | " + (f"{mse['mse']:.4f} / {mse['mse_trimmed']:.4f}" if mse else "–") +
                         f" | {e['area_ratio']['68.27']:.2f} / {e['area_ratio']['95.45']:.2f} | "
                         + ("–" if ratio is None else f"{ratio:.1f}×") + " |")
        lines.append("")
    table = "\n".join(lines)
    atomic_write_text(out / "table.md", table + "\n")
    return table


def _plot_curves(rows: dict, path: Path) -> None:
    """MSE(log r̂) against wall time (MadMiner's starts after its augmentation), one panel per sample × method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lfi.roc_figure import save_figure

    panels = [(s, k.removesuffix("_madminer")) for s, r in rows.items() for k in r if k.endswith("_madminer")
              and r[k]["curve"] and "mse" in r[k]["curve"][-1]]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (sample, method) in zip(axes[0], panels):
        for key, e in rows[sample].items():
            if not key.startswith(f"{method}_") or not e.get("curve") or "mse" not in e["curve"][-1]:
                continue
            t = np.array([p["seconds"] for p in e["curve"]]) + e["augment_seconds"]
            ax.plot(t, [p["mse"] for p in e["curve"]], marker=".", label=key.split("_", 1)[1])
        target = rows[sample][f"{method}_madminer"]["curve"][-1]["mse"]
        ax.axhline(target, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="wall time [s]", ylabel="MSE(log r̂)", yscale="log", title=f"{sample}: {method.upper()}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _lfi_version() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
        return commit.stdout.strip() or "unknown"
    except OSError:
        return "unknown"



if __name__ == "__main__":
    main()
