"""``zz``: the qq̄ → ZZ*/γ* → 4ℓ continuum (ℓ = e, μ; m_ℓℓ > 12 GeV) at 13 TeV; a background to WBF in the
H → 4ℓ analysis (docs/generator.md §6)."""

from __future__ import annotations

from .four_lepton import FOUR_LEPTON_DECAYS, FOUR_LEPTON_SELECTION, assemble_four_lepton
from .pipeline import Process, simulator_for

__all__ = ["PROCESS", "simulate"]

PROCESS = Process(
    name="zz",
    description="qqbar -> ZZ*/gamma* -> 4l continuum (l = e, mu)",
    configurations=(("Beams:eCM = 13000.", "WeakDoubleBoson:ffbar2gmZgmZ = on", *FOUR_LEPTON_DECAYS),),
    reconstruction="prompt_four_leptons",
    assemble=assemble_four_lepton,
    selection=FOUR_LEPTON_SELECTION,
)
simulate = simulator_for(PROCESS)
