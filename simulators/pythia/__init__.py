"""The shared Pythia 8 layer: one runner (settings, seeds, silenced output, worker pool), final-state
selection, fastjet clustering, b-tagging and a simple Gaussian detector.

Modules import ``pythia8mc`` and ``fastjet`` only inside the functions that need them.
"""

from .runner import MAX_SEED, PythiaSettingsError, WorkerError, make_pythia, run_workers, silenced

__all__ = ["MAX_SEED", "PythiaSettingsError", "WorkerError", "make_pythia", "run_workers", "silenced"]
