"""The training-free scorer (vidsum.models.training_free): the documented formula on hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest

from vidsum.errors import InputError
from vidsum.models.training_free import FLAT_SCORE, labels_from_change_points, score_steps


def shots_video(order: list[int], length: int = 5, dim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Steps whose shot i shows basis direction order[i] for ``length`` steps.

    Returns ((n, dim) float32, (k - 1,) change points)."""
    eye = np.eye(dim, dtype=np.float32)
    x = np.repeat(eye[order], length, axis=0)
    return x, np.arange(1, len(order)) * length


def test_repeated_shot_scores_lower_than_unique_ones() -> None:
    # Shots A B A C, orthogonal content. Hand computation (w = 1/4 each, S = 0/1):
    # r = [1/2, 1/4, 1/2, 1/4]; picks: A(0) gain 1/2, B gain 1/4, C gain 1/4, A(2) gain 1/2 - 1.
    x, cps = shots_video([0, 1, 0, 2])
    scores = score_steps(x, cps)
    shot = scores[::5]
    np.testing.assert_allclose(shot, [1.0, 0.75 / 1.0, 0.0, 0.75], atol=1e-6)
    assert shot[2] < shot[1] and shot[2] < shot[3]  # the repeat ranks below both unique shots
    assert shot[0] > shot[1]  # the first occurrence is the most representative
    # Without the diversity term the repeat is as good as the original (and beats B and C).
    rep_only = score_steps(x, cps, diversity=0.0)[::5]
    np.testing.assert_allclose(rep_only, [1.0, 0.0, 1.0, 0.0], atol=1e-6)


def test_partial_similarity_matches_hand_computation() -> None:
    # Shot 0 = e0, shot 1 = (e0 + e1)/sqrt2, shot 2 = e2; lengths 2, 1, 1 (n = 4).
    x = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 5]], dtype=np.float32)
    scores = score_steps(x, np.array([2, 3]))
    s = 1 / np.sqrt(2)
    r = np.array([0.5 + 0.25 * s, 0.5 * s + 0.25, 0.25])
    # Greedy: r0 = 0.677 first; then shot 1: r1 - s = -0.104, shot 2: 0.25 -> shot 2, then 1.
    gains = np.array([r[0], r[1] - s, r[2]])
    expected = (gains - gains.min()) / (gains.max() - gains.min())
    np.testing.assert_allclose(scores, expected[[0, 0, 1, 2]], atol=1e-6)


def test_invariant_to_feature_scale_and_deterministic() -> None:
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(60, 32))).astype(np.float32)
    cps = np.array([10, 25, 31, 50])
    base = score_steps(x, cps)
    np.testing.assert_allclose(score_steps(x * 1000.0, cps), base, atol=1e-5)
    per_step = rng.uniform(0.1, 10.0, size=(60, 1)).astype(np.float32)  # per-frame gain changes
    np.testing.assert_allclose(score_steps(x * per_step, cps), base, atol=1e-5)
    np.testing.assert_array_equal(score_steps(x, cps), base)
    assert base.dtype == np.float32 and base.shape == (60,)
    assert base.min() == 0.0 and base.max() == 1.0
    # Constant within each shot.
    for a, b in zip([0, 10, 25, 31, 50], [10, 25, 31, 50, 60]):
        assert np.unique(base[a:b]).size == 1


def test_labels_and_change_points_agree() -> None:
    x, cps = shots_video([0, 1, 0, 2], length=3)
    labels = labels_from_change_points(cps, len(x))
    np.testing.assert_array_equal(labels, np.repeat(np.arange(4), 3))
    np.testing.assert_array_equal(score_steps(x, labels=labels), score_steps(x, cps))
    # Runs of equal labels are shots, whatever the label values are.
    np.testing.assert_array_equal(score_steps(x, labels=np.repeat([7, 3, 7, 9], 3)), score_steps(x, cps))
    with pytest.raises(ValueError):
        labels_from_change_points(np.array([3, 3]), 12)
    with pytest.raises(ValueError):
        score_steps(x, cps, labels=labels)


def test_edge_cases_give_defined_output() -> None:
    assert score_steps(np.zeros((0, 8))).shape == (0,)
    np.testing.assert_array_equal(score_steps(np.ones((1, 8))), [FLAT_SCORE])
    np.testing.assert_array_equal(score_steps(np.ones((20, 8)), np.array([5, 10])), np.full(20, FLAT_SCORE))
    np.testing.assert_array_equal(score_steps(np.zeros((20, 8)), np.array([5, 10])), np.full(20, FLAT_SCORE))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(score_steps(rng.normal(size=(9, 4))), np.full(9, FLAT_SCORE))  # one shot
    # Any dimension, signed features, 1-d input.
    for dim in (1, 2, 2048):
        out = score_steps(rng.normal(size=(30, dim)), np.array([7, 19]))
        assert out.shape == (30,) and np.isfinite(out).all() and (0 <= out).all() and (out <= 1).all()
    out = score_steps(np.array([1.0, 1.0, -1.0, -1.0]), np.array([2]))
    assert np.isfinite(out).all()
    bad = np.ones((4, 2))
    bad[1, 0] = np.inf
    with pytest.raises(InputError):
        score_steps(bad, np.array([2]))
