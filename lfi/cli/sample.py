"""``lfi sample``: synthetic events from a trained flow at parameter points, with a comparison to simulation."""

from __future__ import annotations

import argparse

from lfi.errors import OptionError

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sample", help="draw synthetic observables from a trained flow (lfi train --estimator flow)",
        description="Draw events x ~ p̂(x|θ) from a flow estimator at one or more θ and write them as .npz (one array "
        "per observable and θ); with --compare FILE, a figure puts their histograms over the simulated events of "
        "FILE weighted at the same θ.")
    p.add_argument("--model", required=True, metavar="DIR", help="a trained flow (nde or scandal)")
    p.add_argument("--theta", action="append", required=True, metavar="V1,V2", help="parameter point (repeatable)")
    p.add_argument("--events", type=int, default=10000, metavar="N", help="events per θ (default 10000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare", default=None, metavar="FILE", help="simulated events to compare with (morphing)")
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.set_defaults(func=run)


def _point(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise OptionError(f"--theta {text!r}: not a comma-separated list of numbers, e.g. 0.5,-0.2") from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    import estimators
    from lfi.files import atomic_write

    model = estimators.load(args.model)
    if not hasattr(model, "sample_observables"):
        raise OptionError(f"--model {args.model}: a {getattr(model, 'encoder_name', 'non-flow')} estimator has no "
                          "density to sample; train one with --estimator flow --method nde|scandal")
    if args.events < 1:
        raise OptionError(f"--events must be positive, got {args.events}")
    points = [_point(text) for text in args.theta]
    drawn = [model.sample_observables(theta, args.events, seed=args.seed + k) for k, theta in enumerate(points)]
    arrays = {f"{name}__theta{k}": x[:, j] for k, x in enumerate(drawn) for j, name in enumerate(model.observables)}
    out = Path(args.out)
    with atomic_write(out) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, theta=np.array(points), observables=np.array(model.observables), **arrays)
    print(f"wrote {args.events} events at each of {len(points)} θ points to {out}")
    if args.compare:
        from lfi.events import EventSample
        from lfi.density_figure import plot_sampled_against_simulated

        figure = plot_sampled_against_simulated(model.observables, points, drawn, EventSample.load(args.compare),
                                                out.with_suffix(".png"))
        print(f"figure: {figure}")
    return 0
