"""``lfi merge A.h5 B.h5 … --out FILE``: join signal and background event files into one (``lfi.events.merge``).

Every event keeps its input's process label; θ-independent backgrounds get their weight at every benchmark of the
signal. FILE is written atomically (``EventSample.save``): on any refusal nothing appears under its name.
"""

from __future__ import annotations

import argparse
import logging

__all__ = ["add_commands", "run"]

log = logging.getLogger("lfi")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "merge", help="join signal and background event files into one",
        description="Join event files of different processes: they share parameters, benchmarks and morphing, or "
        "are backgrounds without parameters and with one benchmark (lfi simulate ggf|zz|tth|ttbar), whose weight is "
        "copied to every benchmark. Observables not in every file are left out; see docs/event-format.md.")
    p.add_argument("files", nargs="+", metavar="FILE", help="event files (.h5), at least two")
    p.add_argument("--out", required=True, metavar="FILE", help="output event file (.h5)")
    p.add_argument("--quiet", action="store_true", help="do not print the summary of the output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.errors import OptionError
    from lfi.events import EventSample, merge_samples

    if len(args.files) < 2:
        raise OptionError(f"give at least two event files to merge, got {len(args.files)}")
    samples = [EventSample.load(path) for path in args.files]
    merged = merge_samples(samples, names=args.files)
    path = merged.save(args.out)
    log.info("wrote %d events of %s to %s", len(merged), ", ".join(merged.process_names), path)
    if not args.quiet:
        from lfi.cli.info import print_info

        print_info(path)
    return 0
