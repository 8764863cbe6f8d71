"""Events per second and memory of every embedded detector-level generator against bare Pythia at the same
settings, and where the difference goes.

Usage: ``python bench/generators.py [--events N] [--processes wbf,ggf,zz,tth,ttbar] [--repeat R] [--out FILE]``

For each process, in one run and interleaved (R rounds of A, B, C, D so that drifts of a shared machine hit all
columns alike), each measurement in a fresh spawned process with one thread:

- A  bare Pythia: ``Pythia.next()`` N times, nothing read out;
- B  ``Pythia.nextBatch(250)`` (the awkward event record the pipeline reads);
- C  B + the reconstruction (clustering, b-tags, isolation, smearing);
- D  the whole pipeline (``simulators.get(name).simulate`` with one worker: generation in chunks, reconstruction,
     selection, weights, the EventSample) plus writing the HDF5 file.

Every column includes Pythia's initialisation (about 0.6 s per instance; A to C make one, the pipeline one per
chunk of events), so that the overhead is what a user waits for.

Columns: events per second of each (median over rounds), the pipeline's cost over bare Pythia (A/D − 1), the
selection efficiency, and the peak resident memory of D. Writes JSON (default ``bench/results/generators.json``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

PROCESSES = ("wbf", "ggf", "zz", "tth", "ttbar")


def _settings(name: str) -> tuple[list[str], str, dict]:
    """Pythia settings of the first decay configuration, the reconstruction and its options."""
    if name == "wbf":
        from simulators.wbf.generate import pythia_settings

        return pythia_settings("detector"), "prompt_four_leptons", {}
    import simulators

    process = simulators.get(name).PROCESS
    return list(process.configurations[0]), process.reconstruction, dict(process.detector)


def _measure(task: tuple[str, str, int]) -> dict:
    import torch

    torch.set_num_threads(1)
    name, mode, n = task
    from simulators.pythia.runner import make_pythia, silenced

    settings, reconstruction, options = _settings(name)
    start = time.perf_counter()
    if mode == "pipeline":
        import simulators

        sample = simulators.get(name).simulate(n, seed=3, **({"level": "detector"} if name == "wbf" else {}),
                                               progress=False)
        with tempfile.TemporaryDirectory() as tmp:
            sample.save(os.path.join(tmp, "events.h5"))
        (steps,) = sample.metadata["cutflow"].values()  # docs/event-format.md §2: weighted σ after every step
        efficiency = steps[-1]["sigma_pb"] / steps[0]["sigma_pb"]
        return {"rate": n / (time.perf_counter() - start), "efficiency": efficiency,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    import numpy as np

    pythia = make_pythia(settings, 3)
    rng = np.random.default_rng(0)
    with silenced():
        if mode == "bare":
            for _ in range(n):
                pythia.next()
        else:
            from simulators.processes.pipeline import RECONSTRUCTIONS, _function

            reconstruct = _function(RECONSTRUCTIONS[reconstruction])
            for done in range(0, n, 250):
                batch = pythia.nextBatch(min(250, n - done))
                if mode == "reconstruct":
                    reconstruct(batch.prt, rng, **options)
    return {"rate": n / (time.perf_counter() - start)}


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--processes", default=",".join(PROCESSES))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", default="bench/results/generators.json")
    args = parser.parse_args()
    modes = ("bare", "batch", "reconstruct", "pipeline")
    context = multiprocessing.get_context("spawn")
    rows = []
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread per measurement; "
          f"{args.events} events, median of {args.repeat} interleaved rounds")
    print(f"{'process':8s} {'bare next()':>12s} {'nextBatch':>10s} {'+reco':>9s} {'pipeline':>9s} {'overhead':>9s} "
          f"{'selected':>9s} {'RSS MB':>7s}")
    for name in args.processes.split(","):
        results = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in modes:
                with context.Pool(1) as pool:
                    results[mode].append(pool.apply(_measure, ((name, mode, args.events),)))
        rate = {m: float(np.median([r["rate"] for r in results[m]])) for m in modes}
        row = {"process": name, "events": args.events, "rates_per_s": rate,
               "overhead": rate["bare"] / rate["pipeline"] - 1,
               "selection_efficiency": results["pipeline"][0]["efficiency"],
               "max_rss_mb": max(r["max_rss_mb"] for r in results["pipeline"])}
        rows.append(row)
        print(f"{name:8s} {rate['bare']:12.1f} {rate['batch']:10.1f} {rate['reconstruct']:9.1f} {rate['pipeline']:9.1f} "
              f"{row['overhead']:+9.1%} {row['selection_efficiency']:9.3f} {row['max_rss_mb']:7.0f}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": {"cpu": platform.processor(), "cores": os.cpu_count(),
                                                      "python": platform.python_version()},
                                          "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
