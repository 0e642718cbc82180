"""VASNet (Fajtl, Sokeh, Argyriou, Monekosso and Remagnino, "Summarizing videos with attention",
ACCV 2018 workshops): one soft self-attention layer and a two-layer regressor. Supervised.
No I/O, no device logic.

    x (T, D) -> Q = x W_Q, K = x W_K, V = x W_V               (T, d) each, no biases
    A = softmax_rows(s * Q K^T), s = ``scale`` (the paper's 0.06, not 1 / sqrt(d))   (T, T)
    u = LayerNorm(Dropout(Dropout(A) V W_O + x))               (T, D): residual around attention
    y = sigmoid(W_2 LayerNorm(Dropout(ReLU(W_1 u))))           (T,)

This is standard softmax attention over the whole video, without the masking or the
multi-head split of later models: the baseline DMASum's Mixture-of-Attention is measured
against. Objective: MSE against gtscore, as in the paper.

At inference the attention is computed ``QUERY_CHUNK`` queries at a time (dropout is off), so
a 2-hour video never holds a full T x T matrix.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from vidsum.errors import UsageError
from vidsum.models.dmasum import QUERY_CHUNK, _attend
from vidsum.models.base import ModelSpec
from vidsum.models.common import COMPARED_STRATEGIES, check_features, check_fraction, check_positive, mse


@dataclasses.dataclass(frozen=True)
class VASNetConfig:
    """VASNet sizes (Fajtl et al. 2018 values as defaults)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    attention_dim: int = 1024  # d of Q, K, V
    head_hidden: int = 1024  # regressor hidden layer
    dropout: float = 0.5  # on the attention weights, after the residual, in the regressor
    scale: float = 0.06  # s in softmax(s * Q K^T)

    def __post_init__(self) -> None:
        check_positive(self, "input_dim", "attention_dim", "head_hidden")
        check_fraction(self.dropout, "dropout")
        if not self.scale > 0:
            raise UsageError(f"scale must be > 0, got {self.scale}")


class VASNet(nn.Module):
    """Self-attention + regressor: (T, D) -> (T,) importance in (0, 1)."""

    def __init__(self, cfg: VASNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, a = cfg.input_dim, cfg.attention_dim
        self.q = nn.Linear(d, a, bias=False)
        self.k = nn.Linear(d, a, bias=False)
        self.v = nn.Linear(d, a, bias=False)
        self.o = nn.Linear(a, d, bias=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.norm = nn.LayerNorm(d)
        self.regressor = nn.Sequential(
            nn.Linear(d, cfg.head_hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.LayerNorm(cfg.head_hidden),
            nn.Linear(cfg.head_hidden, 1),
        )

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The full (T, T) attention matrix, rows = queries; for tests and analysis."""
        return torch.softmax(self.cfg.scale * self.q(x) @ self.k(x).T, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) float32 -> importance (T,) in (0, 1)."""
        check_features(x, self.cfg.input_dim, "VASNet")
        v = self.v(x)
        if self.training and self.cfg.dropout > 0:
            context = self.drop(self.attention(x)) @ v
        else:
            context = _attend(self.q(x)[None], self.k(x)[None], v[None], self.cfg.scale, QUERY_CHUNK)[0]
        u = self.norm(self.drop(self.o(context) + x))
        return torch.sigmoid(self.regressor(u).squeeze(-1))


def build(cfg: VASNetConfig) -> VASNet:
    return VASNet(cfg)


def objective(model: VASNet, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """MSE against gtscore (T,)."""
    return mse(model, x, y)


SPEC = ModelSpec(
    name="vasnet",
    module=__name__,
    config_cls=VASNetConfig,
    build=build,
    objective=objective,
    needs_training=True,
    needs_labels=True,
    description="VASNet (Fajtl et al. 2018): one soft self-attention layer + regressor, MSE",
    strategies=COMPARED_STRATEGIES,
)
