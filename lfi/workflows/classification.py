"""``lfi classify``: train event classifiers (signal vs the other processes) for K seeds and measure them.

One split by event (seed 0, the same for every model and every seed, so that rows of a table compare on the
same test events); class weights balanced by cross section for training; on the test split, the weighted ROC,
AUC, ε_B and rejection at fixed ε_S, and s/√b with and without a relative background systematic at a
luminosity, from weights rescaled per process to its full selected cross section.

Output directory::

    metrics.json            settings, sample sizes, one row per seed, mean ± standard deviation over seeds
    roc.png, roc.pdf        rejection 1/ε_B against ε_S (log scale), one curve per seed
    scores.npz              test event indices, labels, yield weights (pb) and the scores of every seed
    seed_<k>/               the trained model (config.json, weights.pt or model.txt, history.json) and
                            result.json; a finished seed is skipped when the command is run again, an
                            interrupted one trains again from the start
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lfi.errors import OptionError, ResumeMismatchError
from lfi.events.labelled import (SPLIT_FRACTIONS, balanced_weights, combine_for_classification, split_events,
                                 yield_weights)
from lfi.files import atomic_write, atomic_write_text
from lfi.metrics import background_efficiency, classification_summary, roc_curve

__all__ = ["classify", "ClassifyResult", "summarise_seeds", "mean_std_text", "ROC_POINTS", "RESULT_FILE", "METRICS_FILE"]

log = logging.getLogger("lfi.classify")

RESULT_FILE, METRICS_FILE, SCORES_FILE = "result.json", "metrics.json", "scores.npz"
#: ε_S values at which each seed's ROC is stored (for figures and averages).
ROC_POINTS = np.round(np.linspace(0.02, 0.98, 49), 4)
_SETTINGS = ("estimator", "options", "loss", "signal", "files", "split", "max_train_events", "config")


class ClassifyResult(dict):
    """The content of ``metrics.json`` (a dict) with the output directory as ``.out``."""

    out: Path


def _train_subset(train: np.ndarray, process: np.ndarray, limit: int | None, seed: int = 0) -> np.ndarray:
    """At most ``limit`` training events, the same fraction of every process (for learning curves)."""
    if limit is None or limit >= len(train):
        return train
    if limit < 2:
        raise OptionError(f"--train-events must be ≥ 2, got {limit}")
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(train[process[train] == k])[: max(1, round(limit * np.mean(process[train] == k)))]
            for k in np.unique(process[train])]
    return np.sort(np.concatenate(keep))


def _seed_result(setup, model, events, test, test_weights, lumi_pb: float, rel_syst: float, train_seconds: float,
                 n_epochs: int | None) -> tuple[dict, np.ndarray]:
    start = time.perf_counter()
    scores = model.signal_score(events.momenta[test], events.types[test], events.globals_[test])
    infer_seconds = time.perf_counter() - start
    labels = events.labels[test]
    summary = classification_summary(scores, labels, test_weights, lumi=lumi_pb, rel_syst=rel_syst)
    eps_b, eps_s, _ = roc_curve(scores, labels, test_weights)
    roc_b = background_efficiency(eps_b, eps_s, ROC_POINTS)
    n_train = len(setup.train)
    result = {
        **summary,
        "seed": setup.config.seed,
        "roc": {"eps_s": ROC_POINTS.tolist(), "eps_b": [float(x) for x in np.atleast_1d(roc_b)]},
        "train_seconds": train_seconds,
        "epochs": n_epochs,
        "train_events_per_s": (n_train * n_epochs / train_seconds) if n_epochs else n_train / train_seconds,
        "inference_ms_per_event": 1e3 * infer_seconds / max(len(test), 1),
        **model.size,
    }
    return result, scores


def _epochs_run(out: Path) -> int | None:
    history = out / "history.json"
    if not history.is_file():
        return None
    entries = json.loads(history.read_text())
    return len(entries) if entries and "epoch" in entries[0] else None


def summarise_seeds(rows: Sequence[dict]) -> dict[str, Any]:
    """Mean and standard deviation (ddof = 1; 0 for one seed) over seeds of AUC, ε_B, rejection and the
    significances at every working point; NaN-free: a quantity missing in a seed is left out there."""

    def stats(values: list[float | None]) -> dict[str, float | None]:
        v = np.array([x for x in values if x is not None], float)
        if len(v) == 0:
            return {"mean": None, "std": None}
        return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}

    out: dict[str, Any] = {"auc": stats([r["auc"] for r in rows]), "working_points": []}
    for i, point in enumerate(rows[0]["working_points"]):
        entry = {"eps_s": point["eps_s"]}
        for key in point:
            if key != "eps_s":
                entry[key] = stats([r["working_points"][i].get(key) for r in rows])
        out["working_points"].append(entry)
    return out


def mean_std_text(stat: dict | None, digits: int, missing: str = "–") -> str:
    """``"0.8421 ± 0.0019"`` for a ``{"mean", "std"}`` entry of :func:`summarise_seeds`; ``missing`` if absent."""
    if not stat or stat.get("mean") is None:
        return missing
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def classify(
    data: Sequence[str | os.PathLike],
    estimator: str,
    out: str | os.PathLike,
    *,
    signal: str | None = None,
    options: dict[str, Any] | None = None,
    loss: str = "ce",
    seeds: int = 1,
    lumi_fb: float = 100.0,
    rel_syst: float = 0.2,
    split: Sequence[float] = SPLIT_FRACTIONS,
    max_train_events: int | None = None,
    config=None,
    progress: bool = True,
    figure: bool = True,
) -> ClassifyResult:
    """Train ``seeds`` classifiers ``estimator`` on event files and write their test metrics.

    Parameters
    ----------
    data : sequence of path-like
        Event files; the signal is the first file's first process unless ``signal`` names another.
    estimator : str
        An encoder name or ``bdt``.
    out : path-like
        Output directory (see the module docstring).
    signal : str, optional
        Process name of the signal.
    options : dict, optional
        Estimator options (as ``--option KEY=VALUE``).
    loss : {"ce", "focal"}
    seeds : int
        Models trained with seeds 0..K−1 (initial weights and batch order; the split stays fixed).
    lumi_fb : float
        Integrated luminosity for the yields in fb⁻¹.
    rel_syst : float
        Relative background systematic δ of s/√(b + (δb)²).
    split : (float, float, float)
        Train / validation / test fractions of every process.
    max_train_events : int, optional
        Use at most this many training events (same fraction per process): learning curves.
    config : lfi.train.TrainConfig, optional
        Loop settings; the seed is set per model.
    progress : bool
        Progress bars.
    figure : bool
        Draw ``roc.png`` and ``roc.pdf``.

    Returns
    -------
    ClassifyResult
        What ``metrics.json`` holds.

    Raises
    ------
    ResumeMismatchError
        ``out`` holds seeds trained with other settings.
    """
    from dataclasses import asdict, replace

    from estimators.registry import estimator_class
    from lfi.train import TrainConfig
    from lfi.train.classifier_setup import ClassifierSetup

    estimator_class(estimator)  # an unknown name fails before the files are read
    if int(seeds) < 1:
        raise OptionError(f"--seeds must be ≥ 1, got {seeds}")
    if not (np.isfinite(lumi_fb) and lumi_fb > 0):
        raise OptionError(f"--lumi must be a positive luminosity in fb^-1, got {lumi_fb}")
    if not (np.isfinite(rel_syst) and rel_syst >= 0):
        raise OptionError(f"--syst must be a relative uncertainty ≥ 0, got {rel_syst}")
    config = config or TrainConfig()
    events = combine_for_classification(data, signal)
    train, validation, test = split_events(events.process, split, seed=0)
    train = _train_subset(train, events.process, max_train_events)
    for name, part in (("training", train), ("validation", validation), ("test", test)):
        if len(np.unique(events.labels[part])) < 2:
            raise OptionError(f"the {name} split holds a single class: use more events or other split fractions")
    out = Path(out)
    settings = {"estimator": estimator, "options": {k: str(v) for k, v in (options or {}).items()}, "loss": loss,
                "signal": events.signal, "files": [str(Path(p).resolve()) for p in data], "split": list(split),
                "max_train_events": max_train_events,
                "config": {k: v for k, v in asdict(config).items() if k not in ("seed", "device")}}
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings)
    atomic_write_text(out / "settings.json", json.dumps(settings, indent=2))
    lumi_pb = 1000.0 * float(lumi_fb)
    test_weights = yield_weights(events, test)
    train_w = balanced_weights(events.labels[train], yield_weights(events, train))
    val_w = balanced_weights(events.labels[validation], yield_weights(events, validation))
    family = estimator_class(estimator)
    rows, all_scores = [], []
    for k in range(int(seeds)):
        seed_dir = out / f"seed_{k}"
        if (seed_dir / RESULT_FILE).is_file() and (seed_dir / "scores.npy").is_file():
            rows.append(json.loads((seed_dir / RESULT_FILE).read_text()))
            all_scores.append(np.load(seed_dir / "scores.npy"))
            log.info("seed %d: finished earlier, reused", k)
            continue
        setup = ClassifierSetup(estimator=estimator, options=dict(options or {}), events=events, train=train,
                                validation=validation, train_weights=train_w, validation_weights=val_w,
                                out=seed_dir, loss=loss, config=replace(config, seed=k), progress=progress)
        if seed_dir.exists():  # an interrupted seed: classifiers do not resume mid-way, it trains again
            shutil.rmtree(seed_dir)
        seed_dir.mkdir()
        start = time.perf_counter()
        model = family.trained_classifier(setup)
        seconds = time.perf_counter() - start
        result, scores = _seed_result(setup, model, events, test, test_weights, lumi_pb, rel_syst, seconds,
                                      _epochs_run(seed_dir))
        with atomic_write(seed_dir / "scores.npy") as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, scores)
        atomic_write_text(seed_dir / RESULT_FILE, json.dumps(result, indent=2))
        rows.append(result)
        all_scores.append(scores)
    metrics = ClassifyResult(
        **settings,
        processes=events.process_names,
        events=events.counts(),
        selected_cross_section_pb=events.cross_sections(),
        split_events={"train": int(len(train)), "validation": int(len(validation)), "test": int(len(test))},
        lumi_fb=float(lumi_fb),
        rel_syst=float(rel_syst),
        seeds=rows,
        summary=summarise_seeds(rows),
    )
    metrics.out = out
    with atomic_write(out / SCORES_FILE) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, index=test, labels=events.labels[test], weights=test_weights, scores=np.stack(all_scores))
    atomic_write_text(out / METRICS_FILE, json.dumps(metrics, indent=2))
    if figure:
        from lfi.roc_figure import plot_roc

        curves = {f"seed {r['seed']}": (np.array(r["roc"]["eps_s"]), np.array(r["roc"]["eps_b"], float))
                  for r in rows}
        plot_roc(curves, out / "roc.png", title=f"{estimator} ({loss}): {events.signal} vs "
                 f"{' + '.join(n for n in events.process_names if n != events.signal)}")
    return metrics


def _check_settings(out: Path, settings: dict) -> None:
    """Refuse to mix seeds of different settings in one directory."""
    saved_file = out / "settings.json"
    if not saved_file.is_file():
        return
    try:
        saved = json.loads(saved_file.read_text())
    except (OSError, json.JSONDecodeError):
        return
    changed = [k for k in _SETTINGS if saved.get(k) != settings.get(k)]
    if changed:
        raise ResumeMismatchError(f"{out} holds models trained with other settings ({', '.join(changed)} differ): "
                                  "pick another --out")
