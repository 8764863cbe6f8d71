"""``lfi nuisance-train``: learn the nuisance factors f̂(x) of stored variations (docs/statistics.md §16)."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "nuisance-train",
        help="learn each stored nuisance variation's factor as a function of the event (a classifier per variation)",
        description="Fit one LightGBM classifier per stored variation benchmark, the event with its nominal weight "
        "against the same event with its varied weight: its log-odds is log E[w_variation/w_nominal | x], the factor "
        "a likelihood of the observed event needs (docs/statistics.md §16). Use the directory with --nuisance-model "
        "in lfi limits, lfi fisher and lfi coverage.",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="events with nuisance variations (lfi info lists them)")
    p.add_argument("--nuisance", default="all", metavar="NAME[,NAME]", help="which stored nuisances (default all)")
    p.add_argument("--out", required=True, metavar="DIR", help="model directory")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="LightGBM setting of the bdt (repeatable), e.g. num_leaves=15, min_data_in_leaf=200")
    p.add_argument("--validation", type=float, default=0.25, help="fraction of events for early stopping")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.cli.train import parse_options
    from lfi.workflows.nuisance_ratio import train_nuisance_ratio

    model = train_nuisance_ratio(args.data, args.out, nuisances=[n for n in args.nuisance.split(",") if n],
                                 options=parse_options(args.option), validation=args.validation, seed=args.seed)
    print(f"{'variation':<16} {'σ_var/σ stored':>15} {'learned':>9} {'std of log f̂':>13}")
    for benchmark, row in model.metadata["closure"].items():
        print(f"{benchmark:<16} {row['stored']:>15.4f} {row['learned']:>9.4f} {row['shape_std']:>13.4f}")
    print(f"saved the nuisance model of {', '.join(model.names)} to {args.out}")
    return 0
