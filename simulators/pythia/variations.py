"""Hard-process weight variations from Pythia's hard record: factorisation scale and PDF set (docs/generator.md §9).

Pythia has no scale or PDF variation weights for its internal hard processes (and the wheel has no LHAPDF), so
they are computed from what the record keeps of the hard process: the incoming parton ids, their momentum
fractions x1, x2, the factorisation scale Q²_F and the x·f values Pythia used. A variation's factor is

    μ_F × k:       x·f(id1, x1, k²Q²_F) · x·f(id2, x2, k²Q²_F) / (pdf1 · pdf2)
    another set:   x·f'(id1, x1, Q²_F) · x·f'(id2, x2, Q²_F) / (pdf1 · pdf2)

with the nominal set's own x·f (exactly Pythia's pdf1, pdf2, so k = 1 gives exactly 1) or that of a second, never
initialised Pythia instance with ``PDF:pSet`` set. The renormalisation scale does not enter a purely electroweak
hard process (WBF at leading order has no α_s), so it has no factor here. ISR and MPI keep the nominal PDF.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pdf_factors", "ALTERNATIVE_PDF_SET", "ALTERNATIVE_PDF_NAME"]

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
