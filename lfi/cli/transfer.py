"""``lfi import lhe|delphes|madminer INPUT... --out FILE`` and ``lfi export madminer FILE --out FILE``.

A thin layer over :mod:`simulators.io`: it parses the options, calls the reader or writer and saves
the result atomically, so a failure never leaves a half-written output file. The importers take
``--observable NAME=EXPR`` and ``--cut EXPR`` (``docs/selections.md``), applied after reading and before saving.
"""

from __future__ import annotations

import argparse
import logging
import time

from lfi.cli.select import add_expression_options, apply_expressions
from lfi.errors import OptionError

__all__ = ["add_commands"]

log = logging.getLogger("lfi")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="read LHE, Delphes ROOT or MadMiner files into an event file")
    formats = p.add_subparsers(title="formats", dest="format", metavar="FORMAT", required=True)

    lhe = formats.add_parser("lhe", help="Les Houches events (.lhe, .lhe.gz) with MadGraph reweighting weights")
    _common(lhe, several=True)
    _benchmark_options(lhe)
    lhe.add_argument(
        "--normalisation",
        choices=["init", "keep"],
        default="init",
        help="init: scale each file so its event weights sum to the <init> cross section in pb (default); "
        "keep: use the weights as written",
    )
    _shard_options(lhe)
    lhe.set_defaults(func=run_import_lhe)

    delphes = formats.add_parser("delphes", help="Delphes ROOT files, read in chunks")
    _common(delphes, several=True)
    _benchmark_options(delphes)
    ids = delphes.add_mutually_exclusive_group()
    ids.add_argument("--weight-ids", metavar="ID,ID", help="ids of the Weight.Weight entries in stored order")
    ids.add_argument("--weight-ids-from", metavar="LHE", help="take the Weight.Weight ids from this LHE file's <initrwgt>")
    delphes.add_argument("--tree", default="Delphes", help="name of the TTree (default Delphes)")
    delphes.add_argument(
        "--collections", default="jet,electron,muon,photon,met", metavar="NAMES", help="collections to read (default all)"
    )
    delphes.add_argument("--min-pt", default="", metavar="KIND=GEV,...", help="minimal pT, e.g. jet=25,muon=5")
    delphes.add_argument("--max-eta", default="", metavar="KIND=ETA,...", help="maximal |eta|, e.g. jet=4.7")
    delphes.add_argument("--btag-bit", type=int, default=0, help="bit of Jet.BTag that marks a b-jet (default 0)")
    delphes.add_argument(
        "--weight-norm", choices=["sum", "average"], default="sum", help="stored weights sum (default) or average to σ"
    )
    delphes.add_argument(
        "--cross-section", type=float, nargs="+", metavar="PB", help="rescale each process to this cross section in pb"
    )
    delphes.add_argument("--chunk-size", type=int, default=100_000, metavar="N", help="events read at a time")
    _shard_options(delphes)
    delphes.set_defaults(func=run_import_delphes)

    madminer = formats.add_parser("madminer", help="a MadMiner v0.9 HDF5 file with events")
    _common(madminer, several=False)
    madminer.set_defaults(func=run_import_madminer)

    e = subparsers.add_parser("export", help="write an event file in another layout (MadMiner HDF5)")
    targets = e.add_subparsers(title="formats", dest="format", metavar="FORMAT", required=True)
    mm = targets.add_parser("madminer", help="MadMiner v0.9 HDF5 layout")
    mm.add_argument("input", metavar="FILE", help="lfi event file (.h5)")
    mm.add_argument("--out", required=True, metavar="FILE", help="MadMiner file to write")
    mm.add_argument("--no-objects", action="store_true", help="do not add the object list as observable columns")
    mm.set_defaults(func=run_export_madminer)


def _common(p: argparse.ArgumentParser, several: bool) -> None:
    p.add_argument("inputs", nargs="+" if several else 1, metavar="INPUT", help="input file(s)")
    p.add_argument("--out", required=True, metavar="FILE", help="event file to write (.h5)")
    p.add_argument("--quiet", action="store_true", help="do not print the summary of the written file")
    add_expression_options(p)


def _benchmark_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--benchmarks",
        nargs="+",
        metavar="NAME=V1,V2",
        help="parameter points; NAME is the reweighting weight id (default: one benchmark 'nominal' with the event weight)",
    )
    p.add_argument("--parameters", default="f_W,f_WW", metavar="P1,P2", help="parameter names (default f_W,f_WW)")
    p.add_argument("--units", default="TeV^-2", help="unit of the parameter values (default TeV^-2)")
    p.add_argument("--sampled-from", metavar="NAME", help="benchmark the events were generated at (its weight is the event weight)")
    p.add_argument("--background", action="store_true", help="θ-independent process: every benchmark gets the event weight")
    p.add_argument("--morphing-degree", type=int, metavar="K", help="store a morphing setup with monomials of total degree ≤ K")
    p.add_argument("--morphing-basis", metavar="NAME,...", help="basis benchmarks (default: the first C)")
    p.add_argument("--process", nargs="+", default=["signal"], metavar="NAME", help="process name, one for all inputs or one per input")
    p.add_argument("--max-objects", type=int, metavar="P", help="keep at most P objects per event (highest pT)")


