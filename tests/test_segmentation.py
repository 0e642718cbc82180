"""KTS (vidsum.segmentation): exactness against a brute-force DP, recovery of known cuts,
float64 accumulation, the lmax/lmin bounds and the degenerate inputs of segment_shots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vidsum.errors import InputError, UsageError
from vidsum.segmentation import kts, penalty_term, segment_costs, segment_shots, shots_from_change_points


def piecewise(lengths: list[int], dim: int, noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features constant per segment (random non-negative centres) plus Gaussian noise.

    Returns ((n, dim) float32, (k - 1,) true change points)."""
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.normal(size=(len(lengths), dim)))
    labels = np.repeat(np.arange(len(lengths)), lengths)
    x = centres[labels] + noise * rng.normal(size=(labels.size, dim))
    return x.astype(np.float32), np.cumsum(lengths)[:-1]


def reference_kts(x: np.ndarray, max_cp: int, lmax: int, lmin: int, penalty: float) -> tuple[np.ndarray, float]:
    """Straightforward O(m n^2) DP over explicit segment scatters, every m tried (no early stop)."""
    z = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    n = len(z)

    def v(s: int, t: int) -> float:
        seg = z[s:t]
        return float(((seg - seg.mean(axis=0)) ** 2).sum())

    cost = {(s, t): v(s, t) for s in range(n) for t in range(s + 1, n + 1) if lmin <= t - s <= lmax}
    f = [[math.inf] * (n + 1) for _ in range(max_cp + 1)]
    back = [[-1] * (n + 1) for _ in range(max_cp + 1)]
    for t in range(1, n + 1):
        f[0][t] = cost.get((0, t), math.inf)
    for k in range(1, max_cp + 1):
        for t in range(1, n + 1):
            for s in range(1, t):
                c = f[k - 1][s] + cost.get((s, t), math.inf)
                if c < f[k][t]:
                    f[k][t], back[k][t] = c, s
    js = [f[m][n] / n + (penalty * m / (2 * n) * (math.log(n / m) + 1) if m else 0.0) for m in range(max_cp + 1)]
    m = int(np.argmin(js))
    cps, t = [], n
    for k in range(m, 0, -1):
        t = back[k][t]
        cps.append(t)
    return np.array(sorted(cps), dtype=np.int64), js[m]


def criterion(x: np.ndarray, cps: np.ndarray, penalty: float) -> float:
    z = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    bounds = [0, *cps.tolist(), len(z)]
    total = sum(float(((z[s:t] - z[s:t].mean(axis=0)) ** 2).sum()) for s, t in zip(bounds[:-1], bounds[1:]))
    return total / len(z) + float(penalty_term(len(cps), len(z), penalty))


@pytest.mark.parametrize(
    "seed, n, lmax, lmin, penalty",
    [(0, 24, 24, 1, 1.0), (1, 30, 9, 1, 1.0), (2, 28, 12, 3, 0.5), (3, 26, 26, 2, 0.2), (4, 22, 5, 1, 2.0)],
)
def test_kts_equals_brute_force_dp(seed: int, n: int, lmax: int, lmin: int, penalty: float) -> None:
    rng = np.random.default_rng(seed)
    # Random segment lengths, strong noise: the optimum is not simply the true cuts.
    lengths = []
    while sum(lengths) < n:
        lengths.append(int(rng.integers(2, 8)))
    lengths[-1] -= sum(lengths) - n
    if lengths[-1] == 0:
        lengths.pop()
    x, _ = piecewise(lengths, dim=6, noise=0.6, seed=seed)
    max_cp = n // 2
    expected, j_ref = reference_kts(x, max_cp, lmax, lmin, penalty)
    got = kts(x, max_cp, lmax=lmax, penalty=penalty, lmin=lmin)
    np.testing.assert_array_equal(got, expected)
    assert criterion(x, got, penalty) == pytest.approx(j_ref, rel=1e-9, abs=1e-12)
    assert got.size >= 1  # these cases do have change points: the comparison is not vacuous


def test_segment_costs_match_direct_scatter() -> None:
    x, _ = piecewise([7, 5, 9, 4], dim=5, noise=0.3, seed=5)
    lmax, lmin = 8, 2
    costs = segment_costs(x, lmax, lmin)
    z = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    assert costs.shape == (len(x) + 1, lmax)
    for t in range(len(x) + 1):
        for i in range(lmax):
            length = lmax - i
            if length > t or length < lmin:
                assert costs[t, i] == np.inf
            else:
                seg = z[t - length : t]
                assert costs[t, i] == pytest.approx(((seg - seg.mean(0)) ** 2).sum(), abs=1e-12)


