"""``tth``: t t̄ H with H → b b̄, semi-leptonic (one W → e/μ ν), at 13 TeV (docs/generator.md §6)."""

from __future__ import annotations

from .pipeline import simulator_for
from .single_lepton import semileptonic_process

__all__ = ["PROCESS", "simulate"]

PROCESS = semileptonic_process(
    "tth", "ttbar H, H -> bbbar, semi-leptonic (l = e, mu)",
    ("Beams:eCM = 13000.", "HiggsSM:gg2Httbar = on", "HiggsSM:qqbar2Httbar = on", "25:m0 = 125.0",
     "25:onMode = off", "25:onIfMatch = 5 -5"),
)
simulate = simulator_for(PROCESS)
