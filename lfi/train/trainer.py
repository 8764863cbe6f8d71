"""A device-agnostic training loop with validation, early stopping, a learning-rate schedule, gradient
clipping, on-disk checkpoints (kill it, rerun with resume, it continues) and a JSON history.

Batches are dicts of tensors (see :mod:`lfi.augment.dataset`); data sources are iterables of batches
with an optional ``set_epoch(epoch)`` so that every epoch's draws are reproducible after a resume.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import Tensor, nn

from lfi.allocator import keep_freed_memory
from lfi.errors import Interrupted, ModelError, OptionError
from lfi.files import atomic_write, atomic_write_text
from lfi.train.distributed import all_sum, distributed_run
from lfi.train.losses import Loss
from lfi.train.progress import PROGRESS_FILE
from lfi.train.setup import TrainConfig

__all__ = ["TrainConfig", "fit", "model_outputs", "resolve_device", "load_checkpoint", "CHECKPOINT_FILE", "HISTORY_FILE"]

log = logging.getLogger("lfi.train")
CHECKPOINT_FILE, HISTORY_FILE = "checkpoint.pt", "history.json"


def resolve_device(name: str) -> torch.device:
    """"auto" → CUDA if available, else CPU; refuse a device name torch does not know or a device that is not there.

    Raises
    ------
    OptionError
        One line naming ``--device`` and what is available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise OptionError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise OptionError(f"--device {name}: CUDA is not available on this machine (use cpu or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise OptionError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu" and not getattr(getattr(torch, device.type, None), "is_available", lambda: False)():
        raise OptionError(f"--device {name}: {device.type} is not available on this machine (use cpu or auto)")
    return device


def _amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "fp16":
        return torch.float16
    if amp == "auto" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def model_outputs(model: nn.Module, loss: Loss, batch: dict[str, Tensor], create_graph: bool) -> dict[str, Tensor]:
    """Run the model on a batch and return what ``loss`` needs (log_r or log_p, score0 by autograd, score or logits).

    Density models (NDE, SCANDAL) are called as ``model(batch["observables"], theta0)`` and return log p̂(x|θ0);
    every other model takes the object lists."""
    inputs = (batch["momenta"], batch["types"], batch["globals"])
    if loss.kind == "score":
        return {"score": model(*inputs)}
    if loss.kind == "classifier":
        return {"logits": model(*inputs)}
    if loss.kind == "assignment":  # a dict of per-particle log-probabilities and detection logits
        return model(*inputs)
    theta0 = batch["theta0"]
    if loss.needs_score:
        theta0 = theta0.detach().requires_grad_(True)
    with torch.enable_grad() if loss.needs_score else contextlib.nullcontext():
        if loss.density:
            value = model(batch["observables"], theta0)
            out = {"log_p": value}
        else:
            value = model(*inputs, theta0, batch["theta1"])
            out = {"log_r": value}
        if loss.needs_score:
            (out["score0"],) = torch.autograd.grad(value.sum(), theta0, create_graph=create_graph)
    return out


def _to(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _atomic_torch_save(obj, path: Path) -> None:
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def fit(
    model: nn.Module,
    loss: Loss,
    train_data: Iterable[dict[str, Tensor]],
    val_data: Iterable[dict[str, Tensor]],
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[dict, nn.Module], None] | None = None,
) -> list[dict]:
    """Train ``model`` in place; write ``checkpoint.pt`` every epoch and ``history.json`` at the end.

    Parameters
    ----------
    model : nn.Module
        An :class:`estimators.Estimator` (or any module with the same call signature).
    loss : Loss
        From :func:`lfi.train.losses.get_loss`.
    train_data, val_data : iterable of batch dicts
        Re-iterable; ``set_epoch(epoch)`` is called when present.
    config : TrainConfig
    out_dir : path-like
        Directory for the checkpoint and history.
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` if present (same split, optimizer, epoch and best loss).
    progress : bool
        Show a progress bar with the loss and events per second.
    on_epoch : callable, optional
        Called as ``on_epoch(entry, model)`` after every epoch (and its validation pass: the model is in eval mode)
        with that epoch's history entry and the model in its current (not the best) state, e.g. to measure accuracy
        against elapsed time; its own time is not counted in ``seconds``. The model is put back on the training
        device afterwards, and in training mode when the next epoch starts.

    Returns
    -------
    list of dict
        One entry per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``lr``, ``events_per_s``, ``seconds``.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / CHECKPOINT_FILE
    if checkpoint_path.exists() and not resume:
        raise OptionError(f"{checkpoint_path} exists from an earlier run: pass --resume to continue it, or pick another --out")
    device = resolve_device(config.device)
    run = distributed_run(device)
    if run is not None:
        if device.type == "cuda":
            device = torch.device("cuda", run.local_rank)  # one device per process
        for data in (train_data, val_data):
            if not hasattr(data, "set_rank"):
                raise OptionError(f"{type(data).__name__} batches cannot be shared out over torchrun processes")
            data.set_rank(run.rank, run.world)
    main = run is None or run.is_main
    if device.type == "cpu":
        keep_freed_memory()  # ≈ 20 % per step for large models: no page faults on reused activations
    amp_dtype = _amp_dtype(config.amp, device)
    torch.manual_seed(config.seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    if config.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs, eta_min=0.01 * config.learning_rate)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    grad_scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype is torch.float16)
    history: list[dict] = []
    best_loss, best_state, start_epoch, stale = math.inf, None, 0, 0
    if resume and checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path, device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, best_loss, stale = json.loads(state["history"]), state["best_loss"], state["stale"]
        best_state, start_epoch = state["best_model"], state["epoch"] + 1
        torch.set_rng_state(state["rng"])
        log.info("resuming from %s after epoch %d (best validation loss %.5g)", checkpoint_path, start_epoch, best_loss)
    if config.compile:
        _compile(model)
    forward = model
    if run is not None:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    epoch = start_epoch
    try:
        for epoch in range(start_epoch, config.epochs):
            if stale >= config.patience:
                break
            for data in (train_data, val_data):
                if hasattr(data, "set_epoch"):
                    data.set_epoch(epoch)
            start, n_events, total = time.perf_counter(), 0, 0.0
            model.train()
            with tqdm(train_data, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, disable=not (progress and main),
                       total=len(train_data) if hasattr(train_data, "__len__") else None) as bar:
                for batch in bar:
                    batch = _to(batch, device)
                    with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                        value = loss(batch, model_outputs(forward, loss, batch, create_graph=True))
                    optimizer.zero_grad(set_to_none=True)
                    grad_scaler.scale(value).backward()
                    if config.clip_grad:
                        grad_scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
                    grad_scaler.step(optimizer)
                    grad_scaler.update()
                    size = len(batch["momenta"])
                    n_events, total = n_events + size, total + value.item() * size
                    bar.set_postfix(loss=f"{total / n_events:.4g}", ev_s=f"{n_events / (time.perf_counter() - start):.0f}")
            train_seconds = time.perf_counter() - start
            scheduler.step()
            total, n_events = all_sum([total, n_events], run)  # every process's batches
            val_total, val_events = all_sum(list(_loss_sums(model, loss, val_data, device, amp_dtype)), run)
            val_loss = val_total / max(val_events, 1)
            entry = {
                "epoch": epoch + 1,
                "train_loss": total / max(n_events, 1),
                "val_loss": val_loss,
                "lr": optimizer.param_groups[0]["lr"],
                "events_per_s": n_events / train_seconds,
                "seconds": time.perf_counter() - start,
            }
            history.append(entry)
            if on_epoch is not None:
                on_epoch(entry, model)
                model.to(device)  # the callback may have evaluated it elsewhere
            if not math.isfinite(entry["train_loss"]):
                raise OptionError(f"training diverged in epoch {epoch + 1} (loss {entry['train_loss']}); lower the learning rate")
            if val_loss < best_loss:
                best_loss, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
            else:
                stale += 1
            if not main:
                continue  # rank 0 writes the checkpoint and the progress
            log.info("epoch %d: train %.5g, validation %.5g, %.0f events/s", epoch + 1, entry["train_loss"], val_loss,
                     entry["events_per_s"])
            _atomic_torch_save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "best_loss": best_loss,
                    "best_model": best_state,
                    "stale": stale,
                    "history": json.dumps(history),
                    "rng": torch.get_rng_state(),
                    "config": json.dumps(asdict(config)),
                },
                checkpoint_path,
            )
            _write_progress(out_dir, history, best_loss, config, finished=False)
    except KeyboardInterrupt:
        raise Interrupted(_interrupt_message(epoch, start_epoch, len(history), checkpoint_path)) from None
    if not main:
        if best_state is not None:
            model.load_state_dict(best_state)
        return history
    if stale >= config.patience:
        log.info("early stopping: no better validation loss for %d epochs", config.patience)
    elif history and len(history) == config.epochs and stale == 0:
        log.info("reached the maximum number of epochs while still improving: the model may not be converged")
    if best_state is not None:
        model.load_state_dict(best_state)
    atomic_write_text(out_dir / HISTORY_FILE, json.dumps(history, indent=2))
    _write_progress(out_dir, history, best_loss, config, finished=True)
    return history


def _compile(model: nn.Module) -> None:
    """``torch.compile`` in place: the encoder alone where the model has one, else the whole model.

    Score losses (ALICES, RASCAL, SALLY, ...) differentiate the output with respect to θ and back-propagate through
    that gradient, a double backward that compiled graphs do not support; θ enters only the head, so the encoder's
    compiled graph is differentiated once and the head runs eagerly."""
    (getattr(model, "encoder", None) or model).compile()


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    """A training checkpoint (``weights_only=True``); an unreadable one is one :class:`ModelError` line."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a damaged file
        raise ModelError(f"{path}: unreadable training checkpoint ({type(err).__name__}); delete it to start over") from None


def _write_progress(out_dir: Path, history: list[dict], best_loss: float, config: TrainConfig, finished: bool) -> None:
    last = history[-1] if history else {}
    atomic_write_text(out_dir / PROGRESS_FILE, json.dumps({
        "epoch": last.get("epoch", 0), "max_epochs": config.epochs, "val_loss": last.get("val_loss"),
        "best_val_loss": best_loss if math.isfinite(best_loss) else None, "finished": finished,
        "early_stopped": finished and len(history) < config.epochs}, indent=2))


def _interrupt_message(epoch: int, start_epoch: int, finished: int, checkpoint: Path) -> str:
    if finished:
        return (f"interrupted in epoch {epoch + 1}; epochs 1-{finished} are saved in {checkpoint}: rerun the same "
                "command with --resume to continue")
    return f"interrupted in epoch {epoch + 1} before any epoch finished; no model was written"


def evaluate(model: nn.Module, loss: Loss, data: Iterable, device: torch.device, amp_dtype=None) -> float:
    """Mean loss over a data source (gradients only where the loss needs t̂ = ∇θ log r̂)."""
    total, n = _loss_sums(model, loss, data, device, amp_dtype)
    return total / max(n, 1)


@torch.no_grad()
def _loss_sums(model: nn.Module, loss: Loss, data: Iterable, device: torch.device, amp_dtype=None) -> tuple[float, int]:
    """The loss summed over the events of a data source, and their number."""
    model.eval()
    total, n = 0.0, 0
    for batch in data:
        batch = _to(batch, device)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            value = loss(batch, model_outputs(model, loss, batch, create_graph=False))
        total, n = total + value.item() * len(batch["momenta"]), n + len(batch["momenta"])
    return total, n
