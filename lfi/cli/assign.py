"""``lfi assign-train`` and ``lfi assign``: jet–parton assignment (docs/assignment.md)."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser(
        "assign-train",
        help="train a jet-parton assigner (attention head or chi2 fit) on events with parton truth",
        description="Train the symmetric tensor attention head on an encoder's per-object embeddings, or fit the "
        "chi2 permutation baseline, on t t̄ (H) events that carry the jet_partons truth (lfi simulate tth|ttbar).",
    )
    t.add_argument("--data", required=True, metavar="FILE", help="training events with jet_partons truth")
    t.add_argument("--estimator", required=True, metavar="NAME",
                   help="part (attention head on ParT's object embeddings) or chi2 (mass fit)")
    t.add_argument("--topology", required=True, choices=["tth", "ttbar"], help="particles to reconstruct")
    t.add_argument("--out", required=True, metavar="DIR", help="model directory")
    t.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="encoder option (repeatable), e.g. pair=mass,delta_r, interaction=sm_running")
    t.add_argument("--max-jets", type=int, default=10, help="chi2: leading jets permuted (default 10)")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--learning-rate", type=float, default=1e-3)
    t.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=run_train)

    a = subparsers.add_parser(
        "assign",
        help="add assigned top/W/Higgs candidates and assignment probabilities to an event file",
        description="Apply a trained assigner: writes a copy of the events with the candidates' masses and pT "
        "(m_t_had, pt_t_had, m_w_had, m_t_lep, pt_t_lep, m_higgs, pt_higgs) and p_assign_*/p_detect_* (attention) "
        "or chi2 as observables, usable by histograms, classifiers and limits.",
    )
    a.add_argument("--data", required=True, metavar="FILE", help="event file")
    a.add_argument("--model", required=True, metavar="DIR", help="a directory written by lfi assign-train")
    a.add_argument("--out", required=True, metavar="FILE", help="output event file")
    a.add_argument("--prefix", default="", help="put in front of every new observable name")
    a.add_argument("--as-globals", action="store_true",
                   help="also append them to the event-level inputs, so classifiers (e.g. --estimator bdt) use them")
    a.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    a.set_defaults(func=run_assign)


def run_train(args: argparse.Namespace) -> int:
    from lfi.cli.train import parse_options
    from lfi.train import TrainConfig
    from lfi.workflows.assignment import train_assigner

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         patience=args.patience, device=args.device, seed=args.seed)
    model = train_assigner(args.data, args.estimator, args.topology, args.out, options=parse_options(args.option),
                           config=config, max_jets=args.max_jets, progress=not args.quiet)
    if args.estimator == "chi2":
        masses = ", ".join(f"{k} {m:.1f} ± {s:.1f}" for k, (m, s) in model.masses.items())
        print(f"chi2 masses (GeV, median ± half the central 68 %): {masses}")
    print(f"saved {args.out}")
    return 0


def run_assign(args: argparse.Namespace) -> int:
    from lfi.workflows.assignment import assign_file

    result = assign_file(args.data, args.model, args.out, prefix=args.prefix, as_globals=args.as_globals,
                         device=args.device)
    print(f"{result['events']} events, {100 * result['assigned']:.1f} % with every particle assigned; "
          f"added {', '.join(result['observables'])}")
    print(f"wrote {args.out}")
    return 0
