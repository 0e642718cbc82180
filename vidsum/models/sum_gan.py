"""SUM-GAN (Mahasseni, Lam and Todorovic, "Unsupervised video summarization with adversarial LSTM
networks", CVPR 2017), the full model with its variational auto-encoder. No I/O, no device logic.

    x (T, D) --[compress: Linear(D -> d) when ``compress_dim`` > 0, else identity]--> f (T, d)
    selector sLSTM      BiLSTM(f) -> Linear -> sigmoid                    s (T,) in (0, 1)
    encoder  eLSTM      LSTM(s * f), last hidden state -> mu, log var      e = mu + sigma * eps
    decoder  dLSTM      LSTM(e at every step) -> Linear                     f^ (T, d)
    discriminator cLSTM LSTM(f or f^), last hidden state phi -> Linear -> sigmoid: "is original"

The importance scores are s. Losses (paper section 3):

    L_prior    = KL(N(mu, sigma^2) || N(0, I))
    L_reconst  = ||phi(f) - phi(f^)||^2 / dim(phi)       (feature matching in cLSTM's last layer)
    L_GAN      = log c(f) + log(1 - c(f^)) + log(1 - c(f^_p)),   f^_p decoded from e_p ~ N(0, I)
    L_sparsity = |mean_t s_t - sigma|,  sigma = ``sparsity_target`` (paper 0.3)

One training step per video updates the three parts in turn, each with its own Adam optimizer
(``make_optimizers``, ``train_step``), as in Algorithm 1 of the paper:

    selector + encoder (+ compress)   minimise L_prior + L_reconst + L_sparsity
    decoder                           minimise L_reconst - L_GAN (the non-saturating form:
                                      -log c(f^) - log c(f^_p))
    discriminator                     maximise L_GAN (lr scaled by ``discriminator_lr_scale``)

``sum-gan-sup`` (the paper's SUM-GAN_sup) adds ``label_weight * BCE(s, gtscore)`` to the
selector's loss: the keyframe supervision of the paper, with gtscore as soft labels.

Validation without labels (``validation``): the mean squared error of the reconstruction decoded
from mu (no sampling) plus L_sparsity, a criterion that does not move with the discriminator.
sum-gan-sup validates on the MSE of s against gtscore when the videos have it.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch
from torch import nn

from vidsum.errors import UsageError
from vidsum.models.base import ModelSpec
from vidsum.models.common import BiLSTMScorer, bce, check_features, check_fraction, check_positive

CLIP_NORM = 5.0  # gradient-norm clip of every SUM-GAN optimizer step (LSTM GANs explode without it)


@dataclasses.dataclass(frozen=True)
class SumGANConfig:
    """SUM-GAN sizes (Mahasseni et al. 2017: 2-layer LSTMs with 1024 hidden units)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    hidden: int = 1024  # units of every LSTM (per direction for the selector) and of e
    layers: int = 2  # layers of every LSTM
    compress_dim: int = 0  # > 0: a Linear(input_dim -> compress_dim) before everything (SUM-GAN-sl's 500)
    sparsity_target: float = 0.3  # sigma
    supervised: bool = False  # add the keyframe label term (the sum-gan-sup family)
    label_weight: float = 1.0
    discriminator_lr_scale: float = 0.1  # discriminator lr = this * the training lr

    def __post_init__(self) -> None:
        check_positive(self, "input_dim", "hidden", "layers")
        if self.compress_dim < 0:
            raise UsageError(f"compress_dim must be >= 0 (0: no compression), got {self.compress_dim}")
        check_fraction(self.sparsity_target, "sparsity_target", closed=True)
        if self.label_weight < 0 or not self.discriminator_lr_scale > 0:
            raise UsageError("label_weight must be >= 0 and discriminator_lr_scale > 0")


@dataclasses.dataclass(frozen=True)
class SumGANSupConfig(SumGANConfig):
    """SUM-GAN_sup: the adversarial losses plus keyframe supervision."""

    supervised: bool = True


