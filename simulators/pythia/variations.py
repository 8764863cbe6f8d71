"""Weight variations for systematic uncertainties (docs/generator.md §9): the factorisation scale and the PDF set
from Pythia's hard record, and the parton-shower scales from Pythia's own uncertainty bands.

Pythia has no scale or PDF variation weights for its internal hard processes (and the wheel has no LHAPDF), so
they are computed from what the record keeps of the hard process: the incoming parton ids, their momentum
fractions x1, x2, the factorisation scale Q²_F and the x·f values Pythia used. A variation's factor is

    μ_F × k:       x·f(id1, x1, k²Q²_F) · x·f(id2, x2, k²Q²_F) / (pdf1 · pdf2)
    another set:   x·f'(id1, x1, Q²_F) · x·f'(id2, x2, Q²_F) / (pdf1 · pdf2)

with the nominal set's own x·f (exactly Pythia's pdf1, pdf2, so k = 1 gives exactly 1) or that of a second, never
initialised Pythia instance with ``PDF:pSet`` set. The renormalisation scale does not enter a purely electroweak
hard process (WBF at leading order has no α_s), so it has no factor here. ISR and MPI keep the nominal PDF.

The shower variations are Pythia's ``UncertaintyBands``: with them on, every event carries a weight per variation
(the nominal weight is 1), computed along its own shower history, for the renormalisation scale of initial- and
final-state radiation (``isr:muRfac``, ``fsr:muRfac`` = ½ up, 2 down: more and less radiation). Switching them on
changes the sequence of random numbers, so a seed gives other events than without; the weights are positive for these
variations (Pythia's cNS variations, which can give negative weights, are not used) and have long tails (FSR up to
about 10). They depend on the shower history, not on the reconstructed event alone: at detector level a nuisance
ratio learned as a function of x (``lfi nuisance-train``) is the right model for them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pdf_factors", "ALTERNATIVE_PDF_SET", "ALTERNATIVE_PDF_NAME", "SHOWER_VARIATIONS", "shower_settings",
           "shower_factors"]

ALTERNATIVE_PDF_SET = "8"
ALTERNATIVE_PDF_NAME = "CTEQ6L1"
"""The second PDF set of the PDF nuisance: CTEQ6L1 (``PDF:pSet = 8``), a leading-order set shipped with Pythia; the
nominal is Pythia's default NNPDF2.3 QCD+QED LO. The wheel has central members only, so a PDF uncertainty here is a
set-to-set difference."""


def _pdf(pdf_set: str | None):
    from simulators.pythia.runner import silenced

    with silenced():
        import pythia8mc

        pythia = pythia8mc.Pythia("", False)
        if pdf_set is not None and not pythia.readString(f"PDF:pSet = {pdf_set}"):
            raise ValueError(f"Pythia rejected PDF:pSet = {pdf_set}")
        return pythia, pythia.getPDFPtr(2212)


def pdf_factors(ids: np.ndarray, x: np.ndarray, q2_fac: np.ndarray, xf: np.ndarray, *, scale: float = 1.0,
                pdf_set: str | None = None) -> np.ndarray:
    """Per-event factor of a factorisation-scale or PDF-set variation of the hard process.

    Parameters
    ----------
    ids : array_like of int, shape (N, 2)
        PDG ids of the two incoming partons.
    x : array_like, shape (N, 2)
        Their momentum fractions (Pythia's ``info.x1``, ``info.x2``).
    q2_fac : array_like, shape (N,)
        Factorisation scale Q²_F in GeV².
    xf : array_like, shape (N, 2)
        The x·f values Pythia used (``info.pdf1``, ``info.pdf2``).
    scale : float
        μ_F multiplier k (the PDFs are evaluated at k²Q²_F).
    pdf_set : str, optional
        A ``PDF:pSet`` value for another set (e.g. ``"8"``); default the nominal set.

    Returns
    -------
    ndarray, shape (N,)
        The weight ratio variation / nominal (> 0 where the PDFs are).
    """
    ids, x, xf = np.asarray(ids), np.asarray(x, dtype=np.float64), np.asarray(xf, dtype=np.float64)
    q2 = np.asarray(q2_fac, dtype=np.float64) * float(scale) ** 2
    _keep_alive, pdf = _pdf(pdf_set)
    varied = np.array([[pdf.xf(int(i), float(xi), float(q)) for i, xi in zip(row_ids, row_x)]
                       for row_ids, row_x, q in zip(ids, x, q2)]).reshape(len(q2), 2)
    return varied.prod(axis=1) / xf.prod(axis=1)


SHOWER_VARIATIONS: dict[str, tuple[str, str]] = {"isr": ("isr:muRfac=0.5", "isr:muRfac=2.0"),
                                                 "fsr": ("fsr:muRfac=0.5", "fsr:muRfac=2.0")}
"""Shower nuisances: name → (ν = +1, ν = −1) variation in ``UncertaintyBands:List`` syntax. The benchmarks are
``<name>_up`` and ``<name>_down``."""


def shower_settings() -> list[str]:
    """Pythia settings that switch on the weights of :data:`SHOWER_VARIATIONS`, one labelled group per variation."""
    groups = ", ".join(f"{name}_{side} {variation}" for name, pair in SHOWER_VARIATIONS.items()
                       for side, variation in zip(("up", "down"), pair))
    return ["UncertaintyBands:doVariations = on", f"UncertaintyBands:List = {{{groups}}}"]


def shower_factors(weights, names: list[str]) -> np.ndarray:
    """Per-event factors of the shower variations from a batch's weights.

    Parameters
    ----------
    weights : array_like, shape (N, W)
        ``info.weights`` of a ``nextBatch`` record; column 0 is the nominal weight.
    names : list of str, length W
        Pythia's weight names (``info.weightNameByIndex``), in which the groups of :func:`shower_settings` appear
        under their labels.

    Returns
    -------
    ndarray, shape (N, 2·V)
        variation / nominal for ``<name>_up``, ``<name>_down`` of every nuisance of :data:`SHOWER_VARIATIONS`.

    Raises
    ------
    RuntimeError
        If Pythia did not report one of the variations (the settings of :func:`shower_settings` were not used).
    """
    weights = np.asarray(weights, dtype=np.float64)
    labels = [f"{name}_{side}" for name in SHOWER_VARIATIONS for side in ("up", "down")]
    missing = [label for label in labels if label not in names]
    if missing:
        raise RuntimeError(f"Pythia reported no shower weight {missing[0]!r} (weights: {', '.join(names)})")
    return weights[:, [names.index(label) for label in labels]] / weights[:, :1]
