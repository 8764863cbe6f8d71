"""EventSample I/O: file size, write and read speed for a large toy sample (default 1 M events).

    python bench/event_io.py [--events 1000000] [--out bench/results/event_io.json]

Prints a table (one row per HDF5 compression setting) and writes JSON. Also reports the toy's morphing
condition number and simulation time.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path


import simulators.toy as toy
from lfi.events import EventSample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", default="bench/results/event_io.json")
    args = parser.parse_args()
    start = time.perf_counter()
    sample = toy.simulate(args.events, seed=4)
    simulate_s = time.perf_counter() - start
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for compression in (None, "lzf", "gzip"):
            path = Path(tmp) / f"toy_{compression}.h5"
            start = time.perf_counter()
            sample.save(path, compression=compression)
            write_s = time.perf_counter() - start
            start = time.perf_counter()
            back = EventSample.load(path)
            read_s = time.perf_counter() - start
            start = time.perf_counter()
            EventSample.load(path, events=slice(0, 10_000))
            slice_s = time.perf_counter() - start
            assert len(back) == len(sample)
            rows.append({"compression": str(compression), "size_MB": path.stat().st_size / 1e6, "write_s": write_s,
                         "read_s": read_s, "read_10k_slice_s": slice_s,
                         "write_events_per_s": len(sample) / write_s, "read_events_per_s": len(sample) / read_s})
    morpher = sample.morpher()
    print(f"simulated {len(sample):,} toy events in {simulate_s:.1f} s; morphing condition number "
          f"{morpher.condition_number:.3g}, max Σw² on [-1,1]² {morpher.max_squared_weight_sum([-1, -1], [1, 1]):.3g}")
    print(f"{'compression':<12}{'size MB':>9}{'write s':>9}{'read s':>8}{'10k slice s':>12}{'write ev/s':>12}{'read ev/s':>12}")
    for r in rows:
        print(f"{r['compression']:<12}{r['size_MB']:>9.1f}{r['write_s']:>9.2f}{r['read_s']:>8.2f}{r['read_10k_slice_s']:>12.3f}"
              f"{r['write_events_per_s']:>12.3g}{r['read_events_per_s']:>12.3g}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": f"{platform.machine()} CPU (2 cores, shared)", "events": len(sample),
                               "simulate_s": simulate_s, "condition_number": morpher.condition_number,
                               "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
