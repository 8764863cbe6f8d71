"""``lfi info FILE``: a readable summary of an event file, with its cut flow when it has one."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_commands", "print_info", "format_info"]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="summarise an event file: parameters, benchmarks, cross sections")
    p.add_argument("file", help="event file (.h5)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfi.events import EventSample

    info = EventSample.read_info(args.file)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def print_info(path) -> None:
    from lfi.events import EventSample

    print(format_info(EventSample.read_info(path)))


def format_info(info: dict) -> str:
    """Human-readable text of :meth:`lfi.events.EventSample.read_info`'s dict."""
    units = f" [{info['units']}]" if info["units"] else ""
    lines = [
        f"file         {info['file']}",
        f"events       {info['events']:,} ({info['object_slots']} object slots)",
        f"parameters   {', '.join(info['parameters']) or '- (weights at the SM only)'}{units}",
        f"processes    {', '.join(info['cross_section_pb_by_process'])}",
        f"observables  {', '.join(info['observables']) or '-'}",
        f"globals      {', '.join(info['globals']) or '-'}",
        f"truth        {', '.join(info['truth']) or '-'}",
    ]
    lines += _generation_lines(info.get("metadata") or {})
    lines += _selection_lines(info.get("metadata") or {})
    if info["morphing_basis"]:
        lines.append(f"morphing     {len(info['morphing_basis'])} components, basis {', '.join(info['morphing_basis'])}")
    else:
        lines.append("morphing     none (weights known at the benchmarks only)")
    nuisances = info.get("nuisances") or {}
    if nuisances:
        lines.append("nuisances    " + "; ".join(
            f"{name} (up {up}" + (f", down {down})" if down else ", one-sided)") for name, (up, down) in nuisances.items()))
    if info["negative_weight_fraction"]:
        lines.append(f"negative w   {100 * info['negative_weight_fraction']:.2f} % of weights")
    lines += _cutflow_lines(info.get("metadata") or {})
    name_width = max(len(n) for n in info["benchmarks"]) if info["benchmarks"] else 4
    header = "  ".join(f"{p:>9}" for p in info["parameters"])
    lines += ["", f"{'benchmark':<{name_width}}  {header}  {'σ [pb]':>12}"]
    variations = {b for pair in nuisances.values() for b in pair if b}
    for name, theta in info["benchmarks"].items():
        values = "  ".join(f"{v:>9.4g}" for v in theta)
        flag = "  (nuisance variation)" if name in variations else ""
        lines.append(f"{name:<{name_width}}  {values}  {info['cross_section_pb'][name]:>12.6g}{flag}")
    return "\n".join(lines)


def _cutflow_lines(metadata: dict) -> list[str]:
    """The cut-flow table (:mod:`lfi.events.cutflow`), a line saying why a malformed one is not shown, or none."""
    from lfi.events.cutflow import CUTFLOW_KEY, check_cutflows, format_table

    if not isinstance(metadata, dict) or CUTFLOW_KEY not in metadata:
        return []
    problem = check_cutflows(metadata[CUTFLOW_KEY])
    if problem:
        return [f"cut flow     not shown: metadata {CUTFLOW_KEY!r} is malformed ({problem})"]
    return ["", format_table(metadata[CUTFLOW_KEY])]


def _selection_lines(metadata: dict) -> list[str]:
    """The cuts and added observables recorded by ``lfi select`` / ``lfi observables`` (docs/selections.md §5)."""
    if not isinstance(metadata, dict):
        return []
    cuts, definitions = metadata.get("cuts"), metadata.get("observable_definitions")
    lines = [f"cuts         {'; '.join(map(str, cuts))}"] if isinstance(cuts, list) and cuts else []
    if isinstance(definitions, dict) and definitions:
        lines.append(f"defined      {'; '.join(f'{k} = {v}' for k, v in definitions.items())}")
    return lines


def _generation_lines(metadata: dict) -> list[str]:
    """Process, σ and selection of an embedded-generator file (empty for other files)."""
    if not isinstance(metadata, dict) or "sigma_pb" not in metadata:
        return []

    def number(key: str) -> float | None:
        value = metadata.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    lines = []
    if isinstance(metadata.get("description"), str):
        lines.append(f"process      {metadata.get('process', '?')}: {metadata['description']}")
    sigma, error = number("sigma_pb"), number("sigma_err_pb")
    if sigma is not None:
        lines.append(f"sigma gen    {sigma:.6g} ± {error or 0:.2g} pb (x BR of the forced decays, before selection)")
    if isinstance(metadata.get("selection"), str):
        lines.append(f"selection    {metadata['selection']}")
    return lines
