"""Expected truth limits on (f_W, f_WW) from a parton-level WBF sample (docs/statistics.md §8: 36 expected SM events).

Usage: ``python bench/wbf_truth_limits.py [--events N] [--sample FILE] [--figure PNG] [--grid LOW,HIGH,N]``

Generates (or reads) a parton-level sample with ``simulators.wbf``, builds the exact log r(x|θ, SM) from the
per-event likelihood polynomials and σ(θ) from the morphed weights, and evaluates the Asimov q(θ) of
``lfi.limits.truth_q`` with θ* = SM and L = 36/σ_SM. Prints the 68 / 95 % contour extents.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample", help="read this parton-level file instead of generating")
    parser.add_argument("--save", help="write the generated sample here")
    parser.add_argument("--figure", help="write the contour plot here (PNG)")
    parser.add_argument("--grid", default="-20,20,81")
    parser.add_argument("--expected-events", type=float, default=36.0)
    args = parser.parse_args()

    from lfi.events import EventSample
    from lfi.limits import contour_summary, truth_q

    start = time.perf_counter()
    if args.sample:
        sample = EventSample.load(args.sample)
    else:
        import simulators

        sample = simulators.get("wbf").simulate(args.events, seed=2024, level="parton")
        if args.save:
            sample.save(args.save)
    print(f"# sample: {len(sample)} events, sigma_SM = {sample.cross_sections[0]:.4e} pb "
          f"({time.perf_counter() - start:.0f} s)")
    low, high, n = (float(x) for x in args.grid.split(","))
    axis = np.linspace(low, high, int(n))
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    sm = int(np.argmin(np.abs(grid).sum(axis=1)))
    mono = sample.morpher().monomials(grid)  # (T, 15)
    sigma = sample.truth["sigma_coefficients"] @ mono.T
    density = sample.truth_events["density_coefficients"] @ mono.T  # (N, T), θ-polynomial of dσ(x|θ)
    log_r = (np.log(density) - np.log(density[:, [sm]]) - np.log(sigma / sigma[sm])).T
    lumi = args.expected_events / sigma[sm]
    q = truth_q(log_r, sample.weights[:, 0], sigma, lumi, true_index=sm)
    summary = contour_summary(q.reshape(len(axis), len(axis)), [axis, axis])
    print("# q thresholds", [round(t, 2) for t in summary["q_thresholds"]], "areas [TeV^-4]", summary["areas"],
          "open", summary["open"])
    for level, name in zip(summary["q_thresholds"][:2], ("68%", "95%")):
        inside = grid[q <= level]
        print(f"{name}: f_W in [{inside[:, 0].min():+.2f}, {inside[:, 0].max():+.2f}], "
              f"f_WW in [{inside[:, 1].min():+.2f}, {inside[:, 1].max():+.2f}] TeV^-2 (grid step {axis[1] - axis[0]:.2f})")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 4.5))
        ax.contour(axis, axis, q.reshape(len(axis), len(axis)).T, levels=summary["q_thresholds"][:2],
                   colors=["C0", "C0"], linestyles=["-", "--"])
        ax.plot(0, 0, "k*")
        ax.set_xlabel(r"$f_W/\Lambda^2$ [TeV$^{-2}$]")
        ax.set_ylabel(r"$f_{WW}/\Lambda^2$ [TeV$^{-2}$]")
        ax.set_title(f"WBF H→4ℓ, parton-level truth, {args.expected_events:g} SM events")
        fig.tight_layout()
        fig.savefig(args.figure, dpi=120)
        print("# figure:", args.figure)


if __name__ == "__main__":
    main()
