"""MadMiner's half of ``bench/madminer_peer.py``: runs inside MadMiner's own virtual environment, never lfi's.

Augments a MadMiner event file with MadMiner's ``SampleAugmenter`` (ratio methods: θ0 from a flat prior over the
benchmarks' box, θ1 the SM; SALLY: x at the SM with the joint score), trains MadMiner's
``ParameterizedRatioEstimator`` (``alices``, ``rascal``) or ``ScoreEstimator`` (``sally``) at MadMiner's defaults
(one hidden layer of 100 tanh units, AMSGrad, 50 epochs, batch 128, learning rate 10⁻³ → 10⁻⁴, 25 % validation,
early stopping), and evaluates the trained network on the test events:

- after every epoch, MSE(log r̂) on a subset of the test events against the exact log r handed over by the caller,
  computed with lfi's own pure-NumPy :func:`lfi.limits.log_r_mse` (imported from the repository: ``lfi.limits``
  needs only NumPy and SciPy, which MadMiner's environment has); the time this costs is not counted;
- at the end, log r̂(x|θ, SM) on the whole test sample at every grid point (ratio methods; a memory-mapped
  float32 ``.npy``, the caller deletes it once scored) or t̂(x) (SALLY).

Writes ``OUT/result.json`` (wall times split into augmentation and training, parameters, the per-epoch curve) and
``OUT/log_r.npy`` (T, N) or ``OUT/score.npy`` (N, D). The augmented ratio sample is cached in ``--augmented`` and
shared by ALICES and RASCAL (its time is counted in both rows).

    python bench/madminer_side.py --train TRAIN_MM.h5 --test TEST_MM.h5 --method alices --n-samples 200000 \\
        --grid GRID.npy --curve CURVE.npz --augmented DIR --out DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lfi.limits: pure NumPy/SciPy statistics

from lfi.limits import log_r_mse  # noqa: E402

RATIO_METHODS = ("alices", "rascal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True, help="MadMiner file with the training events")
    parser.add_argument("--test", required=True, help="MadMiner file with the test events (same order as lfi's)")
    parser.add_argument("--method", required=True, choices=[*RATIO_METHODS, "sally"])
    parser.add_argument("--n-samples", type=int, required=True, help="augmented training examples")
    parser.add_argument("--n-thetas", type=int, default=1000, help="distinct θ0 points of the ratio sample")
    parser.add_argument("--epochs", type=int, default=50, help="MadMiner's default: 50")
    parser.add_argument("--grid", required=True, help=".npy, shape (T, D): θ points of the final log r̂")
    parser.add_argument("--curve", required=True, help=".npz: theta (Tc, D), log_r (Tc, Nc), weights (Nc,), prior_width")
    parser.add_argument("--augmented", required=True, help="folder for the cached augmented samples")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-workers", type=int, default=8, help="MadMiner's DataLoader workers (its default: 8)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data, augment_seconds = _augment(args)
    curve = np.load(args.curve)
    with h5py.File(args.test, "r") as f:
        x_test = f["samples/observations"][:]
    x_curve = x_test[: curve["log_r"].shape[1]]
    estimator = _estimator(args.method)
    record = _CurveRecorder(estimator, args.method, x_curve, curve)
    start = time.perf_counter()
    with record.installed():
        record.start = start
        if args.method == "sally":
            estimator.train(method="sally", x=data["x"], t_xz=data["t_xz"], n_epochs=args.epochs, verbose="none",
                            n_workers=args.n_workers)
        else:
            estimator.train(method=args.method, x=data["x"], y=data["y"], theta=data["theta0"], r_xz=data["r_xz"],
                            t_xz=data["t_xz"], n_epochs=args.epochs, verbose="none",
                            n_workers=args.n_workers)
    train_seconds = time.perf_counter() - start - record.excluded

    if args.method == "sally":
        np.save(out / "score.npy", estimator.evaluate_score(x_test))
    else:
        grid = np.load(args.grid)
        _check_batched_evaluation(estimator, x_test[:500], grid[:: max(1, len(grid) // 5)])
        log_r = np.lib.format.open_memmap(out / "log_r.npy", mode="w+", dtype=np.float32, shape=(len(grid), len(x_test)))
        for start in range(0, len(grid), 64):  # (T, N) may not fit in memory at once
            log_r[start : start + 64] = batched_log_r(estimator, x_test, grid[start : start + 64])
        log_r.flush()
    from importlib.metadata import version

    result = {
        "tool": f"MadMiner {version('madminer')}",
        "torch": torch.__version__,
        "augment_seconds": augment_seconds,
        "train_seconds": train_seconds,
        "epochs_run": len(record.curve),
        "examples": int(len(data["x"])),
        "inputs": f"{x_test.shape[1]} observable columns of the MadMiner file",
        "parameters": sum(p.numel() for p in estimator.model.parameters()),
        "network": f"one hidden layer of 100 tanh units (MadMiner's default), {args.n_workers} DataLoader workers",
        "curve": record.curve,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))


def batched_log_r(estimator, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """log r̂(x|θ, SM) of a trained ``ParameterizedRatioEstimator``, shape (T, N): MadMiner's own input scaling and
    network, called on whole tensors. MadMiner's ``evaluate_log_likelihood_ratio`` gives the same numbers but builds
    one tensor per event and θ in Python (minutes for 10⁵ events × 10³ grid points)."""
    xs = estimator._transform_inputs(x)
    if estimator.features is not None:
        xs = xs[:, estimator.features]
    xs = torch.as_tensor(np.asarray(xs), dtype=torch.float32)
    thetas = torch.as_tensor(np.asarray(estimator._transform_parameters(theta)), dtype=torch.float32)
    model = estimator.model.to(torch.device("cpu"), torch.float32).eval()
    with torch.no_grad():
        return np.stack([model(t.expand(len(xs), -1), xs, track_score=False)[1][:, 0].numpy() for t in thetas])


def _check_batched_evaluation(estimator, x: np.ndarray, theta: np.ndarray) -> None:
    """The batched evaluation equals MadMiner's own on a few events and points."""
    official, _ = estimator.evaluate_log_likelihood_ratio(x, theta, test_all_combinations=True)
    np.testing.assert_allclose(batched_log_r(estimator, x, theta), official, rtol=1e-4, atol=1e-5)


