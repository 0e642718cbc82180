"""Device selection, in one place: `--device auto|cpu|cuda[:N]` -> torch.device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidsum.errors import UsageError

if TYPE_CHECKING:
    import torch


def resolve_device(name: "str | torch.device") -> "torch.device":
    """"auto" -> cuda when torch sees a GPU, else cpu; "cuda" without a GPU is a UsageError."""
    import torch

    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: no CUDA GPU is visible to torch; use --device cpu or auto")
        return torch.device(name)
    raise UsageError(f"--device must be auto, cpu or cuda, not {name!r}")
