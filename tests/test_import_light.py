"""`import lfi` must stay light: no torch, Pythia, uproot (or other heavy packages) at import time."""

import subprocess
import sys

HEAVY = ("torch", "pythia8mc", "uproot", "fastjet", "lightgbm", "matplotlib", "h5py", "dask", "distributed")


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_import_lfi_loads_no_heavy_package():
    assert _loaded_after("import lfi") == []


def test_public_names_resolve_lazily():
    assert _loaded_after("import lfi; lfi.Morpher; lfi.EventSample") == []  # h5py loads on the first read or write


def test_import_simulators_and_estimators_packages_is_light():
    assert _loaded_after("import simulators, estimators") == []


def test_single_machine_paths_import_no_cluster_package():
    """Dask is an optional extra: sharded generation, training and streaming import it only for a --scheduler."""
    loaded = _loaded_after("import lfi.workflows.sharded, lfi.train.trainer, lfi.augment.streaming, "
                           "lfi.evaluate_streaming, lfi.cli.simulate, lfi.cli.train")
    assert "dask" not in loaded and "distributed" not in loaded


def test_dir_lists_public_api():
    import lfi

    assert {"EventSample", "Morpher", "events", "morphing", "augment"} <= set(dir(lfi))


def test_estimators_public_api_is_pinned_and_resolves():
    import estimators

    expected = {"build", "load", "Estimator", "ENCODERS", "PERMUTATION_INVARIANT", "build_encoder", "encoder_class",
                "encoder_options", "parse_options", "ObjectEncoder", "InputScaler", "HEADS", "BDTEstimator",
                "train", "estimator_class", "estimator_names", "FAMILIES", "NuisanceRatio"}
    assert set(dir(estimators)) == expected
    for name in expected:
        assert getattr(estimators, name) is not None
