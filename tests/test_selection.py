from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from vidsum.selection import (
    budget_frames,
    frame_scores_from_steps,
    knapsack,
    machine_summary,
    select_shots,
    shot_scores,
    shots_to_segments,
    summary_from_selection,
)


def brute_force(values: np.ndarray, weights: np.ndarray, capacity: int) -> float:
    best = 0.0
    n = len(values)
    for mask in itertools.product((0, 1), repeat=n):
        sel = np.array(mask, dtype=bool)
        if weights[sel].sum() <= capacity:
            best = max(best, float(values[sel].sum()))
    return best


def test_knapsack_matches_brute_force_on_random_cases() -> None:
    rng = np.random.default_rng(7)
    for case in range(300):
        n = int(rng.integers(1, 11))
        values = rng.random(n) if case % 3 else rng.integers(0, 5, n).astype(float)  # integer values: many ties
        weights = rng.integers(1, 20, n)
        capacity = int(rng.integers(0, 60))
        chosen = knapsack(values, weights, capacity)
        assert chosen.dtype == np.int64
        assert np.all(np.diff(chosen) > 0), "indices sorted and unique"
        assert weights[chosen].sum() <= capacity
        assert values[chosen].sum() == pytest.approx(brute_force(values, weights, capacity), abs=1e-9)


def test_knapsack_hand_case_and_unique_optimum() -> None:
    # Capacity 10: {0, 2} (w 4 + 6, v 5 + 7 = 12) beats {1, 2} (w 5 + 6 too heavy) and {0, 1} (v 9).
    assert knapsack(np.array([5.0, 4.0, 7.0]), np.array([4, 5, 6]), 10).tolist() == [0, 2]


def test_knapsack_edge_cases() -> None:
    assert knapsack(np.array([1.0, 2.0]), np.array([3, 4]), 0).size == 0
    assert knapsack(np.array([1.0, 2.0]), np.array([30, 40]), 10).size == 0
    assert knapsack(np.array([]), np.array([], dtype=np.int64), 10).size == 0
    # A zero-value item never helps, so it is not taken (strict improvement rule).
    assert knapsack(np.array([0.0, 1.0]), np.array([1, 1]), 5).tolist() == [1]
    with pytest.raises(ValueError):
        knapsack(np.array([1.0]), np.array([0]), 5)
    with pytest.raises(ValueError):
        knapsack(np.array([np.nan]), np.array([1]), 5)


def test_knapsack_ties_are_deterministic() -> None:
    # Four equal shots, room for two: the same answer every time (the earliest ones).
    values, weights = np.ones(4), np.full(4, 5)
    first = knapsack(values, weights, 10)
    assert first.tolist() == [0, 1]
    for _ in range(3):
        assert knapsack(values, weights, 10).tolist() == first.tolist()


def test_knapsack_is_fast_at_dataset_size() -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.random(400), rng.integers(20, 150, 400)
    start = time.perf_counter()
    knapsack(values, weights, 3000)
    # numpy DP measured ~3-8 ms; a Python loop over capacities would take ~100x longer.
    assert time.perf_counter() - start < 0.5


def test_frame_scores_from_steps() -> None:
    # picks 2, 5, 7 in 10 frames: frames 0-1 take the first score, 2-4 step 0, 5-6 step 1, 7-9 step 2.
    out = frame_scores_from_steps(np.array([0.1, 0.5, 0.9]), np.array([2, 5, 7]), 10)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.9, 0.9, 0.9], rtol=1e-6)
    with pytest.raises(ValueError):
        frame_scores_from_steps(np.array([0.1, 0.2]), np.array([0]), 10)


def test_shot_scores_are_means_over_inclusive_shots() -> None:
    frames = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 0.0])
    cps = np.array([[0, 2], [3, 4], [5, 5]])
    out = shot_scores(frames, cps)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [2.0, 15.0, 0.0])


def test_budget_frames() -> None:
    assert budget_frames(100) == 15
    assert budget_frames(99) == 14  # floor(14.85)
    assert budget_frames(6) == 0
    assert budget_frames(1000, 0.5) == 500
    with pytest.raises(ValueError):
        budget_frames(100, 0.0)


def test_select_and_summary_hand_case() -> None:
    # 20 frames, shots of 3, 5, 2, 10 frames; budget 3 (15 % of 20).
    cps = np.array([[0, 2], [3, 7], [8, 9], [10, 19]])
    frames = np.concatenate([np.full(3, 0.2), np.full(5, 0.9), np.full(2, 0.8), np.full(10, 1.0)])
    selected = select_shots(frames, cps, budget_frames(20))
    # Only shots of <= 3 frames fit; {2} (0.8) beats {0} (0.2); both together weigh 5 > 3.
    assert selected.tolist() == [False, False, True, False]
    summary = summary_from_selection(selected, cps, 20)
    assert summary.dtype == np.uint8
    assert summary.nonzero()[0].tolist() == [8, 9]


def test_machine_summary_respects_budget_and_no_shot_fits() -> None:
    rng = np.random.default_rng(3)
    n_frames = 300
    picks = np.arange(0, n_frames, 15)
    cps = np.array([[0, 29], [30, 99], [100, 139], [140, 219], [220, 299]])
    summary = machine_summary(rng.random(len(picks)), picks, cps, n_frames)
    assert summary.shape == (n_frames,) and summary.sum() <= 45
    # Every selected shot is taken whole.
    for a, b in cps:
        assert summary[a : b + 1].min() == summary[a : b + 1].max()
    # One long shot that cannot fit: an empty summary, no error.
    empty = machine_summary(rng.random(len(picks)), picks, np.array([[0, n_frames - 1]]), n_frames)
    assert empty.sum() == 0


def test_segments_from_shots() -> None:
    shots = np.array([[0, 29], [30, 59], [60, 89], [90, 119]])
    got = shots_to_segments(shots, np.array([True, True, False, True]), fps=30.0)
    assert got == [(0.0, 2.0), (3.0, 4.0)]
    assert shots_to_segments(shots, np.array([False] * 4), fps=30.0) == []
