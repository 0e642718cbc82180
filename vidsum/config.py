"""Frozen configuration dataclasses. Defaults live here; CLI flags override them; the
resolved config is saved next to results. Unknown keys are errors (``from_dict``)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, TypeVar

from vidsum.errors import UsageError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys raise UsageError naming them."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known keys are {', '.join(sorted(names))}"
        )
    return cls(**data)


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """DMASum sizes (paper section 4.1 values as defaults)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    d_model: int = 1024  # attention size D_a
    layers_visual: int = 4  # stacked MoA layers on the visual channel
    layers_sequential: int = 2  # stacked MoA layers after the BiLSTM
    lstm_hidden: int = 512  # per direction; BiLSTM output is 2 * lstm_hidden
    lstm_layers: int = 2
    head_hidden: int = 1024  # two FC layers of this width, then sigmoid
    dropout: float = 0.1
    attention: Literal["moa", "softmax"] = "moa"
    channels: Literal["both", "visual", "sequential"] = "both"

    def __post_init__(self) -> None:
        if self.attention not in ("moa", "softmax"):
            raise UsageError(f"attention must be 'moa' or 'softmax', not {self.attention!r}")
        if self.channels not in ("both", "visual", "sequential"):
            raise UsageError(f"channels must be 'both', 'visual' or 'sequential', not {self.channels!r}")
        for name in ("input_dim", "d_model", "lstm_hidden", "lstm_layers", "head_hidden"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.layers_visual < 0 or self.layers_sequential < 0:
            raise UsageError("layer counts must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"dropout must be in [0, 1), got {self.dropout}")
