"""Pieces the compared families share: input checks, a BiLSTM scorer, the summary-length
regulariser and the validation MSE. No I/O, no device logic."""

from __future__ import annotations

import torch
from torch import nn

from vidsum.errors import UsageError

# The compared systems were trained with plain gradient steps in their papers, so that is their
# default; the meta-learning strategies apply to any differentiable objective and stay available.
COMPARED_STRATEGIES = ("plain", "meta", "batch-meta", "maml")


def check_features(x: torch.Tensor, dim: int, family: str) -> None:
    """Raise ValueError unless ``x`` is (T, dim) with T >= 1 (the Scorer contract's input)."""
    if x.dim() != 2 or x.shape[1] != dim or x.shape[0] < 1:
        raise ValueError(f"{family} expects (T, {dim}) features with T >= 1, got shape {tuple(x.shape)}")


def check_positive(obj: object, *names: str) -> None:
    """UsageError unless every named integer field of a config dataclass is >= 1."""
    for name in names:
        if getattr(obj, name) < 1:
            raise UsageError(f"{name} must be >= 1, got {getattr(obj, name)}")


def check_fraction(value: float, name: str, *, closed: bool = False) -> None:
    """UsageError unless ``value`` is in [0, 1) (or [0, 1] with ``closed``)."""
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise UsageError(f"{name} must be in [0, 1{']' if closed else ')'}, got {value}")


class BiLSTMScorer(nn.Module):
    """BiLSTM over the steps, then Linear(2 * hidden -> 1) and a sigmoid: (T, D) -> (T,) in (0, 1).

    The "deep summarization network" of Zhou et al. 2018 and the selector sLSTM of Mahasseni et
    al. 2017 both have this shape.
    """

    def __init__(self, input_dim: int, hidden: int, layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            input_dim, hidden, num_layers=layers, bidirectional=True, dropout=dropout if layers > 1 else 0.0
        )
        self.out = nn.Linear(2 * hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) -> (T,) probabilities."""
        h, _ = self.lstm(x.unsqueeze(1))  # (T, 1, 2 * hidden): sequence-first, batch of one
        return torch.sigmoid(self.out(h[:, 0]).squeeze(-1))


def length_penalty(scores: torch.Tensor, target: float) -> torch.Tensor:
    """(mean(scores) - target)^2: DR-DSN's summary-length regulariser (Zhou et al. 2018, eps = 0.5)."""
    return (scores.mean() - target) ** 2


def bce(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of probabilities (T,) against soft labels (T,) in [0, 1]."""
    return nn.functional.binary_cross_entropy(scores.clamp(1e-6, 1 - 1e-6), target.clamp(0.0, 1.0))


def mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Mean squared error of ``model(x)`` (T,) against ``y`` (T,): the regression families' loss."""
    if y is None:
        raise UsageError("this model family is supervised: it needs gtscore labels to train")
    return torch.mean((model(x) - y) ** 2)
