"""``lfi select FILE --cut EXPR ... --out FILE`` and ``lfi observables FILE --add NAME=EXPR ... --out FILE``.

Expressions follow ``docs/selections.md``. :func:`add_expression_options` and :func:`apply_expressions` give the
importers of :mod:`lfi.cli.transfer` the same ``--cut`` and ``--observable`` options.
"""

from __future__ import annotations

import argparse
import logging

from lfi.errors import OptionError

__all__ = ["add_commands", "add_expression_options", "apply_expressions", "parse_definitions", "reference_benchmark"]

log = logging.getLogger("lfi")

_CUT_HELP = "keep the events that pass EXPR, e.g. 'pt(j1) > 30 and m(j1, j2) > 500' (repeatable: ANDed)"


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("select",
                              help="keep the events that pass cuts written as expressions (docs/selections.md)")
    p.add_argument("file", metavar="FILE", help="event file (.h5)")
    p.add_argument("--cut", action="append", required=True, metavar="EXPR", help=_CUT_HELP)
    p.add_argument("--out", required=True, metavar="FILE", help="event file to write (.h5)")
    p.set_defaults(func=run_select)

    o = subparsers.add_parser("observables", help="add observables defined by expressions (docs/selections.md)")
    o.add_argument("file", metavar="FILE", help="event file (.h5)")
    o.add_argument("--add", action="append", required=True, metavar="NAME=EXPR",
                   help="a new observable, e.g. 'm_ll=m(l1, l2)' (repeatable; later ones may use earlier ones)")
    o.add_argument("--replace", action="store_true", help="allow replacing observables that exist")
    o.add_argument("--out", required=True, metavar="FILE", help="event file to write (.h5)")
    o.set_defaults(func=run_observables)


def add_expression_options(p: argparse.ArgumentParser) -> None:
    """``--observable NAME=EXPR`` and ``--cut EXPR`` (both repeatable) for a command that writes an event file."""
    p.add_argument("--observable", action="append", default=[], metavar="NAME=EXPR",
                   help="add an observable, e.g. 'm_ll=m(l1, l2)' (repeatable; added before the cuts)")
    p.add_argument("--cut", action="append", default=[], metavar="EXPR", help=_CUT_HELP)


def parse_definitions(items: list[str], option: str) -> dict[str, str]:
    """``NAME=EXPR`` strings → {name: expression}; the first ``=`` separates them (``a=m_jj==1`` is fine)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, expression = item.partition("=")
        if not sep or not name.strip() or not expression.strip():
            raise OptionError(f"{option} {item!r}: expected NAME=EXPR, e.g. m_ll=m(l1, l2)")
        if name.strip() in out:
            raise OptionError(f"{option}: {name.strip()!r} is given twice")
        out[name.strip()] = expression.strip()
    return out


def apply_expressions(sample, args: argparse.Namespace):
    """The sample with the observables of ``args.observable`` added, then the cuts of ``args.cut`` applied."""
    from lfi.events import add_observables, select_events

    definitions = parse_definitions(args.observable, "--observable")
    if definitions:
        sample = add_observables(sample, definitions)
    if args.cut:
        total = len(sample)
        sample = select_events(sample, args.cut)
        log.info("cuts kept %d of %d events", len(sample), total)
    return sample


def reference_benchmark(sample) -> int:
    """Index of the SM benchmark (all parameters zero), or of the first benchmark if there is none."""
    import numpy as np

    at_zero = np.flatnonzero(np.all(sample.benchmark_theta == 0, axis=1))
    return int(at_zero[0]) if len(at_zero) else 0


def run_select(args: argparse.Namespace) -> int:
    from lfi.events import EventSample, select_events

    sample = EventSample.load(args.file)
    selected = select_events(sample, args.cut)
    path = selected.save(args.out)
    b = reference_benchmark(sample)
    before, after = sample.weights[:, b].sum(), selected.weights[:, b].sum()
    efficiency = f"{after / before:.4g}" if before != 0 else "undefined (σ = 0)"
    print(f"kept {len(selected):,} / {len(sample):,} events; weighted efficiency {efficiency} at "
          f"{sample.benchmark_names[b]} (σ {after:.6g} of {before:.6g} pb); wrote {path}")
    return 0


def run_observables(args: argparse.Namespace) -> int:
    import numpy as np

    from lfi.events import EventSample, add_observables

    definitions = parse_definitions(args.add, "--add")
    sample = add_observables(EventSample.load(args.file), definitions, replace=args.replace)
    path = sample.save(args.out)
    for name in definitions:
        values = sample.observables[name]
        known = values[~np.isnan(values)]
        spread = f"{known.min():.6g} .. {known.max():.6g}" if known.size else "no value"
        missing = len(values) - known.size
        print(f"{name}: {spread}" + (f"; NaN in {missing:,} events (missing objects)" if missing else ""))
    print(f"wrote {len(sample):,} events with {len(definitions)} new observable(s) to {path}")
    return 0
