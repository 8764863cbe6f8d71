"""``lfi simulate wbf|toy --events N --out FILE``: run an embedded simulator and write an event file."""

from __future__ import annotations

import argparse
import inspect
import logging
import time

__all__ = ["add_commands"]

log = logging.getLogger("lfi")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    import simulators

    p = subparsers.add_parser("simulate", help="simulate weighted events with an embedded simulator")
    p.add_argument("simulator", choices=simulators.available(), help="which simulator")
    p.add_argument("--events", type=int, required=True, metavar="N", help="number of events")
    p.add_argument("--out", required=True, metavar="FILE", help="output event file (.h5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--level", choices=["parton", "detector"], default=None, help="wbf: simulation level")
    p.add_argument("--process", default=None, help="wbf: process name from the registry")
    p.add_argument("--workers", type=int, default=None, help="wbf: parallel generator processes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import simulators
    from lfi.cli.info import print_info

    module = simulators.get(args.simulator)
    accepted = inspect.signature(module.simulate).parameters
    options = {k: getattr(args, k) for k in ("level", "process", "workers") if getattr(args, k) is not None}
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ValueError(f"--{unknown[0]} is not an option of the {args.simulator} simulator")
    start = time.perf_counter()
    sample = module.simulate(args.events, seed=args.seed, **options)
    path = sample.save(args.out)
    log.info("wrote %d events to %s in %.1f s", len(sample), path, time.perf_counter() - start)
    print_info(path)
    return 0
