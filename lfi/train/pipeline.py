"""Deprecated: the file-to-model pipeline is :mod:`lfi.workflows.train`."""

from lfi._lazy import moved_module

__getattr__ = moved_module(__name__, "lfi.workflows.train", ("train_estimator", "default_head"))
