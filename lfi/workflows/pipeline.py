"""``lfi run CONFIG.toml``: a whole analysis from one file — samples → training → limits → classification →
report — that redoes only what changed, and parameter scans (docs/pipelines.md).

Every step has a fingerprint: the SHA-256 of its settings and of its inputs' fingerprints (an event file given
as ``file`` enters by its content). ``OUT/steps.json`` maps fingerprints to finished outputs; a step whose
fingerprint is there is reused, anything else runs (a stale output of the same step is replaced). A scan
(``[scan] setting``, ``values``) runs the pipeline once per value in ``OUT/scan/<k>_<value>/``, reusing every
step the setting does not reach, and writes ``scan.json``, ``scan.md`` and ``scan.png``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lfi.errors import OptionError
from lfi.files import atomic_write_text
from lfi.luminosity import parse_luminosity
from lfi.workflows.run_config import PipelineConfig, checked_config, read_config, set_dotted

__all__ = ["run_pipeline", "PipelineResult", "STEPS_FILE"]

log = logging.getLogger("lfi.run")

STEPS_FILE = "steps.json"
_ORDER = ("samples", "train", "limits", "classify", "report")


@dataclass
class Step:
    kind: str
    name: str
    settings: dict[str, Any]
    inputs: list[str] = field(default_factory=list)  # "kind.name" of upstream steps
    fingerprint: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.name}"


@dataclass
class PipelineResult:
    """What a run did: ``outputs`` (step key → path), ``ran`` and ``reused`` step keys, ``scan`` rows."""

    out: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    scan: list[dict] | None = None


def _file_digest(path: Path) -> str:
    from lfi.train.setup import file_sha256

    return file_sha256(path)


def _plan(config: PipelineConfig) -> list[Step]:
    data, steps = config.data, []
    for name, table in data.get("samples", {}).items():
        settings = dict(table)
        if "file" in settings:
            path = (config.path.parent / settings["file"]).resolve()
            settings = {"file": str(path), "sha256": _file_digest(path)}
        steps.append(Step("samples", name, settings))
    for name, table in data.get("train", {}).items():
        steps.append(Step("train", name, dict(table), [f"samples.{table['data']}"]))
    for name, table in data.get("limits", {}).items():
        inputs = [f"samples.{table['data']}"] + [f"train.{m}" for m in table.get("models", [])]
        steps.append(Step("limits", name, dict(table), inputs))
    for name, table in data.get("classify", {}).items():
        steps.append(Step("classify", name, dict(table), [f"samples.{d}" for d in table["data"]]))
    report = data.get("report", {})
    results = [s.key for s in steps if s.kind in ("limits", "classify")]
    if report.get("enabled", bool(results)) and results:
        steps.append(Step("report", "report", {}, results))
    known: dict[str, str] = {}
    for step in steps:
        payload = {"kind": step.kind, "settings": step.settings, "inputs": [known[i] for i in step.inputs]}
        step.fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
        known[step.key] = step.fingerprint
    return steps


def _target(base: Path, step: Step) -> Path:
    if step.kind == "samples":
        if "file" in step.settings:
            return Path(step.settings["file"])
        return base / "samples" / (step.name if "shards" in step.settings else f"{step.name}.h5")  # shards: a folder
    if step.kind == "report":
        return base / "report"
    return base / step.kind / step.name


def _read_registry(out: Path) -> dict[str, str]:
    try:
        value = json.loads((out / STEPS_FILE).read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _train_config(table: dict, **defaults):
    from lfi.train import TrainConfig

    keys = ("epochs", "batch_size", "learning_rate", "patience", "seed")
    return TrainConfig(**{**defaults, **{k: table[k] for k in keys if k in table}})


def _execute(step: Step, target: Path, paths: dict[str, Path], progress: bool, scheduler: str | None) -> None:
    """Run one step, writing its output to ``target``; sharded samples on ``scheduler`` (Dask) when one is given."""
    s = step.settings
    if step.kind == "samples" and "shards" in s:
        from lfi.workflows.sharded import simulate_sharded

        options = {k: s[k] for k in ("level", "nuisances") if k in s}
        simulate_sharded(s["simulator"], s["events"], target, shards=s["shards"], seed=s.get("seed", 0),
                         options=options, workers=s.get("workers", 1), scheduler=scheduler, progress=progress)
    elif step.kind == "samples":
        import inspect

        import simulators

        simulate = simulators.get(s["simulator"]).simulate
        accepted = inspect.signature(simulate).parameters
        options = {k: s[k] for k in ("level", "workers", "nuisances") if k in s}
        for key in options:
            if key not in accepted:
                raise OptionError(f"{step.key}.{key}: not an option of the {s['simulator']} simulator")
        if "progress" in accepted:
            options["progress"] = progress
        sample = simulate(s["events"], seed=s.get("seed", 0), **options)
        sample.metadata["pipeline_step"] = step.key
        target.parent.mkdir(parents=True, exist_ok=True)
        sample.save(target)
    elif step.kind == "train":
        from lfi.workflows.train import train_estimator

        train_estimator(paths[step.inputs[0]], s["estimator"], s["method"], target, config=_train_config(s),
                        options={k: str(v) for k, v in s.get("options", {}).items()}, progress=progress,
                        ensemble=s.get("ensemble", 1), bootstrap=s.get("bootstrap", False))
    elif step.kind == "limits":
        from lfi.workflows.limits import expected_limits, write_limits

        result = expected_limits(paths[step.inputs[0]], models=[paths[i] for i in step.inputs[1:]],
                                 histograms=s.get("histograms", []), truth=s.get("truth", False), lumi=parse_luminosity(s["lumi"]).pb,
                                 grid=s.get("grid"), nuisances=s.get("nuisances", []),
                                 normalisations={k: float(v) for k, v in s.get("normalisations", {}).items()})
        write_limits(result, target)
    elif step.kind == "classify":
        from lfi.workflows.classification import classify

        classify([paths[i] for i in step.inputs], s["estimator"], target, signal=s.get("signal"),
                 options={k: str(v) for k, v in s.get("options", {}).items()}, loss=s.get("loss", "ce"),
                 seeds=s.get("seeds", 1), lumi_fb=parse_luminosity(s.get("lumi_fb", 100.0), bare_unit="fb").pb / 1000, rel_syst=s.get("syst", 0.2),
                 max_train_events=s.get("train_events"), config=_train_config(s, epochs=20, patience=5),
                 progress=progress)
    else:
        from lfi.workflows.report import make_report

        make_report([paths[i] for i in step.inputs], target)


def _run_steps(config: PipelineConfig, base: Path, registry_dir: Path, progress: bool,
               say: Callable[[str], None]) -> PipelineResult:
    result = PipelineResult(base)
    registry = _read_registry(registry_dir)
    paths: dict[str, Path] = {}
    for step in _plan(config):
        target = _target(base, step)
        known = registry.get(step.fingerprint)
        if step.kind == "samples" and "file" in step.settings:
            paths[step.key] = target
            result.reused.append(step.key)
            continue
        if known is not None and Path(known).exists():
            paths[step.key] = Path(known)
            result.reused.append(step.key)
            say(f"{step.key}: reused {known} (inputs and settings unchanged)")
            continue
        if target.exists():  # a stale output of this step (other settings, or interrupted): replace it
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        for old in [k for k, v in registry.items() if Path(v) == target]:  # it no longer holds their outputs
            del registry[old]
        say(f"{step.key}: running …")
        start = time.perf_counter()
        _execute(step, target, paths, progress, config.data.get("dask", {}).get("scheduler"))
        paths[step.key] = target
        result.ran.append(step.key)
        registry[step.fingerprint] = str(target)
        atomic_write_text(registry_dir / STEPS_FILE, json.dumps(registry, indent=1))
        say(f"{step.key}: done in {time.perf_counter() - start:.1f} s → {target}")
    result.outputs = paths
    return result


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", str(value)).strip("_")[:40] or "value"


def _scan_row(value: Any, outputs: dict[str, Path]) -> dict:
    row: dict[str, Any] = {"value": value}
    for key, path in outputs.items():
        if key.startswith("limits."):
            summary = json.loads((path / "limits.json").read_text())
            for name, entry in summary["maps"].items():
                row[f"{key}.{name}.area_68"] = entry["areas"].get("68.27")
                row[f"{key}.{name}.area_95"] = entry["areas"].get("95.45")
        elif key.startswith("classify."):
            metrics = json.loads((path / "metrics.json").read_text())
            row[f"{key}.auc"] = metrics["summary"]["auc"]["mean"]
    return row


def _write_scan(out: Path, setting: str, label: str, rows: list[dict]) -> None:
    from lfi.roc_figure import plot_metric_curves

    columns = [c for c in rows[0] if c != "value"]
    atomic_write_text(out / "scan.json", json.dumps({"setting": setting, "rows": rows}, indent=1))
    lines = [f"# Scan of {setting}", "", "| " + " | ".join([label] + columns) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for row in rows:
        cells = [f"{row[c]:.4g}" if isinstance(row.get(c), float) else str(row.get(c, "–")) for c in columns]
        lines.append("| " + " | ".join([str(row["value"])] + cells) + " |")
    atomic_write_text(out / "scan.md", "\n".join(lines) + "\n")
    figure = [c for c in columns if c.endswith(".area_95")] or [c for c in columns if c.endswith(".auc")]
    numeric = all(isinstance(r["value"], (int, float)) and not isinstance(r["value"], bool) for r in rows)
    if figure and numeric:
        values = [float(r["value"]) for r in rows]
        curves = {c.rsplit(".", 1)[0]: (values, [r.get(c) for r in rows], None) for c in figure}
        ylabel = "Area of the 95.45 % CL region" if figure[0].endswith("area_95") else "AUC (test)"
        spread = max(values) / min(values) if min(values) > 0 else 1.0
        plot_metric_curves(curves, out / "scan.png", xlabel=label, ylabel=ylabel, logx=spread > 20)


def run_pipeline(path: str | os.PathLike, *, out: str | os.PathLike | None = None, progress: bool = True,
                 say: Callable[[str], None] | None = None) -> PipelineResult:
    """Run the pipeline file ``path`` (see the module docstring).

    Parameters
    ----------
    path : path-like
        A TOML pipeline file (docs/pipelines.md).
    out : path-like, optional
        Output folder instead of the file's ``[run] out``.
    progress : bool
        Progress bars of the long steps.
    say : callable, optional
        Receives one line per step (what ran, what was reused); default: the ``lfi.run`` logger.

    Returns
    -------
    PipelineResult
    """
    say = say or log.info
    config = read_config(path, out)
    config.out.mkdir(parents=True, exist_ok=True)
    scan = config.data.get("scan")
    if scan is None:
        return _run_steps(config, config.out, config.out, progress, say)
    base = {k: v for k, v in config.data.items() if k != "scan"}
    rows, result = [], PipelineResult(config.out)
    for k, value in enumerate(scan["values"]):
        point = checked_config(config.path, config.text, set_dotted(base, scan["setting"], value))
        point.out = config.out
        say(f"scan {scan['setting']} = {value!r} ({k + 1}/{len(scan['values'])})")
        done = _run_steps(point, config.out / "scan" / f"{k:02d}_{_slug(value)}", config.out, progress, say)
        rows.append(_scan_row(value, done.outputs))
        result.ran += [f"{key} ({k})" for key in done.ran]
        result.reused += [f"{key} ({k})" for key in done.reused]
    _write_scan(config.out, scan["setting"], scan.get("label", scan["setting"]), rows)
    result.scan = rows
    return result
