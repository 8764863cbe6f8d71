"""Objects and selection of the H → 4ℓ analysis for the SM processes beside WBF (``ggf``, ``zz``).

The same objects, observables and selection as detector-level ``wbf`` (:mod:`simulators.wbf.detector_level`:
≥ 2 jets with p_T > 25 GeV and |η| < 4.5, all four prompt leptons inside the acceptance), so that the three files
combine into one classification.
"""

from __future__ import annotations

import numpy as np

from simulators.wbf.detector_level import detector_objects

__all__ = ["assemble_four_lepton", "FOUR_LEPTON_SELECTION", "FOUR_LEPTON_DECAYS"]

FOUR_LEPTON_SELECTION = "4 prompt e/mu inside the acceptance, >= 2 jets (pT > 25 GeV, |eta| < 4.5)"
FOUR_LEPTON_DECAYS = ("23:onMode = off", "23:onIfAny = 11 13", "23:mMin = 12.")
"""Z/γ* → e⁺e⁻ or μ⁺μ⁻ with m_ℓℓ > 12 GeV, as in ``wbf``."""


def assemble_four_lepton(objects: dict[str, np.ndarray]):
    """Event arrays and the selection from :func:`simulators.pythia.detector.reconstruct` output (see
    :func:`simulators.wbf.detector_level.detector_objects`)."""
    return detector_objects(objects)
