"""``lfi pseudodata``: unweighted, Poisson-fluctuated events at any θ, drawn from a weighted sample by morphing."""

from __future__ import annotations

import argparse

from lfi.errors import OptionError

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pseudodata", help="draw unweighted pseudo-data at θ from a weighted sample (for observed limits)",
        description="Draw n ~ Poisson(L·σ(θ)) events with probabilities ∝ w(θ) (morphed weights) from a weighted "
        "sample; the output is an event file for lfi limits --observed. Draw from a sample used neither for "
        "training nor as the simulated sample of the limits.")
    p.add_argument("--data", required=True, metavar="FILE", help="weighted event file with morphing")
    p.add_argument("--theta", required=True, metavar="V1,V2", help="parameter point of the pseudo-data")
    p.add_argument("--lumi", required=True, metavar="L", help="300/fb, 139fb-1, 3/ab, 20/pb; a bare number is pb^-1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="FILE", help="output event file (.h5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.events import EventSample, draw_pseudodata
    from lfi.luminosity import parse_luminosity

    lumi = parse_luminosity(args.lumi)
    if lumi.note():
        print(lumi.note())
    try:
        theta = [float(v) for v in args.theta.replace(" ", "").split(",")]
    except ValueError:
        raise OptionError(f"--theta {args.theta!r}: not a comma-separated list of numbers, e.g. 0.5,-0.2") from None
    drawn = draw_pseudodata(EventSample.load(args.data), theta, lumi.pb, seed=args.seed, source=str(args.data))
    drawn.save(args.out)
    info = drawn.metadata["pseudodata"]
    print(f"wrote {info['events']} events to {args.out}: Poisson draw around {info['expected_events']:.4g} expected at "
          f"θ = {', '.join(f'{v:g}' for v in theta)} and L = {lumi.text} ({info['distinct_source_events']} distinct "
          "source events)")
    return 0
