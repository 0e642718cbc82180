"""From per-step importance scores to a keyshot summary.

The protocol (Zhang et al. 2016), which evaluation applies to the datasets' own shots:

    step scores (n_steps,) -> frame scores (n_frames,) -> shot scores (n_shots,) -> 0/1 knapsack
    over shot lengths with a budget of floor(0.15 * n_frames) frames -> (n_frames,) 0/1 summary

``vidsum summarize`` runs the same knapsack, inside a policy for watchable clips that lives here
too: shots no longer than a third of the budget (``shot_limits``, so that several moments fill
it), short shots merged into a neighbour (``merge_short_shots``), isolated flashes dropped after
the knapsack, adjacent shots joined into segments (``select_summary``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from vidsum.config import DEFAULT_BUDGET

if TYPE_CHECKING:
    from vidsum.config import SummarizeConfig

SHOTS_PER_BUDGET = 3  # no shot longer than budget / 3, when the minimum shot length allows


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


def budget_frames(n_frames: int, fraction: float = DEFAULT_BUDGET) -> int:
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
    fraction: float = DEFAULT_BUDGET,
) -> np.ndarray:
    """The protocol end to end: step scores -> (n_frames,) uint8 keyshot summary within
    floor(fraction * n_frames) frames. step_scores (n_steps,); picks (n_steps,) int;
    change_points (n_shots, 2) inclusive."""
    frames = frame_scores_from_steps(step_scores, picks, n_frames)
    selected = select_shots(frames, change_points, budget_frames(n_frames, fraction))
    return summary_from_selection(selected, change_points, n_frames)

# --------------------------------------------------------------------------------------------
# The summary policy of `vidsum summarize` (evaluation uses the protocol above only)


def shot_limits(capacity: int, fps: float, min_shot_s: float) -> tuple[int, int]:
    """(min_frames, longest) for a summary of ``capacity`` frames.

    Shots shorter than min_frames (``min_shot_s``, at most half the budget) are merged or
    dropped; shots longer than ``longest`` (a third of the budget, at least two shortest shots)
    are split, so that the knapsack can fill the budget with several moments (with 30 s shots a
    45 s budget holds one 30 s shot).
    """
    min_frames = min(int(round(min_shot_s * fps)), max(1, capacity // 2))
    longest = max(capacity // SHOTS_PER_BUDGET, min(capacity, 2 * min_frames))
    return min_frames, longest


def merge_short_shots(shots: np.ndarray, min_frames: int, max_frames: int) -> np.ndarray:
    """Merge shots shorter than ``min_frames`` into their shorter neighbour.

    A merge is skipped when it would make a shot longer than ``max_frames`` (the selection then
    drops the short shot if it stands alone). (n, 2) int64 inclusive -> (m, 2) int64, m <= n.
    """
    bounds = [list(map(int, s)) for s in shots]
    changed = True
    while changed and len(bounds) > 1:
        changed = False
        lengths = [b - a + 1 for a, b in bounds]
        order = np.argsort(lengths, kind="stable")
        for i in map(int, order):
            if lengths[i] >= min_frames:
                break
            cands = [j for j in (i - 1, i + 1) if 0 <= j < len(bounds)]
            cands = [j for j in cands if lengths[i] + lengths[j] <= max_frames]
            if not cands:
                continue
            j = min(cands, key=lambda k: lengths[k])
            a, b = min(i, j), max(i, j)
            bounds[a] = [bounds[a][0], bounds[b][1]]
            del bounds[b]
            changed = True
            break
    return np.asarray(bounds, dtype=np.int64).reshape(-1, 2)


def drop_isolated_short(shots: np.ndarray, selected: np.ndarray, min_frames: int) -> np.ndarray:
    """Unselect selected shots shorter than ``min_frames`` that no selected neighbour joins.

    A flash of a few frames between two unrelated shots is unwatchable; joined to an adjacent
    selected shot it plays as part of a longer segment and is kept. Never empties the summary.
    (n, 2) int64, (n,) bool -> (n,) bool.
    """
    keep = selected.copy()
    lengths = shots[:, 1] - shots[:, 0] + 1
    for i in np.flatnonzero(selected):
        joined = (i > 0 and selected[i - 1]) or (i + 1 < len(selected) and selected[i + 1])
        if lengths[i] < min_frames and not joined:
            keep[i] = False
    return keep if keep.any() else selected


def shots_to_segments(shots: np.ndarray, selected: np.ndarray, fps: float) -> list[tuple[float, float]]:
    """Selected inclusive frame ranges -> [(start_s, end_s)], adjacent shots joined."""
    segs: list[list[int]] = []
    for (a, b), sel in zip(shots.tolist(), selected.tolist()):
        if not sel:
            continue
        if segs and segs[-1][1] + 1 == a:
            segs[-1][1] = b
        else:
            segs.append([a, b])
    return [(a / fps, (b + 1) / fps) for a, b in segs]


def budget_capacity(cfg: "SummarizeConfig", n_frames: int, fps: float) -> int:
    """Knapsack capacity in frames: floor(budget * n_frames) as in evaluation, or the frames in
    ``cfg.length_s`` seconds (at most the whole video)."""
    if cfg.length_s is None:
        return budget_frames(n_frames, cfg.budget)
    return min(n_frames, int(math.floor(cfg.length_s * fps + 1e-6)))  # 1e-6: 3.0 s * 30 fps is 90


@dataclasses.dataclass(frozen=True)
class SummarySelection:
    """What ``select_summary`` chose: frame_scores (n_frames,) float32, shot_scores (n_shots,)
    float64, selected (n_shots,) bool, segments [(start_s, end_s)] with adjacent shots joined."""

    frame_scores: np.ndarray
    shot_scores: np.ndarray
    selected: np.ndarray
    segments: list[tuple[float, float]]


def select_summary(
    step_scores: np.ndarray,
    picks: np.ndarray,
    shots: np.ndarray,
    n_frames: int,
    fps: float,
    capacity: int,
    min_frames: int,
) -> SummarySelection:
    """The shots of the summary clip: the protocol's knapsack within ``capacity`` frames (all
    shots when the whole video was asked for, zero-score ones too), then selected shots shorter
    than ``min_frames`` that no selected neighbour joins are dropped.

    step_scores (n_steps,); picks (n_steps,) int; shots (n_shots, 2) int64 inclusive.
    """
    frames = frame_scores_from_steps(step_scores, picks, n_frames)
    values = shot_scores(frames, shots)
    if capacity >= n_frames:
        selected = np.ones(len(shots), dtype=bool)
    else:
        selected = np.asarray(select_shots(frames, shots, capacity), dtype=bool)
    selected = drop_isolated_short(shots, selected, min_frames)
    return SummarySelection(frames, values, selected, shots_to_segments(shots, selected, fps))
