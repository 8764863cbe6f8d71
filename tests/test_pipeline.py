"""``lfi run``: a whole pipeline from a TOML file, reuse of unchanged steps, reruns of changed ones, scans, and
config errors that name the file, the line and the key."""

from __future__ import annotations

import json
import textwrap

import pytest

from lfi.workflows.pipeline import run_pipeline
from lfi.workflows.run_config import ConfigError, read_config

PIPELINE = """
[run]
out = "out"

[samples.train]
simulator = "toy"
events = 4000
seed = 1

[samples.test]
simulator = "toy"
events = 3000
seed = 2

[samples.sig]
file = "sig.h5"

[samples.bkg]
file = "bkg.h5"

[train.alices]
data = "train"
estimator = "mlp"
method = "alices"
epochs = 1
options = { hidden = "16,16" }

[limits.main]
data = "test"
models = ["alices"]
histograms = [["delta_phi_jj"]]
truth = true
lumi = 20.0
grid = "-1:1:21,-1:1:21"

[classify.mlp]
data = ["sig", "bkg"]
estimator = "mlp"
epochs = 1
"""


@pytest.fixture()
def config(tmp_path):
    from tests.test_classify import _sample

    _sample("sig", 150, 1, 2.0, 0.5).save(tmp_path / "sig.h5")
    _sample("bkg", 150, 2, 1.0, 3.0).save(tmp_path / "bkg.h5")
    path = tmp_path / "pipeline.toml"
    path.write_text(PIPELINE)
    return path


def _mtimes(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and p.name != "steps.json"}


def test_run_reuse_and_partial_rerun(config, tmp_path):
    first = run_pipeline(config, progress=False)
    assert set(first.ran) == {"samples.train", "samples.test", "train.alices", "limits.main", "classify.mlp",
                              "report.report"}
    out = tmp_path / "out"
    assert (out / "report" / "report.png").is_file() and (out / "limits" / "main" / "limits.json").is_file()
    summary = json.loads((out / "limits" / "main" / "limits.json").read_text())
    assert {"truth", "histogram_delta_phi_jj", "alices_alices"} == set(summary["maps"])
    before = _mtimes(out)
    again = run_pipeline(config, progress=False)
    assert again.ran == [] and len(again.reused) == 8 and _mtimes(out) == before  # no work, nothing rewritten
    config.write_text(PIPELINE.replace("lumi = 20.0", "lumi = '0.04/fb'"))  # a typed luminosity: 40 pb⁻¹
    third = run_pipeline(config, progress=False)
    assert third.ran == ["limits.main", "report.report"]  # the model and the samples are reused
    assert json.loads((out / "limits" / "main" / "limits.json").read_text())["lumi_pb"] == 40.0
    config.write_text(PIPELINE)  # back to the first settings: their output was replaced, so it runs again
    fourth = run_pipeline(config, progress=False)
    assert fourth.ran == ["limits.main", "report.report"]
    assert json.loads((out / "limits" / "main" / "limits.json").read_text())["lumi_pb"] == 20.0


def test_scan_reuses_what_the_setting_does_not_reach(config, tmp_path):
    config.write_text(PIPELINE + '\n[scan]\nsetting = "limits.main.lumi"\nvalues = [10.0, 40.0]\nlabel = "L [pb^-1]"\n')
    said = []
    result = run_pipeline(config, progress=False, say=said.append)
    rows = json.loads((tmp_path / "out" / "scan.json").read_text())["rows"]
    assert [r["value"] for r in rows] == [10.0, 40.0] and len(result.scan) == 2
    # the Asimov q is linear in the luminosity: four times L, four times q at every grid point
    import numpy as np

    q10, q40 = (np.load(next((tmp_path / "out" / "scan").glob(f"{k:02d}_*")) / "limits" / "main" / "q_truth.npy")
                for k in (0, 1))
    assert np.allclose(q40, 4 * q10, rtol=1e-9, atol=1e-9)
    assert rows[1]["limits.main.truth.area_68"] < rows[0]["limits.main.truth.area_68"]
    assert (tmp_path / "out" / "scan.png").is_file() and (tmp_path / "out" / "scan.md").is_file()
    assert sum("train.alices: running" in line for line in said) == 1  # trained once for both points


