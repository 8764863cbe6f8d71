"""``lfi report`` and what it is made of: profiled 1-D intervals, contour lines and HEPData tables against
analytic maps; the report files from real ``lfi limits`` and ``lfi classify`` outputs; labels; errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfi.errors import OptionError
from lfi.limits import contour_lines, hepdata_table, profile_intervals, q_threshold
from lfi.report import map_label, map_labels, parameter_label

AX = np.linspace(-4.0, 4.0, 401)


def test_profiled_intervals_of_a_gaussian_map():
    # q = (a/0.5)² + (b/1.5)² + ρ-free: profiling over the other parameter leaves (x/σ)², so the 68.27 % interval is
    # ±σ·√q₁(68.27 %) = ±σ and the 95.45 % one ±2σ (Wilks, 1 d.o.f.)
    q = (AX[:, None] / 0.5) ** 2 + (AX[None, :] / 1.5) ** 2
    out = profile_intervals(q, [AX, AX], ["a", "b"])
    for name, sigma in (("a", 0.5), ("b", 1.5)):
        for level, n_sigma in (("68.27", 1.0), ("95.45", 2.0)):
            (interval,) = out[name][level]
            assert interval["low"] == pytest.approx(-n_sigma * sigma, abs=2e-3)
            assert interval["high"] == pytest.approx(n_sigma * sigma, abs=2e-3)
            assert not interval["open_low"] and not interval["open_high"]


def test_correlated_map_is_profiled_not_sliced():
    # q = x^T C^-1 x with correlation: the profile of a is a²/C_aa (marginal width), wider than the slice at b = 0
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    inv = np.linalg.inv(cov)
    a, b = np.meshgrid(AX, AX, indexing="ij")
    q = inv[0, 0] * a**2 + 2 * inv[0, 1] * a * b + inv[1, 1] * b**2
    (interval,) = profile_intervals(q, [AX, AX], ["a", "b"])["a"]["68.27"]
    assert interval["high"] == pytest.approx(1.0, abs=3e-3)


def test_two_disjoint_intervals_and_open_edges():
    x = np.linspace(-2.0, 2.0, 401)
    q = 10 * (x**2 - 1.0) ** 2  # minima at ±1
    out = profile_intervals(q, [x], ["x"])
    assert len(out["x"]["68.27"]) == 2
    wide = profile_intervals(0.01 * x**2, [x], ["x"])["x"]["95.45"][0]
    assert wide["open_low"] and wide["open_high"] and wide["low"] == -2.0


def test_contour_lines_of_a_circle():
    q = AX[:, None] ** 2 + AX[None, :] ** 2
    level = float(q_threshold(0.6827, 2))
    (line,) = contour_lines(q, [AX, AX], level)
    radius = np.hypot(line[:, 0], line[:, 1])
    assert np.allclose(radius, np.sqrt(level), atol=2e-3)


def test_hepdata_table_round_trips():
    yaml = pytest.importorskip("yaml")
    axes = [np.array([-1.0, 0.0, 1.0]), np.array([0.0, 2.0])]
    q = np.arange(6.0).reshape(3, 2)
    q[0, 0] = np.nan
    table = yaml.safe_load(hepdata_table(q, axes, ["f_W", "f_WW"], "TeV^-2", description="test"))
    fw = [v["value"] for v in table["independent_variables"][0]["values"]]
    fww = [v["value"] for v in table["independent_variables"][1]["values"]]
    values = [v["value"] for v in table["dependent_variables"][0]["values"]]
    assert fw == [-1, -1, 0, 0, 1, 1] and fww == [0, 2, 0, 2, 0, 2]
    assert values[0] == "-" and values[1:] == [1, 2, 3, 4, 5]
    assert table["independent_variables"][0]["header"] == {"name": "f_W", "units": "TeV^-2"}


def test_labels_a_reader_understands():
    assert parameter_label("f_WW", "TeV^-2") == r"$f_{WW}/\Lambda^2$ [TeV$^{-2}$]"
    assert map_label("truth") == "exact likelihood"
    assert map_label("histogram_pt_j1_delta_phi_jj", {"observables": ["pt_j1", "delta_phi_jj"]}) == \
        "2-D histogram (pt_j1, delta_phi_jj)"
    assert map_label("alices_m1", {"model": {"method": "alices", "estimator": "part"}}) == "ALICES (ParT)"
    assert map_label("alices_m1", {"model": {"method": "alices", "estimator": "mlp", "members": 5}}) == \
        "ALICES (MLP, ensemble of 5)"
    assert map_label("nde_f", {"model": {"method": "nde", "estimator": "flow"}}) == "NDE (flow)"


def test_two_trainings_of_one_method_and_estimator_get_distinct_labels():
    """Before: the CUDA- and CPU-trained ParT of the GPU check were both "ALICES (ParT)" in one legend."""
    part = {"model": {"method": "alices", "estimator": "part"}}
    labels = map_labels({"truth": None, "alices_part_sm_cuda": part, "alices_part_sm_cpu": part,
                         "sally_m": {"model": {"method": "sally", "estimator": "part"}}})
    assert labels == {"truth": "exact likelihood", "alices_part_sm_cuda": "ALICES (ParT) [alices_part_sm_cuda]",
                      "alices_part_sm_cpu": "ALICES (ParT) [alices_part_sm_cpu]", "sally_m": "SALLY local (ParT)"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A real lfi limits output on the toy (exact likelihood and a histogram) and a real lfi classify output."""
    import simulators
    from lfi.train import TrainConfig
    from lfi.workflows import classify, expected_limits, write_limits

    folder = tmp_path_factory.mktemp("report")
    test = simulators.get("toy").simulate(20000, seed=3).save(folder / "test.h5")
    limits_dir = folder / "limits"
    write_limits(expected_limits(test, histograms=[["delta_phi_jj"]], truth=True, lumi=20,
                                 grid="-1:1:41,-1:1:41"), limits_dir)
    from tests.test_classify import _sample  # the synthetic two-process files of the classify tests

    sig = _sample("sig", 200, 1, 2.0, 0.5).save(folder / "sig.h5")
    bkg = _sample("bkg", 200, 2, 1.0, 3.0).save(folder / "bkg.h5")
    classify_dir = folder / "classify"
    classify([sig, bkg], "mlp", classify_dir, seeds=2, config=TrainConfig(epochs=1, batch_size=64), progress=False,
             figure=False)
    return limits_dir, classify_dir


