"""Systematics on WBF: profiled against fixed-nuisance limits, and the Fisher information of the truth, SALLY and
histograms with and without the nuisances; at detector level also the nuisance factors learned as a function of the
event (``lfi nuisance-train``) against the stored per-event factors.

One run: simulates a WBF training sample and a test sample with the variations (``lfi simulate wbf --nuisances``:
μ_F × 2 / × ½ and CTEQ6L1 against NNPDF2.3 LO; at detector level also the ISR and FSR shower scales × ½ / × 2),
trains an MLP SALLY estimator (and at detector level the nuisance model), then on the test sample

- expected limits (the truth at parton level, the 2-D histogram of p_T,j1 and the signed Δφ_jj in 10 × 10 bins of
  equal SM weight, SALLY) with ν fixed and with every stored nuisance and a 5 % normalisation of the process profiled,
  and the areas with only the rate part or only the shape part of the nuisances profiled; at detector level again
  with the learned factors;
- the Fisher information at the SM of the truth (parton level), the weights, SALLY, the histograms and the rate, with
  the expected 1σ errors fixed, profiled over the other parameter, and profiled over it and the nuisances (at detector
  level with the learned factors).

Steps already done (samples, models) are skipped on a rerun. Prints two tables and writes ``systematics.json``,
``table.md`` into ``--out``, with the figures ``limits/contours.png`` and ``fisher/ellipses.png``. Run time on a
2-core CPU with the defaults: about 15 minutes at parton level, about 40 minutes at detector level (the shower
dominates).

    python bench/systematics.py [--level parton] [--train-events 60000] [--test-events 20000] [--out DIR]
    python bench/systematics.py --level detector --train-events 60000 --test-events 30000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_name  # noqa: E402

from lfi.cli import main as lfi  # noqa: E402
from lfi.files import atomic_write_text  # noqa: E402

LUMI = {"parton": "117.6/fb",  # 36 expected SM events before cuts (the reference analysis, docs/statistics.md §8)
        "detector": "300/fb"}  # as results/eft_accuracy_wbf_detector
GRID = "-30:30:61,-30:30:61"  # the 2-D histogram's 95 % region reaches beyond ±20 TeV⁻²
SEEDS = {"parton": (31, 32), "detector": (41, 42)}
HISTOGRAM = ["pt_j1", "delta_phi_jj"]
NORMALISATION = {"wbf": 0.05}


def _run(arguments: list[str]) -> None:
    print("lfi " + " ".join(arguments), flush=True)
    if lfi(arguments) != 0:
        raise SystemExit(f"lfi {arguments[0]} failed")


def _prepare(out: Path, level: str, train_events: int, test_events: int, workers: int) -> tuple[Path, Path | None]:
    """The samples, the SALLY model and at detector level the nuisance model (skipped where they exist)."""
    for name, events, seed in (("train", train_events, SEEDS[level][0]), ("test", test_events, SEEDS[level][1])):
        variations = ["--nuisances"] if name == "test" or level == "detector" else []
        if not (out / f"{name}.h5").exists():
            _run(["simulate", "wbf", "--level", level, "--events", str(events), "--seed", str(seed),
                  "--workers", str(workers), "--out", str(out / f"{name}.h5"), *variations])
    model = out / "models" / "mlp_sally"
    if not (model / "config.json").exists():
        _run(["train", "--data", str(out / "train.h5"), "--estimator", "mlp", "--method", "sally", "--epochs", "20",
              "--out", str(model)])
    if level == "parton":
        return model, None
    nuisance = out / "models" / "nuisance"
    if not (nuisance / "config.json").exists():
        _run(["nuisance-train", "--data", str(out / "train.h5"), "--out", str(nuisance)])
    return model, nuisance


def _area_rows(summary: dict, learned: dict | None) -> list[dict]:
    rows = []
    for name, entry in summary["maps"].items():
        if name.endswith("_profiled"):
            continue
        profiled = summary["maps"].get(f"{name}_profiled")
        row = {"map": name, "fixed": entry["areas"], "open": entry["open"]}
        if profiled:
            row["profiled"] = profiled["areas"]
            row["open_profiled"] = profiled["open"]
            row.update({f"only_{part}": areas for part, areas in profiled["profiled"]["areas_with_only"].items()})
        with_learned = (learned or {}).get(f"{name}_profiled")
        if with_learned:
            row["profiled_learned"] = with_learned["areas"]
            row["open_profiled_learned"] = with_learned["open"]
        rows.append(row)
    return rows


def _table(area_rows: list[dict], information: dict, parameters: list[str], settings: dict) -> str:
    learned = any("profiled_learned" in row for row in area_rows)
    lines = [f"Machine: {settings['machine']} (CPU); {settings['level']}-level WBF, {settings['train_events']} "
             f"training and {settings['test_events']} test events, L = {settings['lumi']}; nuisances "
             f"{', '.join(settings['nuisances'])} (normalisation {NORMALISATION['wbf']:.0%}); wall time "
             f"{settings['seconds']:.0f} s.", "",
             "Contour areas [TeV⁻⁴] at 68 % / 95 % CL:", "",
             "| map | ν fixed | ν profiled | profiled / fixed | rate part only | shape part only |"
             + (" ν profiled, learned factors | learned / fixed |" if learned else ""),
             "|---|---|---|---|---|---|" + ("---|---|" if learned else "")]

    def pair(areas: dict | None, open_: dict | None = None) -> str:
        if not areas:
            return "–"
        return " / ".join(f"{areas[cl]:.4g}{'*' if (open_ or {}).get(cl) else ''}" for cl in ("68.27", "95.45"))

    def ratio(row: dict, key: str) -> str:
        if key not in row:
            return "–"
        return " / ".join(f"{row[key][cl] / row['fixed'][cl]:.3f}" for cl in ("68.27", "95.45"))

    for row in area_rows:
        lines.append(f"| {row['map']} | {pair(row['fixed'], row['open'])} | "
                     f"{pair(row.get('profiled'), row.get('open_profiled'))} | {ratio(row, 'profiled')} | "
                     f"{pair(row.get('only_rate'))} | {pair(row.get('only_shape'))} |"
                     + (f" {pair(row.get('profiled_learned'), row.get('open_profiled_learned'))} | "
                        f"{ratio(row, 'profiled_learned')} |" if learned else ""))
    lines += ["", "\\* the region reaches the grid edge: the area is a lower bound.", "",
              "Fisher information at the SM: expected 1σ error [TeV⁻²] on each parameter with the other fixed / "
              "profiled (ν fixed), and profiled over the other and ν:", "",
              "| information | det I | " + " | ".join(f"σ({p}) fixed / profiled / +ν profiled" for p in parameters) + " |",
              "|---|---|" + "---|" * len(parameters)]
    for name, entry in information.items():
        if name.endswith("_profiled"):
            continue
        nu = information.get(f"{name}_profiled")
        cells = []
        for p in parameters:
            values = [entry["error_fixed"][p], entry["error_profiled"][p], nu["error_profiled"][p] if nu else None]
            cells.append(" / ".join("∞" if v is None else f"{v:.3g}" for v in values[:2])
                         + (" / " + ("∞" if values[2] is None else f"{values[2]:.3g}") if nu else " / –"))
        lines.append(f"| {entry.get('label', name)} | {entry['determinant']:.3g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _closure(nuisance: Path | None) -> str:
    if nuisance is None:
        return ""
    closure = json.loads((nuisance / "config.json").read_text())["metadata"]["closure"]
    lines = ["", "Learned nuisance factors on the training file: σ_variation/σ_nominal stored and learned "
             "(Σ w f̂(x) / Σ w), and the weighted standard deviation of log f̂ (the shape it learned):", "",
             "| variation | stored | learned | std of log f̂ |", "|---|---|---|---|"]
    lines += [f"| {name} | {row['stored']:.4f} | {row['learned']:.4f} | {row['shape_std']:.4f} |"
              for name, row in closure.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--level", choices=["parton", "detector"], default="parton")
    parser.add_argument("--train-events", type=int, default=60_000)
    parser.add_argument("--test-events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="default results/systematics_wbf_<level>")
    args = parser.parse_args()
    out = Path(args.out or f"results/systematics_wbf_{args.level}")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model, nuisance = _prepare(out, args.level, args.train_events, args.test_events, args.workers)
    test, lumi = str(out / "test.h5"), LUMI[args.level]
    truth = ["--truth"] if args.level == "parton" else []
    normalisation = [f"--normalisation={k}={v}" for k, v in NORMALISATION.items()]
    maps = ["--data", test, *truth, "--histogram", ",".join(HISTOGRAM), "--model", str(model), "--lumi", lumi]
    _run(["limits", *maps, "--grid", GRID, "--nuisance", "all", *normalisation, "--out", str(out / "limits")])
    learned_nuisances = [] if nuisance is None else ["--nuisance-model", str(nuisance)]
    if nuisance is not None:
        _run(["limits", *maps, "--grid", GRID, *learned_nuisances, *normalisation, "--out", str(out / "limits_learned")])
    _run(["fisher", *maps, "--histogram", HISTOGRAM[0], "--histogram", HISTOGRAM[1],
          *(learned_nuisances or ["--nuisance", "all"]), *normalisation, "--contours", str(out / "limits"),
          "--out", str(out / "fisher")])
    summary = json.loads((out / "limits" / "limits.json").read_text())
    learned = json.loads((out / "limits_learned" / "limits.json").read_text())["maps"] if nuisance else None
    information = json.loads((out / "fisher" / "fisher.json").read_text())
    from lfi.events import EventSample

    info = EventSample.read_info(test)
    settings = {"machine": f"{cpu_name()}, 2 threads", "level": args.level,
                "train_events": EventSample.read_info(out / "train.h5")["events"],
                "test_events": info["events"], "nuisances": list(info["nuisances"]) + ["norm_wbf"],
                "lumi": lumi, "grid": GRID, "seconds": time.perf_counter() - start}
    area_rows = _area_rows(summary, learned)
    table = _table(area_rows, information["information"], summary["parameters"], settings) + _closure(nuisance)
    print(table)
    atomic_write_text(out / "table.md", table)
    atomic_write_text(out / "systematics.json", json.dumps(
        {"settings": settings, "areas": area_rows, "information": information["information"],
         "cross_sections_pb": info["cross_section_pb"]}, indent=2))
    print(f"wrote {out / 'table.md'}, {out / 'systematics.json'}; figures {out / 'limits' / 'contours.png'}, "
          f"{out / 'fisher' / 'ellipses.png'}")


if __name__ == "__main__":
    main()
