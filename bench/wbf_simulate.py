"""Events per second of the embedded WBF generator: bare Pythia vs the full pipeline, and K workers vs one.

Usage: ``python bench/wbf_simulate.py [--events N] [--parton-events M] [--workers K]``

Bare Pythia = ``Pythia.next()`` with the same settings and nothing read out. Full pipeline =
``simulators.wbf.simulate`` (event record → hard process, reweighting to 16 benchmarks, at detector level
clustering, b-tagging and smearing, at parton level the exact-likelihood truth) plus writing the HDF5 file.
Pythia's initialisation (~1 s per instance) is excluded from the bare rate and included in the pipeline's.
"""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile
import time


def bare_rate(level: str, n: int, seed: int = 1) -> float:
    from simulators.pythia.runner import make_pythia, silenced
    from simulators.wbf.generate import pythia_settings

    pythia = make_pythia(pythia_settings(level), seed)
    with silenced():
        start = time.perf_counter()
        for _ in range(n):
            pythia.next()
        elapsed = time.perf_counter() - start
    return n / elapsed


def pipeline_rate(level: str, n: int, workers: int, seed: int = 1, truth: bool = True) -> float:
    wbf = importlib.import_module("simulators.wbf.simulate")
    start = time.perf_counter()
    sample = wbf.simulate(n, seed=seed, level=level, workers=workers, truth=truth)
    with tempfile.TemporaryDirectory() as tmp:
        sample.save(os.path.join(tmp, "wbf.h5"))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="detector-level events")
    parser.add_argument("--parton-events", type=int, default=50_000, help="parton-level events")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    wbf = importlib.import_module("simulators.wbf.simulate")
    print(f"# {os.cpu_count()} cores; chunk sizes {wbf.CHUNK_EVENTS}")
    for level, n in (("parton", args.parton_events), ("detector", args.events)):
        bare = bare_rate(level, n)
        full = pipeline_rate(level, n, 1)
        line = f"{level:8s} bare Pythia {bare:9.1f} ev/s | pipeline 1 worker {full:9.1f} ev/s | overhead {bare / full - 1:+.1%}"
        if level == "parton":
            no_truth = pipeline_rate(level, n, 1, truth=False)
            line += f" | without truth {no_truth:9.1f} ev/s ({bare / no_truth - 1:+.1%})"
        if args.workers > 1:
            many = pipeline_rate(level, n, args.workers)
            line += f" | {args.workers} workers {many:9.1f} ev/s = {many / full:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