def test_report_files_and_numbers(results, tmp_path):
    from lfi.workflows import make_report

    limits_dir, classify_dir = results
    written = make_report([limits_dir, classify_dir], tmp_path / "rep")
    names = {p.name for p in written}
    assert {"report.png", "report.pdf", "report.md", "limits_export.json", "qmap_limits_truth.yaml",
            "qmap_limits_histogram_delta_phi_jj.yaml"} <= names
    markdown = (tmp_path / "rep" / "report.md").read_text()
    assert "| exact likelihood |" in markdown and "1-D histogram (delta_phi_jj)" in markdown and "| mlp |" in markdown
    summary = json.loads((limits_dir / "limits.json").read_text())
    export = json.loads((tmp_path / "rep" / "limits_export.json").read_text())
    truth = export["limits"][0]["maps"]["truth"]
    assert truth["areas"] == summary["maps"]["truth"]["areas"]
    q = np.load(limits_dir / "q_truth.npy")
    axes = [np.linspace(-1, 1, 41)] * 2
    assert truth["intervals_profiled"] == profile_intervals(q, axes, summary["parameters"])
    metrics = json.loads((classify_dir / "metrics.json").read_text())
    row = export["classification"][0]["rows"][0]
    assert row["auc"] == metrics["summary"]["auc"]


def test_cli_refuses_a_folder_that_is_no_result(tmp_path, capsys):
    from lfi.cli import main

    (tmp_path / "empty").mkdir()
    code = main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "rep")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "neither an lfi limits result" in err
    assert not (tmp_path / "rep").exists()
    with pytest.raises(OptionError, match="no such result directory"):
        from lfi.workflows import make_report

        make_report([tmp_path / "missing"], tmp_path / "rep")


def test_figures_take_more_maps_than_a_style_has_colours(tmp_path):
    """Eight or more maps (the parton-level configuration has eight) once exhausted the mplhep colour cycle."""
    from lfi.report import plot_contours, plot_report

    ax = np.linspace(-1, 1, 21)
    maps = {"truth": ax[:, None] ** 2 + ax[None, :] ** 2}
    maps |= {f"histogram_x{k}": (1 + 0.1 * k) * maps["truth"] for k in range(12)}
    panel = {"maps": maps, "axes": [ax, ax], "parameters": ["f_W", "f_WW"], "units": "TeV^-2"}
    written = plot_report(panel, None, tmp_path / "report.png")
    assert all(p.stat().st_size > 0 for p in written)
    assert plot_contours(maps, [ax, ax], tmp_path / "c.png").stat().st_size > 0
