"""``lfi simulate wbf|toy|ggf|zz|tth|ttbar --events N --out FILE``: run an embedded simulator and write an event file,
then print its summary and cut flow, warning in one line when the selection kept fewer events than requested.
With ``--shards S [--scheduler ADDRESS]`` the run is split into independent shards written into the directory
``--out`` (:mod:`lfi.workflows.sharded`), on the local pool or on a Dask cluster; the directory reads as one sample.

FILE appears complete or not at all (``lfi.files.atomic_write``). Ctrl-C stops the simulation and its worker
processes and leaves nothing. ``kill -9`` can leave only a temporary next to FILE, ``.STEM.XXXXXXXX.tmp.h5``,
never a file under its name; the next write to the same FILE removes it once it is a minute old.
"""

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
    p.add_argument("--range", default=None, metavar="LOW:HIGH[,LOW:HIGH]",
                   help="wbf: parameter box for the morphing basis, e.g. -16.5:16.5 (TeV^-2, both parameters)")
    p.add_argument("--nuisances", action="store_true",
                   help="wbf: store the factorisation-scale and PDF variations (and at detector level the ISR/FSR "
                        "shower variations) as nuisance benchmarks")
    p.add_argument("--shards", type=int, default=None, metavar="S",
                   help="split the run into S independent shards written into the directory --out (resumable: a rerun "
                        "writes only the missing shards); with --workers K they run K at a time")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the shards on this dask.distributed scheduler (e.g. tcp://host:8786); needs --shards")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import simulators
    from lfi.cli.info import print_info
    from lfi.errors import Interrupted, OptionError
    from lfi.events.cutflow import CUTFLOW_KEY
    from lfi.files import remember_interrupts

    module = simulators.get(args.simulator)
    accepted = inspect.signature(module.simulate).parameters
    options = {k: getattr(args, k) for k in ("level", "process", "workers") if getattr(args, k) is not None}
    if args.range is not None:
        options["theta_range"] = _parse_range(args.range)
    if args.nuisances:
        options["nuisances"] = True
    workers = options.pop("workers", 1) if args.shards is not None else None  # with shards: the pool size
    unknown = [k for k in options if k not in accepted]
    if unknown:
        flag = "range" if unknown[0] == "theta_range" else unknown[0]
        raise OptionError(f"--{flag} is not an option of the {args.simulator} simulator")
    if args.scheduler and args.shards is None:
        raise OptionError("--scheduler runs shards: give --shards S as well")
    if args.shards is not None:
        return _run_sharded(args, options, workers)
    start = time.perf_counter()
    with remember_interrupts() as interrupts:
        sample = module.simulate(args.events, seed=args.seed, **options)
        if interrupts.pressed:  # a Ctrl-C that Python dropped (see lfi.files): stop before writing
            raise KeyboardInterrupt
        path = sample.save(args.out)
    try:
        log.info("wrote %d events to %s in %.1f s", len(sample), path, time.perf_counter() - start)
        print_info(path)
        _report_cutflow(sample.metadata.get(CUTFLOW_KEY), args.events)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; {path} was written completely") from None
    return 0


def _run_sharded(args: argparse.Namespace, options: dict, workers: int) -> int:
    """``--shards``: the sharded run (:mod:`lfi.workflows.sharded`), then the summary of the whole directory."""
    from lfi.cli.info import print_info
    from lfi.events import EventSample
    from lfi.events.cutflow import CUTFLOW_KEY
    from lfi.workflows.sharded import simulate_sharded

    start = time.perf_counter()
    out = simulate_sharded(args.simulator, args.events, args.out, shards=args.shards, seed=args.seed, options=options,
                           workers=workers, scheduler=args.scheduler)
    info = EventSample.read_info(out)
    where = f"on {args.scheduler}" if args.scheduler else f"with {workers} worker(s)"
    log.info("wrote %d events in %d shards to %s %s in %.1f s", info["events"], args.shards, out, where,
             time.perf_counter() - start)
    print_info(out)
    _report_cutflow(info["metadata"].get(CUTFLOW_KEY), args.events)
    return 0


def _report_cutflow(flows: dict | None, requested: int) -> None:
    """The cut flow in one line per process; a warning when the file holds fewer events than requested."""
    from lfi.events.cutflow import shortfall_warning, summary_line

    if not flows:
        return
    print(summary_line(flows))
    warning = shortfall_warning(requested, flows)
    if warning:
        log.warning("%s", warning)


def _parse_range(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """"-16.5:16.5" (both parameters) or "-10:10,-20:20" → ((low_0, high_0), (low_1, high_1))."""
    from lfi.errors import OptionError

    try:
        pairs = [tuple(float(v) for v in part.split(":")) for part in text.split(",")]
        if len(pairs) == 1:
            pairs = pairs * 2
        if len(pairs) != 2 or any(len(p) != 2 or p[0] >= p[1] for p in pairs):
            raise ValueError
    except ValueError:
        raise OptionError(f"--range {text!r}: expected LOW:HIGH or LOW:HIGH,LOW:HIGH with LOW < HIGH") from None
    return pairs[0], pairs[1]
