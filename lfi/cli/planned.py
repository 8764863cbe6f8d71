"""Commands of docs/event-format.md §9 that are planned but not built yet: they say so and exit non-zero."""

from __future__ import annotations

import argparse
import sys

_PLANNED = {
    "import": "read LHE, Delphes ROOT or MadMiner files into an event file",
    "export": "write an event file in the MadMiner HDF5 layout",
    "train": "train an estimator (ratio, score or classifier) on an event file",
    "limits": "expected (Asimov) likelihood maps and CL contours on a parameter grid",
    "run": "run a TOML pipeline or parameter scan",
    "demo": "run the whole embedded default at small scale (generate, train, limits, report)",
}


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    existing = set(subparsers.choices)
    for name, purpose in _PLANNED.items():
        if name in existing:
            continue
        p = subparsers.add_parser(name, help=f"[not built yet] {purpose}", add_help=True)
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(func=_not_built, planned_purpose=purpose)


def _not_built(args: argparse.Namespace) -> int:
    print(f"lfi {args.command}: not built yet (planned: {args.planned_purpose})", file=sys.stderr)
    return 3
