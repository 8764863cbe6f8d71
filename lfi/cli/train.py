"""``lfi train``: train an estimator on an event file and save it as a directory."""

from __future__ import annotations

import argparse
import logging

from lfi.errors import OptionError
from lfi.train.methods import METHODS

__all__ = ["add_commands", "parse_options"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train an estimator (ratio, score or classifier) on an event file",
        description="Train an estimator. Run the same command again with --resume after an interruption "
        "to continue from the last finished epoch (on any number of processes). Data-parallel on N processes "
        "(gloo on CPUs, NCCL on GPUs): torchrun --nproc-per-node N -m lfi train …; each process takes "
        "--batch-size events per step.",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="training event file (or sharded sample directory)")
    p.add_argument("--estimator", required=True, metavar="NAME",
                   help="mlp, cnn1d, mixer, particlenet, part, sett, iaformer (networks), bdt (LightGBM, carl only) "
                   "or flow (normalising flow over observables, nde and scandal; needs lfi[flows])")
    p.add_argument("--method", required=True, choices=METHODS, type=str.lower, help="training method / loss")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory for the estimator")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="estimator, head or method option (repeatable), e.g. prior=uniform:-1:1, alpha=5, head_hidden=128,128, hidden=256,256 (encoder)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience in epochs")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--amp", default="auto", choices=["auto", "off", "bf16", "fp16"], help="mixed precision")
    p.add_argument("--compile", action="store_true", help="use torch.compile")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in DIR from its last finished epoch; every setting must be the "
                   "same except --epochs, --patience, --device, --amp and --compile")
    p.add_argument("--ensemble", type=int, default=1, metavar="K",
                   help="train K members with seeds SEED, SEED+1, ... and use their mean (limits report the spread)")
    p.add_argument("--bootstrap", action="store_true", help="each ensemble member trains on a bootstrap resample")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    _list_estimators_in_help(p)


def _list_estimators_in_help(parser: argparse.ArgumentParser) -> None:
    """``lfi train --help`` ends with every estimator and the ``--option`` keys it takes (torch loads only then)."""
    format_help = parser.format_help

    def with_estimators() -> str:
        import inspect

        from estimators.registry import estimator_names, estimator_options

        lines = ["estimators and their --option keys (defaults); data, head and method options apply to all:",
                 "  data: prior, reference, theta1, events_per_epoch, validation_fraction",
                 "  head: head, head_hidden, head_dropout    method: alpha, focal_alpha, focal_gamma"]
        for name in estimator_names():
            options = ", ".join(k if v is inspect.Parameter.empty else f"{k}={_text(v)}"
                                for k, v in estimator_options(name).items())
            lines.append(f"  {name}: {options}")
        parser.epilog = "\n".join(lines)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return format_help()

    parser.format_help = with_estimators


def _text(value) -> str:
    """An option default as it is typed on the command line (``128,128`` for a tuple)."""
    if isinstance(value, (tuple, list)):
        return (";" if value and isinstance(value[0], (tuple, list)) else ",").join(_text(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x,y"]`` → ``{"a": "1", "b": "x,y"}``; values stay text and are typed once, by
    :meth:`lfi.train.TrainOptions.parse` and the estimator's own option parser."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def run(args: argparse.Namespace) -> int:
    from lfi.train import TrainConfig
    from lfi.train.distributed import is_main_process
    from lfi.workflows.train import train_estimator

    if not is_main_process():  # a torchrun process other than rank 0: rank 0 reports for all
        logging.getLogger("lfi").setLevel(logging.WARNING)

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, device=args.device, amp=args.amp, compile=args.compile, seed=args.seed)
    train_estimator(args.data, args.estimator, args.method, args.out, config=config,
                    options=parse_options(args.option), resume=args.resume, progress=not args.quiet,
                    ensemble=args.ensemble, bootstrap=args.bootstrap)
    return 0  # the workflow logs where the estimator was saved
