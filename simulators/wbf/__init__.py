"""Weak-boson-fusion H → ZZ* → 4ℓ at 13 TeV with the dimension-six operators O_W and O_WW (MadMiner's
reference problem, arXiv:1805.00020), generated on this machine: Pythia 8 SM events reweighted by our own
EFT matrix element to any (f_W, f_WW) in TeV⁻².

Modules: ``matrix_element`` (helicity amplitudes), ``generate`` (Pythia settings and chunks), ``reweight``
(per-event θ-polynomials), ``truth`` (exact parton-level likelihood), ``observables``, ``detector_level``,
``simulate`` (the pipeline). Pythia and fastjet are imported only when events are generated.
"""

from .simulate import DEFAULT_RANGE, simulate

__all__ = ["simulate", "DEFAULT_RANGE"]
