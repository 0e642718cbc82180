"""From per-step importance scores to a keyshot summary (Zhang et al. 2016 protocol).

step scores (n_steps,) -> frame scores (n_frames,) -> shot scores (n_shots,) -> 0/1 knapsack
over shot lengths with a budget of floor(0.15 * n_frames) frames -> (n_frames,) 0/1 summary.
Used by evaluation (F1) and by the summarize pipeline alike, so both pick the same shots.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_FRACTION = 0.15  # share of the video's frames a summary may hold (the literature's budget)


def frame_scores_from_steps(step_scores: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Spread step scores over frames.

    step_scores: (n_steps,) float; picks: (n_steps,) int, strictly increasing frame indices.
    A step's score covers the frames from its pick up to the next pick; the last step's covers
    the frames to the end of the video; frames before the first pick take the first score.
    Returns (n_frames,) float32.
    """
    scores = np.asarray(step_scores, dtype=np.float64).reshape(-1)
    picks = np.asarray(picks, dtype=np.int64).reshape(-1)
    if scores.shape != picks.shape:
        raise ValueError(f"{scores.shape[0]} step scores but {picks.shape[0]} picks")
    if scores.size == 0:
        raise ValueError("no step scores")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    step_of_frame = np.searchsorted(picks, np.arange(n_frames), side="right") - 1
    return scores[np.clip(step_of_frame, 0, None)].astype(np.float32)


def shot_lengths(change_points: np.ndarray) -> np.ndarray:
    """(n_shots, 2) inclusive change points -> (n_shots,) int64 frames per shot."""
    cps = np.asarray(change_points, dtype=np.int64)
    return cps[:, 1] - cps[:, 0] + 1


def shot_scores(frame_scores: np.ndarray, change_points: np.ndarray) -> np.ndarray:
    """Mean frame score of each shot.

    frame_scores: (n_frames,); change_points: (n_shots, 2) inclusive, inside [0, n_frames - 1].
    Returns (n_shots,) float64.
    """
    fs = np.asarray(frame_scores, dtype=np.float64).reshape(-1)
    cps = np.asarray(change_points, dtype=np.int64)
    if cps.size and (cps.min() < 0 or cps.max() >= fs.size or np.any(cps[:, 1] < cps[:, 0])):
        raise ValueError(f"change points out of range for {fs.size} frames")
    csum = np.concatenate(([0.0], np.cumsum(fs)))
    return (csum[cps[:, 1] + 1] - csum[cps[:, 0]]) / shot_lengths(cps)


def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> np.ndarray:
    """Exact 0/1 knapsack: the items of largest total value whose total weight <= capacity.

    values: (n,) float (finite); weights: (n,) positive int; capacity: int >= 0.
    Returns the chosen indices, sorted, int64 (empty when capacity is 0 or nothing fits).
    Dynamic programming over capacities, one vectorised numpy step per item: O(n * capacity)
    time, n * (capacity + 1) bits of memory for the back-pointers. Ties are broken
    deterministically: an item is only added when it strictly improves the total, so among
    equally good selections the one reached with earlier items wins.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.asarray(weights).reshape(-1)
    if v.shape != w.shape:
        raise ValueError(f"{v.size} values but {w.size} weights")
    if not np.all(np.isfinite(v)):
        raise ValueError("knapsack values must be finite")
    if w.size and (not np.issubdtype(w.dtype, np.integer) and not np.all(w == np.round(w))):
        raise ValueError("knapsack weights must be integers")
    w = w.astype(np.int64)
    if w.size and w.min() < 1:
        raise ValueError("knapsack weights must be >= 1")
    capacity = int(capacity)
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    if capacity == 0 or v.size == 0:
        return np.zeros(0, dtype=np.int64)

    best = np.zeros(capacity + 1)  # best[c]: largest value with total weight <= c
    take = np.zeros((v.size, capacity + 1), dtype=bool)
    for i in range(v.size):
        wi = int(w[i])
        if wi > capacity:
            continue
        with_item = best[: capacity + 1 - wi] + v[i]
        better = with_item > best[wi:]
        take[i, wi:] = better
        best[wi:] = np.where(better, with_item, best[wi:])

    chosen = []
    c = capacity
    for i in range(v.size - 1, -1, -1):
        if take[i, c]:
            chosen.append(i)
            c -= int(w[i])
    return np.array(sorted(chosen), dtype=np.int64)


def budget_frames(n_frames: int, fraction: float = DEFAULT_FRACTION) -> int:
    """Summary budget in frames: floor(fraction * n_frames), as in the published evaluation code."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return int(math.floor(fraction * n_frames))


def select_shots(frame_scores: np.ndarray, change_points: np.ndarray, capacity: int) -> np.ndarray:
    """Knapsack over shots: value = mean frame score, weight = shot length in frames.

    frame_scores: (n_frames,); change_points: (n_shots, 2) inclusive. Returns (n_shots,) bool.
    """
    cps = np.asarray(change_points, dtype=np.int64)
    chosen = knapsack(shot_scores(frame_scores, cps), shot_lengths(cps), capacity)
    selected = np.zeros(cps.shape[0], dtype=bool)
    selected[chosen] = True
    return selected


def summary_from_selection(selected: np.ndarray, change_points: np.ndarray, n_frames: int) -> np.ndarray:
    """(n_shots,) bool selection -> (n_frames,) uint8 0/1 keyshot summary."""
    cps = np.asarray(change_points, dtype=np.int64)
    sel = np.asarray(selected, dtype=bool).reshape(-1)
    if sel.shape[0] != cps.shape[0]:
        raise ValueError(f"{sel.shape[0]} selection flags but {cps.shape[0]} shots")
    summary = np.zeros(n_frames, dtype=np.uint8)
    for a, b in cps[sel]:
        summary[a : b + 1] = 1
    return summary


def machine_summary(
    step_scores: np.ndarray,
    picks: np.ndarray,
    change_points: np.ndarray,
    n_frames: int,
    fraction: float = DEFAULT_FRACTION,
) -> np.ndarray:
    """Step scores -> (n_frames,) uint8 keyshot summary within floor(fraction * n_frames) frames.

    step_scores: (n_steps,); picks: (n_steps,) int; change_points: (n_shots, 2) inclusive.
    """
    frames = frame_scores_from_steps(step_scores, picks, n_frames)
    selected = select_shots(frames, change_points, budget_frames(n_frames, fraction))
    return summary_from_selection(selected, change_points, n_frames)
