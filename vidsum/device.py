"""Device selection, in one place: `--device auto|cpu|cuda[:N]` -> torch.device."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vidsum.errors import UsageError

if TYPE_CHECKING:
    import torch


def resolve_device(name: "str | torch.device") -> "torch.device":
    """"auto" -> cuda when torch sees a GPU, else cpu; "cuda" / "cuda:N" without that GPU is a UsageError."""
    import torch

    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or re.fullmatch(r"cuda:\d+", name):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: no CUDA GPU is visible to torch; use --device cpu or auto")
        device = torch.device(name)
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise UsageError(
                f"--device {name}: torch sees {count} GPU(s), numbered 0 to {count - 1}; pick one of those"
            )
        return device
    raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, not {name!r}")
