"""The jet–parton assignment table in the layout of the SPANet talk (arXiv:2106.03898): event and particle
efficiencies by jet multiplicity for the symmetric tensor attention head on ParT (with the default pair features
and with "ParT int. SM") against the χ² permutation fit, on t t̄ and t t̄ H, plus events/s on this CPU.

    lfi simulate tth --events 60000 --seed 21 --workers 2 --out tth.h5
    lfi simulate ttbar --events 120000 --seed 22 --workers 2 --out ttbar.h5
    python bench/assignment.py --tth tth.h5 --ttbar ttbar.h5 --out results/assignment

Each file is split by event order: the first (1 − test fraction) trains (10 % of it validates), the rest is the
test set of every row. Each row writes ``OUT/rows/<process>_<slug>/row.json`` and is skipped when that exists (an
interrupted run continues); ``table.md``, ``table.json`` and ``efficiency.png`` are rewritten after every row.
At the end, the assignment speed of every row is measured again side by side in one pass (nothing else running in
the script), and "assignment + BDT" classifies the test parts of t t̄ H against t t̄ with LightGBM, without and with
the t t̄ H ParT assigner's observables as event-level inputs (``lfi assign --as-globals``), on the same events and
split (``OUT/assignment_bdt/``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROWS = [
    ("ParT", "part", {}),
    ("ParT int. SM", "part", {"pair": "mass,delta_r", "interaction": "sm_running"}),
    ("χ²", "chi2", {}),
]
"""(label, estimator, encoder options)."""
PROCESSES = ("ttbar", "tth")


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower().replace("χ²", "chi2")).strip("_")


def machine() -> dict:
    import torch

    from machine import cpu_name

    return {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__}


def split(path: str, test_fraction: float):
    from lfi.events import EventSample

    sample = EventSample.load(path)
    n_train = int(round((1 - test_fraction) * len(sample)))
    return sample.select(slice(0, n_train)), sample.select(slice(n_train, len(sample)))


def run_row(process: str, row, train, test, args, out: Path) -> dict:
    from lfi.assignment import efficiency_table, topology
    from lfi.assignment.topology import JET_TRUTH_KEY
    from lfi.train import TrainConfig
    from lfi.workflows.assignment import assign_events, train_assigner

    label, estimator, options = row
    model_dir = out / "model"
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, device="cpu", seed=args.seed)
    start = time.perf_counter()
    assigner = train_assigner(train, estimator, process, model_dir, options=options, config=config,
                              progress=False)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = assign_events(assigner, test)
    seconds = time.perf_counter() - start
    table = efficiency_table(topology(process), test.truth_events[JET_TRUTH_KEY], result["assignment"],
                             test.observables["n_jets"])
    history = model_dir / "history.json"
    return {"process": process, "label": label, "estimator": estimator, "options": options,
            "train_events": len(train), "test_events": len(test), "train_seconds": train_seconds,
            "epochs": len(json.loads(history.read_text())) if history.is_file() else 0,
            "events_per_s": len(test) / seconds, "efficiency": table}


def _cell(value: float) -> str:
    return "–" if value != value else f"{100 * value:.0f}"


def markdown(rows: list[dict], context: dict) -> str:
    from lfi.assignment import topology

    lines = ["# Jet–parton assignment: symmetric tensor attention vs χ² (t t̄, t t̄ H)", "",
             f"Machine: {context['machine']['cpu']}, {context['machine']['cores']} cores, torch "
             f"{context['machine']['torch']} ({context['machine']['torch_threads']} threads), no GPU. "
             f"Command: `{context['command']}`.", "",
             "Efficiencies in %: event (Ev.) and per particle; **all events** = events with at least one "
             "reconstructable particle, **full events** = every particle reconstructable (docs/assignment.md §5).", ""]
    for process in PROCESSES:
        mine = [r for r in rows if r["process"] == process]
        if not mine:
            continue
        top = topology(process)
        names = [p.name for p in top.particles]
        sizes = context["samples"][process]
        lines += [f"## {process}: {sizes['train']} training, {sizes['test']} test events", "",
                  "| events | jets | n | " + " | ".join(f"{r['label']} {c}" for r in mine for c in ["Ev.", *names])
                  + " |", "|" + "---|" * (3 + len(mine) * (1 + len(names)))]
        for index, base in enumerate(mine[0]["efficiency"]):
            cells = [base["events"], base["jets"], str(base["n"])]
            for r in mine:
                e = r["efficiency"][index]
                cells += [_cell(e["event"])] + [_cell(e[n]) for n in names]
            lines.append("| " + " | ".join(cells) + " |")
        speed = context.get("speed", {}).get(process, {})
        lines += ["", "| method | training events | epochs | training s | assignment events/s (CPU, side by side) |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['label']} | {r['train_events']} | {r['epochs'] or '–'} | {r['train_seconds']:.0f} | "
                  f"{speed.get(r['label'], float('nan')):.0f} |" for r in mine]
        lines += ["", "Fully reconstructable test events by jet multiplicity: " + ", ".join(
            f"{f['jets']} jets {100 * f['full_fraction']:.0f} % ({f['events']})" for f in context["reconstructable"][process]),
            ""]
    bdt = context.get("assignment_bdt")
    if bdt:
        lines += ["## Assignment + BDT: t t̄ H against t t̄", "",
                  f"LightGBM (`lfi classify --estimator bdt`) on the test parts of both files ({bdt['events']}), split "
                  f"{bdt['split']}; \"assigned\" adds the t t̄ H ParT assigner's {len(bdt['inputs'])} observables "
                  "as event-level inputs.", "",
                  "| inputs | AUC | 1/ε_B at ε_S = 0.5 |", "|---|---|---|"]
        lines += [f"| {name} | {row['auc']:.3f} | {row['rejection_50']:.1f} |" for name, row in bdt["rows"].items()]
        lines.append("")
    return "\n".join(lines)


def draw(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, process in zip(axes, PROCESSES):
        for r in (r for r in rows if r["process"] == process):
            full = [e for e in r["efficiency"] if e["events"] == "full" and e["jets"] != "all"]
            ax.plot([e["jets"] for e in full], [100 * e["event"] for e in full], "o-", label=r["label"])
        ax.set_title(f"{process}: full events")
        ax.set_xlabel("jet multiplicity")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("event efficiency [%]")
    axes[0].legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)
    plt.close(fig)


def measure_speed(rows: list[dict], tests: dict, out: Path) -> dict:
    """events/s of every finished row's assigner on its process's test set, one after the other in this process."""
    from lfi.workflows.assignment import assign_events, load_assigner

    speed: dict[str, dict[str, float]] = {}
    for r in rows:
        assigner = load_assigner(out / "rows" / f"{r['process']}_{slug(r['label'])}" / "model")
        test = tests[r["process"]]
        assign_events(assigner, test.select(slice(0, 256)))  # warm-up
        start = time.perf_counter()
        assign_events(assigner, test)
        speed.setdefault(r["process"], {})[r["label"]] = len(test) / (time.perf_counter() - start)
    return speed


def assignment_bdt(tests: dict, out: Path, seed: int) -> dict:
    """AUC and background rejection of LightGBM on t t̄ H vs t t̄ test events, without and with assignment inputs."""
    import tempfile

    from lfi.train import TrainConfig
    from lfi.workflows.assignment import assign_file
    from lfi.workflows.classification import classify

    model = out / "rows" / f"tth_{slug(ROWS[0][0])}" / "model"
    result = {"model": str(model), "events": {p: len(t) for p, t in tests.items()}, "split": [0.6, 0.2, 0.2],
              "rows": {}}
    with tempfile.TemporaryDirectory() as scratch:
        plain, assigned = [], []
        for process in ("tth", "ttbar"):
            path = Path(scratch) / f"{process}.h5"
            tests[process].save(path)
            plain.append(path)
            assigned.append(Path(scratch) / f"{process}_assigned.h5")
            added = assign_file(path, model, assigned[-1], as_globals=True)["observables"]
        result["inputs"] = added
        for name, files in (("objects + MET", plain), ("objects + MET + assignment", assigned)):
            metrics = classify(files, "bdt", out / "assignment_bdt" / slug(name), seeds=1, progress=False,
                               figure=False, config=TrainConfig(seed=seed))
            summary = metrics["summary"]
            at_50 = next(w for w in summary["working_points"] if w["eps_s"] == 0.5)
            result["rows"][name] = {"auc": summary["auc"]["mean"], "rejection_50": at_50["rejection"]["mean"]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tth", required=True)
    parser.add_argument("--ttbar", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", default="", help="comma-separated labels (default: all)")
    args = parser.parse_args()
    from lfi.assignment import reconstructable_fractions, topology
    from lfi.assignment.topology import JET_TRUTH_KEY

    out = Path(args.out)
    wanted = [r for r in ROWS if not args.rows or r[0] in args.rows.split(",")]
    context = {"machine": machine(), "command": "python " + " ".join(sys.argv), "samples": {}, "reconstructable": {},
               "test_fraction": args.test_fraction}
    results, tests = [], {}
    for process in PROCESSES:
        train, test = split(getattr(args, process), args.test_fraction)
        tests[process] = test
        context["samples"][process] = {"file": getattr(args, process), "train": len(train), "test": len(test)}
        context["reconstructable"][process] = reconstructable_fractions(
            topology(process), test.truth_events[JET_TRUTH_KEY], test.observables["n_jets"])
        for row in wanted:
            row_dir = out / "rows" / f"{process}_{slug(row[0])}"
            done = row_dir / "row.json"
            if not done.is_file():
                print(f"{process} {row[0]} ...", flush=True)
                result = run_row(process, row, train, test, args, row_dir)
                done.write_text(json.dumps(result, indent=2))
            results.append(json.loads(done.read_text()))
            (out / "table.md").write_text(markdown(results, context))
            (out / "table.json").write_text(json.dumps({"context": context, "rows": results}, indent=2))
            draw(results, out / "efficiency.png")
    context["speed"] = measure_speed(results, tests, out)
    if not args.rows:
        context["assignment_bdt"] = assignment_bdt(tests, out, args.seed)
    (out / "table.md").write_text(markdown(results, context))
    (out / "table.json").write_text(json.dumps({"context": context, "rows": results}, indent=2))
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
