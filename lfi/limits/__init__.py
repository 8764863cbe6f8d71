"""Expected limits: Asimov −2Δlog L on a θ grid, Wilks p-values, CL contours (docs/statistics.md §2, §5–6).

Pure functions of arrays: no I/O, no torch, no global state. One module per job:

- :mod:`~lfi.limits.wilks` — ``q_threshold``, ``p_value`` (χ² with D d.o.f.), ``DEFAULT_CL``.
- :mod:`~lfi.limits.asimov` — ``asimov_q`` (ratio estimators), ``truth_q`` (exact ratio),
  ``expected_log_r`` + ``extended_asimov_q`` (the same in two steps, for θ-chunked evaluation).
- :mod:`~lfi.limits.histogram` — ``histogram_q`` (1-D/2-D histogram baselines), ``quantile_edges``,
  ``reference_edges``, ``bin_index``, ``bin_sums``, ``binned_asimov_q``.
- :mod:`~lfi.limits.score` — ``fisher_information`` (``fisher_from_moments`` from sums over chunks) + ``sally_q`` (SALLY, linearised), ``sallino_q``.
- :mod:`~lfi.limits.grid` — ``parse_grid``, ``grid_axes``, ``grid_points`` (C order, last parameter fastest).
- :mod:`~lfi.limits.contours` — ``contour_areas``, ``contour_is_open``, ``best_fit``, ``contour_summary``.
- :mod:`~lfi.limits.compare` — ``map_difference`` (area ratios, MSE over the 95 % region), ``log_r_mse``.
- :mod:`~lfi.limits.intervals` — ``profile``, ``profile_intervals`` (1-D intervals, others profiled),
  ``contour_lines``, ``hepdata_table`` (exports).

Units throughout: cross sections and event weights in pb, luminosity in pb⁻¹ (1 fb⁻¹ = 1000 pb⁻¹).
"""

from __future__ import annotations

from lfi.limits.asimov import asimov_q, expected_log_r, extended_asimov_q, truth_q
from lfi.limits.compare import log_r_mse, map_difference
from lfi.limits.contours import best_fit, contour_areas, contour_is_open, contour_summary
from lfi.limits.grid import grid_axes, grid_points, parse_grid
from lfi.limits.intervals import contour_lines, hepdata_table, profile, profile_intervals
from lfi.limits.histogram import (
    DEFAULT_N_BINS,
    REFERENCE_EDGES,
    bin_index,
    bin_sums,
    binned_asimov_q,
    histogram_q,
    quantile_edges,
    reference_edges,
)
from lfi.limits.score import fisher_from_moments, fisher_information, sallino_q, sally_q
from lfi.limits.wilks import DEFAULT_CL, p_value, q_threshold

__all__ = [
    # Wilks
    "DEFAULT_CL",
    "q_threshold",
    "p_value",
    # Asimov (ratio estimators, truth)
    "asimov_q",
    "truth_q",
    "expected_log_r",
    "extended_asimov_q",
    # histograms
    "histogram_q",
    "binned_asimov_q",
    "quantile_edges",
    "reference_edges",
    "bin_index",
    "bin_sums",
    "DEFAULT_N_BINS",
    "REFERENCE_EDGES",
    # score
    "fisher_information",
    "fisher_from_moments",
    "sally_q",
    "sallino_q",
    # intervals and exports
    "profile",
    "profile_intervals",
    "contour_lines",
    "hepdata_table",
    # grid and contours
    "parse_grid",
    "grid_axes",
    "grid_points",
    "contour_areas",
    "contour_is_open",
    "best_fit",
    "contour_summary",
    # comparison with the exact result
    "map_difference",
    "log_r_mse",
]


def __dir__() -> list[str]:
    return sorted(__all__)