def _last_hidden(lstm: nn.LSTM, seq: torch.Tensor) -> torch.Tensor:
    """Run ``lstm`` over seq (T, n) and return its top layer's final hidden state (hidden,)."""
    _, (h, _) = lstm(seq.unsqueeze(1))
    return h[-1, 0]


class SumGAN(nn.Module):
    """All four LSTMs; forward() is the selector: (T, D) -> (T,) importance in (0, 1)."""

    def __init__(self, cfg: SumGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.compress_dim or cfg.input_dim
        h, n = cfg.hidden, cfg.layers
        self.compress = nn.Linear(cfg.input_dim, d) if cfg.compress_dim else nn.Identity()
        self.selector = BiLSTMScorer(d, h, n)
        self.encoder = nn.LSTM(d, h, num_layers=n)
        self.mu = nn.Linear(h, h)
        self.log_var = nn.Linear(h, h)
        self.decoder = nn.LSTM(h, h, num_layers=n)
        self.reconstruct = nn.Linear(h, d)
        self.discriminator = nn.LSTM(d, h, num_layers=n)
        self.judge = nn.Linear(h, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) float32 -> s (T,) in (0, 1)."""
        check_features(x, self.cfg.input_dim, "SUM-GAN")
        return self.selector(self.compress(x))

    def encode(self, f: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """f (T, d), s (T,) -> (mu, log_var), each (hidden,)."""
        last = _last_hidden(self.encoder, f * s.unsqueeze(1))
        return self.mu(last), self.log_var(last)

    def decode(self, e: torch.Tensor, steps: int) -> torch.Tensor:
        """e (hidden,) -> f^ (steps, d)."""
        out, _ = self.decoder(e.expand(steps, 1, -1).contiguous())
        return self.reconstruct(out[:, 0])

    def phi(self, f: torch.Tensor) -> torch.Tensor:
        """The discriminator's last hidden state for a sequence (T, d) -> (hidden,)."""
        return _last_hidden(self.discriminator, f)

    def is_original(self, phi: torch.Tensor) -> torch.Tensor:
        """phi (hidden,) -> probability (1,) that the sequence is an original video."""
        return torch.sigmoid(self.judge(phi))

    def groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters of the three players of the game (each has its own optimizer)."""
        summarizer = [*self.compress.parameters(), *self.selector.parameters(), *self.encoder.parameters(),
                      *self.mu.parameters(), *self.log_var.parameters()]
        return {
            "summarizer": summarizer,
            "decoder": [*self.decoder.parameters(), *self.reconstruct.parameters()],
            "discriminator": [*self.discriminator.parameters(), *self.judge.parameters()],
        }


def build(cfg: SumGANConfig) -> SumGAN:
    return SumGAN(cfg)


def _sample(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)


def _kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.mean(1 + log_var - mu**2 - log_var.exp())


def summarizer_loss(model: SumGAN, x: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """L_prior + L_reconst + L_sparsity (+ the label term); returns (loss, compressed features f)."""
    cfg = model.cfg
    if cfg.supervised and y is None:
        raise UsageError("SUM-GAN_sup needs gtscore labels; train plain SUM-GAN (--arch sum-gan) on unlabelled data")
    check_features(x, cfg.input_dim, "SUM-GAN")
    f = model.compress(x)
    s = model.selector(f)
    mu, log_var = model.encode(f, s)
    f_hat = model.decode(_sample(mu, log_var), f.shape[0])
    reconst = torch.mean((model.phi(f) - model.phi(f_hat)) ** 2)
    loss = _kl(mu, log_var) + reconst + (s.mean() - cfg.sparsity_target).abs()
    if cfg.supervised and y is not None:
        loss = loss + cfg.label_weight * bce(s, y)
    return loss, f


def objective(model: SumGAN, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """The selector + encoder loss (L_prior + L_reconst + L_sparsity [+ labels]) as one scalar.

    Training uses ``train_step`` (three optimizers); this is the differentiable part the
    summarizer minimises, for callers that want a single loss.
    """
    return summarizer_loss(model, x, y)[0]


def make_optimizers(model: SumGAN, lr: float) -> dict[str, torch.optim.Optimizer]:
    """One Adam per player; the discriminator's lr is ``lr * discriminator_lr_scale``."""
    groups = model.groups()
    return {
        name: torch.optim.Adam(params, lr=lr * (model.cfg.discriminator_lr_scale if name == "discriminator" else 1.0))
        for name, params in groups.items()
    }


def _step(optimizer: torch.optim.Optimizer, model: SumGAN, params: list[nn.Parameter], loss: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(params, CLIP_NORM)
    optimizer.step()


def train_step(
    model: SumGAN,
    optimizers: dict[str, torch.optim.Optimizer],
    videos: Sequence[tuple[torch.Tensor, torch.Tensor | None]],
) -> float:
    """One step of the game per video of ``videos`` [(x (T, D), gtscore (T,) | None)]; returns the
    mean summarizer loss before the updates. Samples from torch's global generator."""
    return float(sum(video_step(model, optimizers, x, y) for x, y in videos) / max(1, len(videos)))


def video_step(
    model: SumGAN, optimizers: dict[str, torch.optim.Optimizer], x: torch.Tensor, y: torch.Tensor | None
) -> float:
    """One video: selector + encoder, then decoder, then discriminator (module docstring).

    Returns the summarizer loss before its update.
    """
    groups = model.groups()
    loss, _ = summarizer_loss(model, x, y)
    _step(optimizers["summarizer"], model, groups["summarizer"], loss)

    # Decoder: reconstruct well and fool the discriminator, from the updated selector's code.
    with torch.no_grad():
        f = model.compress(x)
        mu, log_var = model.encode(f, model.selector(f))
        e = _sample(mu, log_var)
    e_prior = torch.randn_like(e)
    f_hat = model.decode(e, f.shape[0])
    f_prior = model.decode(e_prior, f.shape[0])
    phi_hat = model.phi(f_hat)
    reconst = torch.mean((model.phi(f) - phi_hat) ** 2)
    c_hat, c_hat_prior = model.is_original(phi_hat), model.is_original(model.phi(f_prior))
    fool = bce(c_hat, torch.ones_like(c_hat)) + bce(c_hat_prior, torch.ones_like(c_hat))
    _step(optimizers["decoder"], model, groups["decoder"], reconst + fool)

    # Discriminator: originals are 1, reconstructions and prior samples 0.
    c_real = model.is_original(model.phi(f))
    c_fake = model.is_original(model.phi(f_hat.detach()))
    c_prior = model.is_original(model.phi(f_prior.detach()))
    judge = bce(c_real, torch.ones_like(c_real)) + bce(c_fake, torch.zeros_like(c_real)) + bce(c_prior, torch.zeros_like(c_real))
    _step(optimizers["discriminator"], model, groups["discriminator"], judge)
    return float(loss.detach())


def validation(model: SumGAN, x: torch.Tensor, y: torch.Tensor | None) -> float:
    """Lower is better. sum-gan: reconstruction MSE from mu + L_sparsity (label-free);
    sum-gan-sup with labels: the MSE of s against gtscore. Call in eval mode without gradients."""
    cfg = model.cfg
    f = model.compress(x)
    s = model.selector(f)
    if cfg.supervised and y is not None:
        return float(torch.mean((s - y) ** 2))
    mu, _ = model.encode(f, s)
    return float(torch.mean((model.decode(mu, f.shape[0]) - f) ** 2) + (s.mean() - cfg.sparsity_target).abs())


SPEC = ModelSpec(
    name="sum-gan",
    module=__name__,
    config_cls=SumGANConfig,
    build=build,
    objective=objective,
    needs_training=True,
    needs_labels=False,
    description="SUM-GAN (Mahasseni et al. 2017): selector + VAE + discriminator LSTMs, adversarial; no labels",
    train_step=train_step,
    make_optimizer=make_optimizers,
    validate=validation,
    strategies=("plain",),
)
SUP_SPEC = dataclasses.replace(
    SPEC,
    name="sum-gan-sup",
    config_cls=SumGANSupConfig,
    needs_labels=True,
    description="SUM-GAN_sup (Mahasseni et al. 2017): SUM-GAN + keyframe supervision",
)
