"""Data-parallel training with ``torch.distributed`` under ``torchrun``: which process this is, and the few collective
steps :func:`lfi.train.fit` needs.

``torchrun --nproc-per-node N -m lfi train …`` starts N processes with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
set (on one machine or several, ``--nnodes``). Each process reads the same file, draws the same epoch (same seeds),
and trains on every N-th batch of it; :class:`~torch.nn.parallel.DistributedDataParallel` averages the gradients, so
N processes with batch B take the steps one process takes with batch N·B. Backend: NCCL where the processes train on
CUDA devices (one per process, ``cuda:LOCAL_RANK``), gloo on CPUs. Losses and event counts are summed over the
processes; rank 0 alone writes checkpoints, progress and the model. A checkpoint holds nothing specific to N, so a
run resumes on any number of processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

__all__ = ["DistributedRun", "distributed_run", "is_main_process", "all_sum", "barrier"]


@dataclass(frozen=True)
class DistributedRun:
    """This process's place in a ``torchrun`` job.

    Attributes
    ----------
    rank : int
        0 … world − 1; rank 0 writes the outputs.
    world : int
        Number of processes.
    local_rank : int
        Index on this machine (the CUDA device it trains on).
    """

    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def distributed_run(device: torch.device) -> DistributedRun | None:
    """The process group of a ``torchrun`` job (initialised on first use), or None in a single process.

    Parameters
    ----------
    device : torch.device
        Where this process trains: CUDA selects NCCL, anything else gloo.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistributedRun(rank=dist.get_rank(), world=dist.get_world_size(),
                          local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def is_main_process() -> bool:
    """False only in a ``torchrun`` process other than rank 0 (which alone writes files); known from ``RANK`` before
    the process group exists."""
    return int(os.environ.get("RANK", "0")) == 0


def all_sum(values: list[float], run: DistributedRun | None) -> list[float]:
    """``values`` summed over the processes (unchanged in a single process); float64 on the CPU (gloo and NCCL both
    reduce it; NCCL needs it on the process's device, which :func:`distributed_run` chose)."""
    if run is None:
        return list(values)
    import torch.distributed as dist

    device = torch.device("cuda", run.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier(run: DistributedRun | None) -> None:
    """Wait for every process (nothing in a single process)."""
    if run is not None:
        import torch.distributed as dist

        dist.barrier()
