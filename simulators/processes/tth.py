"""``tth``: t t̄ H with H → b b̄, semi-leptonic (one W → e/μ ν), at 13 TeV (docs/generator.md §6)."""

from __future__ import annotations

from .pipeline import Process, simulator_for
from .single_lepton import SEMILEPTONIC_W_DECAYS, SINGLE_LEPTON_SELECTION, assemble_single_lepton

__all__ = ["PROCESS", "simulate"]

_PRODUCTION = ("Beams:eCM = 13000.", "HiggsSM:gg2Httbar = on", "HiggsSM:qqbar2Httbar = on", "25:m0 = 125.0",
               "25:onMode = off", "25:onIfMatch = 5 -5")

PROCESS = Process(
    name="tth",
    description="ttbar H, H -> bbbar, semi-leptonic (l = e, mu)",
    configurations=tuple(_PRODUCTION + w for w in SEMILEPTONIC_W_DECAYS),
    reconstruction="isolated",
    assemble=assemble_single_lepton,
    selection=SINGLE_LEPTON_SELECTION,
)
simulate = simulator_for(PROCESS)
