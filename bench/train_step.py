"""Where a CPU training step of lfi goes, and its throughput side by side with another checkout (before/after a change).

Trains the MLP estimator a few short epochs per method on a toy sample at lfi's default batch size, under cProfile,
and splits the time of :func:`lfi.train.fit` into the data path (each epoch's event draws ∝ w(θ), one pass over
the training events per θ point, and the joint quantities r(x,z), t(x,z) per batch), the forward pass, the score's gradient (∂ log r̂/∂θ0, built with ``create_graph`` for ALICES, RASCAL,
CASCAL), the loss backward and the optimiser step. Training events/s is the median over the epochs after the first.
With ``--compare DIR`` the same measurement runs again on the lfi package of that checkout (a ``git worktree`` of
an older commit), in the same run, and the table gives the ratio.

    python bench/train_step.py [--methods alices,rascal,sally] [--events 40000] [--compare ../lfi-before]

Prints a table and writes ``OUT/train_step.json`` (default ``results/train_step``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from machine import cpu_name

#: cProfile entries (file suffix, function) → phase of the training step.
PHASES = {
    "data": ("lfi/augment/dataset.py", "__iter__"),
    "forward": ("estimators/estimator.py", "forward"),
    "score gradient": ("torch/autograd/__init__.py", "grad"),
    "backward": ("torch/_tensor.py", "backward"),
    "optimiser": ("torch/optim/adam.py", "step"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default="alices,rascal,sally")
    parser.add_argument("--events", type=int, default=40_000, help="training events per epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: lfi's TrainConfig default")
    parser.add_argument("--sample-events", type=int, default=200_000, help="toy events (80 %% train)")
    parser.add_argument("--compare", default=None, metavar="DIR", help="another lfi checkout to measure too")
    parser.add_argument("--out", default="results/train_step")
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)  # one checkout's result, for --compare
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "toy.h5"
        import simulators

        simulators.get("toy").simulate(args.sample_events, seed=1).save(data)
        result = {"this": _measure(args, data, Path(tmp))}
        if args.compare:
            result["compare"] = _measure_elsewhere(args, data, Path(args.compare))
    if args.json:  # the child of a --compare run
        Path(args.json).write_text(json.dumps(result["this"]))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.update(machine=f"{cpu_name()}, {torch.get_num_threads()} threads, no GPU", args=vars(args))
    table = _table(result)
    (out / "train_step.json").write_text(json.dumps(result, indent=2))
    (out / "table.md").write_text(f"Machine: {result['machine']}; toy sample of {args.sample_events} events, "
                                  f"{args.epochs} epochs of {args.events} events per method.\n\n{table}\n")
    print(table)


def _measure(args, data: Path, tmp: Path) -> dict:
    """Per method: events/s and the share of fit()'s time in each phase."""
    import lfi
    from lfi.train import TrainConfig
    from lfi.workflows import train_estimator

    rows = {"lfi": str(Path(lfi.__file__).parents[1])}
    for method in args.methods.split(","):
        config = TrainConfig(epochs=args.epochs, patience=args.epochs, device="cpu",
                             **({"batch_size": args.batch_size} if args.batch_size else {}))
        profile = cProfile.Profile()
        profile.enable()
        train_estimator(data, "mlp", method, tmp / f"{method}_{len(rows)}_{os.getpid()}", config=config,
                        options={"events_per_epoch": args.events}, progress=False)
        profile.disable()
        history = json.loads((tmp / f"{method}_{len(rows)}_{os.getpid()}" / "history.json").read_text())
        stats = pstats.Stats(profile).stats
        fit_seconds = _cumulative(stats, ("lfi/train/trainer.py", "fit"))
        rows[method] = {
            "events_per_s": float(np.median([h["events_per_s"] for h in history[1:]] or [history[0]["events_per_s"]])),
            "batch_size": config.batch_size,
            "fit_seconds": fit_seconds,
            "phases": {phase: _cumulative(stats, key) / fit_seconds for phase, key in PHASES.items()},
        }
    return rows


def _cumulative(stats: dict, key: tuple[str, str]) -> float:
    """Cumulative seconds of every profiled function matching (file suffix, name), outermost calls only."""
    suffix, name = key
    return sum(entry[3] for (file, _, function), entry in stats.items() if function == name and file.endswith(suffix))


def _measure_elsewhere(args, data: Path, checkout: Path) -> dict:
    """The same measurement with the lfi package of ``checkout`` first on the path."""
    out = data.parent / "compare.json"
    command = [sys.executable, __file__, "--methods", args.methods, "--events", str(args.events), "--epochs",
               str(args.epochs), "--sample-events", str(args.sample_events), "--json", str(out),
               *(["--batch-size", str(args.batch_size)] if args.batch_size else [])]
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    subprocess.run(command, check=True, env=env)
    return json.loads(out.read_text())


def _table(result: dict) -> str:
    compare = result.get("compare")
    head = "| method | events/s | data | forward | score gradient | backward | optimiser |"
    if compare:
        head += " events/s (compare) | ratio |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for method, row in result["this"].items():
        if method == "lfi":
            continue
        cells = [f"{row['events_per_s']:.0f}", *(f"{100 * row['phases'][p]:.0f} %" for p in PHASES)]
        if compare and method in compare:
            other = compare[method]["events_per_s"]
            cells += [f"{other:.0f}", f"{row['events_per_s'] / other:.2f}×"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"lfi measured: {result['this']['lfi']}" + (f"; compared with: {compare['lfi']}" if compare else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
