"""Expected limits from files: load a test sample and trained estimators, compute every likelihood map on a
θ grid, summarise the contours, write maps, summary and figure. Callable from Python and notebooks;
``lfi limits`` only parses its arguments and prints :func:`format_table` and :func:`format_training`.

Everything a user can get wrong (the grid, θ*, the luminosity, observables, models, the device, the output
directory, a grid too large for memory) is checked before the first map is computed and refused with one
:class:`lfi.errors.LfiError` line.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lfi import limits
from lfi.errors import EventFileError, LfiError, ModelError, ModelNotFoundError, OptionError, UnknownNameError
from lfi.evaluate import DEFAULT_CHUNK, estimator_map, histogram_map, truth_map
from lfi.events import EventSample
from lfi.files import atomic_write, atomic_write_text
from lfi.limits.checks import check_lumi

__all__ = ["LimitsResult", "expected_limits", "write_limits", "format_table", "format_training", "check_out_dir",
           "default_grid", "DEFAULT_GRID_POINTS", "memory_estimate", "available_memory", "training_record"]

log = logging.getLogger("lfi.limits")

#: Bytes per grid point besides the maps themselves: the points and their meshgrid, the contour summary, the
#: Wilks p-values and the figure (measured with tracemalloc on 2-D grids, rounded up).
BYTES_PER_POINT = 160
#: Bytes per (test event × grid point of one chunk): log p̂ or morphed weights in float64, their copies and sorts.
BYTES_PER_EVENT_POINT = 48
#: Memory that one chunk of grid points may take; larger samples get smaller chunks.
CHUNK_BUDGET = 512 * 2**20


@dataclass
class LimitsResult:
    """Likelihood maps on one θ grid and their contour summary.

    Attributes
    ----------
    axes : list of ndarray
        Grid axes, one per parameter (in ``units``).
    maps : dict of str to ndarray, shape (T,)
        Expected q(θ) = −2Δlog L per map, T = product of the axis lengths.
    summary : dict
        JSON-able: data file, luminosity (pb⁻¹), θ*, grid, parameters, and per map the contour areas, open
        flags, best fit, (with a truth map) the comparison to the truth and (for a model whose directory tells)
        ``training``: epochs run, the maximum and whether early stopping ended it; for an ensemble ``members``:
        each member's contour areas and their spread (standard deviation) per CL.
    member_maps : dict of str to list of ndarray, shape (T,)
        For ensembles: every member's q(θ) (the map itself uses the members' mean log r̂).
    parameters : list of str
    units : str
    theta_true : ndarray, shape (D,)
    lumi : float
        Integrated luminosity in pb⁻¹.
    """

    axes: list[np.ndarray]
    parameters: list[str]
    units: str
    theta_true: np.ndarray
    lumi: float
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    member_maps: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)


# ----------------------------------------------------------------------------------------------------- checks

def check_out_dir(out: str | os.PathLike) -> Path:
    """The output directory ``out`` if it is one or can be made; else one :class:`OptionError` line naming --out."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: exists and is not a directory (give a directory for the maps and limits.json)")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OptionError(f"--out {out}: {parent} is a file, not a directory")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OptionError(f"--out {out}: cannot write in {parent} (permission denied)")
    return out


#: Points per parameter of the default grid.
DEFAULT_GRID_POINTS = 41


def default_grid(sample: EventSample, n_points: int = DEFAULT_GRID_POINTS) -> str:
    """``"low:high:n,..."`` over the range the sample's benchmarks span in each parameter (which includes the
    morphing basis), widened to include the SM point 0."""
    low = np.minimum(sample.benchmark_theta.min(axis=0), 0.0)
    high = np.maximum(sample.benchmark_theta.max(axis=0), 0.0)
    if np.any(high <= low):
        raise OptionError(f"the benchmarks of {sample.parameters} span no range in every parameter: give --grid")
    return ",".join(f"{a:.6g}:{b:.6g}:{n_points}" for a, b in zip(low, high))


