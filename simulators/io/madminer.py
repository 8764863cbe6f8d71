"""Deprecated: the MadMiner export is :mod:`simulators.io.madminer_export`, the shared layout
:mod:`simulators.io.madminer_layout`."""

from lfi._lazy import moved_module

__getattr__ = moved_module(__name__, "simulators.io.madminer_export", ("write_madminer",))
