"""Chunked Delphes import on a large file: wall time and peak memory (RSS) per chunk size.

Writes a Delphes-like ROOT file with uproot (default 1 M events: Jet, Electron, Muon, Photon,
MissingET, Event.Weight, Weight.Weight, plus an unread ``Tower`` collection that stands in for the
many branches of a real Delphes file), then runs ``lfi import delphes`` in a fresh process for each
chunk size and reads that process's peak resident memory from ``getrusage``.

    python bench/io_delphes.py [--events 1000000] [--chunks 10000 100000 1000000] [--workdir DIR]

Prints a table and writes ``bench/results/io_delphes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from lfi.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
elapsed = time.perf_counter() - start
print(json.dumps({"exit": code, "seconds": elapsed, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_delphes_like(path: Path, n_events: int, seed: int = 0, tower_per_event: float = 60.0, step: int = 100_000) -> float:
    """Write ``n_events`` Delphes-like events in steps; returns seconds taken."""
    import awkward as ak
    import uproot

    rng = np.random.default_rng(seed)
    start = time.perf_counter()

    def jagged(counts, low, high, dtype=np.float32):
        return ak.unflatten(rng.uniform(low, high, counts.sum()).astype(dtype), counts)

    with uproot.recreate(path) as f:
        for lo in range(0, n_events, step):
            m = min(step, n_events - lo)
            one = np.ones(m, dtype=np.int64)
            arrays = {}
            for kind, mean in (("Jet", 4.0), ("Electron", 1.0), ("Muon", 1.0), ("Photon", 0.5)):
                c = rng.poisson(mean, m)
                arrays[f"{kind}.PT"] = jagged(c, 5.0, 300.0)
                arrays[f"{kind}.Eta"] = jagged(c, -4.5, 4.5)
                arrays[f"{kind}.Phi"] = jagged(c, -np.pi, np.pi)
                if kind == "Jet":
                    arrays["Jet.Mass"] = jagged(c, 0.0, 30.0)
                    arrays["Jet.BTag"] = ak.unflatten(rng.integers(0, 4, c.sum()).astype(np.uint32), c)
                if kind in ("Electron", "Muon"):
                    arrays[f"{kind}.Charge"] = ak.unflatten(rng.choice([-1, 1], c.sum()).astype(np.int32), c)
            arrays["MissingET.MET"] = jagged(one, 0.0, 200.0)
            arrays["MissingET.Phi"] = jagged(one, -np.pi, np.pi)
            arrays["Event.Weight"] = jagged(one, 0.5e-6, 1.5e-6)
            arrays["Weight.Weight"] = jagged(one * 6, 0.5e-6, 1.5e-6)
            towers = rng.poisson(tower_per_event, m)
            arrays["Tower.ET"] = jagged(towers, 0.0, 50.0)
            arrays["Tower.Eta"] = jagged(towers, -5.0, 5.0)
            if lo == 0:
                f.mktree("Delphes", {k: v.type.content for k, v in arrays.items()}, counter_name=lambda b: b.split(".")[0] + "_size")
            f["Delphes"].extend(arrays)
    return time.perf_counter() - start


def run_import(source: Path, out: Path, chunk: int) -> dict:
    args = [
        "import", "delphes", str(source), "--out", str(out), "--quiet", "--chunk-size", str(chunk),
        "--benchmarks", "sm=0,0", "b1=1,0", "b2=0,1", "--weight-ids", "sm,b1,b2,x,y,z",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"import failed (chunk {chunk}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "results" / "io_delphes")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "io_delphes.json")
    parser.add_argument("--keep", action="store_true", help="keep the ROOT and HDF5 files")
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    source = args.workdir / f"delphes_{args.events}.root"
    write_seconds = None
    if not source.exists():
        write_seconds = write_delphes_like(source, args.events)
    rows = []
    for chunk in args.chunks:
        out = args.workdir / f"imported_{chunk}.h5"
        result = run_import(source, out, chunk)
        from lfi.events import EventSample

        info = EventSample.read_info(out)
        rows.append(
            {
                "chunk_events": chunk,
                "seconds": round(result["seconds"], 2),
                "events_per_second": round(args.events / result["seconds"]),
                "peak_rss_mib": round(result["peak_rss_mib"], 1),
                "output_mib": round(out.stat().st_size / 2**20, 1),
                "object_slots": info["object_slots"],
            }
        )
        if not args.keep:
            out.unlink()
    report = {
        "benchmark": "lfi import delphes (chunked, uproot)",
        "events": args.events,
        "input_mib": round(source.stat().st_size / 2**20, 1),
        "input_write_seconds": None if write_seconds is None else round(write_seconds, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rows": rows,
    }
    if not args.keep:
        source.unlink()
    print(f"lfi import delphes: {args.events:,} events, input {report['input_mib']} MiB ROOT, {os.cpu_count()} CPUs")
    print(f"{'chunk':>10} {'time [s]':>9} {'events/s':>10} {'peak RSS [MiB]':>15} {'output [MiB]':>13} {'slots':>6}")
    for r in rows:
        print(
            f"{r['chunk_events']:>10,} {r['seconds']:>9.1f} {r['events_per_second']:>10,} "
            f"{r['peak_rss_mib']:>15.0f} {r['output_mib']:>13.1f} {r['object_slots']:>6}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
