"""How noisy are the stored nuisance templates of a histogram? Per variation, the spread over the bins of the
variation/nominal ratio from the stored per-event factors and from the learned factors f̂(x), beside the Monte Carlo
noise of the stored ratio in each bin (from the spread of the per-event factors).

Reads the test sample and the nuisance model of a ``bench/systematics.py --level detector`` run; prints a table and
writes ``templates.json`` and ``templates.md`` into that folder.

    python bench/nuisance_templates.py [--from results/systematics_wbf_detector] [--histogram pt_j1,delta_phi_jj]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from estimators.nuisance_ratio import NuisanceRatio
from lfi import limits
from lfi.evaluate import histogram_binning
from lfi.events import EventSample
from lfi.files import atomic_write_text


def template_rows(sample: EventSample, model: NuisanceRatio, observables: list[str]) -> dict[str, dict[str, float]]:
    """Per variation benchmark: the standard deviation over bins of Σ w·r / Σ w (stored factors r) and of
    Σ w·f̂ / Σ w (learned), the mean Monte Carlo error of the stored bin ratio, and the largest per-event factor."""
    w = sample.weights[:, 0]
    x, edges = histogram_binning(sample, observables, w)
    bins, n = limits.bin_index(x, edges)
    per_bin = np.bincount(bins, w, n)
    rows = {}
    for benchmark, log_f in model.log_factors(sample).items():
        r = sample.weights[:, sample.benchmark_index(benchmark)] / w
        stored = np.bincount(bins, w * r, n) / per_bin
        learned = np.bincount(bins, w * np.exp(log_f), n) / per_bin
        noise = np.sqrt(np.bincount(bins, (w * (r - stored[bins])) ** 2, n)) / per_bin
        rows[benchmark] = {"stored_spread": float(stored.std()), "learned_spread": float(learned.std()),
                           "stored_mc_error": float(noise.mean()), "largest_factor": float(r.max())}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", default="results/systematics_wbf_detector")
    parser.add_argument("--histogram", default="pt_j1,delta_phi_jj")
    args = parser.parse_args()
    source, observables = Path(args.source), args.histogram.split(",")
    sample = EventSample.load(source / "test.h5")
    rows = template_rows(sample, NuisanceRatio.load(source / "models" / "nuisance"), observables)
    lines = [f"{len(sample)} test events, the histogram ({', '.join(observables)}) in bins of equal SM weight; "
             "per variation, the standard deviation over the bins of the variation/nominal ratio:", "",
             "| variation | stored factors | learned factors | MC error of a stored bin | largest stored factor |",
             "|---|---|---|---|---|"]
    lines += [f"| {name} | {row['stored_spread']:.4f} | {row['learned_spread']:.4f} | {row['stored_mc_error']:.4f} | "
              f"{row['largest_factor']:.3g} |" for name, row in rows.items()]
    table = "\n".join(lines) + "\n"
    print(table)
    atomic_write_text(source / "templates.md", table)
    atomic_write_text(source / "templates.json", json.dumps({"histogram": observables, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
