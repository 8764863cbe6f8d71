"""``lfi classify``: train event classifiers (signal vs the other files' processes) and print their metrics."""

from __future__ import annotations

import argparse

__all__ = ["add_commands", "format_metrics"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "classify",
        help="train classifiers and compute ROC, AUC, background rejection and significance",
        description="Train K classifiers of the signal (the first file, or --signal) against the other processes, "
        "with class weights balanced by cross section, and measure them on a held-out test split. Running the "
        "same command again skips the seeds that finished.",
    )
    p.add_argument("--data", required=True, nargs="+", metavar="FILE", help="event files, signal first")
    p.add_argument("--estimator", required=True, metavar="NAME",
                   help="mlp, cnn1d, mixer, particlenet, part, sett, iaformer (networks) or bdt (LightGBM)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--signal", metavar="NAME", help="signal process name (default: the first file's)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="estimator option (repeatable), e.g. pair=mass,delta_r, interaction=sm_running")
    p.add_argument("--loss", choices=["ce", "focal"], default="ce", help="cross-entropy or focal loss")
    p.add_argument("--seeds", type=int, default=1, metavar="K", help="models trained with seeds 0..K-1")
    p.add_argument("--lumi", default="100", metavar="L",
                   help="luminosity for the yields: 300/fb, 3/ab, 139fb-1; a bare number is fb^-1 (default 100)")
    p.add_argument("--syst", type=float, default=0.2, help="relative background systematic (default 0.2)")
    p.add_argument("--train-events", type=int, default=None, metavar="N",
                   help="use at most N training events (same fraction of every process)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--amp", default="auto", choices=["auto", "off", "bf16", "fp16"], help="mixed precision")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.cli.train import parse_options
    from lfi.luminosity import parse_luminosity
    from lfi.train import TrainConfig
    from lfi.workflows.classification import classify

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, device=args.device, amp=args.amp)
    metrics = classify(args.data, args.estimator, args.out, signal=args.signal, options=parse_options(args.option),
                       loss=args.loss, seeds=args.seeds, lumi_fb=parse_luminosity(args.lumi, bare_unit="fb").pb / 1000, rel_syst=args.syst,
                       max_train_events=args.train_events, config=config, progress=not args.quiet)
    print(format_metrics(metrics))
    print(f"\nwrote {metrics.out}/metrics.json, roc.png, roc.pdf, scores.npz and the models in seed_*/")
    return 0



def _pm_text(stat: dict, digits: int = 4) -> str:
    from lfi.workflows.classification import mean_std_text

    return mean_std_text(stat, digits, missing="-")


def format_metrics(metrics: dict) -> str:
    """Human-readable summary of ``metrics.json``: sample, AUC and the working points (mean ± std over seeds)."""
    summary = metrics["summary"]
    background = " + ".join(p for p in metrics["processes"] if p != metrics["signal"])
    sizes = metrics["split_events"]
    lines = [
        f"{metrics['estimator']} ({metrics['loss']}), {metrics['signal']} vs {background}: "
        f"{len(metrics['seeds'])} seed(s); train/val/test events {sizes['train']:,}/{sizes['validation']:,}/"
        f"{sizes['test']:,}",
        f"AUC          {_pm_text(summary['auc'])}",
        f"{'eps_S':>6}  {'eps_B':>17}  {'1/eps_B':>15}  {'s/sqrt(b)':>13}  {'with syst':>13}",
    ]
    for point in summary["working_points"]:
        lines.append(f"{point['eps_s']:>6.2f}  {_pm_text(point['eps_b'], 5):>17}  {_pm_text(point['rejection'], 1):>15}  "
                     f"{_pm_text(point['significance'], 2):>13}  {_pm_text(point['significance_syst'], 2):>13}")
    lines.append(f"(significance at {metrics['lumi_fb']:g} fb^-1, background systematic {metrics['rel_syst']:g})")
    return "\n".join(lines)
