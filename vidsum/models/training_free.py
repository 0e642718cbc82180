"""The training-free scorer: what ``summarize`` uses when no trained checkpoint exists.

It scores shots, not frames, by a greedy trade-off between representativeness (how much of
the video looks like the shot) and diversity (how unlike the shots already favoured it is),
the two criteria of unsupervised summarizers (e.g. maximal marginal relevance; Zhou et al.'s
DR-DSN reward). The formula, with ``k`` shots (from KTS) over ``n`` steps:

1. Every step feature is L2-normalised (so the scores ignore feature scale); shot ``s`` is
   the unit vector ``c_s`` of its mean step feature, weighted by ``w_s = len_s / n``.
2. Similarity ``S[a, b] = max(0, <c_a, c_b>)`` (cosine, negative correlations count as 0).
3. Representativeness ``r_s = sum_b w_b S[s, b]``: the fraction of the video's duration that
   looks like shot ``s`` (``S[s, s] = 1`` counts the shot itself), in [0, 1].
4. Diversity by greedy maximal marginal relevance: repeatedly pick the unpicked shot with the
   largest ``gain_s = r_s - diversity * max_{p picked} S[s, p]`` (0 before the first pick; ties
   go to the earlier shot); a shot's value ``g_s`` is its gain when picked. The gains of
   successive picks never increase, so a near-duplicate of a picked shot ranks below every
   shot unlike it whenever ``diversity * S`` exceeds their difference in ``r``.
5. Scores: ``(g_s - min g) / (max g - min g)`` given to every step of shot ``s``. When no
   shot is preferable (one shot, every ``c_s`` equal as with flat or all-zero features, or
   all gains equal) every step scores ``FLAT_SCORE``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from vidsum.errors import InputError
from vidsum.models.base import ModelSpec

log = logging.getLogger(__name__)

DIVERSITY = 1.0  # weight of the redundancy penalty (1: an exact duplicate gains r - 1 <= 0)
FLAT_SCORE = 0.5  # score of every step when no shot is preferable to another


def labels_from_change_points(change_points: np.ndarray, n_steps: int) -> np.ndarray:
    """Step change points (the first step of each new shot) -> shot label of every step.

    change_points: (m,) int, sorted, in (0, n_steps). Returns (n_steps,) int64 in [0, m].
    """
    cps = np.asarray(change_points, dtype=np.int64).reshape(-1)
    if cps.size and (cps[0] <= 0 or cps[-1] >= n_steps or (np.diff(cps) <= 0).any()):
        raise ValueError(f"change points must be strictly increasing steps in (0, {n_steps}), got {cps}")
    labels = np.zeros(n_steps, dtype=np.int64)
    labels[cps] = 1
    return np.cumsum(labels)


def score_steps(
    features: np.ndarray,
    change_points: np.ndarray | None = None,
    *,
    labels: np.ndarray | None = None,
    diversity: float = DIVERSITY,
) -> np.ndarray:
    """Training-free importance of every step (formula in the module docstring).

    features: (n_steps, d) float, any d >= 1 and any scale.
    change_points: (m,) int step indices starting new shots (``segmentation.kts`` output);
        None or empty: one shot. Give this or ``labels``.
    labels: (n_steps,) shot label per step; each run of equal labels is one shot.
    diversity: weight of the redundancy penalty (0: representativeness alone).
    Returns (n_steps,) float32 in [0, 1], constant within a shot; deterministic.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"features must be (n_steps, dim), got shape {x.shape}")
    n = x.shape[0]
    if n and not np.isfinite(x).all():
        raise InputError(
            "features contain NaN or infinite values; the feature file or extractor is corrupt: "
            "re-extract the features (vidsum features ...)"
        )
    if labels is not None and change_points is not None:
        raise ValueError("give change_points or labels, not both")
    if labels is None:
        shot_of = labels_from_change_points(np.zeros(0) if change_points is None else change_points, n)
    else:
        lab = np.asarray(labels).reshape(-1)
        if lab.shape[0] != n:
            raise ValueError(f"{lab.shape[0]} labels for {n} steps")
        # Any labelling of contiguous runs works: renumber the runs 0, 1, 2, ...
        shot_of = np.concatenate([[0], np.cumsum(lab[1:] != lab[:-1])]).astype(np.int64) if n else lab.astype(np.int64)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    k = int(shot_of[-1]) + 1

    norms = np.linalg.norm(x, axis=1, keepdims=True)
    z = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, shot_of, z)
    lengths = np.bincount(shot_of, minlength=k).astype(np.float64)
    centre_norms = np.linalg.norm(sums, axis=1, keepdims=True)
    # A shot of all-zero features has no direction: similarity 0 to everything but itself.
    c = np.divide(sums, centre_norms, out=np.zeros_like(sums), where=centre_norms > 0)
    if np.abs(c - c[0]).max() <= 1e-6:
        # Every shot looks the same (flat or all-zero features): none is preferable.
        return np.full(n, FLAT_SCORE, dtype=np.float32)
    # float32: k x k stays small (1,000 shots: 4 MB) and cosines need no more digits.
    c32 = c.astype(np.float32)
    sim = np.clip(c32 @ c32.T, 0.0, 1.0)
    np.fill_diagonal(sim, 1.0)
    rep = (sim @ (lengths / n).astype(np.float32)).astype(np.float64)

    gains = np.empty(k)
    picked = np.zeros(k, dtype=bool)
    redundancy = np.zeros(k)  # max similarity to the shots picked so far
    for _ in range(k):
        gain = np.where(picked, -np.inf, rep - diversity * redundancy)
        s = int(np.argmax(gain))  # first maximum: ties go to the earlier shot
        gains[s] = gain[s]
        picked[s] = True
        np.maximum(redundancy, sim[s], out=redundancy)

    span = gains.max() - gains.min()
    # Gains within rounding of each other are a tie, not a ranking.
    if span <= 1e-9 * max(1.0, float(np.abs(gains).max())):
        shot_scores = np.full(k, FLAT_SCORE)
    else:
        shot_scores = (gains - gains.min()) / span
    log.debug("training-free scores: %d steps, %d shots, gain range %.4f", n, k, span)
    return shot_scores[shot_of].astype(np.float32)


def labels_from_shots(shots: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """(n, 2) inclusive frame ranges and (T,) step frame indices -> (T,) int64 shot of each step."""
    shots = np.asarray(shots, dtype=np.int64).reshape(-1, 2)
    return np.searchsorted(shots[:, 0], np.asarray(picks, dtype=np.int64), side="right") - 1


class TrainingFreeScorer:
    """The Scorer of this module: every step scores as its shot (``score_steps``)."""

    name = "training-free (representativeness + diversity, vidsum.models.training_free)"
    checkpoint: Path | None = None
    features: dict[str, Any] | None = None

    def __init__(self, diversity: float = DIVERSITY) -> None:
        self.diversity = diversity

    def score(self, features: np.ndarray, shots: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
        """features (T, D); shots (n, 2) int64 inclusive frame ranges; picks (T,) -> (T,) float32."""
        labels = labels_from_shots(shots, picks)
        return np.asarray(score_steps(features, labels=labels, diversity=self.diversity), dtype=np.float32)


SPEC = ModelSpec(
    name="training-free",
    module=__name__,
    config_cls=None,
    build=None,
    objective=None,
    needs_training=False,
    needs_labels=False,
    description="representativeness + diversity of the shots' features; needs no training",
    scorer=TrainingFreeScorer,
)
