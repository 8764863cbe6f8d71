"""Training batches streamed chunk by chunk (lfi.augment.streaming): the draw is the in-memory draw ∝ w_e(θ) over
the whole file, processes share the stream out batch by batch, and ``lfi train --option stream=N`` reads only chunks."""

from __future__ import annotations

import numpy as np
import pytest

import estimators
from lfi.augment import PointPrior
from lfi.augment.joint import JointQuantities
from lfi.augment.streaming import EventChunks, StreamingBatches
from lfi.errors import OptionError
from lfi.events import EventSample


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(600, 8)


def test_chunked_draws_follow_the_weights_of_the_whole_file(toy_file):
    """Each event is drawn with probability w_e(θ)/σ(θ) over all chunks (a chi-square over 600 events)."""
    sample = EventSample.load(toy_file)
    theta = np.array([0.5, -0.3])
    chunks = EventChunks(toy_file, [(0, 150), (150, 300), (300, 450), (450, 600)])
    batches = StreamingBatches(chunks, PointPrior(tuple(theta)), PointPrior((0.0, 0.0)), batch_size=1000,
                               n_events=300_000, only_theta0=True, seed=3)
    key = sample.momenta[:, 0, :].astype(np.float64) @ np.array([1.0, 1e3, 1e6, 1e9])
    assert len(np.unique(key)) == len(sample), "the first object's momentum identifies each event"
    index = {k: i for i, k in enumerate(key)}
    counts = np.zeros(len(sample))
    for batch in batches:
        drawn = batch["momenta"][:, 0, :].double().numpy() @ np.array([1.0, 1e3, 1e6, 1e9])
        np.add.at(counts, [index[k] for k in drawn], 1)
        np.testing.assert_array_equal(batch["theta0"].numpy(), np.tile(theta.astype(np.float32), (1000, 1)))
    assert counts.sum() == 300_000
    w = np.clip(JointQuantities(sample).weights(theta[None]).reshape(-1), 0, None)
    expected = counts.sum() * w / w.sum()
    seen = expected > 5
    chi2 = ((counts[seen] - expected[seen]) ** 2 / expected[seen]).sum()
    assert chi2 / seen.sum() < 1.3, chi2 / seen.sum()  # ≈ 1 ± 0.06 for a correct draw
    assert counts[~seen].sum() < 5 * max(expected[~seen].sum(), 1) + 10


def test_processes_share_the_stream_out_batch_by_batch(toy_file):
    chunks = EventChunks(toy_file, [(0, 200), (200, 400), (400, 600)])

    def draw(rank: int, world: int) -> list:
        batches = StreamingBatches(chunks, PointPrior((0.2, 0.1)), PointPrior((0.0, 0.0)), batch_size=64,
                                   n_events=1024, seed=5)
        batches.set_epoch(2)
        if world > 1:
            batches.set_rank(rank, world)
        return [b["log_r"].numpy() for b in batches]

    single, first, second = draw(0, 1), draw(0, 2), draw(1, 2)
    assert len(single) == 16 and len(first) == len(second) == 8
    for k, batch in enumerate(single):
        np.testing.assert_array_equal(batch, (first if k % 2 == 0 else second)[k // 2])


def test_the_split_covers_the_file_and_scales_cross_sections(toy_file):
    train, validation = EventChunks.split(toy_file, 600, 100, validation_fraction=0.25)
    covered = sorted(train.ranges + validation.ranges)
    assert covered == [(a, a + 100) for a in range(0, 600, 100)]
    assert validation.ranges == [(300, 400)]  # every 4th chunk
    full = EventSample.load(toy_file).weights.sum(axis=0)
    combined = (len(train) * train.cross_sections + len(validation) * validation.cross_sections) / 600
    np.testing.assert_allclose(combined, full, rtol=1e-12)
    with pytest.raises(OptionError, match="at least two"):
        EventChunks.split(toy_file, 600, 600, validation_fraction=0.2)


def test_lfi_train_streams_only_chunks(toy_file, tmp_path, monkeypatch):
    """With stream=N no read covers more than N events, and the model trains and loads."""
    from lfi.train import TrainConfig
    from lfi.workflows import train_estimator

    reads = []
    load = EventSample.load.__func__

    def recording(cls, path, events=None):
        reads.append(events)
        return load(cls, path, events)

    monkeypatch.setattr(EventSample, "load", classmethod(recording))
    model = train_estimator(toy_file, "mlp", "alices", tmp_path / "m", config=TrainConfig(epochs=1),
                            options={"stream": "100", "events_per_epoch": "512", "hidden": "16"}, progress=False)
    monkeypatch.undo()
    assert reads and all(r is not None and r.stop - r.start <= 100 for r in reads)
    assert estimators.load(tmp_path / "m").kind == model.kind == "ratio"
    with pytest.raises(OptionError, match="bootstrap"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "b", config=TrainConfig(epochs=1), ensemble=2,
                        bootstrap=True, options={"stream": "100"}, progress=False)
