"""lfi.files.atomic_write: complete or absent, the user's umask, no temporary file left, used by every writer."""

import os
import stat

import numpy as np
import pytest

from lfi.files import atomic_write, atomic_write_text


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_file_has_the_permissions_of_an_ordinary_open(tmp_path, umask_022):
    path = atomic_write_text(tmp_path / "a" / "b.json", "{}")
    with open(tmp_path / "plain.json", "w") as f:
        f.write("{}")
    assert path.read_text() == "{}" and _mode(path) == _mode(tmp_path / "plain.json") == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.json"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, error):
    target = tmp_path / "q.npy"
    np.save(target, np.arange(3))
    with pytest.raises(type(error)):
        with atomic_write(target) as tmp:
            np.save(tmp, np.arange(10))
            raise error
    np.testing.assert_array_equal(np.load(target), np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.npy"]


def test_the_temporary_keeps_the_suffix_for_writers_that_infer_the_format(tmp_path):
    seen = []
    with atomic_write(tmp_path / "fig.png") as tmp:
        seen.append(tmp)
        tmp.write_bytes(b"x")
    assert seen[0].suffix == ".png" and seen[0].parent == tmp_path and not seen[0].exists()


def test_models_and_samples_are_readable_by_colleagues(tmp_path, umask_022, small_sample):
    """Event files, network and BDT estimator files get 0644 under umask 022 (mkstemp alone would give 0600)."""
    import estimators

    small_sample.save(tmp_path / "s.h5")
    model = estimators.build("mlp", "score", encoder_config={"n_objects": 3, "n_globals": 2},
                             head_config={"n_parameters": 2})
    model.save(tmp_path / "m")
    for path in (tmp_path / "s.h5", tmp_path / "m" / "config.json", tmp_path / "m" / "weights.pt"):
        assert _mode(path) == 0o644, path
