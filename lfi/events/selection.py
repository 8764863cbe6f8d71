"""Cuts and new observables on an :class:`lfi.events.EventSample`, written as expressions or Python callables.

Expressions follow ``docs/selections.md``; both functions return a new sample and record what they did in its
``metadata`` (``"cuts"``: the cuts applied, in order; ``"observable_definitions"``: name → definition), so a
saved file says how it was made. The input sample is never modified.
"""

from __future__ import annotations

import keyword
from dataclasses import replace as replace_fields
from typing import Callable, Mapping, Sequence, Union

import numpy as np

from lfi.errors import OptionError
from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts, check_cutflows, sm_column
from lfi.events.expressions import FUNCTIONS, Expression, parse_expression
from lfi.events.object_names import COLLECTIONS, OWN_QUANTITIES, parse_object_name
from lfi.events.sample import EventSample

__all__ = ["Definition", "select_events", "event_mask", "add_observables"]

Definition = Union[str, Expression, Callable[[EventSample], np.ndarray]]
"""An expression's text, a parsed :class:`Expression`, or a Python function ``f(sample) -> ndarray (N,)``."""


def _label(definition: Definition) -> str:
    """How a definition is written into the metadata."""
    if isinstance(definition, str):
        return definition
    if isinstance(definition, Expression):
        return definition.text
    return f"<python function {getattr(definition, '__qualname__', type(definition).__name__)}>"


def _values(sample: EventSample, definition: Definition, what: str, condition: bool) -> np.ndarray:
    """Values of a definition on every event: bool (N,) for a cut (``condition``), float (N,) otherwise."""
    if isinstance(definition, str):
        definition = parse_expression(definition, [*sample.observables, *sample.global_names], what)
    if isinstance(definition, Expression):
        if condition and not definition.is_condition:
            raise OptionError(f'{what} "{definition.text}": a number, not a condition (e.g. write m_jj > 500)')
        return definition.evaluate(sample)
    if not callable(definition):
        raise OptionError(f"{what}: expected an expression or a function of the sample, "
                          f"got {type(definition).__name__}")
    values = np.asarray(definition(sample))
    wanted = "b" if condition else "biuf"
    if values.shape != (len(sample),) or values.dtype.kind not in wanted:
        raise OptionError(f"{what} {_label(definition)} returned {values.dtype} values of shape {values.shape}; "
                          f"expected {'bool' if condition else 'numbers'} of shape ({len(sample)},)")
    return values


def event_mask(sample: EventSample, cuts: Definition | Sequence[Definition]) -> np.ndarray:
    """Which events pass every cut.

    Parameters
    ----------
    sample : EventSample
    cuts : str, Expression, callable, or a sequence of them
        Conditions (``docs/selections.md``) or functions returning bool of shape (N,); ANDed.

    Returns
    -------
    ndarray, shape (N,), bool
        False where a cut names an object the event lacks (the comparison with NaN is False).
    """
    mask = np.ones(len(sample), dtype=bool)
    for cut in _as_list(cuts):
        mask &= _values(sample, cut, "cut", condition=True)
    return mask


def select_events(sample: EventSample, cuts: Definition | Sequence[Definition]) -> EventSample:
    """The events that pass every cut, with their weights unchanged.

    The cross section at each benchmark after the cuts is the sum of the kept weights (in pb). The cuts are
    appended to ``metadata["cuts"]`` of the result; ``sample`` is not modified.

    Parameters
    ----------
    sample : EventSample
    cuts : str, Expression, callable, or a sequence of them
        E.g. ``"pt(j1) > 30 and m(j1, j2) > 500"`` or ``["n(leptons, abs(eta) < 2.5) >= 4", my_function]``.

    Returns
    -------
    EventSample
        A new sample with the M ≤ N events that pass.

    Raises
    ------
    ExpressionError
        One line naming the cut and the column of the bad token.
    """
    cuts = _as_list(cuts)
    masks = [(_label(cut), _values(sample, cut, "cut", condition=True)) for cut in cuts]
    keep = np.logical_and.reduce([mask for _, mask in masks]) if masks else np.ones(len(sample), dtype=bool)
    selected = sample.select(keep)
    metadata = {**sample.metadata, "cuts": [*sample.metadata.get("cuts", []), *(label for label, _ in masks)]}
    metadata.pop(CUTFLOW_KEY, None)
    flows = _extended_cutflows(sample, masks)
    selected.metadata = {**metadata, **({CUTFLOW_KEY: flows} if flows else {})}
    return selected


def _extended_cutflows(sample: EventSample, masks: list[tuple[str, np.ndarray]]) -> dict | None:
    """The input's cut flows with one step per new cut, counted per process (and σ at the SM when there is one);
    None when the input has none, or one that no longer describes its events (then it is dropped, not carried)."""
    flows = sample.metadata.get(CUTFLOW_KEY)
    if check_cutflows(flows) is not None:
        return None
    if not masks:
        return dict(flows)
    sm = sm_column(sample.benchmark_names, sample.benchmark_theta)
    extended = {}
    for name, steps in flows.items():
        if name not in sample.process_names:
            return None
        mine = sample.process == sample.process_names.index(name)
        if steps[-1]["events"] != int(mine.sum()):
            return None
        _, new = apply_cuts([(label, mask[mine]) for label, mask in masks],
                            weights=None if sm is None else sample.weights[mine, sm])
        extended[name] = [*steps, *new[1:]]
    return extended


def add_observables(sample: EventSample, definitions: Mapping[str, Definition], replace: bool = False) -> EventSample:
    """A copy of ``sample`` with more observables, computed in the given order (a later one may use an earlier one).

    Parameters
    ----------
    sample : EventSample
    definitions : mapping of str to str, Expression or callable
        Observable name (an identifier that is not a name of the grammar, e.g. ``m_ll``) → a number expression
        such as ``"m(l1, l2)"``, or a function returning numbers of shape (N,). A condition is stored as 1.0 / 0.0.
    replace : bool
        Allow replacing observables that exist; otherwise their names are refused.

    Returns
    -------
    EventSample
        Observables stored as float32, NaN in the events that lack a named object; the definitions are recorded
        in ``metadata["observable_definitions"]``.
    """
    observables = dict(sample.observables)
    recorded = dict(sample.metadata.get("observable_definitions", {}))
    current = sample
    for name, definition in definitions.items():
        _check_name(name, current, replace)
        values = _values(current, definition, f"observable {name}", condition=False)
        observables[name] = values.astype(np.float32)
        recorded[name] = _label(definition)
        current = replace_fields(current, observables=dict(observables))
    return replace_fields(current, metadata={**sample.metadata, "observable_definitions": recorded})


def _check_name(name: str, sample: EventSample, replace: bool) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise OptionError(f"observable name {name!r}: must be an identifier such as m_ll")
    if name in FUNCTIONS or name in COLLECTIONS or name in OWN_QUANTITIES or parse_object_name(name) is not None:
        raise OptionError(f"observable name {name!r}: a name of the expression language (docs/selections.md)")
    if name in sample.global_names:
        raise OptionError(f"observable name {name!r}: the sample has a global of that name")
    if name in sample.observables and not replace:
        raise OptionError(f"observable {name!r} exists already; pass replace=True to replace it "
                          "(lfi observables --replace)")


def _as_list(cuts: Definition | Sequence[Definition]) -> list[Definition]:
    return [cuts] if isinstance(cuts, (str, Expression)) or callable(cuts) else list(cuts)