CASES = [
    ("[run]\nout = 'o'\n[train.a]\ndata = 'x'\nestimator = 'mlp'\nmethod = 'alices'\n",
     r"pipeline.toml:4: train.a.data: no sample 'x'"),
    ("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\nevents = 'many'\n",
     r"pipeline.toml:5: samples.s.events: must be an integer, got 'many'"),
    ("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\nevents = 10\ncolour = 'red'\n",
     r"pipeline.toml:6: samples.s.colour: unknown key"),
    ("[run]\nout = 'o'\n[limit.s]\nlumi = 1\n", r"pipeline.toml:3: limit: unknown section"),
    ("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\n", r"pipeline.toml:3: samples.s: missing key 'events'"),
    ("[run\nout = 'o'\n", r"pipeline.toml: not valid TOML"),
    ("[samples.s]\nsimulator = 'toy'\nevents = 3\n", r"missing section \[run\]"),
    ("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\nevents = 10\n[limits.m]\ndata = 's'\ntruth = true\n"
     "lumi = '300 fb'\n", r"pipeline.toml:9: limits.m.lumi: cannot read '300 fb' as a luminosity"),
    ("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\nevents = 10\n[limits.m]\ndata = 's'\nlumi = 1\n"
     "normalisations = { wbf = 'five' }\n", r"pipeline.toml:9: limits.m.normalisations: wbf = 'five': give a relative"),
]


@pytest.mark.parametrize("text, message", CASES)
def test_config_errors_name_file_line_and_key(tmp_path, text, message):
    path = tmp_path / "pipeline.toml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError, match=message):
        read_config(path)


def test_cli_error_is_one_line_and_runs_nothing(tmp_path, capsys):
    from lfi.cli import main

    path = tmp_path / "pipeline.toml"
    path.write_text("[run]\nout = 'o'\n[samples.s]\nsimulator = 'toy'\nevents = -\n")
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid TOML" in err and not (tmp_path / "o").exists()


def test_shipped_configs_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "configs"
    names = sorted(p.name for p in folder.glob("*.toml"))
    assert names == ["demo.toml", "tth_classification.toml", "wbf_detector.toml", "wbf_parton.toml",
                     "wbf_parton_cluster.toml"]
    for path in folder.glob("*.toml"):
        read_config(path)


def test_demo_flags_maps_whose_region_excludes_the_true_point(tmp_path):
    """q_min below −q₆₈ (2.30) means the true point lies outside the map's own 68 % region."""
    from lfi.cli.run import _uncalibrated

    maps = {"truth": {"q_min": -0.01, "best_fit": [0.0, 0.0]},
            "alices_m": {"q_min": -8.3, "best_fit": [-2.7, -1.98], "model": {"method": "alices", "estimator": "mlp"}}}
    (tmp_path / "limits.json").write_text(json.dumps({"theta_true": [0.0, 0.0], "maps": maps}))
    (line,) = _uncalibrated({"limits.x": tmp_path, "classify.y": tmp_path / "none"})
    assert line.startswith("  ALICES (MLP): its best fit (-2.7, -1.98)") and "q_min = -8.3" in line


def test_limits_with_nuisances_profile_every_map(tmp_path):
    """[samples] nuisances = true stores WBF's variations; [limits] nuisances and normalisations profile them."""
    path = tmp_path / "pipeline.toml"
    path.write_text(textwrap.dedent("""
        [run]
        out = "out"
        [samples.test]
        simulator = "wbf"
        level = "parton"
        events = 1500
        nuisances = true
        [limits.main]
        data = "test"
        truth = true
        histograms = [["pt_j1"]]
        lumi = "117.6/fb"
        grid = "-16.5:16.5:9,-16.5:16.5:9"
        nuisances = ["all"]
        normalisations = { wbf = 0.05 }
    """))
    result = run_pipeline(path, progress=False)
    maps = json.loads((result.outputs["limits.main"] / "limits.json").read_text())["maps"]
    assert {"truth_profiled", "histogram_pt_j1_profiled"} <= set(maps)
    for name in ("truth", "histogram_pt_j1"):  # profiling can only widen a region
        assert maps[f"{name}_profiled"]["areas"]["68.27"] >= maps[name]["areas"]["68.27"]
