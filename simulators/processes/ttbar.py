"""``ttbar``: t t̄, semi-leptonic (one W → e/μ ν), at 13 TeV; the background to ``tth`` (docs/generator.md §6)."""

from __future__ import annotations

from .pipeline import simulator_for
from .single_lepton import semileptonic_process

__all__ = ["PROCESS", "simulate"]

PROCESS = semileptonic_process("ttbar", "ttbar, semi-leptonic (l = e, mu)",
                               ("Beams:eCM = 13000.", "Top:gg2ttbar = on", "Top:qqbar2ttbar = on"))
simulate = simulator_for(PROCESS)
