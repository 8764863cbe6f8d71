"""Speed of expected-limit maps: morphing-aware head versus the plain parameterised head.

Both estimators share the same MLP encoder; only the head differs. The parameterised head feeds θ again for
every grid point (N·T head evaluations), the morphing-aware head evaluates its C component outputs once per
event and turns the whole grid into one matrix product. Side by side in one run on the same events
(default 100 k toy events): the morphing-aware head on the whole grid (default 101 × 101), the parameterised head
on the first ``--param-points`` grid points (its cost is exactly linear in the number of points, chunk
by chunk, so its full-grid time is extrapolated and labelled as such; the whole grid would take hours on
a 2-core CPU). The speed-up is the ratio of event·θ evaluations per second. Prints a table, writes JSON.

    python bench/limits.py [--events 100000] [--grid=-1:1:101,-1:1:101] [--out bench/results/limits.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path


import numpy as np
import torch

import estimators
import simulators.toy as toy
from lfi import limits
from lfi.evaluate import ratio_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--grid", default="-1:1:101,-1:1:101")
    parser.add_argument("--lumi", type=float, default=20.0)
    parser.add_argument("--param-points", type=int, default=512, help="grid points timed for the parameterised head")
    parser.add_argument("--out", default="bench/results/limits.json")
    args = parser.parse_args()

    sample = toy.simulate(args.events, seed=3, truth=False)
    axes = limits.grid_axes(args.grid)
    points = limits.grid_points(axes)
    encoder_config = {"n_objects": sample.momenta.shape[1], "n_globals": len(sample.global_names)}
    basis = sample.morphing_basis
    morphing = {"components": sample.morphing_components.tolist(), "basis": sample.benchmark_theta[basis].tolist(),
                "basis_sigma": sample.cross_sections[basis].tolist()}
    heads = {"amplitude_ratio": morphing, "morphing_ratio": morphing, "ratio": {"n_parameters": 2}}
    rows = {}
    for head, head_config in heads.items():
        torch.manual_seed(0)
        model = estimators.build("mlp", head, encoder_config=encoder_config, head_config=head_config)
        timed = points[: args.param_points] if head == "ratio" else points
        start = time.perf_counter()
        q = ratio_map(model, sample, timed, np.zeros(2), args.lumi)
        seconds = time.perf_counter() - start
        rate = len(timed) * len(sample) / seconds
        rows[head] = {"seconds_measured": seconds, "grid_points_measured": len(timed), "events": len(sample),
                      "event_points_per_s": rate, "full_grid_seconds": len(points) * len(sample) / rate,
                      "full_grid_extrapolated": len(timed) < len(points), "finite": bool(np.isfinite(q).all()),
                      "parameters": sum(p.numel() for p in model.parameters())}
    speedup = {head: rows[head]["event_points_per_s"] / rows["ratio"]["event_points_per_s"]
               for head in ("amplitude_ratio", "morphing_ratio")}
    print(f"{'head':<16}{'points timed':>13}{'seconds':>10}{'event·θ / s':>14}{'full grid [s]':>15}{'parameters':>12}")
    for head, r in rows.items():
        mark = " (extrapolated)" if r["full_grid_extrapolated"] else ""
        print(f"{head:<16}{r['grid_points_measured']:>13}{r['seconds_measured']:>10.2f}{r['event_points_per_s']:>14.3g}"
              f"{r['full_grid_seconds']:>15.1f}{r['parameters']:>12,}{mark}")
    for head, factor in speedup.items():
        print(f"{head} is {factor:.1f}× faster than the parameterised head "
              f"({len(points)} grid points × {len(sample):,} events)")
    result = {"machine": f"{platform.machine()} CPU, torch {torch.__version__}, {torch.get_num_threads()} threads",
              "args": vars(args), "heads": rows, "speedup": speedup}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
