"""``ttbar``: t t̄, semi-leptonic (one W → e/μ ν), at 13 TeV; the background to ``tth`` (docs/generator.md §6)."""

from __future__ import annotations

from .pipeline import Process, simulator_for
from .single_lepton import SEMILEPTONIC_W_DECAYS, SINGLE_LEPTON_SELECTION, assemble_single_lepton

__all__ = ["PROCESS", "simulate"]

_PRODUCTION = ("Beams:eCM = 13000.", "Top:gg2ttbar = on", "Top:qqbar2ttbar = on")

PROCESS = Process(
    name="ttbar",
    description="ttbar, semi-leptonic (l = e, mu)",
    configurations=tuple(_PRODUCTION + w for w in SEMILEPTONIC_W_DECAYS),
    reconstruction="isolated",
    assemble=assemble_single_lepton,
    selection=SINGLE_LEPTON_SELECTION,
)
simulate = simulator_for(PROCESS)
