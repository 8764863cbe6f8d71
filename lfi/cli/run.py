"""``lfi run CONFIG.toml`` (a pipeline or a scan from one file) and ``lfi demo`` (the small end-to-end analysis
of ``configs/demo.toml``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["add_commands", "demo_config"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run a TOML pipeline or parameter scan",
        description="Run samples → training → limits → classification → report from one TOML file "
        "(docs/pipelines.md). Steps whose inputs and settings are unchanged are reused.")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--out", metavar="DIR", help="output folder instead of the file's [run] out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
    d = subparsers.add_parser(
        "demo", help="run the whole embedded default at small scale (generate, train, limits, report)",
        description="A small detector-level WBF analysis with its backgrounds (configs/demo.toml): simulate, train "
        "ALICES with an MLP and a small ParT with the SM interaction bias, SALLY and histogram baselines, a small "
        "classification, and the report. About 5-10 minutes on a 2-core CPU.")
    d.add_argument("--out", default="lfi-demo", metavar="DIR", help="output folder (default ./lfi-demo)")
    d.add_argument("--quiet", action="store_true", help="no progress bars")
    d.set_defaults(func=demo)


def demo_config() -> Path:
    """``configs/demo.toml`` of the source tree this package runs from."""
    from lfi.errors import OptionError

    path = Path(__file__).resolve().parents[2] / "configs" / "demo.toml"
    if not path.is_file():
        raise OptionError(f"{path}: the demo configuration is missing; lfi demo runs from a clone of the repository "
                          "(pip install -e .)")
    return path


def _say(line: str) -> None:
    print(f"lfi: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from lfi.workflows.pipeline import run_pipeline

    result = run_pipeline(args.config, out=args.out, progress=not args.quiet, say=_say)
    if result.scan is not None:
        print(f"scan: {len(result.scan)} points; wrote {result.out}/scan.json, scan.md, scan.png")
    else:
        print(f"ran {len(result.ran)} step(s), reused {len(result.reused)}; outputs in {result.out}")
    return 0


def _uncalibrated(outputs: dict) -> list[str]:
    """One line per map whose 68 % CL region excludes the point the Asimov data were made at (q_min below
    −q₆₈): a model that has not learned the likelihood yet."""
    import json

    from lfi.limits import q_threshold
    from lfi.report import map_label

    level = float(q_threshold(0.6827, 2))
    lines = []
    for key, path in outputs.items():
        if not key.startswith("limits."):
            continue
        summary = json.loads((path / "limits.json").read_text())
        for name, entry in summary["maps"].items():
            if entry.get("q_min") is not None and entry["q_min"] < -level:
                best = ", ".join(f"{v:.3g}" for v in entry["best_fit"])
                lines.append(f"  {map_label(name, entry)}: its best fit ({best}) is outside the 68 % region "
                             f"around the true point {summary['theta_true']} (q_min = {entry['q_min']:.1f}): not "
                             "calibrated at this size, do not read its contour as a limit.")
    return lines


def demo(args: argparse.Namespace) -> int:
    import json

    from lfi.cli.classify import format_metrics
    from lfi.workflows.limits import format_table
    from lfi.workflows.pipeline import run_pipeline

    start = time.perf_counter()
    result = run_pipeline(demo_config(), out=args.out, progress=not args.quiet, say=_say)
    minutes = (time.perf_counter() - start) / 60
    outputs = result.outputs
    train_events = {}
    for key, path in outputs.items():
        if key.startswith("limits."):
            summary = json.loads((path / "limits.json").read_text())
            print(f"\nExpected limits on {summary['events']:,} test events at L = {summary['lumi_pb'] / 1000:g} fb^-1:")
            print(format_table(summary))
        if key.startswith("classify."):
            metrics = json.loads((path / "metrics.json").read_text())
            print("\nClassification:")
            print(format_metrics(metrics))
            train_events[key] = metrics["split_events"]["train"]
    report = outputs.get("report.report")
    print(f"\nThe demo ran in {minutes:.1f} min. Its samples are small (a few thousand selected WBF events, a few "
          "epochs of training): the contours are wide, and a learned model may not be calibrated yet.")
    for line in _uncalibrated(outputs):
        print(line)
    print("configs/wbf_detector.toml is the full-size analysis.")
    if report is not None:
        print(f"Figure: {report / 'report.png'} (and .pdf); tables: {report / 'report.md'}")
    return 0
