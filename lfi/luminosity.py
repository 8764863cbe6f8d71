"""Integrated luminosity as a physicist types it: ``300/fb``, ``139fb-1``, ``3/ab``, ``20 pb^-1``, ``1e5``.

Everything inside lfi works in pb⁻¹ (cross sections in pb, so L·σ is a number of events). This module turns typed
text into pb⁻¹ and says how it read it; a bare number is in the command's documented unit (pb⁻¹ for limits).

>>> parse_luminosity("300/fb").pb
300000.0
>>> parse_luminosity("3 ab^-1").pb
3000000.0
>>> parse_luminosity("139fb-1").text
'139 fb⁻¹'
>>> parse_luminosity("36000").bare
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lfi.errors import OptionError

__all__ = ["Luminosity", "parse_luminosity", "PB_PER_UNIT"]

#: pb⁻¹ in one inverse nb, pb, fb or ab (1 fb⁻¹ = 1000 pb⁻¹).
PB_PER_UNIT = {"nb": 1e-3, "pb": 1.0, "fb": 1e3, "ab": 1e6}

# A number, then optionally a unit written as "/fb", "fb-1", "fb^-1", "fb⁻¹" or "1/fb" (spaces allowed).
_PATTERN = re.compile(r"^\s*(?P<value>[+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*"
                      r"(?:(?:1\s*)?/\s*(?P<slash>[npfa]b)|(?P<unit>[npfa]b)\s*(?:\^?\s*-\s*1|⁻¹))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Luminosity:
    """An integrated luminosity read from text.

    Attributes
    ----------
    pb : float
        The value in pb⁻¹.
    unit : str
        The unit it was given in (``"pb"``, ``"fb"``, ...), the default unit for a bare number.
    bare : bool
        True when the text was a bare number (no unit).
    """

    pb: float
    unit: str
    bare: bool

    @property
    def text(self) -> str:
        """The value in the unit it was given in, e.g. ``'139 fb⁻¹'``."""
        return f"{self.pb / PB_PER_UNIT[self.unit]:g} {self.unit}⁻¹"

    def note(self) -> str | None:
        """For a bare number: one line saying how it was read and how to write another unit; else None."""
        if not self.bare:
            return None
        value = self.pb / PB_PER_UNIT[self.unit]
        other = "fb" if self.unit != "fb" else "pb"
        return (f"luminosity {value:g}: a bare number is read as {self.unit}⁻¹, {self.text} = "
                f"{self.pb / PB_PER_UNIT[other]:g} {other}⁻¹ (write {value:g}/{other} for {value:g} {other}⁻¹)")


def parse_luminosity(text: str | float | int, *, bare_unit: str = "pb", option: str = "--lumi") -> Luminosity:
    """Read an integrated luminosity; ``bare_unit`` is the unit of a bare number.

    Parameters
    ----------
    text : str or number
        ``"300/fb"``, ``"300 fb-1"``, ``"300fb^-1"``, ``"300 fb⁻¹"``, ``"3/ab"``, ``"20/pb"``, ``"1e5"`` or a number.
    bare_unit : {"nb", "pb", "fb", "ab"}
    option : str
        Name used in the error message (the command-line option or configuration key).

    Returns
    -------
    Luminosity

    Raises
    ------
    OptionError
        One line for text that is no luminosity or a value that is not positive and finite.
    """
    if isinstance(text, bool):
        raise OptionError(f"{option}: {text!r} is not a luminosity")
    if isinstance(text, (int, float)):
        value, unit, bare = float(text), bare_unit, True
    else:
        match = _PATTERN.match(str(text))
        if match is None:
            raise OptionError(f"{option}: cannot read {text!r} as a luminosity; write e.g. 300/fb, 139fb-1, 3/ab "
                              f"or a bare number in {bare_unit}⁻¹")
        given = match.group("slash") or match.group("unit")
        value, unit, bare = float(match.group("value")), (given or bare_unit).lower(), given is None
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"{option}: the luminosity must be positive and finite, got {text!r}")
    return Luminosity(value * PB_PER_UNIT[unit], unit, bare)
