"""The TOML file of ``lfi run``: reading it (``tomllib``), checking every key and type, and errors that name the
key and its line (docs/pipelines.md).

Sections, in the order they run::

    [run]            out (folder, relative to the file), title
    [dask]           scheduler (address of a dask.distributed scheduler: sharded samples are generated there)
    [samples.NAME]   simulator, events, seed, level, workers, shards, nuisances  — or  file (an existing event file)
    [train.NAME]     data (a sample), estimator, method, options, epochs, batch_size, learning_rate, patience,
                     seed, ensemble, bootstrap
    [limits.NAME]    data (a sample), models (train names), histograms, truth, lumi ("300/fb", "3/ab" or pb⁻¹), grid,
                     nuisances (stored variations to profile, ["all"] for every one), normalisations ({process = δ})
    [classify.NAME]  data (samples, signal first), estimator, options, loss, seeds, epochs, batch_size,
                     learning_rate, patience, lumi_fb ("300/fb" or fb⁻¹), syst, train_events, signal
    [report]         enabled (default: true when there are limits or classifications)
    [scan]           setting (a dotted key, e.g. "limits.main.lumi"), values, label
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lfi.errors import OptionError
from lfi.luminosity import parse_luminosity

__all__ = ["ConfigError", "PipelineConfig", "read_config", "checked_config", "SCHEMA", "set_dotted"]


class ConfigError(OptionError):
    """A mistake in a pipeline file: the message starts with ``FILE:LINE: KEY:``."""


_NUMBER = (int, float)
#: Keys that hold a luminosity ("300/fb", "3/ab" or a bare number in the unit given here).
_LUMINOSITY_UNITS = {"lumi": "pb", "lumi_fb": "fb"}
#: section → key → (accepted types, required)
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "run": {"out": ((str,), True), "title": ((str,), False)},
    "dask": {"scheduler": ((str,), True)},
    "samples": {"simulator": ((str,), False), "file": ((str,), False), "events": ((int,), False),
                "seed": ((int,), False), "level": ((str,), False), "workers": ((int,), False),
                "shards": ((int,), False), "nuisances": ((bool,), False)},
    "train": {"data": ((str,), True), "estimator": ((str,), True), "method": ((str,), True),
              "options": ((dict,), False), "epochs": ((int,), False), "batch_size": ((int,), False),
              "learning_rate": (_NUMBER, False), "patience": ((int,), False), "seed": ((int,), False),
              "ensemble": ((int,), False), "bootstrap": ((bool,), False)},
    "limits": {"data": ((str,), True), "models": ((list,), False), "histograms": ((list,), False),
               "truth": ((bool,), False), "lumi": (_NUMBER + (str,), True), "grid": ((str,), False),
               "nuisances": ((list,), False), "normalisations": ((dict,), False)},
    "classify": {"data": ((list,), True), "estimator": ((str,), True), "options": ((dict,), False),
                 "loss": ((str,), False), "seeds": ((int,), False), "epochs": ((int,), False),
                 "batch_size": ((int,), False), "learning_rate": (_NUMBER, False), "patience": ((int,), False),
                 "lumi_fb": (_NUMBER + (str,), False), "syst": (_NUMBER, False), "train_events": ((int,), False),
                 "signal": ((str,), False)},
    "report": {"enabled": ((bool,), False)},
    "scan": {"setting": ((str,), True), "values": ((list,), True), "label": ((str,), False)},
}
_NAMED = ("samples", "train", "limits", "classify")  # sections made of named tables


@dataclass
class PipelineConfig:
    """A checked pipeline file.

    Attributes
    ----------
    path : Path
    text : str
        The file's text (for line numbers).
    data : dict
        The parsed tables.
    out : Path
        Output folder (``[run] out`` relative to the file's folder).
    """

    path: Path
    text: str
    data: dict[str, Any]
    out: Path

    def line_of(self, dotted: str) -> int | None:
        return _line_of(self.text, dotted)

    def error(self, dotted: str, message: str) -> ConfigError:
        """A :class:`ConfigError` for the key ``dotted`` (``train.alices.data``)."""
        return _error(self.path, self.text, dotted, message)


def _line_of(text: str, dotted: str) -> int | None:
    """The line (1-based) where ``dotted`` is set: its key inside its table, else the table header."""
    parts = dotted.split(".")
    table, key = parts[:-1], parts[-1]
    current: list[str] = []
    header_line = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\s*([^\[\]]+?)\s*\]", line)
        if header:
            current = [p.strip().strip('"') for p in header.group(1).split(".")]
            if current[: len(parts)] == parts and header_line is None:  # the table, or its first sub-table
                header_line = number
            continue
        match = re.match(r"([A-Za-z0-9_\-\"]+)\s*=", line)
        if match and current == table and match.group(1).strip('"') == key:
            return number
        if match and current == parts[:-2] and match.group(1).strip('"') == parts[-2]:  # inline table
            return number
    return header_line


def _error(path: Path, text: str, dotted: str, message: str) -> ConfigError:
    line = _line_of(text, dotted)
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(f"{where}: {dotted}: {message}")


def _type_names(types: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "an array",
             dict: "a table"}
    return " or ".join(names[t] for t in types)


def _check_table(path: Path, text: str, section: str, name: str | None, table: Any) -> None:
    where = f"{section}.{name}" if name else section
    if not isinstance(table, dict):
        raise _error(path, text, where, "must be a table")
    schema = SCHEMA[section]
    for key, value in table.items():
        if key not in schema:
            raise _error(path, text, f"{where}.{key}", f"unknown key; {section} takes {', '.join(schema)}")
        types, _ = schema[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise _error(path, text, f"{where}.{key}", f"must be {_type_names(types)}, got {value!r}")
        if key in _LUMINOSITY_UNITS:
            try:
                parse_luminosity(value, bare_unit=_LUMINOSITY_UNITS[key], option=f"{where}.{key}")
            except OptionError as err:
                raise _error(path, text, f"{where}.{key}", str(err).split(": ", 1)[1]) from None
    for key, (_, required) in schema.items():
        if required and key not in table:
            raise _error(path, text, where, f"missing key {key!r}")


def read_config(path: str | os.PathLike, out: str | os.PathLike | None = None) -> PipelineConfig:
    """Read and check a pipeline file; every reference (a train's sample, a limit's models) must exist.
    ``out`` replaces ``[run] out`` (relative to the working directory).

    Raises
    ------
    ConfigError
        Not TOML, an unknown section or key, a wrong type, a missing key, a dangling reference; the message
        names the file, the line and the key.
    """
    import tomllib

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the pipeline file ({err.strerror or err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    config = checked_config(path, text, data)
    if out is not None:
        config.out = Path(out).resolve()
    return config


def checked_config(path: Path, text: str, data: dict) -> PipelineConfig:
    """Check parsed tables (a file's, or a scan point's variant of them); see :func:`read_config`."""
    for section, content in data.items():
        if section not in SCHEMA:
            raise _error(path, text, section, f"unknown section; sections are {', '.join(SCHEMA)}")
        if section in _NAMED:
            if not isinstance(content, dict) or not content:
                raise _error(path, text, section, f"give named tables, e.g. [{section}.main]")
            for name, table in content.items():
                _check_table(path, text, section, name, table)
        else:
            _check_table(path, text, section, None, content)
    if "run" not in data:
        raise ConfigError(f"{path}: missing section [run] (with out = \"FOLDER\")")
    config = PipelineConfig(path, text, data, (path.parent / data["run"]["out"]).resolve())
    _check_references(config)
    return config


def _check_references(config: PipelineConfig) -> None:
    data = config.data
    samples = data.get("samples", {})
    for name, table in samples.items():
        if ("file" in table) == ("simulator" in table):
            raise config.error(f"samples.{name}", "give either simulator (with events) or file")
        if "simulator" in table and "events" not in table:
            raise config.error(f"samples.{name}", "missing key 'events'")
        if "file" in table and not (config.path.parent / table["file"]).is_file():
            raise config.error(f"samples.{name}.file", f"no such file {table['file']!r} (relative to the config)")
    for section in ("train", "limits"):
        for name, table in data.get(section, {}).items():
            if table["data"] not in samples:
                raise config.error(f"{section}.{name}.data", f"no sample {table['data']!r}; samples: "
                                   f"{', '.join(samples) or 'none'}")
    trained = data.get("train", {})
    for name, table in data.get("limits", {}).items():
        for model in table.get("models", []):
            if model not in trained:
                raise config.error(f"limits.{name}.models", f"no [train.{model}]; trained: {', '.join(trained) or 'none'}")
        for histogram in table.get("histograms", []):
            if not (isinstance(histogram, list) and 1 <= len(histogram) <= 2 and all(isinstance(h, str) for h in histogram)):
                raise config.error(f"limits.{name}.histograms", "each histogram is an array of 1 or 2 observable names")
        if not all(isinstance(n, str) for n in table.get("nuisances", [])):
            raise config.error(f"limits.{name}.nuisances", 'give names of stored variations, e.g. ["all"]')
        for process, delta in table.get("normalisations", {}).items():
            if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
                raise config.error(f"limits.{name}.normalisations", f"{process} = {delta!r}: give a relative "
                                   "uncertainty > 0, e.g. { wbf = 0.05 }")
    for name, table in data.get("classify", {}).items():
        if len(table["data"]) < 2 or any(d not in samples for d in table["data"]):
            raise config.error(f"classify.{name}.data", "give two or more sample names, signal first; samples: "
                               f"{', '.join(samples) or 'none'}")
    scan = data.get("scan")
    if scan is not None:
        try:
            set_dotted(dict(data), scan["setting"], scan["values"][0] if scan["values"] else None)
        except KeyError as err:
            raise config.error("scan.setting", f"no such setting to scan ({err.args[0]})") from None
        if not scan["values"]:
            raise config.error("scan.values", "give at least one value")


def set_dotted(data: dict, dotted: str, value: Any) -> dict:
    """A copy of ``data`` with the existing-or-new key ``dotted`` (``limits.main.lumi``) set to ``value``; every
    table on the way must exist (KeyError naming the missing part otherwise)."""
    import copy

    out = copy.deepcopy(data)
    parts = dotted.split(".")
    node = out
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(".".join(parts[: depth + 1]))
        node = node[part]
    if not isinstance(node, dict):
        raise KeyError(dotted)
    section = parts[0]
    key = parts[-1]
    schema = SCHEMA.get(section, {})
    if key not in schema and not (len(parts) > 3 and parts[-2] == "options"):
        raise KeyError(dotted)
    node[key] = value
    return out
