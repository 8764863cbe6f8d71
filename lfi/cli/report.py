"""``lfi report``: contours beside the classification results, tables and exports, from result directories."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="draw contours beside ROC curves and write the classification tables",
        description="Read lfi limits and lfi classify result directories (and bench/classification.py tables) "
        "and write report.png/.pdf (contours | ROC), report.md, limits_export.json and HEPData-style q-map tables.",
    )
    p.add_argument("results", nargs="+", metavar="RESULT_DIR", help="lfi limits or lfi classify output directories")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.workflows.report import make_report

    written = make_report(args.results, args.out)
    print("wrote " + ", ".join(str(p) for p in written if p.suffix in (".png", ".pdf", ".md", ".json")))
    return 0
