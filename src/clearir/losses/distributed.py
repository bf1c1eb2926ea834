"""Gathering candidates from every process, with gradient, so each query sees the global batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor
from torch.distributed.nn.functional import all_gather


def is_distributed() -> bool:
    """Whether a torch.distributed process group is running."""
    return dist.is_available() and dist.is_initialized()


def gather_rows(tensors: Sequence[Tensor]) -> tuple[list[Tensor], int]:
    """All-gather row-aligned ``(rows, dim)`` tensors from every process, keeping the autograd graph.

    Returns the gathered tensors (the processes' rows in rank order) and the offset of this process's first
    row in them: local row ``i`` of every tensor is gathered row ``offset + i``. Gradients flow back to the
    process that owns each row (the backward of an all-gather sums the gradients of all processes). The
    processes may hold different numbers of rows (a short last batch): rows are padded for the collective and
    the padding is dropped again. Without a process group the tensors come back unchanged with offset 0.
    """
    tensors = list(tensors)
    if not is_distributed() or not tensors:
        return tensors, 0
    stacked = torch.stack(tensors)  # (columns, rows, dim): one collective for all of them
    rows = stacked.shape[1]
    sizes = [torch.zeros(1, dtype=torch.long, device=stacked.device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([rows], dtype=torch.long, device=stacked.device))
    counts = [int(size.item()) for size in sizes]
    padded = F.pad(stacked, (0, 0, 0, max(counts) - rows))
    parts = [part[:, :count] for part, count in zip(all_gather(padded), counts, strict=True)]
    gathered = torch.cat(parts, dim=1)
    return list(gathered.unbind(0)), sum(counts[: dist.get_rank()])