def test_recovers_known_cuts_exactly() -> None:
    lengths = [40, 25, 60, 12, 33, 50, 30]
    x, truth = piecewise(lengths, dim=256, noise=0.4, seed=1)
    np.testing.assert_array_equal(kts(x, 100), truth)
    np.testing.assert_array_equal(kts(x, 100, lmax=60, lmin=4), truth)


def test_float64_accumulation_at_large_n() -> None:
    """Nearly constant features at n = 5,000: float32 prefix sums would be off by ~1 here."""
    rng = np.random.default_rng(7)
    n, d = 5000, 64
    base = np.abs(rng.normal(size=d))
    x = (base + 0.02 * rng.normal(size=(n, d))).astype(np.float32)
    lmax = 40
    costs = segment_costs(x, lmax)
    z = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    for t in (n, n - 1, 3217, 41):
        for length in (1, 2, 17, lmax):
            seg = z[t - length : t]
            direct = ((seg - seg.mean(0)) ** 2).sum()
            assert costs[t, lmax - length] == pytest.approx(direct, rel=1e-7, abs=1e-10)
    # One real cut late in the video, after 4,000 steps of accumulation, found exactly; the
    # other cuts are only those that lmax = 250 forces.
    x[4321:] = np.abs(rng.normal(size=d)) + 0.02 * rng.normal(size=(n - 4321, d))
    cps = kts(x, 40, lmax=250)
    assert 4321 in cps and len(cps) == 4321 // 250 + 1 + (n - 4321) // 250


def test_lmax_bounds_every_segment_and_is_raised_when_the_cap_needs_it() -> None:
    x, truth = piecewise([50, 50], dim=32, noise=0.2, seed=2)
    cps = kts(x, 20, lmax=15)
    bounds = np.diff([0, *cps.tolist(), 100])
    assert bounds.max() <= 15
    assert 50 in cps  # the true cut survives the extra splits
    # 2 change points cannot cover 100 steps with segments of 15: lmax is raised to 34.
    cps = kts(x, 2, lmax=15)
    assert len(cps) == 2 and np.diff([0, *cps.tolist(), 100]).max() <= 34
    # lmax >= n is the unbounded search.
    np.testing.assert_array_equal(kts(x, 20, lmax=1000), kts(x, 20))
    np.testing.assert_array_equal(kts(x, 20), truth)


def test_lmin_forbids_short_segments() -> None:
    x, _ = piecewise([20, 3, 20], dim=32, noise=0.1, seed=3)
    np.testing.assert_array_equal(kts(x, 10, penalty=0.3), [20, 23])
    cps = kts(x, 10, penalty=0.3, lmin=5)
    assert len(cps) >= 1 and np.diff([0, *cps.tolist(), 43]).min() >= 5


def test_penalty_controls_the_number_of_cuts() -> None:
    x, truth = piecewise([30, 30, 30, 30], dim=64, noise=0.3, seed=4)
    counts = [len(kts(x, 60, penalty=p)) for p in (0.0, 1.0, 1000.0)]
    assert counts[0] > len(truth)  # no penalty: more cuts always lower the cost
    assert counts[1] == len(truth)
    assert counts[2] == 0


def test_degenerate_inputs() -> None:
    assert kts(np.zeros((0, 8)), 5).size == 0
    assert kts(np.ones((1, 8)), 5).size == 0
    assert kts(np.ones((50, 8)), 0).size == 0
    assert kts(np.ones((50, 8)), 10).size == 0  # constant: nothing to cut
    assert kts(np.zeros((50, 8)), 10).size == 0  # all-zero rows stay zero, no NaN
    cps = kts(np.ones((50, 8)), 10, lmax=10)  # constant but bounded: exactly the cuts needed
    assert len(cps) == 4 and np.diff([0, *cps.tolist(), 50]).max() <= 10
    assert kts(np.ones((3, 4)), 5, lmin=10).size == 0  # shorter than one minimal shot
    bad = np.ones((10, 4))
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        kts(bad, 3)
    with pytest.raises(UsageError):
        kts(np.ones((10, 4)), 3, penalty=-1.0)


def check_cover(shots: np.ndarray, n_frames: int) -> None:
    assert shots.dtype == np.int64 and shots.ndim == 2 and shots.shape[1] == 2
    assert shots[0, 0] == 0 and shots[-1, 1] == n_frames - 1
    np.testing.assert_array_equal(shots[1:, 0], shots[:-1, 1] + 1)
    assert (shots[:, 1] >= shots[:, 0]).all()


