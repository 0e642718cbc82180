"""``ModelSpec`` (one model family) and the ``Scorer`` protocol every family answers.

The registry of families is ``vidsum.models.MODELS``; docs/architecture.md says how to add one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn


@runtime_checkable
class Scorer(Protocol):
    """What ``summarize`` and ``vidsum eval`` call for every family, trained or not.

    ``name``: what produced the scores (recorded in the summary JSON). ``checkpoint``: the file
    it was loaded from, None for training-free scorers. ``features``: the extractor description
    its checkpoint recorded (None when there is none).
    """

    name: str
    checkpoint: Path | None
    features: dict[str, Any] | None

    def score(self, features: np.ndarray, shots: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
        """features (T, D) float32; shots (n, 2) int64 inclusive frame ranges; picks (T,) int64
        frame index of each step; n_frames the video's frame count -> (T,) float32 scores."""
        ...


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model family.

    name: the checkpoint's "arch" and ``--arch``. module: the module defining it. config_cls: its
    frozen config dataclass (``input_dim`` = feature size). build(cfg) -> nn.Module whose
    forward maps (T, D) float32 -> (T,) in [0, 1]. objective(model, x (T, D), y (T,) | None) ->
    scalar loss tensor (None for training-free families). needs_training: whether it must be
    trained before it scores; needs_labels: whether training needs gtscore. train_step: for
    families whose training is not one differentiable objective, a replacement for the
    optimiser step (``train_step(model, optimizer, videos) -> float`` loss before the step).
    scorer: for families with no trained weights, ``scorer() -> Scorer``.
    make_optimizer(model, lr): what ``train_step`` receives as its optimizer (None: one Adam over
    all parameters). validate(model, x, y | None) -> float, lower is better: the epoch-selection
    criterion on the validation videos (None: the MSE against gtscore). strategies: the
    ``--strategy`` values that make sense for the family, the first being its default.
    """

    name: str
    module: str
    config_cls: type | None
    build: Callable[[Any], "nn.Module"] | None
    objective: Callable[["nn.Module", "torch.Tensor", "torch.Tensor | None"], "torch.Tensor"] | None
    needs_training: bool
    needs_labels: bool
    description: str
    train_step: Callable[..., float] | None = None
    scorer: Callable[[], Scorer] | None = None
    make_optimizer: Callable[["nn.Module", float], Any] | None = None
    validate: Callable[["nn.Module", "torch.Tensor", "torch.Tensor | None"], float] | None = None
    strategies: tuple[str, ...] = ("meta", "plain", "batch-meta", "maml")
