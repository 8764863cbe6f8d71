"""``lfi limits``: expected (Asimov) likelihood maps and CL contours for models, histograms and the truth."""

from __future__ import annotations

import argparse

from lfi.errors import OptionError

__all__ = ["add_commands", "add_map_inputs", "add_nuisance_options", "nuisance_arguments", "parse_point",
           "parse_normalisations", "luminosity_and_output", "histogram_specs"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "limits",
        help="expected (Asimov) likelihood maps and CL contours on a parameter grid",
        description="Evaluate expected −2Δlog L on a θ grid for trained estimators, histogram baselines and "
        "the exact truth; write q maps and Wilks p-value maps (.npy), a summary (limits.json) with contour "
        "areas and best fits, and a contour figure (contours.png).",
    )
    add_map_inputs(p, data_help="test event file (not the training file)", model_help="trained estimator directories")
    p.add_argument("--grid", default=None, metavar="SPEC",
                   help='"low:high:n,low:high:n" per parameter (default: 41 points per parameter over the range the '
                   "sample's benchmarks span, printed)")
    p.add_argument("--true", default=None, metavar="V1,V2", help="true point θ* (default: the SM, all zeros)")
    p.add_argument("--device", default="cpu", help="where networks run: cpu (default), cuda, cuda:N or auto")
    p.add_argument("--observed", default=None, metavar="FILE",
                   help="unweighted observed events (data, or lfi pseudodata): observed maps beside the expected ones")
    add_nuisance_options(p, "every map is also computed with them profiled (<name>_profiled)")
    p.add_argument("--stream", type=int, default=None, metavar="N",
                   help="read --data in chunks of N events instead of loading it (memory set by N; expected maps "
                   "only; automatic histogram bins from the first chunk)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (made if missing)")
    p.set_defaults(func=run)


def add_map_inputs(p: argparse.ArgumentParser, *, data_help: str, model_help: str) -> None:
    """The options naming what a likelihood map is made of: --data, --model, --histogram, --binning, --truth, --lumi
    (shared by lfi limits, lfi fisher and lfi coverage)."""
    p.add_argument("--data", required=True, metavar="FILE", help=data_help)
    p.add_argument("--model", nargs="*", default=[], metavar="DIR", help=model_help)
    p.add_argument("--histogram", action="append", default=[], metavar="OBS[,OBS]",
                   help="1-D or 2-D histogram of named observables (repeatable)")
    p.add_argument("--binning", choices=["auto", "reference"], default="auto",
                   help="histogram bins: weighted quantiles, or the reference binning of docs/statistics.md §4")
    p.add_argument("--truth", action="store_true", help="add the exact likelihood (needs a sample that carries it)")
    p.add_argument("--lumi", required=True, metavar="L",
                   help="integrated luminosity: 300/fb, 139fb-1, 3/ab, 20/pb; a bare number is pb^-1")


def add_nuisance_options(p: argparse.ArgumentParser, what: str) -> None:
    """--nuisance, --normalisation and --nuisance-model (lfi limits, fisher, coverage); ``what`` says what profiling
    them adds."""
    p.add_argument("--nuisance", default=None, metavar="NAME[,NAME]",
                   help=f"profile these stored nuisance variations (all: every one; lfi info lists them): {what}")
    p.add_argument("--normalisation", action="append", default=[], metavar="PROCESS=DELTA",
                   help="a log-normal normalisation uncertainty of a process, profiled (repeatable), e.g. wbf=0.05")
    p.add_argument("--nuisance-model", default=None, metavar="DIR",
                   help="nuisance factors learned as a function of the event (lfi nuisance-train) instead of the "
                        "stored per-event factors; --nuisance then picks among its nuisances (default all)")


def nuisance_arguments(args: argparse.Namespace) -> dict:
    """The keyword arguments of the nuisance options for expected_limits, fisher_table and coverage_study."""
    return {"nuisances": [n for n in (args.nuisance or "").split(",") if n],
            "normalisations": parse_normalisations(args.normalisation), "nuisance_model": args.nuisance_model}


def parse_point(text: str, option: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise OptionError(f"{option} {text!r}: not a comma-separated list of numbers, e.g. 0.5,-0.2") from None


def parse_normalisations(specs: list[str]) -> dict[str, float]:
    """["wbf=0.05", …] → {"wbf": 0.05}; one OptionError line for a malformed entry."""
    out = {}
    for spec in specs:
        process, _, value = spec.partition("=")
        try:
            out[process.strip()] = float(value)
        except ValueError:
            raise OptionError(f"--normalisation {spec!r}: expected PROCESS=DELTA, e.g. wbf=0.05") from None
        if not process.strip():
            raise OptionError(f"--normalisation {spec!r}: expected PROCESS=DELTA, e.g. wbf=0.05")
    return out


def luminosity_and_output(args: argparse.Namespace):
    """The ``--lumi`` as read (its note printed) after ``--out`` was checked; the start of every limits-like command."""
    from lfi.luminosity import parse_luminosity
    from lfi.workflows.limits_checks import check_out_dir

    lumi = parse_luminosity(args.lumi)
    if lumi.note():
        print(lumi.note())
    check_out_dir(args.out)
    return lumi


def histogram_specs(specs: list[str]) -> list[list[str]]:
    """``--histogram a,b`` options → [["a", "b"], …]."""
    return [[n for n in spec.split(",") if n] for spec in specs]


def run(args: argparse.Namespace) -> int:
    from lfi.workflows.limits import expected_limits, format_table, format_training, lumi_warnings, write_limits

    lumi = luminosity_and_output(args)
    histograms = histogram_specs(args.histogram)
    theta_true = None if args.true is None else parse_point(args.true, "--true")
    result = expected_limits(args.data, models=args.model, histograms=histograms, truth=args.truth, lumi=lumi.pb,
                             grid=args.grid, theta_true=theta_true, binning=args.binning, device=args.device,
                             observed=args.observed, stream=args.stream, **nuisance_arguments(args))
    written = write_limits(result, args.out)
    print(f"L = {lumi.text}: {result.summary['expected_events']:.4g} expected events at θ* = "
          f"{', '.join(f'{v:g}' for v in result.theta_true)}"
          + (f"; {result.summary['observed']['events']} observed in {args.observed}" if args.observed else ""))
    for line in lumi_warnings(result.summary, lumi.bare):
        print(f"warning: {line}")
    print(format_table(result.summary))
    for line in format_training(result.summary):
        print(line)
    figures = [path for path in written if path.suffix == ".png"]
    for figure in figures:
        print(f"figure: {figure}")
    print(f"wrote {len(result.maps)} maps and limits.json to {args.out}")
    return 0
