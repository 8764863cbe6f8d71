"""Scaling out on one machine: generation on the local process pool against a Dask LocalCluster, and training in one
process against two under torchrun (DistributedDataParallel, gloo), side by side in one run.

Generation: parton-level WBF (Pythia 8), ``--events`` in ``--shards`` shards, with 1 and 2 pool workers and on a
LocalCluster (loopback) of 1 and 2 single-threaded workers; events/s counts generated events over the wall time of
:func:`lfi.workflows.sharded.simulate_sharded` (the cluster's start-up is timed apart). The pool and the cluster must
write the same events for the same seed: the table says whether they did.

Training: each of ``--estimators`` (default the MLP and ParT) with ALICES on the toy, ``--epochs`` epochs of
``--events-per-epoch`` events (ParT: a quarter of them); one process with one CPU thread (batch 2B), one process with
two threads (batch 2B), and two torchrun processes with one thread each (batch B each: the same steps). Training
events/s is the median over the epochs after the first.

    python bench/scale.py [--events 8000] [--shards 8] [--out results/scale]

Streaming: a toy sample of ``--stream-events`` events (sharded, several times the memory the streaming run needs) is
trained on for one epoch with the file loaded and with ``--option stream=CHUNK``, and its exact-likelihood map is
computed by ``lfi limits`` loaded and with ``--stream CHUNK``; the table gives each run's peak resident memory beside
the file's size.

Prints a table and writes ``OUT/scale.json`` and ``OUT/table.md``. Run it alone: other work on the machine skews the
ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from machine import cpu_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=8000, help="generated WBF events per generation row")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--train-sample", type=int, default=40_000, help="toy events to train on")
    parser.add_argument("--events-per-epoch", type=int, default=32_768)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256, help="2B: the batch of one process")
    parser.add_argument("--estimators", default="mlp,part")
    parser.add_argument("--stream-events", type=int, default=6_000_000, help="toy events of the streaming file")
    parser.add_argument("--stream-chunk", type=int, default=100_000)
    parser.add_argument("--parts", default="generation,training,streaming",
                        help="which parts to measure; the others are kept from an earlier OUT/scale.json")
    parser.add_argument("--out", default="results/scale")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = {"generation": _generation, "training": _training, "streaming": _streaming}
    result = json.loads((out / "scale.json").read_text()) if (out / "scale.json").exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts.split(","):
            result[part] = {**parts[part](args, Path(tmp)), "args": vars(args)}
    result["machine"] = f"{cpu_name()}, {os.cpu_count()} CPU threads"
    (out / "scale.json").write_text(json.dumps(result, indent=2))
    table = _table(result)
    (out / "table.md").write_text(table + "\n")
    print(table)
    print(f"\nwrote {out / 'scale.json'} and {out / 'table.md'}")


def _generation(args, tmp: Path) -> dict:
    from distributed import LocalCluster

    from lfi.events import EventSample
    from lfi.workflows.sharded import simulate_sharded

    rows = {}
    common = dict(shards=args.shards, seed=7, options={"level": "parton"})
    for workers in (1, 2):
        start = time.perf_counter()
        simulate_sharded("wbf", args.events, tmp / f"pool{workers}", workers=workers, **common)
        rows[f"pool, {workers} worker(s)"] = {"seconds": time.perf_counter() - start}
    for workers in (1, 2):
        start = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            started = time.perf_counter() - start
            start = time.perf_counter()
            simulate_sharded("wbf", args.events, tmp / f"dask{workers}", scheduler=cluster.scheduler_address, **common)
            rows[f"Dask LocalCluster, {workers} worker(s)"] = {"seconds": time.perf_counter() - start,
                                                               "cluster_start_seconds": started}
    for row in rows.values():
        row["events_per_s"] = args.events / row["seconds"]
    a, b = EventSample.load(tmp / "pool2"), EventSample.load(tmp / "dask2")
    same = bool(np.array_equal(a.momenta, b.momenta) and np.array_equal(a.weights, b.weights))
    return {"rows": rows, "same_events_pool_and_dask": same, "kept_events": len(a)}


def _training(args, tmp: Path) -> dict:
    import simulators

    data = tmp / "toy.h5"
    simulators.get("toy").simulate(args.train_sample, seed=1).save(data)
    half = args.batch_size // 2
    setups = {"1 process, 1 thread": (1, 1, args.batch_size), "1 process, 2 threads": (1, 2, args.batch_size),
              "torchrun, 2 processes × 1 thread": (2, 1, half)}
    rows = {}
    for estimator in args.estimators.split(","):
        events = args.events_per_epoch if estimator == "mlp" else args.events_per_epoch // 4
        for setup, (processes, threads, batch) in setups.items():
            rows[f"{estimator}: {setup}"] = _train_row(data, tmp, estimator, events, args.epochs, processes, threads,
                                                       batch)
    return {"rows": rows}


def _train_row(data: Path, tmp: Path, estimator: str, events: int, epochs: int, processes: int, threads: int,
               batch: int) -> dict:
    """One training under the given launcher: wall time, median events/s after the first epoch, final loss."""
    out = tmp / f"{estimator}_{processes}x{threads}"
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes), "-m", "lfi"]
                if processes > 1 else [sys.executable, "-m", "lfi"])
    command = launcher + ["train", "--data", str(data), "--estimator", estimator, "--method", "alices", "--out",
                          str(out), "--epochs", str(epochs), "--patience", "100", "--batch-size", str(batch),
                          "--quiet", "--option", f"events_per_epoch={events}"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    history = json.loads((out / "history.json").read_text())
    return {"seconds": time.perf_counter() - start, "batch_per_process": batch, "events_per_epoch": events,
            "events_per_s": float(np.median([e["events_per_s"] for e in history[1:]])),
            "final_val_loss": history[-1]["val_loss"]}


def _streaming(args, tmp: Path) -> dict:
    """Peak resident memory of one training epoch with the file loaded and streamed."""
    from lfi.workflows.sharded import simulate_sharded

    data = simulate_sharded("toy", args.stream_events, tmp / "big", shards=max(1, args.stream_events // 100_000),
                            seed=3, workers=2)
    size = sum(p.stat().st_size for p in data.glob("shard_*.h5"))
    rows = {}
    runs = [("lfi train, file loaded", ["train"], []),
            (f"lfi train, stream={args.stream_chunk}", ["train"], ["--option", f"stream={args.stream_chunk}"]),
            ("lfi limits --truth, file loaded", ["limits"], []),
            (f"lfi limits --truth, --stream {args.stream_chunk}", ["limits"], ["--stream", str(args.stream_chunk)])]
    for name, (command,), extra in runs:
        out = tmp / f"stream_{len(rows)}"
        argv = (["train", "--data", str(data), "--estimator", "mlp", "--method", "sally", "--out", str(out), "--epochs",
                 "1", "--quiet", "--option", "events_per_epoch=50000"] if command == "train" else
                ["limits", "--data", str(data), "--truth", "--lumi", "20", "--grid", "-1:1:9,-1:1:9", "--out",
                 str(out)]) + extra
        probe = ("import resource, sys\nfrom lfi.cli import main\nrc = main(sys.argv[1:])\n"
                 "print('peak_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(rc)")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", probe, *argv], check=True, env=env, capture_output=True, text=True)
        peak = int(done.stdout.split("peak_kib")[-1].split()[0]) * 1024
        rows[name] = {"peak_rss_bytes": peak, "seconds": time.perf_counter() - start}
    return {"file_bytes": size, "events": args.stream_events, "rows": rows}


def _table(result: dict) -> str:
    gen, train = result["generation"]["rows"], result["training"]["rows"]
    gen_args = result["generation"].get("args", result.get("args"))
    train_args = result["training"].get("args", result.get("args"))
    base = gen["pool, 1 worker(s)"]["events_per_s"]
    lines = [f"Machine: {result['machine']}. Generation: {gen_args['events']} parton-level WBF events in "
             f"{gen_args['shards']} shards; pool and Dask wrote the same events: "
             f"{result['generation']['same_events_pool_and_dask']}.", "",
             "| generation | events/s | vs pool, 1 worker | cluster start-up [s] |", "|---|---|---|---|"]
    for name, row in gen.items():
        start = row.get("cluster_start_seconds")
        lines.append(f"| {name} | {row['events_per_s']:.0f} | {row['events_per_s'] / base:.2f} | "
                     f"{'–' if start is None else f'{start:.1f}'} |")
    lines += ["", f"Training: ALICES on {train_args['train_sample']} toy events, {train_args['epochs']} epochs, "
              f"batch {train_args['batch_size']} per step.", "",
              "| training | events per epoch | batch per process | events/s | vs 1 process, 1 thread | "
              "final validation loss |", "|---|---|---|---|---|---|"]
    for name, row in train.items():
        base = train[name.split(":")[0] + ": 1 process, 1 thread"]["events_per_s"]
        lines.append(f"| {name} | {row['events_per_epoch']} | {row['batch_per_process']} | {row['events_per_s']:.0f} | "
                     f"{row['events_per_s'] / base:.2f} | {row['final_val_loss']:.5g} |")
    stream = result["streaming"]
    lines += ["", f"Streaming: one SALLY epoch (50 000 events), and the exact-likelihood map on a 9 × 9 grid, on "
              f"{stream['events']} toy events in a {stream['file_bytes'] / 2**20:.0f} MiB sharded sample.", "",
              "| run | peak resident memory [MiB] | / file size | wall time [s] |", "|---|---|---|---|"]
    for name, row in stream["rows"].items():
        lines.append(f"| {name} | {row['peak_rss_bytes'] / 2**20:.0f} | {row['peak_rss_bytes'] / stream['file_bytes']:.2f} "
                     f"| {row['seconds']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
