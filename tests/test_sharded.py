"""Sharded generation (lfi.workflows.sharded) and sharded samples read as one (lfi.events.shards): the local pool and
a Dask LocalCluster write identical shards for the same seeds; a rerun writes only the missing shard; every reader
takes the directory as one sample with the weights of independent runs combined."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfi.cli import main
from lfi.errors import EventFileError, OptionError
from lfi.events import EventSample
from lfi.events.shards import MANIFEST
from lfi.workflows.sharded import shard_plan, simulate_sharded


@pytest.fixture(scope="module")
def toy_shards(tmp_path_factory):
    """3 000 toy events in 3 shards (seed 4), written by the local pool with 2 workers."""
    out = tmp_path_factory.mktemp("shards") / "toy"
    simulate_sharded("toy", 3000, out, shards=3, seed=4, workers=2)
    return out


def test_the_plan_splits_events_evenly_with_distinct_seeds():
    plan = shard_plan(10, 3, seed=1)
    assert [e["events"] for e in plan] == [4, 3, 3]
    assert len({e["seed"] for e in plan}) == 3
    assert plan == shard_plan(10, 3, seed=1) and plan != shard_plan(10, 3, seed=2)
    with pytest.raises(OptionError, match="every shard needs at least one event"):
        shard_plan(2, 3, seed=1)


def test_a_sharded_sample_reads_as_the_weighted_union_of_its_shards(toy_shards):
    manifest = json.loads((toy_shards / MANIFEST).read_text())
    shards = [EventSample.load(toy_shards / e["file"]) for e in manifest["shards"]]
    whole = EventSample.load(toy_shards)
    fractions = [e["events"] / manifest["events"] for e in manifest["shards"]]
    assert len(whole) == sum(len(s) for s in shards) == 3000
    np.testing.assert_array_equal(whole.weights, np.concatenate([f * s.weights for f, s in zip(fractions, shards)]))
    np.testing.assert_array_equal(whole.momenta, np.concatenate([s.momenta for s in shards]))
    # σ of the union is the events-weighted mean of the shards' σ estimates
    sigma = [s.weights.sum(axis=0) for s in shards]
    np.testing.assert_allclose(whole.weights.sum(axis=0), np.average(sigma, axis=0, weights=fractions), rtol=1e-12)
    # a slice across the shard boundaries equals the slice of the whole
    part = EventSample.load(toy_shards, slice(900, 2100))
    np.testing.assert_array_equal(part.weights, whole.weights[900:2100])
    np.testing.assert_array_equal(part.truth_events["z"], whole.truth_events["z"][900:2100])
    info = EventSample.read_info(toy_shards)
    assert info["events"] == 3000 and info["metadata"]["shards"]["count"] == 3
    np.testing.assert_allclose(info["cross_section_pb"]["sm"], whole.weights[:, whole.benchmark_index("sm")].sum(),
                               rtol=1e-12)
    assert info["metadata"]["cutflow"]["toy"][0]["events"] == 3000


def test_a_sharded_sample_equals_nothing_in_one_shard_alone(toy_shards):
    """The shards are independent runs: different seeds give different events."""
    a, b = (EventSample.load(toy_shards / f"shard_000{i}.h5") for i in (0, 1))
    assert not np.array_equal(a.momenta, b.momenta)


def test_a_rerun_writes_only_the_missing_shard(tmp_path):
    out = tmp_path / "toy"
    simulate_sharded("toy", 1500, out, shards=3, seed=9)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("shard_*.h5")}
    lost = EventSample.load(out / "shard_0001.h5")
    # a killed client: the manifest is the plan written at the start, and one shard was never written
    manifest = json.loads((out / MANIFEST).read_text())
    for entry in manifest["shards"]:
        entry.pop("done"), entry.pop("kept"), entry.pop("bytes")
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / "shard_0001.h5").unlink()
    with pytest.raises(EventFileError, match="shard_0001.h5"):
        EventSample.load(out)
    simulate_sharded("toy", 1500, out, shards=3, seed=9)
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("shard_*.h5")}
    assert after["shard_0000.h5"] == before["shard_0000.h5"] and after["shard_0002.h5"] == before["shard_0002.h5"]
    assert after["shard_0001.h5"] != before["shard_0001.h5"]
    again = EventSample.load(out / "shard_0001.h5")
    np.testing.assert_array_equal(again.momenta, lost.momenta)
    np.testing.assert_array_equal(again.weights, lost.weights)
    assert len(EventSample.load(out)) == 1500


def test_a_shard_file_of_another_seed_is_rewritten(tmp_path):
    out = tmp_path / "toy"
    simulate_sharded("toy", 1000, out, shards=2, seed=9)
    planned = EventSample.load(out / "shard_0000.h5")
    EventSample.load(out / "shard_0001.h5").save(out / "shard_0000.h5")  # a stranger under a shard's name
    simulate_sharded("toy", 1000, out, shards=2, seed=9)
    np.testing.assert_array_equal(EventSample.load(out / "shard_0000.h5").momenta, planned.momenta)


def test_a_directory_of_another_run_is_refused(tmp_path):
    out = tmp_path / "toy"
    simulate_sharded("toy", 1000, out, shards=2, seed=9)
    with pytest.raises(OptionError, match="seed"):
        simulate_sharded("toy", 1000, out, shards=2, seed=10)
    with pytest.raises(OptionError, match="shard plan"):
        simulate_sharded("toy", 1000, out, shards=4, seed=9)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(OptionError, match="not an empty directory"):
        simulate_sharded("toy", 1000, tmp_path / "other", shards=2, seed=9)


def test_a_dask_local_cluster_writes_the_shards_of_the_local_pool(tmp_path):
    """Parton-level WBF (Pythia 8) on a 2-worker LocalCluster on loopback and on the local pool: same seeds, same
    events, same weights, same truth."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        simulate_sharded("wbf", 600, tmp_path / "dask", shards=3, seed=5, options={"level": "parton"},
                         scheduler=cluster.scheduler_address)
    simulate_sharded("wbf", 600, tmp_path / "pool", shards=3, seed=5, options={"level": "parton"}, workers=2)
    a, b = EventSample.load(tmp_path / "dask"), EventSample.load(tmp_path / "pool")
    assert len(a) == len(b) > 300
    for field in ("momenta", "types", "weights"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for key in a.truth_events:
        np.testing.assert_array_equal(a.truth_events[key], b.truth_events[key])
    np.testing.assert_array_equal(a.truth["sigma_coefficients"], b.truth["sigma_coefficients"])
    # the combined σ polynomial is the sum of the combined per-event weight polynomials
    np.testing.assert_allclose(a.truth["sigma_coefficients"], a.truth_events["weight_coefficients"].sum(axis=0),
                               rtol=1e-9)


def test_the_cli_writes_and_reads_a_sharded_sample(tmp_path, capsys):
    out = tmp_path / "toy"
    assert main(["simulate", "toy", "--events", "900", "--shards", "3", "--workers", "2", "--out", str(out)]) == 0
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "900" in text and str(out) in text
    assert main(["simulate", "toy", "--events", "900", "--scheduler", "tcp://127.0.0.1:1", "--out",
                 str(tmp_path / "x")]) == 1
    assert "--shards" in capsys.readouterr().err


def test_the_example_cluster_config_runs_on_a_local_cluster(tmp_path):
    """configs/wbf_parton_cluster.toml as shipped, with the address of a 2-worker LocalCluster: sharded samples on
    Dask, then training and limits on them here."""
    distributed = pytest.importorskip("distributed")
    from pathlib import Path

    from lfi.workflows.pipeline import run_pipeline

    shipped = Path(__file__).resolve().parents[1] / "configs" / "wbf_parton_cluster.toml"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        config = tmp_path / "cluster.toml"
        config.write_text(shipped.read_text().replace("tcp://127.0.0.1:8786", cluster.scheduler_address))
        result = run_pipeline(config, out=tmp_path / "out", progress=False)
    train = result.outputs["samples.train"]
    assert train.is_dir() and len(list(train.glob("shard_*.h5"))) == 4
    summary = json.loads((result.outputs["limits.main"] / "limits.json").read_text())
    learned = [name for name in summary["maps"] if name.startswith("sally")]
    assert "truth" in summary["maps"] and len(learned) == 1
    assert summary["maps"][learned[0]]["versus_truth"]["area_ratio"]["68.27"] > 0
    assert summary["events"] == EventSample.read_info(result.outputs["samples.test"])["events"]
