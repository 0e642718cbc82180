"""VS-LSTM and DPP-LSTM (Zhang, Chao, Sha and Grauman, "Video summarization with long short-term
memory", ECCV 2016). Supervised. No I/O, no device logic.

    features x (T, D) -> BiLSTM (hidden per direction) -> h (T, 2 * hidden)
    importance  y_t = f_I([h_t; x_t]) = sigmoid(W2 ReLU(W1 [h_t; x_t]))          (T,) in (0, 1)
    dpp-lstm:   phi_t = f_S([h_t; x_t]), unit length                               (T, phi_dim)

The paper's MLPs read both the hidden state and the frame feature ("h_t and x_t"), so the head
sees the frame directly as well as its context.

Objectives:

    vslstm    MSE(y, gtscore)
    dpp-lstm  MSE(y, gtscore) + dpp_weight * L_dpp / T, the DPP term of the paper:
              L = diag(y) Phi Phi^T diag(y) (quality-diversity kernel, L_ts = y_t phi_t . phi_s y_s),
              L_dpp = -log P(Y*) = -log det(L_{Y*}) + log det(L + I)
              Y* = the ground-truth keyframes. eccv16 files carry frame-level scores, so Y* is taken
              as the top ``keyframe_fraction`` of the steps by gtscore (ties broken by position).
              A small jitter (``DPP_JITTER`` * I) keeps det(L_{Y*}) > 0 when |Y*| > phi_dim.
              Dividing by T keeps the term's size independent of the video length.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from vidsum.errors import UsageError
from vidsum.models.base import ModelSpec
from vidsum.models.common import COMPARED_STRATEGIES, check_features, check_fraction, check_positive, mse

DPP_JITTER = 1e-4  # added to the diagonal of L_{Y*}: its determinant is 0 when |Y*| > rank(Phi)


@dataclasses.dataclass(frozen=True)
class VSLSTMConfig:
    """VS-LSTM sizes (Zhang et al. 2016: 256 hidden units per LSTM direction and per MLP layer)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    lstm_hidden: int = 256  # per direction
    mlp_hidden: int = 256  # hidden layer of f_I (and f_S)
    dropout: float = 0.0  # on the MLP hidden layer (the paper does not state one)
    dpp: bool = False  # add the DPP term (the dpp-lstm family)
    phi_dim: int = 256  # size of the diversity features phi_t (dpp-lstm)
    dpp_weight: float = 1.0  # weight of L_dpp / T beside the MSE
    keyframe_fraction: float = 0.15  # Y*: this share of the steps, the highest gtscore

    def __post_init__(self) -> None:
        check_positive(self, "input_dim", "lstm_hidden", "mlp_hidden", "phi_dim")
        check_fraction(self.dropout, "dropout")
        if not 0.0 < self.keyframe_fraction <= 1.0:
            raise UsageError(f"keyframe_fraction must be in (0, 1], got {self.keyframe_fraction}")
        if self.dpp_weight < 0:
            raise UsageError(f"dpp_weight must be >= 0, got {self.dpp_weight}")


@dataclasses.dataclass(frozen=True)
class DPPLSTMConfig(VSLSTMConfig):
    """DPP-LSTM: VS-LSTM plus the DPP diversity term."""

    dpp: bool = True


def _mlp(n_in: int, hidden: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


class VSLSTM(nn.Module):
    """BiLSTM + MLP importance regressor; with ``cfg.dpp`` also the diversity head f_S."""

    def __init__(self, cfg: VSLSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.input_dim, cfg.lstm_hidden, bidirectional=True)
        n_in = 2 * cfg.lstm_hidden + cfg.input_dim
        self.importance = _mlp(n_in, cfg.mlp_hidden, 1, cfg.dropout)
        self.diversity = _mlp(n_in, cfg.mlp_hidden, cfg.phi_dim, cfg.dropout) if cfg.dpp else None

    def _context(self, x: torch.Tensor) -> torch.Tensor:
        check_features(x, self.cfg.input_dim, "VS-LSTM")
        h, _ = self.lstm(x.unsqueeze(1))
        return torch.cat([h[:, 0], x], dim=-1)  # (T, 2 * hidden + D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) float32 -> importance (T,) in (0, 1)."""
        return torch.sigmoid(self.importance(self._context(x)).squeeze(-1))

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (T, D) -> (importance (T,), phi (T, phi_dim) unit rows); dpp-lstm only."""
        if self.diversity is None:
            raise ValueError("this VS-LSTM has no DPP head (build it with dpp=True)")
        z = self._context(x)
        y = torch.sigmoid(self.importance(z).squeeze(-1))
        return y, nn.functional.normalize(self.diversity(z), dim=-1)


def build(cfg: VSLSTMConfig) -> VSLSTM:
    return VSLSTM(cfg)


def keyframes(y: torch.Tensor, fraction: float) -> torch.Tensor:
    """Y*: indices (k,) int64 of the top ``fraction`` of steps by label, k >= 1, sorted by position."""
    k = max(1, round(fraction * y.shape[0]))
    # A stable sort keeps the earlier step among equal labels, so Y* is deterministic.
    order = torch.sort(-y, stable=True).indices
    return torch.sort(order[:k]).values


def dpp_nll(y: torch.Tensor, phi: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """-log P(Y = chosen) under the DPP with kernel L = diag(y) phi phi^T diag(y).

    y (T,) qualities, phi (T, d) unit diversity features, chosen (k,) int64 -> scalar.
    """
    q = y.unsqueeze(1) * phi  # (T, d): L = q q^T
    kernel = q @ q.T
    eye = torch.eye(kernel.shape[0], dtype=kernel.dtype, device=kernel.device)
    sub = kernel[chosen][:, chosen] + DPP_JITTER * eye[: chosen.shape[0], : chosen.shape[0]]
    return torch.logdet(kernel + eye) - torch.logdet(sub)


def objective(model: VSLSTM, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """vslstm: MSE against gtscore; dpp-lstm: MSE + dpp_weight * L_dpp / T (module docstring)."""
    cfg = model.cfg
    if not cfg.dpp:
        return mse(model, x, y)
    if y is None:
        raise UsageError("DPP-LSTM is supervised: it needs gtscore labels to train")
    scores, phi = model.parts(x)
    loss = torch.mean((scores - y) ** 2)
    if cfg.dpp_weight > 0:
        loss = loss + cfg.dpp_weight * dpp_nll(scores, phi, keyframes(y, cfg.keyframe_fraction)) / x.shape[0]
    return loss


SPEC = ModelSpec(
    name="vslstm",
    module=__name__,
    config_cls=VSLSTMConfig,
    build=build,
    objective=objective,
    needs_training=True,
    needs_labels=True,
    description="VS-LSTM (Zhang et al. 2016): BiLSTM + MLP regressing importance, MSE",
    strategies=COMPARED_STRATEGIES,
)
DPP_SPEC = dataclasses.replace(
    SPEC,
    name="dpp-lstm",
    config_cls=DPPLSTMConfig,
    description="DPP-LSTM (Zhang et al. 2016): VS-LSTM + the DPP diversity term",
)
