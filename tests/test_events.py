"""EventSample: the HDF5 data contract, atomic writes, clear errors, slicing, splitting, concatenation."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from lfi.events import EventFileError, EventSample, hdf5


def test_round_trip_preserves_everything(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "s.h5")
    back = EventSample.load(path)
    for name in ("momenta", "types", "weights", "globals_", "process", "sampled_from", "benchmark_theta"):
        np.testing.assert_array_equal(getattr(back, name), getattr(small_sample, name))
    assert back.parameters == ["a", "b"] and back.benchmark_names == ["sm", "bsm"]
    assert back.units == "TeV^-2" and back.global_names == ["met", "met_phi"]
    assert back.metadata == {"simulator": "hand"}
    np.testing.assert_array_equal(back.observables["pt_j1"], small_sample.observables["pt_j1"])
    np.testing.assert_array_equal(back.truth_events["z"], small_sample.truth_events["z"])
    np.testing.assert_array_equal(back.truth["sigma_coefficients"], np.arange(3.0))
    with h5py.File(path) as f:
        assert f.attrs["format"] == "lfi-events" and f.attrs["version"] == 1
        assert f["events/weights"].dtype == np.float64 and f["events/momenta"].dtype == np.float32
        assert f["events/types"].dtype == np.int8 and f["events/process"].dtype == np.int16
        assert f["events/weights"].chunks is not None


def test_partial_read_by_slice(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "s.h5")
    part = EventSample.load(path, events=slice(10, 20))
    assert len(part) == 10
    np.testing.assert_array_equal(part.weights, small_sample.weights[10:20])
    np.testing.assert_array_equal(part.truth_events["z"], small_sample.truth_events["z"][10:20])


def test_failed_write_leaves_neither_output_nor_temporary(small_sample, tmp_path, monkeypatch):
    target = tmp_path / "out.h5"
    target.write_bytes(b"previous content")

    def explode(f, sample, compression):
        f.create_dataset("events/weights", data=np.zeros(3))
        raise RuntimeError("disk full")

    monkeypatch.setattr(hdf5.writer, "_write_groups", explode)
    with pytest.raises(RuntimeError):
        small_sample.save(target)
    assert target.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def _one_line_error(path: Path) -> str:
    with pytest.raises(EventFileError) as info:
        EventSample.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize(
    "dataset,mutation,expect",
    [
        ("events/weights", "delete", "/events/weights: missing"),
        ("events/momenta", "delete", "/events/momenta: missing"),
        ("events/weights", "nan", "/events/weights: non-finite weight"),
        ("events/momenta", "inf", "/events/momenta: non-finite momentum component in event 7"),
        ("events/weights", "shape", "/events/weights: shape"),
        ("events/types", "float", "/events/types: dtype float64"),
        ("benchmarks/theta", "shape", "/benchmarks/theta: shape"),
    ],
)
def test_bad_datasets_are_named(small_sample, tmp_path, dataset, mutation, expect):
    path = small_sample.save(tmp_path / "bad.h5")
    with h5py.File(path, "r+") as f:
        data = f[dataset][()]
        del f[dataset]
        if mutation == "nan":
            data[7, 1] = np.nan
            f.create_dataset(dataset, data=data)
        elif mutation == "inf":
            data[7, 0, 2] = np.inf
            f.create_dataset(dataset, data=data)
        elif mutation == "shape":
            f.create_dataset(dataset, data=data[..., :1])
        elif mutation == "float":
            f.create_dataset(dataset, data=data.astype(float))
    assert expect in _one_line_error(path)


def test_nan_weight_names_the_event(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "nan.h5")
    with h5py.File(path, "r+") as f:
        w = f["events/weights"][()]
        w[13, 0] = np.nan
        f["events/weights"][...] = w
    assert "event 13" in _one_line_error(path)


def test_other_format_and_version(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "v.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["version"] = 99
    assert "version 99 is not supported" in _one_line_error(path)
    with h5py.File(path, "r+") as f:
        f.attrs["format"] = "madminer"
    assert "not an lfi event file" in _one_line_error(path)
    other = tmp_path / "plain.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=[1, 2])
    assert "not an lfi event file" in _one_line_error(other)


def test_truncated_and_garbage_files(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "t.h5")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(data[: len(data) // 2])
    assert "truncated or corrupted" in _one_line_error(truncated)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"this is not HDF5 at all" * 100)
    assert "not a readable HDF5 file" in _one_line_error(garbage)
    assert "no such file" in _one_line_error(tmp_path / "absent.h5")


def test_corrupted_chunk_is_reported_with_its_dataset(tmp_path):
    from lfi.events import EventSample as ES

    rng = np.random.default_rng(1)
    n = 20_000
    sample = ES(["a"], ["sm"], [[0.0]], rng.normal(size=(n, 2, 4)), np.ones((n, 2)), rng.uniform(size=(n, 1)))
    path = sample.save(tmp_path / "c.h5", compression="gzip")
    with h5py.File(path) as f:
        offset = f["events/momenta"].id.get_chunk_info(1).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    message = _one_line_error(path)
    assert "/events/momenta" in message


def test_validation_in_memory():
    with pytest.raises(EventFileError, match="/events/types"):
        EventSample(["a"], ["sm"], [[0.0]], np.zeros((3, 2, 4)), np.full((3, 2), 9), np.ones((3, 1)))
    with pytest.raises(EventFileError, match="non-finite weight"):
        EventSample(["a"], ["sm"], [[0.0]], np.zeros((3, 2, 4)), np.ones((3, 2)), np.array([[1.0], [np.inf], [1.0]]))


def test_split_is_disjoint_complete_reproducible_and_normalised(small_sample):
    parts = small_sample.split((0.6, 0.2, 0.2), seed=4)
    assert [len(p) for p in parts] == [30, 10, 10]
    rows = [tuple(r) for p in parts for r in p.truth_events["z"]]
    assert len(set(rows)) == 50
    again = small_sample.split((0.6, 0.2, 0.2), seed=4)
    np.testing.assert_array_equal(parts[1].weights, again[1].weights)
    other = small_sample.split((0.6, 0.2, 0.2), seed=5)
    assert not np.array_equal(parts[1].weights, other[1].weights)
    # each part, rescaled by its fraction, estimates the full cross section
    total = sum(p.cross_sections * f for p, f in zip(parts, (0.6, 0.2, 0.2)))
    np.testing.assert_allclose(total, small_sample.cross_sections)
    with pytest.raises(ValueError, match="sum to 1"):
        small_sample.split((0.5, 0.2))


def test_select_and_concatenate(small_sample):
    a, b = small_sample[:20], small_sample[20:]
    joined = EventSample.concatenate([a, b])
    np.testing.assert_array_equal(joined.weights, small_sample.weights)
    np.testing.assert_array_equal(joined.truth_events["z"], small_sample.truth_events["z"])
    mask = small_sample.observables["pt_j1"] > 100
    assert len(small_sample.select(mask)) == mask.sum()


def test_concatenate_pads_objects_and_merges_processes(small_sample):
    wide = small_sample.select(slice(0, 5))
    wide.momenta = np.pad(wide.momenta, ((0, 0), (0, 2), (0, 0)))
    wide.types = np.pad(wide.types, ((0, 0), (0, 2)))
    wide.process_names = ["background"]
    joined = EventSample.concatenate([small_sample, wide])
    assert joined.momenta.shape == (55, 5, 4)
    assert joined.process_names == ["signal", "background"]
    assert (joined.process[-5:] == 1).all() and (joined.process[:50] == 0).all()
    other = small_sample.select(slice(0, 2))
    other.benchmark_theta = other.benchmark_theta + 1
    with pytest.raises(ValueError, match="different benchmarks"):
        EventSample.concatenate([small_sample, other])


def test_morphed_weights_from_file(toy_sample, tmp_path):
    back = EventSample.load(toy_sample.save(tmp_path / "toy.h5"))
    sm = back.benchmark_index("sm")
    np.testing.assert_allclose(back.weights_at(back.benchmark_theta[sm]), back.weights[:, sm], rtol=1e-10)
    with pytest.raises(KeyError, match="benchmarks are"):
        back.benchmark_index("nope")


@pytest.mark.parametrize("change, what", [
    (lambda s: setattr(s, "parameters", ["c", "d"]), "different parameters"),
    (lambda s: setattr(s, "units", "TeV^-1"), "different units"),
    (lambda s: setattr(s, "benchmark_names", ["sm", "other"]), "different benchmarks"),
    (lambda s: (setattr(s, "morphing_components", np.array([[0, 0], [1, 0]], np.int32)),
                setattr(s, "morphing_basis", np.array([0, 1], np.int32))), "different morphing setup"),
    (lambda s: s.truth_events.pop("z"), "different per-event truth"),
    (lambda s: s.truth.update(sigma_coefficients=np.arange(3.0) + 1), "different sample-level truth"),
    (lambda s: setattr(s, "global_names", ["met", "phi"]), "different globals"),
])
def test_concatenate_refuses_samples_that_do_not_share_the_contract(small_sample, change, what):
    other = small_sample.select(slice(0, 5))
    other.truth = dict(other.truth)
    change(other)
    with pytest.raises(ValueError, match=f"sample 1 with sample 0: {what}") as info:
        EventSample.concatenate([small_sample, other])
    assert "\n" not in str(info.value)


def test_read_info_reads_only_weights_and_matches_the_full_load(toy_sample, tmp_path):
    path = toy_sample.save(tmp_path / "toy.h5")
    info = EventSample.read_info(path)
    sample = EventSample.load(path)
    assert info["events"] == len(sample) and info["object_slots"] == sample.momenta.shape[1]
    np.testing.assert_allclose(list(info["cross_section_pb"].values()), sample.cross_sections, rtol=1e-12)
    assert info["morphing_basis"] == [sample.benchmark_names[i] for i in sample.morphing_basis]
    assert info["truth"] == sorted(sample.truth_events) + sorted(sample.truth)
    assert info["observables"] == sorted(sample.observables) and info["globals"] == sample.global_names
    # the per-event arrays other than weights and process ids are never read: corrupt them and it still works
    with h5py.File(path, "r+") as f:
        del f["events/momenta"]
        f.create_dataset("events/momenta", shape=(len(sample), 7, 4), dtype="f4")  # unreadable content irrelevant
        del f["events/observables/" + sorted(sample.observables)[0]]
    assert EventSample.read_info(path)["cross_section_pb"] == info["cross_section_pb"]


def test_read_info_memory_does_not_grow_with_the_file(tmp_path):
    """A file ten times larger costs no more memory to summarise (measured in a fresh process)."""
    import subprocess
    import sys

    code = (
        "import resource, sys, time; from lfi.events import EventSample; t = time.perf_counter(); "
        "EventSample.read_info(sys.argv[1]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t)"
    )
    rng = np.random.default_rng(0)
    peaks = []
    for n in (20_000, 200_000):
        sample = EventSample(parameters=["a"], benchmark_names=["sm", "bsm"], benchmark_theta=[[0.0], [1.0]],
                             momenta=rng.normal(size=(n, 12, 4)).astype(np.float32), types=np.ones((n, 12), np.int8),
                             weights=rng.uniform(size=(n, 2)))
        path = sample.save(tmp_path / f"n{n}.h5")
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
        peaks.append(int(out.stdout.split()[0]))  # KiB
    # the 200 000-event file holds 38 MB of momenta more than the small one; the summary may not read them
    assert peaks[1] - peaks[0] < 10_000
