"""DR-DSN (Zhou, Qiao and Xiang, "Deep reinforcement learning for unsupervised video summarization
with diversity-representativeness reward", AAAI 2018). No I/O, no device logic.

The deep summarization network (DSN) is a BiLSTM whose outputs go through Linear -> sigmoid:
p_t in (0, 1) is the probability of selecting step t. Training samples selections
a ~ Bernoulli(p) and rewards them without labels (x_t the step features, Y = {t : a_t = 1}):

    R_div = 1 / (|Y| (|Y| - 1)) * sum_{t in Y} sum_{t' in Y, t' != t} d(x_t, x_t')
            d = 1 - cosine similarity, and d = 1 when |t - t'| > lambda (``temporal_window``:
            frames far apart count as dissimilar, since a story may revisit a scene)
    R_rep = exp(-1/T * sum_t min_{t' in Y} ||x_t - x_t'||_2)
    R = R_div + R_rep      (0 when nothing is selected; R_div = 0 for a single step)

Objective, per video, with N = ``episodes`` samples (REINFORCE, eq. 7-9 of the paper):

    L = -1/N sum_n (R_n - b) * mean_t log pi(a_{n,t} | p_t)  +  beta * (mean_t p_t - eps)^2

b is a moving average of the rewards (``baseline_momentum``), kept as a buffer in the model so
it travels with the checkpoint; the paper keeps one per training video, here there is one for
the run, initialised with the first video's mean reward. The log-probability is averaged over
steps (the paper sums it) so the regulariser's weight does not depend on the video length.
eps = 0.5 as in the paper; beta = 0.1, not the paper's 0.01: at learning rates above the paper's 1e-5
the reward (which grows with every selected step) drives every p to 1 under beta = 0.01, and
the ranking the summary needs is lost (docs/models.md).

``dr-dsn-sup`` (the paper's DR-DSN_sup) adds the label term ``label_weight * BCE(p, gtscore)``:
the log-likelihood of the annotated selection, with gtscore in [0, 1] as soft labels.

Validation without labels (``validation``): the reward of the steps a summary would keep, the top
``SUMMARY_FRACTION`` of the steps by p, negated so lower is better. dr-dsn-sup validates on the MSE
of p against gtscore when the videos have it.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from vidsum.errors import UsageError
from vidsum.models.base import ModelSpec
from vidsum.models.common import (
    COMPARED_STRATEGIES,
    BiLSTMScorer,
    bce,
    check_features,
    check_fraction,
    check_positive,
    length_penalty,
)

SUMMARY_FRACTION = 0.15  # share of the steps whose reward is the label-free validation criterion


@dataclasses.dataclass(frozen=True)
class DRDSNConfig:
    """DR-DSN sizes and reward settings (Zhou et al. 2018 values as defaults)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    hidden: int = 256  # BiLSTM units per direction
    layers: int = 1  # BiLSTM layers
    episodes: int = 5  # N: selections sampled per video and step
    temporal_window: int = 20  # lambda in steps; 0: no window (all pairs compared by cosine)
    length_target: float = 0.5  # eps of the regulariser
    length_weight: float = 0.1  # beta of the regulariser (paper 0.01; docs/models.md says why not)
    baseline_momentum: float = 0.9  # b <- m * b + (1 - m) * mean reward
    supervised: bool = False  # add the label term (the dr-dsn-sup family)
    label_weight: float = 1.0  # weight of BCE(p, gtscore) in dr-dsn-sup

    def __post_init__(self) -> None:
        check_positive(self, "input_dim", "hidden", "layers", "episodes")
        if self.temporal_window < 0:
            raise UsageError(f"temporal_window must be >= 0 steps, got {self.temporal_window}")
        check_fraction(self.length_target, "length_target", closed=True)
        check_fraction(self.baseline_momentum, "baseline_momentum")
        if self.length_weight < 0 or self.label_weight < 0:
            raise UsageError("length_weight and label_weight must be >= 0")


@dataclasses.dataclass(frozen=True)
class DRDSNSupConfig(DRDSNConfig):
    """DR-DSN_sup: the reward plus the label term."""

    supervised: bool = True


