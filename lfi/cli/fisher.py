"""``lfi fisher``: the Fisher information of a sample (truth, weights, rate, histograms, SALLY models)."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    from lfi.cli.limits import add_map_inputs, add_nuisance_options

    p = subparsers.add_parser(
        "fisher",
        help="expected Fisher information: truth, weights, rate only, histograms and SALLY models",
        description="Compute the expected Fisher information at θ* of the exact likelihood (--truth), of the joint "
        "likelihood from the weights, of the rate alone, of histograms of observables and of trained SALLY models "
        "(an ensemble gives the members' mean and spread); print each parameter's expected 1σ error with the "
        "others fixed and profiled; write fisher.json, the information ellipses (ellipses.png; --contours DIR puts "
        "the likelihood contours of a lfi limits directory beside them) and, per --along OBS, where along an "
        "observable the information sits.",
    )
    add_map_inputs(p, data_help="event file (a test file for SALLY models)",
                   model_help="trained SALLY estimators (or ensembles)")
    p.add_argument("--true", default=None, metavar="V1,V2", help="the point θ* (default: the SM, all zeros)")
    p.add_argument("--along", action="append", default=[], metavar="OBS",
                   help="draw where the information sits along this observable (repeatable)")
    p.add_argument("--contours", default=None, metavar="DIR",
                   help="a lfi limits output directory: its contours are drawn beside the ellipses")
    add_nuisance_options(p, "each information also with them profiled")
    p.add_argument("--device", default="cpu", help="where SALLY networks run: cpu (default), cuda, cuda:N or auto")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (made if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.cli.limits import histogram_specs, luminosity_and_output, nuisance_arguments, parse_point
    from lfi.workflows.fisher import fisher_table, format_fisher_table, write_fisher

    lumi = luminosity_and_output(args)
    theta = None if args.true is None else parse_point(args.true, "--true")
    histograms = histogram_specs(args.histogram)
    result = fisher_table(args.data, lumi=lumi.pb, theta=theta, models=args.model, histograms=histograms,
                          truth=args.truth, binning=args.binning, along=args.along, device=args.device,
                          **nuisance_arguments(args))
    written = write_fisher(result, args.out, contours=args.contours)
    print(f"L = {lumi.text}, θ* = {', '.join(f'{v:g}' for v in result.theta)}")
    print(format_fisher_table(result))
    for path in written:
        if path.suffix == ".png":
            print(f"figure: {path}")
    print(f"wrote fisher.json to {args.out}")
    return 0