def test_shots_from_change_points_convention() -> None:
    picks = np.arange(0, 100, 10)
    shots = shots_from_change_points(np.array([3, 7]), picks, 100)
    np.testing.assert_array_equal(shots, [[0, 29], [30, 69], [70, 99]])


def test_segment_shots_maps_steps_to_frames_and_splits_long_shots() -> None:
    fps = 30.0
    x, _ = piecewise([20, 40, 20], dim=64, noise=0.2, seed=6)  # 2 samples/s: 10 s, 20 s, 10 s
    picks = np.arange(80) * 15
    n_frames = 80 * 15 + 7
    shots = segment_shots(x, picks, n_frames, fps, max_shot_s=None, min_shot_s=1.0)
    check_cover(shots, n_frames)
    np.testing.assert_array_equal(shots[:, 0], [0, 300, 900])
    # Longest shot 12 s = 360 frames: the 20 s shot and the last 10.2 s one are split evenly.
    shots = segment_shots(x, picks, n_frames, fps, max_shot_s=12.0)
    check_cover(shots, n_frames)
    assert (shots[:, 1] - shots[:, 0] + 1).max() <= 360
    assert {0, 300, 900} <= set(shots[:, 0].tolist())
    # A summary budget of 100 frames: no shot may be longer, or it could never be selected.
    shots = segment_shots(x, picks, n_frames, fps, max_shot_frames=100)
    check_cover(shots, n_frames)
    lengths = shots[:, 1] - shots[:, 0] + 1
    # Even pieces (307 frames -> 4 x ~77), not 3 x 100 + a 7-frame sliver.
    assert lengths.tolist() == [100] * 9 + [76, 77, 77, 77]


def test_segment_shots_never_degenerate() -> None:
    one = segment_shots(np.ones((1, 16)), np.array([0]), 1, 30.0)
    np.testing.assert_array_equal(one, [[0, 0]])
    # A single sampled step of a 2 s video with a 10-frame budget: split, not one 60-frame shot.
    shots = segment_shots(np.ones((1, 16)), np.array([0]), 60, 30.0, max_shot_frames=10)
    check_cover(shots, 60)
    assert len(shots) == 6
    flat = segment_shots(np.ones((40, 16)), np.arange(40) * 15, 600, 30.0)
    np.testing.assert_array_equal(flat, [[0, 599]])
    empty = segment_shots(np.zeros((0, 16)), np.zeros(0, dtype=np.int64), 5, 30.0)
    np.testing.assert_array_equal(empty, [[0, 4]])
    # max_shots=1 keeps one KTS shot even for clearly different content.
    x, _ = piecewise([10, 10], dim=16, noise=0.1)
    np.testing.assert_array_equal(segment_shots(x, np.arange(20) * 15, 300, 30.0, max_shots=1), [[0, 299]])
    with pytest.raises(ValueError, match="picks"):
        segment_shots(np.ones((3, 4)), np.array([0, 5]), 100, 30.0)
    with pytest.raises(ValueError, match="increasing"):
        segment_shots(np.ones((3, 4)), np.array([0, 5, 5]), 100, 30.0)
    with pytest.raises(UsageError):
        segment_shots(np.ones((3, 4)), np.array([0, 5, 9]), 100, 30.0, max_shot_frames=0)
    with pytest.raises(InputError):
        segment_shots(np.ones((0, 4)), np.zeros(0), 0, 30.0)


def colour_histograms(path: str, every: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """HSV histograms (8 x 4 x 4 bins) of every ``every``-th frame, OpenCV grab/retrieve."""
    import cv2

    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    feats, picks, i = [], [], 0
    while cap.grab():
        if i % every == 0:
            ok, frame = cap.retrieve()
            assert ok
            hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
            hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
            feats.append(np.sqrt(hist / hist.sum()))  # Hellinger: dot products of sqrt histograms
            picks.append(i)
        i += 1
    cap.release()
    return np.asarray(feats, dtype=np.float32), np.asarray(picks), i, fps


def test_recovers_cuts_of_a_generated_video(cut_video) -> None:
    path, cuts = cut_video
    feats, picks, n_frames, fps = colour_histograms(str(path), every=15)  # 2 samples/s at 30 fps
    assert n_frames == 360 and len(picks) == 24
    shots = segment_shots(feats, picks, n_frames, fps)
    check_cover(shots, n_frames)
    starts = shots[1:, 0]
    assert len(starts) == len(cuts)
    for start, cut in zip(starts, cuts):
        assert abs(start - cut * fps) <= 15  # within one sampled frame
