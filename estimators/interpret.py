"""Per-event representations after every block of a trained network's encoder, for layer comparisons
(:mod:`lfi.interpret`).

Forward hooks on the elements of the encoder's block lists (``blocks``, ``cls_blocks``, ``convs``, ``sabs``,
…, in the order the encoder defines them) and on the encoder itself (the final embedding). Object-level outputs
are averaged over each event's real objects: packed tokens (N_real, D) are scattered back to their events,
(B, P, D) and channels-first (B, D, P) outputs are masked; event-level outputs (B, D) are kept.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["layer_representations"]


def _per_event(output, mask: Tensor) -> Tensor | None:
    """(B, D) from a block's output, or None when its shape cannot be mapped to the events."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, Tensor) or output.dim() not in (2, 3):
        return None
    batch, slots = mask.shape
    weights = mask.to(output.dtype)
    if output.dim() == 2 and output.shape[0] == batch:
        return output
    if output.dim() == 2 and output.shape[0] == int(mask.sum()):
        event = mask.reshape(-1).nonzero().squeeze(1) // slots
        total = output.new_zeros(batch, output.shape[1]).index_add_(0, event, output)
        return total / weights.sum(1, keepdim=True).clamp(min=1)
    if output.dim() == 3 and output.shape[:2] == (batch, slots):
        return (output * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1)
    if output.dim() == 3 and output.shape[0] == batch and output.shape[2] == slots:
        return (output * weights[:, None]).sum(2) / weights.sum(1, keepdim=True).clamp(min=1)
    return None


def layer_representations(model: nn.Module, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray, *,
                          batch_size: int = 2048) -> dict[str, np.ndarray]:
    """Representations of N events after every encoder block and the final embedding.

    Parameters
    ----------
    model : estimators.Estimator
    momenta : ndarray, shape (N, P, 4)
        GeV.
    types : ndarray, shape (N, P)
    globals_ : ndarray, shape (N, G)

    Returns
    -------
    dict of str to ndarray, shape (N, D_layer)
        In forward order; keys like ``blocks.0`` and ``embedding``. Blocks whose output cannot be mapped to
        events are left out.
    """
    encoder = model.encoder
    lists = [(name, child) for name, child in encoder.named_children() if isinstance(child, nn.ModuleList)]
    captured: dict[str, list[Tensor]] = {}
    current: dict[str, Tensor] = {}
    handles = []

    def hook(name):
        def record(_module, _inputs, output):
            event = _per_event(output, current["mask"])
            if event is not None:
                captured.setdefault(name, []).append(event.detach().double().cpu())
        return record

    for list_name, module_list in lists:
        for i, block in enumerate(module_list):
            handles.append(block.register_forward_hook(hook(f"{list_name}.{i}")))
    handles.append(encoder.register_forward_hook(hook("embedding")))
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(momenta), batch_size):
                sl = slice(start, start + batch_size)
                t = torch.from_numpy(types[sl].astype(np.int64))
                current["mask"] = t != 0
                encoder(torch.from_numpy(np.ascontiguousarray(momenta[sl])), t,
                        torch.from_numpy(np.ascontiguousarray(globals_[sl])))
    finally:
        for handle in handles:
            handle.remove()
    return {name: torch.cat(parts).numpy() for name, parts in captured.items() if
            sum(len(p) for p in parts) == len(momenta)}