class DRDSN(nn.Module):
    """The DSN: (T, D) features -> (T,) selection probabilities; holds the reward baseline."""

    def __init__(self, cfg: DRDSNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.dsn = BiLSTMScorer(cfg.input_dim, cfg.hidden, cfg.layers)
        # NaN until the first training step sets it; a buffer, so checkpoints carry it.
        self.register_buffer("reward_baseline", torch.tensor(math.nan))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) float32 -> p (T,) in (0, 1)."""
        check_features(x, self.cfg.input_dim, "DR-DSN")
        return self.dsn(x)


def build(cfg: DRDSNConfig) -> DRDSN:
    return DRDSN(cfg)


def reward(x: torch.Tensor, selected: torch.Tensor, temporal_window: int) -> torch.Tensor:
    """R_div + R_rep of one selection (module docstring).

    x (T, D) float features; selected (k,) int64 step indices, sorted or not. Returns a 0-d
    tensor (no gradient). Memory O(T * k): no T x T matrix is formed.
    """
    with torch.no_grad():
        k = int(selected.numel())
        if k == 0:
            return x.new_zeros(())
        picked = x[selected]
        if k >= 2:
            unit = nn.functional.normalize(picked, dim=-1)
            dissim = 1.0 - unit @ unit.T
            if temporal_window > 0:
                gap = (selected[:, None] - selected[None, :]).abs()
                dissim = torch.where(gap > temporal_window, torch.ones_like(dissim), dissim)
            dissim.fill_diagonal_(0.0)
            r_div = dissim.sum() / (k * (k - 1))
        else:
            r_div = x.new_zeros(())
        r_rep = torch.exp(-torch.cdist(x, picked).min(dim=1).values.mean())
        return r_div + r_rep


def objective(model: DRDSN, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """REINFORCE loss with the moving baseline and the length regulariser (module docstring).

    Draws ``episodes`` selections from torch's global generator (seeded by training). In training
    mode it also moves the baseline towards this video's mean reward.
    """
    cfg = model.cfg
    if cfg.supervised and y is None:
        raise UsageError("DR-DSN_sup needs gtscore labels; train plain DR-DSN (--arch dr-dsn) on unlabelled data")
    p = model(x)
    policy = torch.distributions.Bernoulli(probs=p.clamp(1e-6, 1 - 1e-6))
    actions = policy.sample((cfg.episodes,))  # (N, T) 0/1
    rewards = torch.stack([reward(x, a.nonzero().squeeze(1), cfg.temporal_window) for a in actions])
    baseline = model.reward_baseline
    b = rewards.mean() if torch.isnan(baseline) else baseline
    log_prob = policy.log_prob(actions).mean(dim=1)  # (N,)
    loss = -((rewards - b) * log_prob).mean() + cfg.length_weight * length_penalty(p, cfg.length_target)
    if cfg.supervised and y is not None:
        loss = loss + cfg.label_weight * bce(p, y)
    if model.training:
        with torch.no_grad():
            m = cfg.baseline_momentum
            baseline.copy_(rewards.mean() if torch.isnan(baseline) else m * baseline + (1 - m) * rewards.mean())
    return loss


def summary_steps(p: torch.Tensor, fraction: float = SUMMARY_FRACTION) -> torch.Tensor:
    """The top ``fraction`` of the steps by p (at least one): (k,) int64."""
    k = max(1, round(fraction * p.shape[0]))
    return torch.topk(p, k).indices


def validation(model: DRDSN, x: torch.Tensor, y: torch.Tensor | None) -> float:
    """Lower is better. dr-dsn: minus the reward of the top steps (label-free); dr-dsn-sup with
    labels: the MSE of p against gtscore. Call in eval mode without gradients."""
    p = model(x)
    if model.cfg.supervised and y is not None:
        return float(torch.mean((p - y) ** 2))
    return -float(reward(x, summary_steps(p), model.cfg.temporal_window))


SPEC = ModelSpec(
    name="dr-dsn",
    module=__name__,
    config_cls=DRDSNConfig,
    build=build,
    objective=objective,
    needs_training=True,
    needs_labels=False,
    description="DR-DSN (Zhou et al. 2018): BiLSTM policy, REINFORCE on diversity + representativeness; no labels",
    validate=validation,
    strategies=COMPARED_STRATEGIES,
)
SUP_SPEC = dataclasses.replace(
    SPEC,
    name="dr-dsn-sup",
    config_cls=DRDSNSupConfig,
    needs_labels=True,
    description="DR-DSN_sup (Zhou et al. 2018): DR-DSN + the label term",
)
