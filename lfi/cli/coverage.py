"""``lfi coverage``: toy coverage of the Wilks contours and Neyman critical values at chosen points."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    from lfi.cli.limits import add_map_inputs, add_nuisance_options

    p = subparsers.add_parser(
        "coverage", help="do the Wilks contours cover? pseudo-experiments at chosen θ points",
        description="Draw Poisson pseudo-experiments at each --at point from an independent --source sample, "
        "recompute the observed statistic of every map per toy, and report the fraction of toys whose CL region "
        "contains the true point (with its binomial error) and the Neyman critical values; writes coverage.json and "
        "coverage.png.")
    add_map_inputs(p, data_help="simulated sample the statistic uses (a test file)", model_help="trained estimators")
    p.add_argument("--source", required=True, metavar="FILE",
                   help="independent weighted sample to draw toys from (with the truth, for --truth)")
    p.add_argument("--at", action="append", required=True, metavar="V1,V2", help="a test point (repeatable)")
    p.add_argument("--toys", type=int, default=200, metavar="K", help="pseudo-experiments per point (default 200)")
    p.add_argument("--grid", default=None, metavar="SPEC", help='"low:high:n,low:high:n" (default as lfi limits)')
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    add_nuisance_options(p, "toys also draw the constraints' global observables and the truth and histogram maps "
                            "(and ratio models' with --nuisance-model) are recomputed with them profiled "
                            "(<map>_profiled)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.cli.limits import histogram_specs, luminosity_and_output, nuisance_arguments, parse_point
    from lfi.workflows.coverage import coverage_study, format_coverage, write_coverage

    lumi = luminosity_and_output(args)
    result = coverage_study(args.data, args.source, lumi=lumi.pb, test_points=[parse_point(a, "--at") for a in args.at],
                            toys=args.toys, truth=args.truth, histograms=histogram_specs(args.histogram),
                            models=args.model, grid=args.grid, binning=args.binning, seed=args.seed,
                            device=args.device, **nuisance_arguments(args))
    written = write_coverage(result, args.out)
    print(format_coverage(result))
    print(f"figure: {written[-1]}")
    print(f"wrote coverage.json to {args.out}")
    return 0
