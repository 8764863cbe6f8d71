"""MadMiner v0.9 HDF5 files ↔ EventSample: the layout and what import and export share.

The MadMiner layout (read from MadMiner's public ``madminer/utils/interfaces/hdf5.py``; summary in
``docs/event-format.md`` §8) holds datasets only, strings as fixed-length ``S256`` ASCII:

=====================================  ==================  =============================================
dataset                                shape               meaning
=====================================  ==================  =============================================
parameters/names, lha_blocks,          (D,)                parameter names and MadGraph card entries
  lha_ids, max_power, transforms
parameters/val_ranges                  (D, 2)              parameter ranges
benchmarks/names, values               (B,), (B, D)        parameter points
benchmarks/is_nuisance, is_reference   (B,) int            optional flags
morphing/components                    (C, D) int          monomial exponents
morphing/morphing_matrix               (C, B') float       w_b(θ) = Σ_c M[c,b] Π_p θ_p^{comp[c,p]}, B' ≤ B
observables/names, definitions         (O,)                observable names and expressions
samples/observations                   (N, O) f8           observables per event
samples/weights                        (N, B) f8           weight in pb at every benchmark
samples/sampling_benchmarks            (N,) int            generation benchmark, −1 = background
sample_summary/signal_events           (B,) int            events generated at each benchmark
sample_summary/background_events       () int              background events
=====================================  ==================  =============================================

MadMiner keeps observables, not object lists. The export therefore writes lfi's observables, its
globals and (by default) the object four-momenta and types as extra observable columns whose
definitions are Python string literals starting with ``lfi:`` (``'lfi:object 0 px'`` …; MadMiner
evaluates every definition, and a literal evaluates harmlessly); the import turns such columns back into
objects, so lfi → MadMiner → lfi loses nothing. A MadMiner file without them imports with
``NO_OBJECT_SLOTS`` empty object slots and metadata ``{"objects": false}``: histogram and MLP
estimators use its observables; estimators that need object lists refuse it. lfi's units, process
ids and names, and metadata travel in an extra group ``/lfi`` that MadMiner ignores (process ids are
truth, not observables, so they stay out of ``samples/observations``).

Weights: lfi's weights sum to the cross section over the whole sample, whatever benchmark each
event was generated at (``sampled_from``). MadMiner normalises each sample generated at benchmark b
on its own and combines the samples with factors N_b / N_signal (``sample_summary``; background,
−1, with factor 1), or uses only the sample closest to θ. Hence:

- export: a sample generated at one benchmark keeps its ids and weights (factor 1 either way); a
  sample imported from MadMiner gets its per-sample weights back (divided by N_b / N_signal); any
  other sample mixing several generation benchmarks is written with every event as −1, so MadMiner
  uses all events with exactly lfi's weights in every mode (the ids are kept in ``/lfi/sampled_from``);
- import: MadMiner's weights are multiplied by N_b / N_signal, which is what MadMiner itself does
  when it uses all events.

Per-event and sample-level truth (``/truth``) is not exported.

The morphing matrix relates to lfi's :class:`lfi.morphing.Morpher` as M[:, basis] = A⁻¹ with
A_bc = Π_p θ_{b,p}^{comp[c,p]} over the basis benchmarks, and M[:, b] = 0 for the others.

The export is :mod:`simulators.io.madminer_export`, the import :mod:`simulators.io.madminer_import`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FOUR_MOMENTUM_NAMES", "BLOCK_EVENTS", "morphing_matrix"]

#: Names of the four-momentum components in the exported object columns.
FOUR_MOMENTUM_NAMES = ("E", "px", "py", "pz")
#: Events per read/write block.
BLOCK_EVENTS = 65536


def morphing_matrix(components: np.ndarray, basis_theta: np.ndarray, basis: np.ndarray, n_benchmarks: int) -> np.ndarray:
    """MadMiner's morphing matrix for lfi's morphing setup.

    Parameters
    ----------
    components : ndarray, shape (C, D), int
    basis_theta : ndarray, shape (C, D)
        Parameter values of the basis benchmarks.
    basis : ndarray, shape (C,), int
        Indices of the basis benchmarks among all B benchmarks.
    n_benchmarks : int
        B.

    Returns
    -------
    ndarray, shape (C, B)
        M with w_b(θ) = Σ_c M[c, b] α_c(θ); columns of non-basis benchmarks are zero.
    """
    from lfi.morphing import Morpher

    matrix = np.zeros((len(components), n_benchmarks))
    matrix[:, basis] = Morpher(components, basis_theta).inverse
    return matrix
