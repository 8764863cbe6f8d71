"""Linear CKA against its kernel (HSIC) definition and its invariances; layer representations of encoders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lfi.interpret import cka_matrix, linear_cka, plot_cka


def _hsic_cka(x, y):
    """CKA from the centred Gram matrices: tr(K H L H) / √(tr(K H K H) tr(L H L H)), K = X Xᵀ (Gretton's HSIC)."""
    n = len(x)
    h = np.eye(n) - 1.0 / n
    k, l = x @ x.T, y @ y.T

    def hsic(a, b):
        return np.trace(a @ h @ b @ h)

    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def test_linear_cka_equals_the_kernel_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = x @ rng.normal(size=(5, 7)) + 0.5 * rng.normal(size=(60, 7))
    assert linear_cka(x, y) == pytest.approx(_hsic_cka(x, y), rel=1e-10)


def test_invariances_and_limits():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 6))
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert linear_cka(x, 3.7 * x @ rotation + 2.0) == pytest.approx(1.0, abs=1e-12)
    independent = rng.normal(size=(400, 6))
    assert linear_cka(x, independent) < 0.05
    matrix = cka_matrix([x, independent, x @ rotation])
    assert np.allclose(np.diag(matrix), 1.0) and np.allclose(matrix, matrix.T)
    with pytest.raises(ValueError, match="different events"):
        linear_cka(x, x[:10])


def test_plot_writes_png_and_pdf(tmp_path):
    written = plot_cka(np.array([[1.0, 0.4], [0.4, 1.0]]), tmp_path / "cka.png", row_labels=["a", "b"])
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 0 for p in written)


@pytest.mark.parametrize("encoder", ["part", "particlenet", "mixer", "cnn1d", "sett"])
def test_layer_representations_cover_every_event(encoder):
    from estimators.estimator import Estimator
    from estimators.interpret import layer_representations
    from lfi.objects import four_momenta

    rng = np.random.default_rng(2)
    n, p = 37, 6
    momenta = four_momenta(rng.uniform(20, 200, (n, p)), rng.uniform(-2, 2, (n, p)), rng.uniform(-3, 3, (n, p)),
                           np.zeros((n, p))).astype(np.float32)
    types = rng.integers(1, 7, size=(n, p)).astype(np.int8)
    types[:, 4:] *= rng.uniform(size=(n, 1)) < 0.5  # some events with padding
    momenta[types == 0] = 0
    globals_ = rng.normal(size=(n, 2)).astype(np.float32)
    torch.manual_seed(0)
    model = Estimator(encoder, {"n_objects": p, "n_globals": 2}, "classifier", {"n_classes": 2})
    reps = layer_representations(model, momenta, types, globals_, batch_size=16)
    assert len(reps) >= 3 and list(reps)[-1] == "embedding"
    assert all(v.shape[0] == n and np.all(np.isfinite(v)) for v in reps.values())
    with torch.no_grad():
        direct = model.embed(torch.from_numpy(momenta), torch.from_numpy(types.astype(np.int64)),
                             torch.from_numpy(globals_)).double().numpy()
    assert np.allclose(reps["embedding"], direct, atol=1e-5)
