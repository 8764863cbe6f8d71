"""Workflows: whole jobs from files to files, built on the core (``lfi``), ``estimators`` and ``simulators``.

The command line (:mod:`lfi.cli`) only parses arguments and prints; everything it runs is here, callable
from Python and notebooks.

Public API
----------
train_estimator, training_setup      event file → trained, saved estimator (``lfi.workflows.train``)
expected_limits, write_limits,       test file + estimators → likelihood maps, contours, files
LimitsResult, format_table           (``lfi.workflows.limits``)
classify, ClassifyResult             event files → K trained classifiers, test metrics, ROC (``lfi.workflows.classification``)
make_report                          result directories → contours beside ROC, report.md, exports (``lfi.workflows.report``)
run_pipeline, read_config            a TOML pipeline or scan, unchanged steps reused (``lfi.workflows.pipeline``)
simulate_sharded, import_sharded     one simulation as independent shards, or input files imported one per shard,
                                     on a local pool or a Dask cluster (``lfi.workflows.sharded``)
train_assigner, assign_file,         jet–parton assignment: train the attention head or fit the χ² baseline,
assign_events, load_assigner         add the candidates' kinematics to an event file (``lfi.workflows.assignment``)
train_nuisance_ratio,                event file with nuisance variations → learned factors f̂(x) per variation, and
load_nuisance_ratio                  back (``lfi.workflows.nuisance_ratio``)
"""

from __future__ import annotations

from lfi._lazy import lazy_attributes

_LAZY = {
    "train_estimator": "lfi.workflows.train",
    "training_setup": "lfi.workflows.train",
    "default_head": "lfi.workflows.train",
    "expected_limits": "lfi.workflows.limits",
    "write_limits": "lfi.workflows.limits",
    "LimitsResult": "lfi.workflows.limits",
    "format_table": "lfi.workflows.limits",
    "classify": "lfi.workflows.classification",
    "ClassifyResult": "lfi.workflows.classification",
    "make_report": "lfi.workflows.report",
    "run_pipeline": "lfi.workflows.pipeline",
    "read_config": "lfi.workflows.run_config",
    "simulate_sharded": "lfi.workflows.sharded",
    "import_sharded": "lfi.workflows.sharded",
    "train_assigner": "lfi.workflows.assignment",
    "train_nuisance_ratio": "lfi.workflows.nuisance_ratio",
    "load_nuisance_ratio": "lfi.workflows.nuisance_ratio",
    "assign_file": "lfi.workflows.assignment",
    "assign_events": "lfi.workflows.assignment",
    "load_assigner": "lfi.workflows.assignment",
}

__all__ = sorted(_LAZY)
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
