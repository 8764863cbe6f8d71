"""``ggf``: gluon-fusion H → ZZ* → 4ℓ (ℓ = e, μ) at 13 TeV, jets from the parton shower; a background to WBF
in the H → 4ℓ analysis (docs/generator.md §6)."""

from __future__ import annotations

from .four_lepton import FOUR_LEPTON_DECAYS, FOUR_LEPTON_SELECTION, assemble_four_lepton
from .pipeline import Process, simulator_for

__all__ = ["PROCESS", "simulate"]

PROCESS = Process(
    name="ggf",
    description="gluon-fusion H -> ZZ* -> 4l (l = e, mu)",
    configurations=((
        "Beams:eCM = 13000.", "HiggsSM:gg2H = on", "25:m0 = 125.0", "25:onMode = off", "25:onIfMatch = 23 23",
        *FOUR_LEPTON_DECAYS,
    ),),
    reconstruction="prompt_four_leptons",
    assemble=assemble_four_lepton,
    selection=FOUR_LEPTON_SELECTION,
)
simulate = simulator_for(PROCESS)
