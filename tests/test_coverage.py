"""lfi coverage: toys under the true hypothesis cover at the nominal rate (toy model, exact likelihood), and the
report is complete and consistent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfi.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coverage")
    for name, events, seed in (("sample", 20_000, 21), ("source", 40_000, 22)):
        assert main(["simulate", "toy", "--events", str(events), "--seed", str(seed),
                     "--out", str(folder / f"{name}.h5")]) == 0
    return folder


def test_toys_cover_at_the_nominal_rate_and_the_report_is_consistent(files, capsys):
    out = files / "coverage"
    toys = 240
    assert main(["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                 "--histogram", "pt_j1", "--lumi", "100/pb", "--at", "0.2,-0.1", "--toys", str(toys), "--grid",
                 "-1:1:21,-1:1:21", "--out", str(out)]) == 0
    assert "covered 68.27 %" in capsys.readouterr().out
    result = json.loads((out / "coverage.json").read_text())
    (point,) = result["points"]
    assert point["theta"] == [0.2, -0.1]
    assert abs(point["mean_events"] - point["expected_events"]) < 4 * np.sqrt(point["expected_events"] / toys)
    truth = point["maps"]["truth"]
    for level, cl in (("68.27", 0.6827), ("95.45", 0.9545)):
        q = np.asarray(truth["q"])
        assert len(q) == toys and np.all(q >= 0)
        assert truth["covered"][level] == pytest.approx(np.mean(q <= result["wilks_thresholds"][level]))
        assert abs(truth["covered"][level] - cl) < 3 * np.sqrt(cl * (1 - cl) / toys)
        assert truth["neyman_critical_value"][level] == pytest.approx(np.quantile(q, cl))
    assert set(point["maps"]) == {"truth", "histogram_pt_j1"}
    assert result["labels"]["histogram_pt_j1"] == "1-D histogram (pt_j1)"
    assert (out / "coverage.png").stat().st_size > 0


def test_bad_requests_are_one_line(files, capsys):
    for extra, expected in ((["--toys", "0"], "--toys must be positive"), (["--at", "0.1"], "--at needs 2 values")):
        arguments = ["coverage", "--data", str(files / "sample.h5"), "--source", str(files / "source.h5"), "--truth",
                     "--lumi", "100/pb", "--out", str(files / "bad")]
        arguments += extra if "--at" in extra else ["--at", "0,0", *extra]
        assert main(arguments) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and expected in err
    assert not (files / "bad").exists()
