"""``lfi limits --stream N``: the expected maps summed chunk by chunk equal the in-memory maps (truth, a ratio
estimator, SALLY, a histogram with fixed bins), on a file and on a sharded sample, while no read covers more than N
events."""

from __future__ import annotations

import numpy as np
import pytest

from lfi.errors import OptionError
from lfi.events import EventSample
from lfi.train import TrainConfig
from lfi.workflows import expected_limits, train_estimator
from lfi.workflows.sharded import simulate_sharded

GRID = "-1:1:9,-1:1:9"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import simulators.toy as toy

    folder = tmp_path_factory.mktemp("limits_stream")
    toy.simulate(3000, seed=21).save(folder / "train.h5")
    toy.simulate(2500, seed=22).save(folder / "test.h5")
    models = []
    for method in ("alices", "sally", "sallino"):
        train_estimator(folder / "train.h5", "mlp", method, folder / method, config=TrainConfig(epochs=1),
                        options={"events_per_epoch": "1024", "hidden": "16"}, progress=False)
        models.append(folder / method)
    return folder, models


def _maps(folder, models, **kwargs):
    return expected_limits(folder / "test.h5", models=models, histograms=[["pt_j1"]], truth=True,
                           lumi=20.0, grid=GRID, binning="reference", **kwargs).maps


def test_streamed_maps_equal_the_in_memory_maps(setup, monkeypatch):
    folder, models = setup
    loaded = _maps(folder, models[:2])
    reads = []
    load = EventSample.load.__func__
    monkeypatch.setattr(EventSample, "load", classmethod(lambda cls, path, events=None: reads.append(
        (str(path), events)) or load(cls, path, events)))
    streamed = _maps(folder, models[:2], stream=700)  # 4 chunks, the last one shorter
    monkeypatch.undo()
    assert set(streamed) == set(loaded) == {"truth", "histogram_pt_j1", "alices_alices", "sally_sally"}
    for name in loaded:
        np.testing.assert_allclose(streamed[name], loaded[name], rtol=1e-7, atol=1e-8, err_msg=name)
    data_reads = [events for path, events in reads if path.endswith("test.h5")]
    assert data_reads and all(e is not None and e.stop - e.start <= 700 for e in data_reads)


def test_a_sharded_sample_streams_across_its_shards(setup, tmp_path):
    folder, models = setup
    shards = simulate_sharded("toy", 2000, tmp_path / "shards", shards=3, seed=5)
    common = dict(models=models[:1], truth=True, lumi=20.0, grid=GRID)
    loaded = expected_limits(shards, **common).maps
    streamed = expected_limits(shards, stream=450, **common).maps
    for name in loaded:
        np.testing.assert_allclose(streamed[name], loaded[name], rtol=1e-7, atol=1e-8, err_msg=name)


def test_what_cannot_stream_is_one_clear_error(setup):
    folder, models = setup
    with pytest.raises(OptionError, match="SALLINO"):
        expected_limits(folder / "test.h5", models=[models[2]], lumi=20.0, grid=GRID, stream=500)
    with pytest.raises(OptionError, match="--observed"):
        expected_limits(folder / "test.h5", truth=True, lumi=20.0, grid=GRID, stream=500,
                        observed=folder / "test.h5")
