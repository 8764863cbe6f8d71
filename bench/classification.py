"""The event-classification table of arXiv:2211.05143 on our own samples: BDT, FCN, CNN, ParticleNet, ParT and
Set Transformer with pairwise features and the SM interaction matrices, cross-entropy or focal loss, plus IAFormer
and Mixer, each trained with ``lfi classify`` for K seeds on one fixed split.

    python bench/classification.py --data tth.h5 ttbar.h5 --out results/classification_tth
    python bench/classification.py --data tth.h5 ttbar.h5 --out results/classification_tth \
        --learning-curve "PN,ParT int. SM" --sizes 1000,3000,10000

Each row trains in ``OUT/rows/<slug>/`` and is skipped when it has finished (per seed, so an interrupted run
continues where it stopped); after every row ``table.md``, ``table.json`` and ``roc.png`` (mean ROC per row,
ratio panel to ParticleNet) are rewritten. ``--learning-curve`` trains the named rows on growing training sets
(``OUT/learning/<slug>_<n>/``) and draws AUC against training events; ``--cka`` compares the layers of trained
rows (linear CKA, :mod:`lfi.interpret`). ``--rows`` picks a subset by label.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
from pathlib import Path

import numpy as np

ROWS = [
    ("BDT", "bdt", {}, "ce"),
    ("BDT int.", "bdt", {"pair": "mass,delta_r"}, "ce"),
    ("FCN", "mlp", {}, "ce"),
    ("CNN", "cnn1d", {}, "ce"),
    ("PN", "particlenet", {}, "ce"),
    ("PN int.", "particlenet", {"pair": "mass,delta_r"}, "ce"),
    ("PN int. SMids", "particlenet", {"pair": "mass,delta_r", "interaction": "sm_ids"}, "ce"),
    ("PN int. SM const", "particlenet", {"pair": "mass,delta_r", "interaction": "sm_const"}, "ce"),
    ("PN int. SM", "particlenet", {"pair": "mass,delta_r", "interaction": "sm_running"}, "ce"),
    ("ParT", "part", {"pair": "none"}, "ce"),
    ("ParT int.", "part", {"pair": "mass,delta_r"}, "ce"),
    ("ParT int. SMids", "part", {"pair": "mass,delta_r", "interaction": "sm_ids"}, "ce"),
    ("ParT int. SM const", "part", {"pair": "mass,delta_r", "interaction": "sm_const"}, "ce"),
    ("ParT int. SM", "part", {"pair": "mass,delta_r", "interaction": "sm_running"}, "ce"),
    ("ParT int. SM (focal)", "part", {"pair": "mass,delta_r", "interaction": "sm_running"}, "focal"),
    ("SetT int. SM", "sett", {"pair": "mass,delta_r", "interaction": "sm_running"}, "ce"),
    ("IAFormer int. SM", "iaformer", {"pair": "mass,delta_r", "interaction": "sm_running"}, "ce"),
    ("Mixer", "mixer", {}, "ce"),
]
"""(label, estimator, options, loss): the sixteen rows of arXiv:2211.05143 (its "int." = the pair features m_ij
and ΔR_ij; "SMids"/"SM const"/"SM" = the interaction matrices of docs/method.md) plus IAFormer and Mixer."""
REFERENCE = "PN"


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def machine() -> dict:
    import os

    import torch

    from machine import cpu_name

    return {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__}


def train_row(row, args, out: Path, max_train_events: int | None = None) -> dict:
    from lfi.train import TrainConfig
    from lfi.workflows.classification import classify

    label, estimator, options, loss = row
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, device=args.device)
    metrics = classify(args.data, estimator, out, options=options, loss=loss, seeds=args.seeds, lumi_fb=args.lumi,
                       rel_syst=args.syst, max_train_events=max_train_events, config=config, progress=False,
                       figure=False)
    return dict(metrics, label=label)


def _mean(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def row_summary(metrics: dict) -> dict:
    """One table row: AUC ± std, rejection at each ε_S, significances, size and speed (means over seeds)."""
    summary, seeds = metrics["summary"], metrics["seeds"]
    points = {f"{p['eps_s']:.1f}": p for p in summary["working_points"]}
    size = seeds[0].get("parameters") or seeds[0].get("leaves")
    return {
        "label": metrics["label"],
        "estimator": metrics["estimator"],
        "options": metrics["options"],
        "loss": metrics["loss"],
        "seeds": len(seeds),
        "auc": summary["auc"],
        "rejection": {k: p["rejection"] for k, p in points.items()},
        "eps_b": {k: p["eps_b"] for k, p in points.items()},
        "significance": {k: p["significance"] for k, p in points.items()},
        "significance_syst": {k: p["significance_syst"] for k, p in points.items()},
        "size": size,
        "size_unit": "parameters" if seeds[0].get("parameters") else "leaves",
        "train_events_per_s": _mean(seeds, "train_events_per_s"),
        "inference_ms_per_event": _mean(seeds, "inference_ms_per_event"),
        "epochs": _mean(seeds, "epochs"),
        "train_seconds": _mean(seeds, "train_seconds"),
        "wall_seconds": float(sum(s["train_seconds"] for s in seeds)),
        "roc_eps_s": seeds[0]["roc"]["eps_s"],
        "roc_eps_b": np.nanmean(np.array([s["roc"]["eps_b"] for s in seeds], float), axis=0).tolist(),
        "roc_rejection_std": np.nanstd(1.0 / np.array([s["roc"]["eps_b"] for s in seeds], float), axis=0).tolist(),
    }



def markdown(rows: list[dict], context: dict) -> str:
    from lfi.workflows.classification import mean_std_text as _pm

    ref = next((r for r in rows if r["label"] == REFERENCE), None)
    lines = [
        f"# {context['title']}",
        "",
        f"Signal {context['signal']} against {context['background']}; test split {context['test_events']:,} events, "
        f"training {context['train_events']:,}, validation {context['validation_events']:,}; "
        f"{context['seeds']} seeds per row (mean ± standard deviation); yields at {context['lumi_fb']:g} fb⁻¹, "
        f"background systematic δ = {context['rel_syst']:g}. Machine: {context['machine']['cpu']}, "
        f"{context['machine']['torch_threads']} torch threads. Epochs ≤ {context['epochs']} (patience "
        f"{context['patience']}), batch {context['batch_size']}.",
        "",
        "| model | AUC | 1/ε_B at ε_S = 0.3 | 0.5 | 0.7 | s/√b (ε_S = 0.5) | with δ | L / L(PN) | size | train ev/s | "
        "infer ms/ev | train s (all seeds) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        z = r["significance"]["0.5"]["mean"]
        z_ref = ref["significance"]["0.5"]["mean"] if ref else None
        factor = f"{(z_ref / z) ** 2:.2f}" if z and z_ref else "–"
        size = f"{r['size']:,} {'par.' if r['size_unit'] == 'parameters' else 'leaves'}" if r["size"] else "–"
        lines.append(
            f"| {r['label']} | {_pm(r['auc'], 4)} | {_pm(r['rejection']['0.3'], 1)} | {_pm(r['rejection']['0.5'], 1)} | "
            f"{_pm(r['rejection']['0.7'], 2)} | {_pm(r['significance']['0.5'], 2)} | "
            f"{_pm(r['significance_syst']['0.5'], 3)} | {factor} | {size} | "
            f"{r['train_events_per_s']:,.0f} | {r['inference_ms_per_event']:.3f} | {r['wall_seconds']:.0f} |")
    lines += ["", "L / L(PN): the luminosity this model needs for ParticleNet's s/√b at ε_S = 0.5, (Z_PN/Z)² "
              "(below 1: less data than ParticleNet). Train ev/s: training events per second (network epochs; "
              "the BDT: events per fit second), on this CPU while nothing else ran only if stated in the README."]
    return "\n".join(lines) + "\n"


def draw_roc(rows: list[dict], path: Path, title: str) -> None:
    from lfi.roc_figure import plot_roc

    chosen = [r for r in rows if r["label"] in ("BDT", "FCN", "PN", "PN int. SM", "ParT", "ParT int. SM",
                                                "ParT int. SM (focal)", "SetT int. SM", "IAFormer int. SM", "Mixer")]
    curves = {r["label"]: (np.array(r["roc_eps_s"]), np.array(r["roc_eps_b"], float)) for r in chosen}
    reference = REFERENCE if REFERENCE in curves else None
    plot_roc(curves, path, reference=reference, title=title, label="pp 13 TeV, simple detector, Pythia 8")


def run_table(args) -> None:
    out = Path(args.out)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    wanted = [r for r in ROWS if not args.rows or r[0] in args.rows]
    unknown = set(args.rows or []) - {r[0] for r in ROWS}
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}; rows: {[r[0] for r in ROWS]}")
    context = None
    for row in wanted:
        print(f"== {row[0]}", flush=True)
        metrics = train_row(row, args, out / "rows" / slug(row[0]), max_train_events=args.train_events)
        (out / "rows" / slug(row[0]) / "row.json").write_text(json.dumps(row_summary(metrics), indent=2))
        # the table holds every finished row of OUT, in the order of ROWS (a --rows subset adds to it)
        results = [json.loads((out / "rows" / slug(r[0]) / "row.json").read_text()) for r in ROWS
                   if (out / "rows" / slug(r[0]) / "row.json").is_file()]
        background = " + ".join(p for p in metrics["processes"] if p != metrics["signal"])
        context = {
            "title": args.title or f"Classification: {metrics['signal']} vs {background}",
            "signal": metrics["signal"], "background": background, "events": metrics["events"],
            "selected_cross_section_pb": metrics["selected_cross_section_pb"],
            "train_events": metrics["split_events"]["train"], "validation_events": metrics["split_events"]["validation"],
            "test_events": metrics["split_events"]["test"], "seeds": args.seeds, "lumi_fb": args.lumi,
            "rel_syst": args.syst, "epochs": args.epochs, "patience": args.patience, "batch_size": args.batch_size,
            "machine": machine(), "command": args.command,
        }
        (out / "table.md").write_text(markdown(results, context))
        (out / "table.json").write_text(json.dumps({"context": context, "rows": results}, indent=2))
        draw_roc(results, out / "roc.png", context["title"])
        print(markdown([r for r in results if r["label"] == row[0]], context).splitlines()[-3], flush=True)
    print((out / "table.md").read_text())


def run_learning_curve(args) -> None:
    from lfi.roc_figure import plot_metric_curves

    out = Path(args.out)
    labels = [s.strip() for s in args.learning_curve.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    curves, table = {}, []
    for label in labels:
        row = next((r for r in ROWS if r[0] == label), None)
        if row is None:
            raise SystemExit(f"unknown row {label!r}")
        means, stds, ns = [], [], []
        for n in sizes:
            print(f"== {label}, {n} training events", flush=True)
            metrics = train_row(row, args, out / "learning" / f"{slug(label)}_{n}", max_train_events=n)
            auc = metrics["summary"]["auc"]
            ns.append(metrics["split_events"]["train"] if n >= metrics["split_events"]["train"] else n)
            means.append(auc["mean"])
            stds.append(auc["std"])
            table.append({"label": label, "train_events": n, "auc": auc,
                          "rejection_0.5": metrics["summary"]["working_points"][1]["rejection"]})
        curves[label] = (ns, means, stds)
        (out / "learning_curve.json").write_text(json.dumps({"rows": table, "machine": machine(),
                                                             "command": args.command}, indent=2))
        plot_metric_curves(curves, out / "learning_curve.png", xlabel="Training events", ylabel="AUC (test)",
                           title="Do the models saturate?")


def run_cka(args) -> None:
    """Linear CKA between the layers of a trained row's seed-0 model, and between seed 0 and seed 1."""
    from estimators.registry import load
    from estimators.interpret import layer_representations
    from lfi.events.labelled import combine_for_classification
    from lfi.interpret import cka_matrix, plot_cka

    out = Path(args.out)
    events = combine_for_classification(args.data)
    for label in [s.strip() for s in args.cka.split(",")]:
        folder = out / "rows" / slug(label)
        test = np.load(folder / "scores.npz")["index"][: args.cka_events]
        inputs = (events.momenta[test], events.types[test], events.globals_[test])
        reps = [layer_representations(load(folder / f"seed_{k}"), *inputs) for k in (0, 1)
                if (folder / f"seed_{k}").is_dir()]
        names = list(reps[0])
        within = cka_matrix(list(reps[0].values()))
        result = {"label": label, "events": int(len(test)), "layers": names, "within_seed_0": within.tolist()}
        plot_cka(within, out / f"cka_{slug(label)}.png", row_labels=names,
                 title=f"{label}: linear CKA between layers (seed 0, {len(test)} test events)")
        if len(reps) > 1:
            across = cka_matrix(list(reps[0].values()), list(reps[1].values()))
            result["seed_0_vs_seed_1"] = across.tolist()
            plot_cka(across, out / f"cka_{slug(label)}_seeds.png", row_labels=names, column_labels=list(reps[1]),
                     ylabel="seed 0 layer", xlabel="seed 1 layer", title=f"{label}: seed 0 against seed 1")
        (out / f"cka_{slug(label)}.json").write_text(json.dumps(result, indent=2))
        print(f"{label}: CKA between layers\n{np.round(within, 3)}", flush=True)


def main(argv=None) -> None:
    import sys

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", required=True, help="event files, signal first")
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=lambda s: [x.strip() for x in s.split(";")], default=None,
                        help="labels separated by ';' (default: all rows)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train-events", type=int, default=None, help="cap on training events per row")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--lumi", type=float, default=100.0, help="fb^-1")
    parser.add_argument("--syst", type=float, default=0.2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--title", default=None)
    parser.add_argument("--learning-curve", default=None, metavar="LABELS",
                        help="comma-separated row labels to train on growing training sets")
    parser.add_argument("--sizes", default="1000,3000,10000", help="training-set sizes of the learning curve")
    parser.add_argument("--cka", default=None, metavar="LABELS",
                        help="comma-separated trained row labels: linear CKA between their layers")
    parser.add_argument("--cka-events", type=int, default=4000, help="test events for --cka")
    args = parser.parse_args(argv)
    args.command = "python bench/classification.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.cka:
        run_cka(args)
    elif args.learning_curve:
        run_learning_curve(args)
    else:
        run_table(args)


if __name__ == "__main__":
    main()