def _grid_axes(grid: str | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(grid, str):
        return limits.grid_axes(grid)
    axes = [np.asarray(a, float) for a in grid]
    for j, a in enumerate(axes):
        if a.ndim != 1 or len(a) < 2 or not np.all(np.isfinite(a)) or np.any(np.diff(a) <= 0):
            raise OptionError(f"grid axis {j} must be a strictly increasing 1-D array of ≥ 2 finite values")
    return axes


def _grid_text(axes: Sequence[np.ndarray], parameters: Sequence[str]) -> str:
    return ", ".join(f"{name} ∈ [{a[0]:g}, {a[-1]:g}]" for name, a in zip(parameters, axes))


def _theta_true(theta_true: Sequence[float] | None, axes: list[np.ndarray], parameters: list[str]) -> np.ndarray:
    """θ* as an array; refuses a wrong length, a non-finite value or a point outside the grid."""
    if theta_true is None:
        theta = np.zeros(len(parameters))
    else:
        try:
            theta = np.asarray(theta_true, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise OptionError(f"--true {theta_true!r}: not a list of numbers") from None
    if len(theta) != len(parameters) or not np.all(np.isfinite(theta)):
        raise OptionError(f"--true {','.join(f'{v:g}' for v in theta)}: needs {len(parameters)} finite values, "
                          f"one per parameter ({', '.join(parameters)})")
    outside = [name for name, v, a in zip(parameters, theta, axes)
               if not (a[0] - 1e-9 * (a[-1] - a[0]) <= v <= a[-1] + 1e-9 * (a[-1] - a[0]))]
    if outside:
        where = "θ* = the SM (all zeros, the default of --true)" if theta_true is None else \
            f"--true {','.join(f'{v:g}' for v in theta)}"
        raise OptionError(f"{where} lies outside the grid ({_grid_text(axes, parameters)}; off in "
                          f"{', '.join(outside)}): the best fit and the contours would be cut off at the grid "
                          "edge; widen --grid or move --true")
    return theta


def available_memory() -> int | None:
    """Bytes this process can still allocate: the least of free memory (MemAvailable), the cgroup limit and
    ``ulimit -v``; ``None`` where none of them can be read (then nothing is refused for memory)."""
    bounds: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                bounds.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text != "max" and int(limit_text) < 2**60:
                bounds.append(int(limit_text) - int(Path(usage_file).read_text().strip()))
            break
        except (OSError, ValueError):
            continue
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = 0
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
            bounds.append(soft - used)
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    return max(min(bounds), 0) if bounds else None


def memory_estimate(n_points: int, n_events: int, n_parameters: int, n_maps: int, chunk: int) -> int:
    """Bytes that computing and writing ``n_maps`` maps on ``n_points`` grid points takes at its peak.

    The whole grid costs a few numbers per point (points, the q maps, contour summary, p-values, figure); every
    array that grows with the test events is made one chunk of ``chunk`` grid points at a time.
    """
    per_point = 32 * n_parameters + 16 * max(n_maps, 1) + BYTES_PER_POINT
    return int(n_points) * per_point + int(n_events) * int(chunk) * BYTES_PER_EVENT_POINT


def _chunk_and_memory(grid_spec: str, n_points: int, n_events: int, n_parameters: int, n_maps: int) -> int:
    """The number of grid points per chunk; refuses a grid whose maps do not fit in the available memory."""
    chunk = int(np.clip(CHUNK_BUDGET // max(n_events * BYTES_PER_EVENT_POINT, 1), 1, DEFAULT_CHUNK))
    need = memory_estimate(n_points, n_events, n_parameters, n_maps, chunk)
    free = available_memory()
    if free is not None and need > 0.8 * free:
        per_axis = max(int((0.5 * free / memory_estimate(1, 0, n_parameters, n_maps, 0)) ** (1 / n_parameters)), 2)
        raise OptionError(
            f"--grid {grid_spec}: {n_points:,} grid points × {n_events:,} test events for {n_maps} map(s) need about "
            f"{_gib(need)} of memory, {_gib(free)} are available; use fewer points per axis (at most about "
            f"{per_axis:,}) or a smaller test file")
    return chunk


def _gib(n_bytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f} {unit}"
    return f"{n_bytes / 2**20:.2f} MiB"


# ------------------------------------------------------------------------------------------------------ models

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def training_record(directory: str | os.PathLike, metadata: dict | None = None) -> dict | None:
    """How long a saved model trained, where its directory tells; ``None`` where it does not.

    Networks: ``{"epochs": n, "max_epochs": m, "early_stopped": n < m}`` from ``history.json`` (one entry per
    epoch) and ``train_options.json`` (``config.epochs``), or from ``progress.json``; ``max_epochs`` and
    ``early_stopped`` are ``None`` when the maximum is not recorded. The BDT: ``{"rounds": n, "best_round": k}``.
    """
    directory, metadata = Path(directory), metadata or {}
    if "epochs" in metadata:
        epochs, max_epochs = int(metadata["epochs"]), metadata.get("max_epochs")
    else:
        history = _read_json(directory / "history.json")
        if not isinstance(history, list):
            history = None
        if history and all(isinstance(h, dict) and "round" in h for h in history):
            config = _read_json(directory / "config.json") or {}
            best = config.get("best_iteration") if isinstance(config, dict) else None
            return {"rounds": len(history), "best_round": int(best) if best else None}
        progress = _read_json(directory / "progress.json")
        progress = progress if isinstance(progress, dict) else {}
        if history is not None:
            epochs = len(history)
        elif isinstance(progress.get("epoch"), int):
            epochs = progress["epoch"]
        else:
            return None
        options = _read_json(directory / "train_options.json")
        config = options.get("config") if isinstance(options, dict) else None
        max_epochs = config.get("epochs") if isinstance(config, dict) else None
        if max_epochs is None:
            max_epochs = progress.get("max_epochs")
    if not isinstance(max_epochs, int) or isinstance(max_epochs, bool):
        return {"epochs": epochs, "max_epochs": None, "early_stopped": None}
    return {"epochs": epochs, "max_epochs": max_epochs, "early_stopped": epochs < max_epochs}


def _training_files(directory: Path, metadata: dict) -> list[Path]:
    """Where the model's training file may be: ``metadata["train_file"]`` (as typed, so a relative path is
    tried from here and from the model's parent directory) and ``train_options.json`` (resolved)."""
    names = []
    if metadata.get("train_file"):
        names.append(str(metadata["train_file"]))
    options = _read_json(directory / "train_options.json")
    data = options.get("data") if isinstance(options, dict) else None
    if isinstance(data, dict) and data.get("file"):
        names.append(str(data["file"]))
    out: list[Path] = []
    for name in names:
        path = Path(name).expanduser()
        for candidate in ([path] if path.is_absolute() else [Path.cwd() / path, directory.resolve().parent / path]):
            if candidate not in out:
                out.append(candidate)
    return out


def _warn_if_training_file(data: Path, directory: Path, metadata: dict) -> None:
    """A warning when the test file is the model's training file (same file, or a copy with the same size and
    modification time, or, for files up to 256 MiB, the same SHA-256 as recorded at training)."""
    try:
        stat = data.stat()
    except OSError:
        return
    why = None
    for candidate in _training_files(directory, metadata):
        try:
            if os.path.samefile(candidate, data):
                why = "the same file"
                break
            other = candidate.stat()
            if other.st_size == stat.st_size and other.st_mtime_ns == stat.st_mtime_ns:
                why = f"a copy of {candidate}: same size and modification time"
        except OSError:
            continue
    if why is None and stat.st_size <= 256 * 2**20:
        options = _read_json(directory / "train_options.json")
        recorded = (options.get("data") or {}).get("sha256") if isinstance(options, dict) else None
        if isinstance(recorded, str) and recorded:
            from lfi.train.setup import file_sha256

            if file_sha256(data) == recorded:
                why = "the same content: SHA-256 as recorded at training"
    if why:
        log.warning("warning: --model %s was trained on --data %s (%s): its limits are biased (too tight); use an "
                    "independent test file", directory, data, why)


def _load_models(models: Sequence[str | os.PathLike], sample: EventSample, data: Path) -> list[tuple[str, Any, Path]]:
    """Load every model before any map is computed; refuse what cannot give a map on this sample."""
    import estimators

    loaded, names = [], {}
    for directory in models:
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelNotFoundError(f"--model {directory}: no such directory")
        try:
            estimator = estimators.load(directory)
        except LfiError:
            raise
        except FileNotFoundError as err:
            raise ModelNotFoundError(f"--model {directory}: {err}") from None
        kind = getattr(estimator, "kind", None)
        if kind not in ("ratio", "score"):
            raise OptionError(f"--model {directory}: a {kind} estimator gives no likelihood map "
                              "(train a ratio or score method)")
        trained_for = estimator.metadata.get("parameters")
        if trained_for is not None and list(trained_for) != list(sample.parameters):
            raise ModelError(f"--model {directory}: trained for parameters {', '.join(trained_for)}, but {data} has "
                             f"{', '.join(sample.parameters)}")
        name = f"{estimator.metadata.get('method', 'model')}_{directory.name}"
        if name in names:
            raise OptionError(f"--model {directory} and {names[name]} give the same map name {name!r}; "
                              "give each model once, in directories of different names")
        names[name] = directory
        _warn_if_training_file(data, directory, estimator.metadata)
        loaded.append((name, estimator, directory))
    return loaded


def _device(device: str) -> str:
    """``device`` checked before any work: one OptionError line for a name torch does not know or a missing GPU."""
    from lfi.train.trainer import resolve_device

    return str(resolve_device(device))


# -------------------------------------------------------------------------------------------------- the job

def expected_limits(data: str | os.PathLike, *, models: Sequence[str | os.PathLike] = (),
                    histograms: Sequence[Sequence[str]] = (), truth: bool = False, lumi: float,
                    grid: str | Sequence[np.ndarray] | None = None, theta_true: Sequence[float] | None = None,
                    binning: str = "auto", device: str = "cpu") -> LimitsResult:
    """Expected (Asimov) likelihood maps of estimators, histograms and the truth on a θ grid.

    Every argument is checked before the first map is computed (see the module docstring).

    Parameters
    ----------
    data : path-like
        Test event file (not the training file: a model trained on it gets a warning, its limits are biased).
    models : sequence of path-like
        Saved estimator directories (any family: networks, ``bdt``); each map is named ``<method>_<dir name>``.
    histograms : sequence of sequence of str
        Observable names of 1-D or 2-D histogram baselines; each map is named ``histogram_<names>``.
    truth : bool
        Add the exact likelihood (needs a sample that carries it).
    lumi : float
        Integrated luminosity in pb⁻¹.
    grid : str or sequence of ndarray, optional
        ``"low:high:n,low:high:n"`` or the axes themselves, one per parameter. Default: :data:`DEFAULT_GRID_POINTS`
        points per parameter over the range the sample's benchmarks span (:func:`default_grid`); the summary's
        ``grid`` says which grid was used.
    theta_true : sequence of float, optional
        The true point θ* (default: the SM, all zeros); it must lie on the grid's range.
    binning : {"auto", "reference"}
        Histogram bins (see :func:`lfi.evaluate.histogram_map`).
    device : str
        Where networks run: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.

    Raises
    ------
    lfi.errors.LfiError
        One line for anything a user can fix: ``OptionError`` (grid, θ*, luminosity, binning, device, a grid too
        large for memory), ``UnknownNameError`` (observable), ``EventFileError`` (the file, or a sample without
        morphing or truth), ``ModelError`` (a model that does not fit the sample).
    """
    if not (models or histograms or truth):
        raise OptionError("nothing to evaluate: give models, histograms or truth")
    lumi = check_lumi(lumi)
    if binning not in ("auto", "reference"):
        raise OptionError(f"binning must be auto or reference, got {binning!r}")
    histograms = [list(names) for names in histograms]
    for names in histograms:
        if not names:
            raise OptionError("--histogram needs one or two observable names, e.g. pt_j1 or pt_j1,delta_phi_jj")
        if binning == "reference":
            limits.reference_edges(names)
    data = Path(data)
    sample = EventSample.load(data)
    if grid is None:
        grid = default_grid(sample)
        log.info("grid: %s (%d points per parameter over the benchmarks' range; set --grid to choose)",
                 grid, DEFAULT_GRID_POINTS)
    axes = _grid_axes(grid)
    if len(axes) not in (1, 2):
        raise OptionError(f"--grid has {len(axes)} axes: contours need a grid over 1 or 2 parameters")
    if len(axes) != sample.n_parameters:
        raise OptionError(f"the grid has {len(axes)} axes but the sample has {sample.n_parameters} parameters")
    if not sample.can_morph:
        raise EventFileError(f"{data}: carries no /morphing group: its weights are known only at the benchmarks, "
                             "and a likelihood map needs them at every θ of the grid")
    theta_true = _theta_true(theta_true, axes, sample.parameters)
    for names in histograms:
        missing = [name for name in names if name not in sample.observables]
        if missing:
            raise UnknownNameError(f"--histogram: no observable {missing[0]!r} in {data}; it has "
                                   f"{', '.join(sorted(sample.observables))}")
    if truth:
        from lfi.truth import has_exact_likelihood

        if not has_exact_likelihood(sample):
            raise EventFileError(f"--truth: {data} carries no exact likelihood (needs /truth/events/"
                                 "density_coefficients and /truth/sigma_coefficients; the toy has them)")
    n_points = int(np.prod([len(a) for a in axes]))
    grid_spec = grid if isinstance(grid, str) else ",".join(f"{a[0]:g}:{a[-1]:g}:{len(a)}" for a in axes)
    chunk = _chunk_and_memory(grid_spec, n_points, len(sample), len(axes), len(models) + len(histograms) + truth)
    loaded = _load_models(models, sample, data)
    if loaded:
        device = _device(device)
    points = limits.grid_points(axes)
    result = LimitsResult(axes, sample.parameters, sample.units, theta_true, lumi)
    if truth:
        result.maps["truth"] = truth_map(sample, points, theta_true, lumi, chunk=chunk)
    for names in histograms:
        result.maps["histogram_" + "_".join(names)] = histogram_map(sample, names, points, theta_true, lumi,
                                                                    binning=binning, chunk=chunk)
    training = {}
    for name, estimator, directory in loaded:
        result.maps[name] = _model_map(estimator, directory, sample, points, theta_true, lumi, device, chunk)
        members = getattr(estimator, "members", None)  # an ensemble: each member's map gives the spread
        if members:
            result.member_maps[name] = [_model_map(m, directory, sample, points, theta_true, lumi, device, chunk)
                                        for m in members]
        record = training_record(directory, estimator.metadata)
        if record is not None:
            training[name] = record
    result.summary = {"data": str(data), "lumi_pb": float(lumi), "theta_true": theta_true.tolist(),
                      "grid": grid if isinstance(grid, str) else [[float(a[0]), float(a[-1]), len(a)] for a in axes],
                      "parameters": sample.parameters, "maps": {}}
    for name, q in result.maps.items():
        entry = limits.contour_summary(q, axes)
        if "truth" in result.maps and name != "truth":
            entry["versus_truth"] = limits.map_difference(q, result.maps["truth"], axes)
        if name in training:
            entry["training"] = training[name]
        if name in result.member_maps:
            entry["members"] = _member_spread(result.member_maps[name], axes)
        result.summary["maps"][name] = entry
    return result


def _member_spread(member_maps: list[np.ndarray], axes: list[np.ndarray]) -> dict:
    """Contour areas of every ensemble member and their spread (standard deviation over members) per CL."""
    areas = [limits.contour_summary(q, axes)["areas"] for q in member_maps]
    by_level = {level: [a[level] for a in areas] for level in areas[0]}
    spread = {level: (float(np.std([v for v in values if v is not None], ddof=1))
                      if sum(v is not None for v in values) > 1 else None) for level, values in by_level.items()}
    return {"count": len(member_maps), "areas": by_level, "area_spread": spread}


def _model_map(estimator, directory: Path, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
               lumi: float, device: str, chunk: int) -> np.ndarray:
    try:
        return estimator_map(estimator, sample, points, theta_true, lumi, device=device, chunk=chunk)
    except RuntimeError as err:
        import torch

        if isinstance(err, torch.cuda.OutOfMemoryError):
            raise OptionError(f"--device {device}: out of GPU memory evaluating --model {directory}; use --device cpu")
        raise


def write_limits(result: LimitsResult, out: str | os.PathLike) -> list[Path]:
    """Write ``q_<name>.npy`` (q on the grid), ``p_<name>.npy`` (Wilks p-values), ``limits.json`` and, for two
    parameters, ``contours.png`` into ``out``; every file atomically. Returns the paths written.

    Raises
    ------
    lfi.errors.OptionError
        If ``out`` is a file or cannot be made (see :func:`check_out_dir`).
    """
    out = check_out_dir(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError(f"--out {out}: cannot make the directory ({err.strerror or err})") from None
    written = []
    for name, q in result.maps.items():
        p = limits.p_value(np.clip(q, 0.0, None), dof=len(result.axes))
        for prefix, values in (("q", q), ("p", p)):
            path = out / f"{prefix}_{name}.npy"
            with atomic_write(path) as tmp:
                np.save(tmp, values.reshape(result.shape))
            written.append(path)
    written.append(atomic_write_text(out / "limits.json", json.dumps(result.summary, indent=2)))
    if len(result.axes) == 2:
        from lfi.report import plot_contours

        written.append(plot_contours({k: v.reshape(result.shape) for k, v in result.maps.items()}, result.axes,
                                     out / "contours.png", parameters=result.parameters, units=result.units,
                                     theta_true=result.theta_true,
                                     title=f"expected limits, L = {result.lumi:g} pb⁻¹",
                                     members={k: [q.reshape(result.shape) for q in v]
                                              for k, v in result.member_maps.items()}))
    return written


def format_table(summary: dict) -> str:
    """Contour areas and best fit per map; "*" marks a region cut off by the grid edge (area = lower bound)."""
    lines, levels = [], None
    for name, entry in summary["maps"].items():
        if levels is None:
            levels = list(entry["areas"])
            lines.append(f"{'map':<32} " + " ".join(f"{'area ' + lv + '%':>15}" for lv in levels) + f"  {'best fit':>20}")
        cells = []
        for lv in levels:
            area = entry["areas"][lv]
            text = f"{area:.4g}" if area is not None else "nan"
            cells.append(f"{text + ('*' if entry['open'][lv] else ' '):>15}")
        best = ", ".join(f"{v:.3g}" for v in entry["best_fit"])
        lines.append(f"{name:<32} {' '.join(cells)}  {best:>20}")
    if any(any(e["open"].values()) for e in summary["maps"].values()):
        lines.append("* the region reaches the grid edge: its area is a lower bound (widen --grid)")
    return "\n".join(lines)


def format_training(summary: dict) -> list[str]:
    """One line per model whose training is known (epochs run, of how many, whether early stopping ended it), and
    one per ensemble (the spread of its members' contour areas)."""
    lines = []
    for name, entry in summary["maps"].items():
        record = entry.get("training")
        if not record:
            continue
        if "rounds" in record:
            best = f", best round {record['best_round']}" if record.get("best_round") else ""
            lines.append(f"{name}: trained {record['rounds']} boosting rounds{best}")
        elif record.get("max_epochs") is None:
            lines.append(f"{name}: trained {record['epochs']} epochs (maximum not recorded)")
        elif record["early_stopped"]:
            lines.append(f"{name}: trained {record['epochs']} of {record['max_epochs']} epochs, ended by early stopping")
        else:
            lines.append(f"{name}: trained {record['epochs']} of {record['max_epochs']} epochs, the maximum "
                         "(not ended by early stopping)")
    for name, entry in summary["maps"].items():
        members = entry.get("members")
        if members:
            spread = ", ".join(f"{level} %: ±{value:.3g}" for level, value in members["area_spread"].items()
                               if value is not None)
            lines.append(f"{name}: ensemble of {members['count']} members, spread of the contour areas {spread}")
    return lines
