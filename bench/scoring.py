"""log r̂ of a trained lfi ratio estimator on a set of θ points, as the accuracy benchmarks score it."""

from __future__ import annotations

import numpy as np

__all__ = ["estimated_log_r"]


def estimated_log_r(model, events, theta: np.ndarray) -> np.ndarray:
    """log r̂(x|θ_t, SM) of every event, shape (T, N), for θ of shape (T, D) (the layout of
    :func:`lfi.limits.log_r_mse`)."""
    state = model.grid_state(events)
    return (model.grid_log_density(state, theta) - model.grid_log_density(state, np.zeros((1, theta.shape[1])))).T