def _estimator(method: str):
    from madminer.ml import ParameterizedRatioEstimator, ScoreEstimator

    return ScoreEstimator() if method == "sally" else ParameterizedRatioEstimator()


def _augment(args) -> tuple[dict, float]:
    """MadMiner's augmented sample for ``args.method`` (cached on disk with the seconds it took)."""
    from madminer import sampling
    from madminer.sampling import SampleAugmenter

    kind = "local" if args.method == "sally" else "ratio"
    cache = Path(args.augmented) / kind
    if (cache / "seconds.json").exists():
        data = {p.stem: np.load(p) for p in cache.glob("*.npy")}
        return data, json.loads((cache / "seconds.json").read_text())["seconds"]
    cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    augmenter = SampleAugmenter(args.train)
    # every event but one is a training event (lfi's test events are a separate file; MadMiner refuses a training
    # partition of the whole file, so its "test" partition is the last event)
    split = dict(test_split=1.0 / augmenter.n_samples, validation_split=0.0, partition="train")
    if kind == "ratio":
        box = augmenter.benchmarks  # name -> Benchmark with .values
        values = np.array([list(b.values.values()) for b in box.values()])
        priors = [("flat", float(lo), float(hi)) for lo, hi in zip(values.min(axis=0), values.max(axis=0))]
        x, theta0, _, y, r_xz, t_xz, _ = augmenter.sample_train_ratio(
            theta0=sampling.random_morphing_points(args.n_thetas, priors), theta1=sampling.benchmark("sm"),
            n_samples=args.n_samples, **split)
        data = {"x": x, "theta0": theta0, "y": y, "r_xz": r_xz, "t_xz": t_xz}
    else:
        x, _, t_xz, _ = augmenter.sample_train_local(theta=sampling.benchmark("sm"), n_samples=args.n_samples, **split)
        data = {"x": x, "t_xz": t_xz}
    seconds = time.perf_counter() - start
    for name, array in data.items():
        np.save(cache / f"{name}.npy", array)
    (cache / "seconds.json").write_text(json.dumps({"seconds": seconds}))
    return data, seconds


class _CurveRecorder:
    """After each of MadMiner's epochs: MSE(log r̂) (ratio methods) on the curve events, against elapsed training
    time with the evaluation itself left out."""

    def __init__(self, estimator, method: str, x: np.ndarray, curve) -> None:
        self.estimator, self.method, self.x, self.target = estimator, method, x, curve
        self.curve: list[dict] = []
        self.excluded = 0.0
        self.start = time.perf_counter()

    def installed(self):
        from contextlib import contextmanager

        from madminer.utils.ml.trainer import Trainer

        @contextmanager
        def patch():
            original = Trainer.report_epoch

            def report_epoch(i_epoch, *rest, **kwargs):
                original(i_epoch, *rest, **kwargs)
                self.measure(i_epoch + 1)

            Trainer.report_epoch = staticmethod(report_epoch)
            try:
                yield
            finally:
                Trainer.report_epoch = staticmethod(original)

        return patch()

    def measure(self, epoch: int) -> None:
        begin = time.perf_counter()
        entry = {"epoch": epoch, "seconds": begin - self.start - self.excluded}
        if self.method != "sally":
            log_r = batched_log_r(self.estimator, self.x, self.target["theta"])
            self.estimator.model.train()
            entry.update(log_r_mse(log_r, self.target["log_r"], self.target["theta"],
                                   prior_width=float(self.target["prior_width"]), weights=self.target["weights"]))
        self.curve.append(entry)
        self.excluded += time.perf_counter() - begin


if __name__ == "__main__":
    main()
