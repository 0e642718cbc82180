"""DMASum: dual-channel stacked Mixture-of-Attention (paper section 3.1-3.2). No I/O, no device logic.

    features (B, T, D) --visual channel-----> [proj D->d] -> MoA x layers_visual ------\
                       --sequential channel-> BiLSTM -> [proj 2h->d] -> MoA x layers_seq -> concat
    concat (B, T, d * channels) -> Linear(head_hidden) -> ReLU -> Dropout -> Linear(1) -> sigmoid

Each attention layer is eq. 10: ``Z_n = LayerNorm(Dropout(Attention(Z_{n-1})) + Z_{n-1})``.
The training objective (eq. 5) is the MSE against ``gtscore`` (``objective``); ``vidsum.train``
runs it through the registry entry ``SPEC``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vidsum.config import ModelConfig
from vidsum.models.base import ModelSpec

# Queries handled at once when attending: bounds working memory to O(QUERY_CHUNK * T) floats so a
# 2-hour video (~14,000 steps) never materialises a full T x T matrix (that would be ~0.8 GB each).
QUERY_CHUNK = 1024  # queries


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, chunk: int) -> torch.Tensor:
    """softmax(q k^T * scale) v, computed ``chunk`` query rows at a time.

    q (B, Tq, d), k (B, Tk, d), v (B, Tk, e) -> (B, Tq, e); peak extra memory O(B * chunk * Tk).
    """
    if q.shape[1] <= chunk:
        return torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1) @ v
    parts = [
        torch.softmax(q[:, s : s + chunk] @ k.transpose(1, 2) * scale, dim=-1) @ v
        for s in range(0, q.shape[1], chunk)
    ]
    return torch.cat(parts, dim=1)


class MixtureOfAttention(nn.Module):
    """Mixture-of-Attention (paper eqs. 7-9), or plain softmax attention (eqs. 1-3) for the ablation.

    Rows are queries (row-major, the transpose of the paper's column notation). With
    ``Q = X W_Q``, ``K = X W_K``, ``V = X W_V`` (each (T, d)) and the associated query
    ``Q^ = tanh(Q W_A)`` (eq. 8's W^{Q^}):

        P   = softmax_rows(Q  K^T / sqrt(d))      (T, T)  query t  -> key j       (eq. 2)
        P^  = softmax_rows(Q^ K^T / sqrt(d))      (T, T)  assoc. query j -> key k (eq. 8)
        A_moa = P P^                               (T, T)                          (eq. 9)
        Z   = A_moa V = P (P^ V)                                                   (eq. 3)

    Reading of the paper's ``A A^T``: the paper writes matrices key-major (``K^T Q``, columns are
    queries), so its ``A A^T`` mixes two attention distributions; we take the composition in which
    query t first attends to key j with P, then "queries twice" through j's associated query with
    P^. Both factors are row-stochastic, so every row of A_moa is a probability distribution:
    sum_k A_moa[t, k] = sum_j P[t, j] sum_k P^[j, k] = sum_j P[t, j] = 1 (eq. 7's constraint),
    and Z stays a convex combination of values, like standard attention. A_moa is a product of two
    softmaxes, not a softmax of a low-rank logit matrix, so its log is not bounded by rank d
    (the softmax bottleneck of section 3.2).

    Computed as ``U = P^ V`` then ``Z = P U``, each ``QUERY_CHUNK`` query rows at a time: memory
    O(chunk * T), never a full T x T matrix for long inputs.
    """

    def __init__(self, d_model: int, attention: str = "moa", chunk: int = QUERY_CHUNK) -> None:
        super().__init__()
        self.d_model = d_model
        self.attention = attention
        self.chunk = chunk
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        # The associated-query map exists only in MoA; the softmax ablation has no extra weights.
        self.assoc = nn.Linear(d_model, d_model, bias=False) if attention == "moa" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, d) float -> Z (B, T, d)."""
        q, k, v = self.q(x), self.k(x), self.v(x)
        scale = 1.0 / math.sqrt(self.d_model)
        if self.assoc is None:
            return _attend(q, k, v, scale, self.chunk)
        u = _attend(torch.tanh(self.assoc(q)), k, v, scale, self.chunk)  # P^ V
        return _attend(q, k, u, scale, self.chunk)  # P (P^ V)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The full attention matrix, x (B, T, d) -> (B, T, T), rows = queries; for tests/analysis only."""
        q, k = self.q(x), self.k(x)
        scale = 1.0 / math.sqrt(self.d_model)
        p = torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1)
        if self.assoc is None:
            return p
        p_hat = torch.softmax(torch.tanh(self.assoc(q)) @ k.transpose(1, 2) * scale, dim=-1)
        return p @ p_hat


class AttentionLayer(nn.Module):
    """Eq. 10: Z_n = LayerNorm(Dropout(Attention(Z_{n-1})) + Z_{n-1}); (B, T, d) -> (B, T, d)."""

    def __init__(self, d_model: int, attention: str, dropout: float) -> None:
        super().__init__()
        self.attn = MixtureOfAttention(d_model, attention)
        self.drop = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.norm(self.drop(self.attn(z)) + z)


class DMASum(nn.Module):
    """The DMASum scorer: step features -> importance scores in (0, 1).

    Switches from ``ModelConfig``: ``attention`` moa|softmax and ``channels``
    both|visual|sequential (the paper's Table 3 ablations).
    """

    arch = "dmasum"  # the registry name written into checkpoints

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        n_channels = 0
        if cfg.channels in ("both", "visual"):
            self.visual_proj = nn.Linear(cfg.input_dim, d) if cfg.input_dim != d else nn.Identity()
            self.visual = nn.ModuleList(
                AttentionLayer(d, cfg.attention, cfg.dropout) for _ in range(cfg.layers_visual)
            )
            n_channels += 1
        if cfg.channels in ("both", "sequential"):
            self.lstm = nn.LSTM(
                cfg.input_dim,
                cfg.lstm_hidden,
                num_layers=cfg.lstm_layers,
                batch_first=True,
                bidirectional=True,
                dropout=cfg.dropout if cfg.lstm_layers > 1 else 0.0,
            )
            lstm_out = 2 * cfg.lstm_hidden
            self.seq_proj = nn.Linear(lstm_out, d) if lstm_out != d else nn.Identity()
            self.sequential = nn.ModuleList(
                AttentionLayer(d, cfg.attention, cfg.dropout) for _ in range(cfg.layers_sequential)
            )
            n_channels += 1
        # Paper 4.1: "two fully-connected layers with 1024 hidden units" ended with a sigmoid.
        self.head = nn.Sequential(
            nn.Linear(d * n_channels, cfg.head_hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_hidden, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (B, T, D) or (T, D) float -> scores (B, T) or (T,) in (0, 1), same dtype.

        Videos in one batch must have the same length (there is no padding mask); training feeds
        one video at a time.
        """
        if features.dim() not in (2, 3) or features.shape[-1] != self.cfg.input_dim:
            raise ValueError(
                f"DMASum expects (B, T, {self.cfg.input_dim}) or (T, {self.cfg.input_dim}) features, "
                f"got shape {tuple(features.shape)}"
            )
        single = features.dim() == 2
        x = features.unsqueeze(0) if single else features
        outs = []
        if self.cfg.channels in ("both", "visual"):
            z = self.visual_proj(x)
            for layer in self.visual:
                z = layer(z)
            outs.append(z)
        if self.cfg.channels in ("both", "sequential"):
            z, _ = self.lstm(x)
            z = self.seq_proj(z)
            for layer in self.sequential:
                z = layer(z)
            outs.append(z)
        scores = torch.sigmoid(self.head(torch.cat(outs, dim=-1)).squeeze(-1))
        return scores[0] if single else scores


def objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Eq. 5: mean squared error of the scores of x (T, D) against gtscore y (T,)."""
    if y is None:
        raise ValueError("DMASum is trained on gtscore labels; this video has none")
    return torch.mean((model(x) - y) ** 2)


SPEC = ModelSpec(
    name="dmasum",
    module=__name__,
    config_cls=ModelConfig,
    build=DMASum,
    objective=objective,
    needs_training=True,
    needs_labels=True,
    description="DMASum: dual-channel mixture-of-attention, trained with single-video meta learning",
)
