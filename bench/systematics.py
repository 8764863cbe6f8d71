"""Systematics on parton-level WBF: profiled against fixed-nuisance limits, and the Fisher information of the truth,
SALLY and histograms with and without the nuisances.

One run: simulates a parton-level WBF training sample and a test sample with the hard-process variations
(``lfi simulate wbf --nuisances``: μ_F × 2 / × ½ and CTEQ6L1 against NNPDF2.3 LO), trains an MLP SALLY estimator,
then on the test sample

- expected limits (truth, the 2-D histogram of p_T,j1 and the signed Δφ_jj in 10 × 10 bins of equal SM weight, SALLY) with ν fixed and with
  ν = (mu_f, pdf, a 5 % normalisation of the process) profiled, and the areas with only the rate part or only the shape
  part of the nuisances profiled;
- the Fisher information at the SM of the truth, the weights, SALLY, the histograms and the rate, with the expected 1σ
  errors fixed, profiled over the other parameter, and profiled over it and the nuisances.

Steps already done (samples, the model) are skipped on a rerun. Prints two tables and writes ``systematics.json``,
``table.md`` into ``--out``, with the figures ``limits/contours.png`` and ``fisher/ellipses.png``. Run time on a 2-core CPU with the defaults:
about 15 minutes.

    python bench/systematics.py [--train-events 60000] [--test-events 20000] [--out results/systematics_wbf_parton]
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

LUMI = "117.6/fb"  # 36 expected SM events before cuts (the reference analysis, docs/statistics.md §8)
GRID = "-30:30:61,-30:30:61"  # the 2-D histogram's 95 % region reaches beyond ±20 TeV⁻²
HISTOGRAM = ["pt_j1", "delta_phi_jj"]
NORMALISATION = {"wbf": 0.05}


def _run(arguments: list[str]) -> None:
    print("lfi " + " ".join(arguments), flush=True)
    if lfi(arguments) != 0:
        raise SystemExit(f"lfi {arguments[0]} failed")


def _prepare(out: Path, train_events: int, test_events: int, workers: int) -> Path:
    for name, events, seed, extra in (("train", train_events, 31, []), ("test", test_events, 32, ["--nuisances"])):
        if not (out / f"{name}.h5").exists():
            _run(["simulate", "wbf", "--level", "parton", "--events", str(events), "--seed", str(seed),
                  "--workers", str(workers), "--out", str(out / f"{name}.h5"), *extra])
    model = out / "models" / "mlp_sally"
    if not (model / "config.json").exists():
        _run(["train", "--data", str(out / "train.h5"), "--estimator", "mlp", "--method", "sally", "--epochs", "20",
              "--out", str(model)])
    return model


def _area_rows(summary: dict) -> list[dict]:
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
        rows.append(row)
    return rows


def _table(area_rows: list[dict], information: dict, parameters: list[str], settings: dict) -> str:
    lines = [f"Machine: {settings['machine']} (CPU); parton-level WBF, {settings['train_events']} training and "
             f"{settings['test_events']} test events, L = {LUMI}; nuisances {', '.join(settings['nuisances'])} "
             f"(normalisation {NORMALISATION['wbf']:.0%}); wall time {settings['seconds']:.0f} s.", "",
             "Contour areas [TeV⁻⁴] at 68 % / 95 % CL:", "",
             "| map | ν fixed | ν profiled | profiled / fixed | rate part only | shape part only |",
             "|---|---|---|---|---|---|"]

    def pair(areas: dict | None, open_: dict | None = None) -> str:
        if not areas:
            return "–"
        return " / ".join(f"{areas[cl]:.4g}{'*' if (open_ or {}).get(cl) else ''}" for cl in ("68.27", "95.45"))

    for row in area_rows:
        ratio = ("–" if "profiled" not in row else
                 f"{row['profiled']['68.27'] / row['fixed']['68.27']:.3f} / {row['profiled']['95.45'] / row['fixed']['95.45']:.3f}")
        lines.append(f"| {row['map']} | {pair(row['fixed'], row['open'])} | "
                     f"{pair(row.get('profiled'), row.get('open_profiled'))} | {ratio} | "
                     f"{pair(row.get('only_rate'))} | {pair(row.get('only_shape'))} |")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-events", type=int, default=60_000)
    parser.add_argument("--test-events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="results/systematics_wbf_parton")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = _prepare(out, args.train_events, args.test_events, args.workers)
    test = str(out / "test.h5")
    normalisation = [f"--normalisation={k}={v}" for k, v in NORMALISATION.items()]
    _run(["limits", "--data", test, "--truth", "--histogram", ",".join(HISTOGRAM),
          "--model", str(model), "--lumi", LUMI, "--grid", GRID, "--nuisance", "all", *normalisation,
          "--out", str(out / "limits")])
    _run(["fisher", "--data", test, "--truth", "--histogram", ",".join(HISTOGRAM), "--histogram", HISTOGRAM[0],
          "--histogram", HISTOGRAM[1], "--model", str(model), "--lumi", LUMI,
          "--nuisance", "all", *normalisation, "--contours", str(out / "limits"), "--out", str(out / "fisher")])
    summary = json.loads((out / "limits" / "limits.json").read_text())
    information = json.loads((out / "fisher" / "fisher.json").read_text())
    from lfi.events import EventSample

    info = EventSample.read_info(test)
    settings = {"machine": f"{cpu_name()}, 2 threads", "train_events": EventSample.read_info(out / "train.h5")["events"],
                "test_events": info["events"], "nuisances": list(info["nuisances"]) + ["norm_wbf"],
                "lumi": LUMI, "grid": GRID, "seconds": time.perf_counter() - start}
    area_rows = _area_rows(summary)
    table = _table(area_rows, information["information"], summary["parameters"], settings)
    print(table)
    atomic_write_text(out / "table.md", table)
    atomic_write_text(out / "systematics.json", json.dumps(
        {"settings": settings, "areas": area_rows, "information": information["information"],
         "cross_sections_pb": info["cross_section_pb"]}, indent=2))
    print(f"wrote {out / 'table.md'}, {out / 'systematics.json'}; figures {out / 'limits' / 'contours.png'}, "
          f"{out / 'fisher' / 'ellipses.png'}")


if __name__ == "__main__":
    main()
