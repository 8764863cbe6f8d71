"""Every encoder trains with every head that `lfi train` can drive: one short epoch each, on real toy events."""

import json

import numpy as np
import pytest

from estimators.encoders import ENCODERS
from lfi.train import TrainConfig
from lfi.workflows import train_estimator

HEADS = [("alices", "amplitude_ratio"), ("rascal", "morphing_ratio"), ("carl", "ratio"), ("sally", None)]
SMALL = {
    "mlp": {"hidden": "32,32"},
    "cnn1d": {},
    "mixer": {},
    "particlenet": {"k": "2"},
    "part": {"pair": "mass,delta_r", "interaction": "sm_running"},
    "sett": {},
    "iaformer": {},
}


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(1500, 9)


def test_the_table_covers_every_registered_encoder():
    assert set(SMALL) == set(ENCODERS)


@pytest.mark.parametrize("method,head", HEADS, ids=[h or "score" for _, h in HEADS])
@pytest.mark.parametrize("encoder", sorted(SMALL))
def test_one_short_epoch(toy_file, tmp_path, encoder, method, head):
    options = {"events_per_epoch": 256, **SMALL[encoder]}
    if head:
        options["head"] = head
    model = train_estimator(toy_file, encoder, method, tmp_path / "m", config=TrainConfig(epochs=1, batch_size=64),
                            options=options, progress=False)
    history = json.loads((tmp_path / "m" / "history.json").read_text())
    assert np.isfinite(history[0]["train_loss"]) and np.isfinite(history[0]["val_loss"])
    assert model.encoder_name == encoder and (head is None or model.head_name == head)
