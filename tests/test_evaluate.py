"""Expected maps on the toy: truth zero at θ* and non-negative, contours shrink as 1/L, histograms lose
information, and the command line writes maps and a summary."""

import json

import numpy as np
import pytest

from lfi import limits
from lfi.cli import main
from lfi.evaluate import histogram_map, truth_map


@pytest.fixture(scope="module")
def grid():
    axes = limits.grid_axes("-1:1:41,-1:1:41")
    return axes, limits.grid_points(axes)


def test_truth_map_is_zero_at_the_true_point_and_non_negative(toy_sample, grid):
    axes, points = grid
    q = truth_map(toy_sample, points, np.zeros(2), lumi=50.0)
    centre = np.flatnonzero((points == 0).all(axis=1))[0]
    assert q[centre] == pytest.approx(0.0, abs=1e-9)
    assert q.min() > -0.05  # the expectation is a weighted sum over 2·10⁴ events: tiny fluctuations only
    theta_true = np.array([0.5, -0.25])
    q_off = truth_map(toy_sample, points, theta_true, lumi=50.0)
    assert limits.best_fit(q_off, axes) == pytest.approx(theta_true, abs=0.05)


def test_contour_area_scales_as_one_over_luminosity(toy_sample):
    axes = limits.grid_axes("-0.5:0.5:81,-0.5:0.5:81")
    points = limits.grid_points(axes)
    levels = [limits.q_threshold(0.6827)]
    small = limits.contour_areas(truth_map(toy_sample, points, np.zeros(2), lumi=400.0), axes, levels)[0]
    large = limits.contour_areas(truth_map(toy_sample, points, np.zeros(2), lumi=1600.0), axes, levels)[0]
    assert small / large == pytest.approx(4.0, rel=0.1)


def test_histograms_are_weaker_than_the_truth(toy_sample, grid):
    axes, points = grid
    level = [limits.q_threshold(0.9545)]
    truth = limits.contour_areas(truth_map(toy_sample, points, np.zeros(2), 50.0), axes, level)[0]
    for observables in (["pt_j1"], ["pt_j1", "delta_phi_jj"]):
        hist = limits.contour_areas(histogram_map(toy_sample, observables, points, np.zeros(2), 50.0), axes, level)[0]
        assert hist > 1.2 * truth, observables
    with pytest.raises(KeyError, match="no observable 'm_4l'"):
        histogram_map(toy_sample, ["m_4l"], points, np.zeros(2), 50.0)


def test_train_and_limits_from_the_command_line(tmp_path, capsys):
    data, test = tmp_path / "train.h5", tmp_path / "test.h5"
    assert main(["simulate", "toy", "--events", "3000", "--out", str(data), "--seed", "1"]) == 0
    assert main(["simulate", "toy", "--events", "3000", "--out", str(test), "--seed", "2"]) == 0
    model = tmp_path / "alices"
    assert main(["train", "--data", str(data), "--estimator", "mlp", "--method", "alices", "--out", str(model),
                 "--epochs", "1", "--option", "events_per_epoch=512", "--option", "head_hidden=32", "--option", "hidden=32", "--quiet"]) == 0
    sally = tmp_path / "sally"
    assert main(["train", "--data", str(data), "--estimator", "mlp", "--method", "sally", "--out", str(sally),
                 "--epochs", "1", "--option", "events_per_epoch=512", "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "limits"
    assert main(["limits", "--data", str(test), "--model", str(model), str(sally), "--histogram", "pt_j1,delta_phi_jj",
                 "--truth", "--lumi", "50", "--grid=-1:1:21,-1:1:21", "--out", str(out)]) == 0
    summary = json.loads((out / "limits.json").read_text())
    assert set(summary["maps"]) == {"truth", "histogram_pt_j1_delta_phi_jj", "alices_alices", "sally_sally"}
    for name, entry in summary["maps"].items():
        q, p = np.load(out / f"q_{name}.npy"), np.load(out / f"p_{name}.npy")
        assert q.shape == p.shape == (21, 21) and ((p >= 0) & (p <= 1)).all()
        assert p.flat[np.argmin(q)] == p.max()
        assert entry["q_thresholds"] == pytest.approx([2.30, 6.18, 11.83], abs=0.01)
        if name != "truth":
            assert "area_ratio" in entry["versus_truth"]
    assert "truth" in capsys.readouterr().out
    assert (out / "contours.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_limits_refuses_bad_requests(tmp_path, capsys):
    data = tmp_path / "t.h5"
    main(["simulate", "toy", "--events", "500", "--out", str(data)])
    assert main(["limits", "--data", str(data), "--lumi", "10", "--grid", "-1:1:5,-1:1:5", "--out", str(tmp_path)]) == 1
    assert "nothing to evaluate" in capsys.readouterr().err
    assert main(["limits", "--data", str(data), "--truth", "--lumi", "10", "--grid=-1:1:5", "--out", str(tmp_path)]) == 1
    assert "2 parameters" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--estimator", "mlp", "--method", "alice", "--out", str(tmp_path / "m"),
                 "--option", "depth=3", "--epochs", "1", "--quiet"]) == 1
    assert "unknown option" in capsys.readouterr().err
