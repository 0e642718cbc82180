"""Kernel Temporal Segmentation (KTS), written from Potapov et al., "Category-specific video
summarization", ECCV 2014 (its temporal segmentation section).

A video of ``n`` sampled steps with features ``x_0 .. x_{n-1}`` is cut into ``m + 1`` segments
at change points ``0 < t_1 < ... < t_m < n``. A segment ``[s, t)`` costs its within-segment
kernel variance (linear kernel on L2-normalised features, so ``K_ii = 1`` for non-zero rows)::

    v(s, t) = sum_{i in [s,t)} K_ii - 1/(t - s) * sum_{i,j in [s,t)} K_ij
            = sum_{i in [s,t)} || x_i - mean_{[s,t)} x ||^2

``L_m`` is the smallest total cost with ``m`` change points (dynamic programming over change
points), and ``m`` minimises the paper's penalised criterion ``L_m + C g(m, n)`` with
``g(m, n) = m (log(n / m) + 1)``. The paper leaves ``C`` as a parameter; we use the scale of its
authors' reference implementation (``cpd_auto``, ``vmax``), which the public datasets were
segmented with: both terms divided by ``n`` and ``C = penalty / 2``::

    J(m) = L_m / n + penalty * m / (2 n) * (log(n / m) + 1),    J(0) = L_0 / n

Engineering on top of the paper (none changes the optimum within the stated bounds):

* Segment costs come from prefix sums of centred features accumulated in float64: float32
  sums lose the digits that separate segment costs at a few thousand steps (docs/segmentation.md).
* A longest segment ``lmax`` (and shortest ``lmin``) bounds every DP layer to ``O(n * lmax)``
  work, so the whole search is ``O(m n lmax)`` time and ``O(n lmax)`` memory.
* Exact early stop: ``g`` increases with ``m`` and ``L_m >= L_inf`` (the least cost with any
  number of segments: 0 when ``lmin = 1``), so once ``L_inf / n`` plus the penalty of ``m``
  change points reaches the best ``J`` found, no larger ``m`` can win.
* ``max_change_points`` caps the search.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from vidsum.errors import InputError, UsageError
from vidsum.progress import ProgressFn, report

log = logging.getLogger(__name__)

DEFAULT_MAX_SHOT_S = 60.0  # seconds; longer shots are split evenly (and bound the KTS work)
DEFAULT_MIN_SHOT_S = 1.0  # seconds; KTS never cuts a shot shorter than this (when it can avoid it)
_BLOCK_ROWS = 128  # rows of the segment-cost table per matrix product (bounds memory and the
# off-band work: each block also computes up to 128 x 128 products nobody needs)
_LAYER_ROWS = 1024  # rows of one DP layer processed at once (the candidate table stays in cache)


def l2_normalize(features: np.ndarray) -> np.ndarray:
    """Rows of ``features`` scaled to unit L2 norm; all-zero rows stay zero.

    features: (n, d) float -> (n, d) float64.
    """
    x = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # A zero row (a black frame with some features) has no direction: keep it zero, not NaN.
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _check_features(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"features must be (n_steps, dim), got shape {x.shape}")
    if x.size and not np.isfinite(x).all():
        raise InputError(
            "features contain NaN or infinite values; the feature file or extractor is corrupt: "
            "re-extract the features (vidsum features ...)"
        )
    return x


def penalty_term(m: np.ndarray | int, n: int, penalty: float = 1.0) -> np.ndarray:
    """``penalty * m / (2 n) * (log(n / m) + 1)``, 0 for ``m = 0`` (the J(m) penalty above).

    m: int or (k,) int -> float64 of the same shape.
    """
    m_arr = np.asarray(m, dtype=np.float64)
    safe = np.maximum(m_arr, 1.0)
    out = penalty * safe / (2.0 * n) * (np.log(n / safe) + 1.0)
    return np.where(m_arr > 0, out, 0.0)


def segment_costs(features: np.ndarray, lmax: int, lmin: int = 1) -> np.ndarray:
    """Kernel variance of every segment of length ``lmin..lmax`` (linear kernel, unit features).

    Returns C, (n + 1, lmax) float64: ``C[t, i] = v(t - L, t)`` with ``L = lmax - i`` (row t is
    the segment END, exclusive; columns run from the longest segment to the shortest), and
    ``inf`` where ``L > t`` or ``L < lmin``. This layout lines up with a sliding window over the
    previous DP layer, so one DP layer is a single vectorised add + argmin.
    """
    x = l2_normalize(_check_features(features))
    n = x.shape[0]
    # v is translation invariant; centring keeps the prefix sums small, so float64 keeps
    # ~13 significant digits of every segment cost even at n = 14,400.
    y = x - x.mean(axis=0) if n else x
    prefix = np.zeros((n + 1, x.shape[1]), dtype=np.float64)
    np.cumsum(y, axis=0, out=prefix[1:])
    diag = np.zeros(n + 1, dtype=np.float64)
    np.cumsum(np.einsum("ij,ij->i", y, y), out=diag[1:])
    sq = np.einsum("ij,ij->i", prefix, prefix)

    costs = np.full((n + 1, lmax), np.inf, dtype=np.float64)
    lengths = lmax - np.arange(lmax)  # column i holds segments of length lmax - i
    for a in range(1, n + 1, _BLOCK_ROWS):
        b = min(n + 1, a + _BLOCK_ROWS)
        s0 = max(0, a - lmax)
        # ||P_t - P_s||^2 = |P_t|^2 + |P_s|^2 - 2 P_t.P_s: one matrix product per block of rows.
        gram = prefix[a:b] @ prefix[s0:b].T
        t = np.arange(a, b)[:, None]
        s = t - lengths[None, :]
        valid = (s >= 0) & (lengths[None, :] >= lmin)
        s_safe = np.where(valid, s, t)
        block = np.take_along_axis(gram, s_safe - s0, axis=1)
        sum_sq = sq[t] + sq[s_safe] - 2.0 * block
        v = (diag[t] - diag[s_safe]) - sum_sq / lengths[None, :]
        # Rounding can push a zero-variance segment a hair below 0; costs are variances.
        costs[a:b] = np.where(valid, np.maximum(v, 0.0), np.inf)
    return costs


def _unbounded_count_cost(costs: np.ndarray, lmin: int) -> float:
    """Least total cost over segmentations with ANY number of segments (lengths >= lmin).

    costs: the (n + 1, lmax) table of ``segment_costs``. Splitting a segment never raises its
    kernel variance (within-scatter of a union >= sum of the parts' scatters), so the optimum
    only uses lengths lmin .. 2 lmin - 1 and a scalar recursion over t suffices. Returned
    slightly lowered so that rounding can never make it exceed the true minimum.
    """
    if lmin <= 1:
        return 0.0
    n1, lmax = costs.shape
    longest = min(2 * lmin - 1, lmax)
    table = costs[:, lmax - longest : lmax - lmin + 1].tolist()  # row t: lengths longest .. lmin
    f = [0.0] + [math.inf] * (n1 - 1)
    for t in range(lmin, n1):
        row = table[t]
        f[t] = min(f[t - longest + i] + row[i] for i in range(len(row)) if t - longest + i >= 0)
    return max(0.0, f[-1] * (1.0 - 1e-9) - 1e-9)


def kts(
    features: np.ndarray,
    max_change_points: int,
    lmax: int | None = None,
    penalty: float = 1.0,
    *,
    lmin: int = 1,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Kernel Temporal Segmentation: change points minimising the penalised criterion J(m).

    features: (n, d) float, any scale (rows are L2-normalised here).
    max_change_points: at most this many change points are tried (>= 0).
    lmax: longest segment in steps (None: n, the paper's unbounded search). Raised to
        ceil(n / (max_change_points + 1)) when the cap could not otherwise cover n steps.
    penalty: ``vmax`` of the reference implementation (C = penalty / 2); larger -> fewer cuts.
    lmin: shortest segment in steps (lowered to (lmax + 1) // 2 so that any n >= lmin is
        feasible); inputs shorter than lmin give no change point.
    Returns (m,) int64, sorted step indices, each the first step of a new segment.
    """
    x = _check_features(features)
    n = x.shape[0]
    if max_change_points < 0:
        raise ValueError(f"max_change_points must be >= 0, got {max_change_points}")
    if penalty < 0 or not math.isfinite(penalty):
        raise UsageError(f"the KTS penalty must be a finite number >= 0, got {penalty}")
    if lmin < 1 or (lmax is not None and lmax < 1):
        raise ValueError(f"lmin and lmax must be >= 1, got lmin={lmin}, lmax={lmax}")
    empty = np.zeros(0, dtype=np.int64)
    if n < 2 or max_change_points == 0:
        return empty
    max_cp = min(max_change_points, n - 1)
    lmax = n if lmax is None else min(lmax, n)
    needed = -(-n // (max_cp + 1))
    if lmax < needed:
        log.info("KTS: lmax %d steps cannot cover %d steps with %d change points; using %d", lmax, n, max_cp, needed)
        lmax = needed
    lmin = max(1, min(lmin, (lmax + 1) // 2))
    if n < lmin:
        return empty
    max_cp = min(max_cp, n // lmin - 1)
    if max_cp <= 0:
        return empty

    costs = segment_costs(x, lmax, lmin)
    # Layer k: best[t] = least cost of splitting steps [0, t) into k + 1 segments.
    best = np.full(n + 1, np.inf)
    first = lmax - np.arange(n + 1)  # column of the single segment [0, t) in row t
    ok = (first >= 0) & (first < lmax)
    best[ok] = costs[np.nonzero(ok)[0], first[ok]]
    j_values = [best[n] / n]
    j_best = j_values[0]
    # L_k >= L_inf (the least cost with any number of segments) for every k: a sharper exact
    # stop than L_k >= 0 when lmin > 1.
    floor = _unbounded_count_cost(costs, lmin) / n
    choices: list[np.ndarray] = []  # per layer k >= 1: chosen column for every row t
    idx_dtype = np.int16 if lmax < np.iinfo(np.int16).max else np.int32
    pad = np.full(lmax, np.inf)
    buf = np.empty((min(_LAYER_ROWS, n + 1), lmax))
    for k in range(1, max_cp + 1):
        if floor + float(penalty_term(k, n, penalty)) >= j_best:
            break  # exact: J(k') >= floor + penalty(k') >= floor + penalty(k) for every k' >= k
        report(progress, "kts", k, max_cp)
        # windows[t, i] = previous layer at t - (lmax - i): the start of a segment ending at t.
        windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, best]), lmax)
        new = np.full(n + 1, np.inf)
        choice = np.zeros(n + 1, dtype=idx_dtype)
        # k + 1 segments need between (k + 1) lmin and (k + 1) lmax steps.
        lo, hi = (k + 1) * lmin, min(n, (k + 1) * lmax)
        # Row chunks keep the candidate table in cache: the layer is memory-bound.
        for a in range(lo, hi + 1, _LAYER_ROWS):
            b = min(hi + 1, a + _LAYER_ROWS)
            cand = np.add(windows[a:b], costs[a:b], out=buf[: b - a])
            arg = cand.argmin(axis=1)
            choice[a:b] = arg
            new[a:b] = np.take_along_axis(cand, arg[:, None], axis=1)[:, 0]
        choices.append(choice)
        best = new
        j = best[n] / n + float(penalty_term(k, n, penalty))
        j_values.append(j)
        j_best = min(j_best, j)
    report(progress, "kts", max_cp, max_cp)
    m = int(np.argmin(j_values))
    log.debug("KTS: n=%d, tried m=0..%d, chose m=%d (J=%.6f)", n, len(j_values) - 1, m, j_values[m])
    if not math.isfinite(j_values[m]):
        raise AssertionError("KTS found no feasible segmentation; lmin/lmax bounds are inconsistent")
    cps = np.zeros(m, dtype=np.int64)
    t = n
    for k in range(m, 0, -1):
        t -= lmax - int(choices[k - 1][t])
        cps[k - 1] = t
    return cps


def _split_evenly(shots: np.ndarray, limit: int) -> np.ndarray:
    """Split every shot longer than ``limit`` frames into the fewest equal pieces that fit.

    shots: (k, 2) int64 inclusive ranges -> (k', 2) int64.
    """
    lengths = shots[:, 1] - shots[:, 0] + 1
    pieces = -(-lengths // limit)
    if (pieces <= 1).all():
        return shots
    starts = []
    for (s, _e), length, p in zip(shots.tolist(), lengths.tolist(), pieces.tolist()):
        starts.extend(s + (j * length) // p for j in range(p))
    starts_arr = np.asarray(starts, dtype=np.int64)
    ends = np.append(starts_arr[1:] - 1, shots[-1, 1])
    return np.stack([starts_arr, ends], axis=1)


def shots_from_change_points(change_points: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Step change points -> inclusive frame ranges covering exactly [0, n_frames - 1].

    change_points: (m,) int, step indices (first step of each new segment).
    picks: (n,) int, the frame index of every step. A boundary at step i is frame picks[i];
        shot k ends one frame before shot k + 1 starts (the eccv16 ``change_points`` convention).
    Returns (m + 1, 2) int64.
    """
    cps = np.asarray(change_points, dtype=np.int64)
    starts = np.concatenate([[0], np.asarray(picks, dtype=np.int64)[cps]]) if cps.size else np.zeros(1, np.int64)
    ends = np.append(starts[1:] - 1, n_frames - 1)
    return np.stack([starts, ends], axis=1).astype(np.int64)


def segment_shots(
    features: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    fps: float,
    *,
    max_shot_s: float | None = DEFAULT_MAX_SHOT_S,
    min_shot_s: float = DEFAULT_MIN_SHOT_S,
    max_shots: int | None = None,
    max_shot_frames: int | None = None,
    penalty: float = 1.0,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Cut a video into shots with KTS; never degenerate.

    features: (n_steps, d) float, one row per sampled frame.
    picks: (n_steps,) int, strictly increasing frame index of every step, in [0, n_frames).
    n_frames: frames in the video (>= 1); fps: its frame rate (> 0).
    max_shot_s: longest shot in seconds (None: unbounded). Bounds the KTS search (lmax) and
        longer shots are then split evenly.
    min_shot_s: KTS places no two cuts closer than this (lmin), unless max_shot_s forces it.
    max_shots: cap on the shots KTS may return (None: one per min_shot_s); the even splits
        for max_shot_s / max_shot_frames may add more.
    max_shot_frames: longest shot in frames; longer ones are split evenly. Callers derive it
        from the summary budget (a shot longer than the whole budget could never be selected).
    Returns (n_shots, 2) int64 inclusive frame ranges [start, end]: the first starts at 0, the
    last ends at n_frames - 1, each starts one frame after the previous one ends, none is empty.
    """
    x = _check_features(features)
    picks_arr = np.asarray(picks, dtype=np.int64).reshape(-1)
    if n_frames < 1:
        raise InputError(f"cannot segment a video with {n_frames} frames; the video has no decodable frames")
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if picks_arr.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} feature rows but {picks_arr.shape[0]} picks: they must match")
    if picks_arr.size and (
        picks_arr[0] < 0 or picks_arr[-1] >= n_frames or (np.diff(picks_arr) <= 0).any()
    ):
        raise ValueError(f"picks must be strictly increasing frame indices in [0, {n_frames}), got {picks_arr}")
    if max_shot_s is not None and not max_shot_s > 0:
        raise UsageError(f"the longest shot must be > 0 seconds, got {max_shot_s}")
    if not min_shot_s >= 0:
        raise UsageError(f"the shortest shot must be >= 0 seconds, got {min_shot_s}")
    if max_shots is not None and max_shots < 1:
        raise UsageError(f"max_shots must be >= 1, got {max_shots}")
    if max_shot_frames is not None and max_shot_frames < 1:
        raise UsageError(f"the longest shot must be at least one frame, got {max_shot_frames}")

    n = x.shape[0]
    cps = np.zeros(0, dtype=np.int64)
    if n >= 2:
        # Seconds per step from the sampling actually used (fps-aware picks, not a fixed stride).
        step_s = (picks_arr[-1] - picks_arr[0]) / (n - 1) / fps
        lmax = None if max_shot_s is None else max(1, int(max_shot_s / step_s))
        lmin = max(1, int(round(min_shot_s / step_s)))
        cap = n // lmin - 1 if max_shots is None else max_shots - 1
        cps = kts(x, max(0, cap), lmax=lmax, penalty=penalty, lmin=lmin, progress=progress)
    shots = shots_from_change_points(cps, picks_arr, n_frames)
    # Change points land on distinct picks > picks[0] >= 0, so no shot is empty; check anyway,
    # since an empty shot breaks the knapsack and the renderer downstream.
    shots = shots[shots[:, 1] >= shots[:, 0]]
    limit = None
    if max_shot_s is not None:
        limit = max(1, int(max_shot_s * fps))
    if max_shot_frames is not None:
        limit = max_shot_frames if limit is None else min(limit, max_shot_frames)
    if limit is not None:
        shots = _split_evenly(shots, limit)
    log.debug("KTS: %d steps -> %d change points -> %d shots", n, cps.size, shots.shape[0])
    return shots
