"""The numeric precision of encoding and training: ``auto`` (the default), ``fp32`` or ``bf16``.

``auto`` is bf16 where the hardware computes it natively (a CPU with the ``avx512_bf16`` or ``amx_bf16`` flag,
a CUDA GPU where ``torch.cuda.is_bf16_supported()``) and fp32 elsewhere. ``fp32`` is the plain float32 path,
untouched; ``bf16`` is asked for explicitly (on a CPU without the flags torch emulates it, slowly).
Embeddings and losses stay float32 either way: bf16 is used inside the model only.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from clearir.errors import ClearirError

if TYPE_CHECKING:  # torch is imported where a device is looked at: the CLI's options need none of it
    import torch

Precision = Literal["auto", "fp32", "bf16"]
Resolved = Literal["fp32", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
DEFAULT_PRECISION: Precision = "auto"
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")
PRECISION_HELP = (
    f"{', '.join(PRECISIONS)}: auto is bf16 on a CPU with {' or '.join(CPU_BF16_FLAGS)} "
    "(or a CUDA GPU with bf16), else fp32."
)


def cpu_flags(cpuinfo: str) -> set[str]:
    """The CPU feature flags in ``cpuinfo``, the text of ``/proc/cpuinfo`` (``flags : a b c`` lines)."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bf16 natively (``cpuinfo`` defaults to ``/proc/cpuinfo``; False if absent)."""
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return bool(cpu_flags(cpuinfo) & set(CPU_BF16_FLAGS))


def check_precision(precision: str, option: str = "--precision") -> None:
    """Raise a ClearirError unless ``precision`` is one of :data:`PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ClearirError(f"{option} {precision!r}: expected one of {', '.join(PRECISIONS)}")


def resolve_precision(
    precision: str, device: str | torch.device = "cpu", *, cpuinfo: str | None = None
) -> Resolved:
    """``fp32`` or ``bf16``: what ``precision`` means on ``device`` (``auto`` looks at the hardware)."""
    check_precision(precision)
    if precision != "auto":
        return precision  # type: ignore[return-value]
    import torch

    if torch.device(device).type == "cuda":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_bf16(cpuinfo) else "fp32"


def autocast(precision: Resolved, device: str | torch.device = "cpu") -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` for ``bf16``; for ``fp32`` nothing at all (the plain float32 path)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def describe(precision: str, resolved: str) -> str:
    """How reports name it: ``bf16 (auto)``, ``fp32``."""
    return resolved if precision == resolved else f"{resolved} ({precision})"