def _shard_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shards", action="store_true",
                   help="one shard per input file, written into the directory --out (a sharded sample; a rerun "
                   "imports only the missing shards)")
    p.add_argument("--workers", type=int, default=1, metavar="K", help="with --shards: import K files at a time")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --shards: import on this dask.distributed scheduler (e.g. tcp://host:8786)")


def _import_sharded(args: argparse.Namespace, options: dict, description: dict) -> int:
    """``--shards``: every input its own shard (:func:`lfi.workflows.sharded.import_sharded`), then the summary."""
    from lfi.cli.select import parse_definitions
    from lfi.workflows.sharded import import_sharded

    start = time.perf_counter()
    processes = args.process if len(args.process) == len(args.inputs) else args.process * len(args.inputs)
    if len(args.process) not in (1, len(args.inputs)):
        raise OptionError(f"--process: give one name for all inputs or one per input ({len(args.inputs)})")
    out = import_sharded(args.format, args.inputs, args.out, options=options, description=description,
                         processes=processes, observables=parse_definitions(args.observable, "--observable"),
                         cuts=args.cut, workers=args.workers, scheduler=args.scheduler)
    log.info("imported %d files into %s in %.1f s", len(args.inputs), out, time.perf_counter() - start)
    if not args.quiet:
        from lfi.cli.info import print_info

        print_info(out)
    return 0


def _shards_requested(args: argparse.Namespace) -> bool:
    if (args.scheduler or args.workers != 1) and not args.shards:
        raise OptionError("--workers and --scheduler import files as shards: give --shards as well")
    return args.shards


def _benchmark_description(args: argparse.Namespace) -> dict:
    """The benchmark options as typed: what a sharded import records and compares on a rerun."""
    keys = ("benchmarks", "parameters", "units", "sampled_from", "background", "morphing_degree", "morphing_basis",
            "max_objects")
    return {key: getattr(args, key) for key in keys}


def _benchmarks(args: argparse.Namespace):
    from simulators.io.common import Benchmarks

    return Benchmarks.parse(
        args.benchmarks,
        args.parameters,
        units=args.units,
        sampled_from=args.sampled_from,
        background=args.background,
        morphing_degree=args.morphing_degree,
        morphing_basis=args.morphing_basis,
    )


def _pairs(text: str, option: str) -> dict[str, float]:
    out = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise OptionError(f"{option}: expected KIND=VALUE[,KIND=VALUE...], got {item!r}")
    return out


def _save(sample, args: argparse.Namespace, start: float) -> int:
    sample = apply_expressions(sample, args)
    path = sample.save(args.out)
    n = len(sample)
    del sample
    log.info("wrote %d events to %s in %.1f s", n, path, time.perf_counter() - start)
    if not args.quiet:
        from lfi.cli.info import print_info

        print_info(path)
    return 0


def run_import_lhe(args: argparse.Namespace) -> int:
    from simulators.io import lhe_weight_ids
    from simulators.io.lhe import read_lhe

    start = time.perf_counter()
    if not args.benchmarks:
        ids = lhe_weight_ids(args.inputs[0])
        if ids:
            shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
            log.warning("warning: %s declares %d reweighting weights in <initrwgt> (%s) that are not imported; "
                        "give --benchmarks ID=V1,V2 ... to use them as benchmarks", args.inputs[0], len(ids), shown)
    options = dict(normalisation=args.normalisation, max_objects=args.max_objects)
    if _shards_requested(args):
        return _import_sharded(args, {**options, "benchmarks": _benchmarks(args)},
                               {**_benchmark_description(args), **options})
    sample = read_lhe(args.inputs, _benchmarks(args), process=args.process, **options)
    return _save(sample, args, start)


def run_import_delphes(args: argparse.Namespace) -> int:
    from simulators.io.delphes import lhe_weight_ids, read_delphes

    start = time.perf_counter()
    weight_ids = None
    if args.weight_ids:
        weight_ids = [w.strip() for w in args.weight_ids.split(",") if w.strip()]
    elif args.weight_ids_from:
        weight_ids = lhe_weight_ids(args.weight_ids_from)
    options = dict(
        weight_ids=weight_ids,
        tree=args.tree,
        collections=[c.strip() for c in args.collections.split(",") if c.strip()],
        min_pt=_pairs(args.min_pt, "--min-pt"),
        max_eta=_pairs(args.max_eta, "--max-eta"),
        btag_bit=args.btag_bit,
        max_objects=args.max_objects,
        weight_norm=args.weight_norm,
        cross_section=args.cross_section,
        chunk_size=args.chunk_size,
    )
    if _shards_requested(args):
        return _import_sharded(args, {**options, "benchmarks": _benchmarks(args)},
                               {**_benchmark_description(args), **options})
    sample = read_delphes(args.inputs, _benchmarks(args), process=args.process, **options)
    return _save(sample, args, start)


def run_import_madminer(args: argparse.Namespace) -> int:
    from simulators.io.madminer_import import read_madminer

    start = time.perf_counter()
    sample = read_madminer(args.inputs[0])
    if not sample.metadata.get("objects", True):
        log.info("%s carries observables but no object lists: estimators that need objects will refuse it", args.inputs[0])
    return _save(sample, args, start)


def run_export_madminer(args: argparse.Namespace) -> int:
    from lfi.events import EventSample
    from simulators.io.madminer_export import write_madminer

    start = time.perf_counter()
    sample = EventSample.load(args.input)
    path = write_madminer(sample, args.out, objects=not args.no_objects)
    log.info("wrote %d events in the MadMiner layout to %s in %.1f s", len(sample), path, time.perf_counter() - start)
    return 0
