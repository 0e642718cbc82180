from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.h5gen import make_dataset
from vidsum.data import VideoRecord, load_datasets
from vidsum.errors import DatasetError
from vidsum.evaluation import (
    METRICS,
    evaluate,
    evaluate_video,
    f1_scores,
    human_baseline,
    random_baseline,
    rank_correlations,
)
from vidsum.selection import frame_scores_from_steps


def tau_b_brute(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b by counting pairs."""
    conc = disc = tie_x = tie_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tie_x += 1
        elif dy == 0:
            tie_y += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    return (conc - disc) / math.sqrt((conc + disc + tie_x) * (conc + disc + tie_y))


def rho_brute(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho: Pearson correlation of average ranks."""

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(1, len(v) + 1)
        for value in np.unique(v):  # average ranks of ties
            r[v == value] = r[v == value].mean()
        return r

    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def make_record(
    user_summary: list[list[int]], user_scores: list[list[float]] | None = None, key: str = "hand/video_1"
) -> VideoRecord:
    us = np.array(user_summary, dtype=np.float32)
    n_frames = us.shape[1]
    return VideoRecord(
        key=key,
        source=Path("hand.h5"),
        features=np.zeros((n_frames, 4), np.float32),
        picks=np.arange(n_frames, dtype=np.int64),
        n_frames=n_frames,
        change_points=np.array([[i, i] for i in range(n_frames)], dtype=np.int64),
        n_frame_per_seg=np.ones(n_frames, dtype=np.int64),
        gtscore=np.zeros(n_frames, np.float32),
        user_summary=us,
        user_scores=None if user_scores is None else np.array(user_scores, dtype=np.float32),
    )


def test_f1_hand_computed() -> None:
    machine = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    users = np.zeros((3, 10))
    users[0, :2] = 1  # overlap 2: P = 2/3, R = 1 -> F1 = 0.8
    users[1, 2:6] = 1  # overlap 1: P = 1/3, R = 1/4 -> F1 = 2/7
    # users[2] is empty: F1 = 0, no division by zero
    f1_max, f1_avg = f1_scores(machine, users)
    assert f1_max == pytest.approx(0.8)
    assert f1_avg == pytest.approx((0.8 + 2 / 7 + 0.0) / 3)
    assert f1_scores(machine, users[0]) == pytest.approx((0.8, 0.8))


def test_f1_degenerate_cases_are_defined_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f1_scores(np.zeros(5), np.ones((2, 5))) == (0.0, 0.0)
        assert f1_scores(np.zeros(5), np.zeros((2, 5))) == (0.0, 0.0)
        assert f1_scores(np.ones(5), np.ones((1, 5))) == (1.0, 1.0)
    with pytest.raises(ValueError):
        f1_scores(np.zeros(5), np.zeros((2, 6)))


def test_rank_correlations_hand_computed() -> None:
    pred = np.array([1.0, 2.0, 3.0, 4.0])
    users = np.array([[1, 3, 2, 4], [4, 3, 2, 1], [2, 2, 2, 2]], dtype=float)
    # user 0: one discordant pair of 6 -> tau 2/3; sum d^2 = 2 -> rho 1 - 6*2/(4*15) = 0.8
    # user 1: reversed -> -1, -1; user 2: constant -> 0 by definition
    tau, rho = rank_correlations(pred, users)
    assert tau == pytest.approx((2 / 3 - 1 + 0) / 3)
    assert rho == pytest.approx((0.8 - 1 + 0) / 3)


def test_rank_correlations_match_brute_force_with_ties() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        pred = rng.integers(0, 4, 12).astype(float)
        users = rng.integers(1, 6, (3, 12)).astype(float)
        if np.ptp(pred) == 0 or np.any(np.ptp(users, axis=1) == 0):
            continue
        tau, rho = rank_correlations(pred, users)
        assert tau == pytest.approx(np.mean([tau_b_brute(pred, u) for u in users]))
        assert rho == pytest.approx(np.mean([rho_brute(pred, u) for u in users]))


@pytest.mark.parametrize("table_cells", [10**9, 0])  # contingency-table path, scipy fallback
def test_rank_correlations_equal_scipy(monkeypatch: pytest.MonkeyPatch, table_cells: int) -> None:
    from scipy import stats

    from vidsum import evaluation

    monkeypatch.setattr(evaluation, "TABLE_CELLS_PER_FRAME", table_cells)
    rng = np.random.default_rng(11)
    for case in range(60):
        n = int(rng.integers(2, 400))
        pred = rng.random(n) if case % 3 == 0 else np.repeat(rng.random(n), 15)[:n]  # per frame / step-wise
        users = rng.integers(1, 6, (4, n)).astype(float) if case % 2 else rng.random((4, n))
        if np.ptp(pred) == 0 or np.any(np.ptp(users, axis=1) == 0):
            continue
        tau, rho = rank_correlations(pred, users)
        assert tau == pytest.approx(np.mean([stats.kendalltau(pred, u).statistic for u in users]), abs=1e-10)
        assert rho == pytest.approx(np.mean([stats.spearmanr(pred, u).statistic for u in users]), abs=1e-10)


def test_rank_correlations_flat_scores_are_zero_not_nan() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rank_correlations(np.full(6, 0.5), np.arange(12.0).reshape(2, 6)) == (0.0, 0.0)
        assert rank_correlations(np.arange(6.0), np.zeros((2, 6))) == (0.0, 0.0)
        assert rank_correlations(np.array([1.0]), np.array([[1.0]])) == (0.0, 0.0)


def _shots_record() -> VideoRecord:
    # 20 frames, picks every 5 frames, shots of 3, 5, 2 and 10 frames; budget floor(0.15 * 20) = 3.
    us = np.zeros((2, 20), np.float32)
    us[0, 8:10] = 1
    us[1, 0:3] = 1
    return VideoRecord(
        key="hand/video_1",
        source=Path("hand.h5"),
        features=np.zeros((4, 4), np.float32),
        picks=np.array([0, 5, 10, 15]),
        n_frames=20,
        change_points=np.array([[0, 2], [3, 7], [8, 9], [10, 19]]),
        n_frame_per_seg=np.array([3, 5, 2, 10]),
        gtscore=np.zeros(4, np.float32),
        user_summary=us,
    )


def test_evaluate_video_hand_case() -> None:
    rec = _shots_record()
    steps = np.array([0.1, 0.9, 0.2, 0.3])
    # Fitting shots: 0 (3 frames, mean 0.1) or 2 (2 frames, mean 0.9), not both -> shot 2 = frames 8-9,
    # exactly user 0's summary (F1 1) and disjoint from user 1's (F1 0).
    out = evaluate_video(steps, rec)
    assert tuple(out) == METRICS
    assert out["f1_max"] == pytest.approx(1.0) and out["f1_avg"] == pytest.approx(0.5)
    frames = frame_scores_from_steps(steps, rec.picks, rec.n_frames)
    assert out["kendall"] == pytest.approx(np.mean([tau_b_brute(frames, u) for u in rec.user_summary]))
    assert out["spearman"] == pytest.approx(np.mean([rho_brute(frames, u) for u in rec.user_summary]))
    # The same scores given per frame give the same numbers.
    assert evaluate_video(frames, rec) == pytest.approx(out)
    with pytest.raises(DatasetError, match="7 scores"):
        evaluate_video(np.zeros(7), rec)
    with pytest.raises(DatasetError, match="NaN"):
        evaluate_video(np.array([0.1, np.nan, 0.2, 0.3]), rec)


def test_evaluate_video_edge_cases_without_warnings() -> None:
    rec = _shots_record()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = evaluate_video(np.full(4, 0.5), rec)
        assert all(np.isfinite(v) for v in flat.values())
        assert flat["kendall"] == 0.0 and flat["spearman"] == 0.0
        # No shot fits a 3-frame budget: empty summary -> F1 0.
        rec.change_points = np.array([[0, 9], [10, 19]])
        rec.n_frame_per_seg = np.array([10, 10])
        assert evaluate_video(np.array([0.1, 0.9, 0.2, 0.3]), rec)["f1_max"] == 0.0
        # A user summary with no frames.
        rec.user_summary = np.zeros((2, 20), np.float32)
        assert evaluate_video(np.array([0.1, 0.9, 0.2, 0.3]), rec)["f1_avg"] == 0.0


def test_evaluate_means_over_videos_and_resolves_keys() -> None:
    a = _shots_record()
    b = make_record([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], key="hand/video_2")
    records = {a.key: a, b.key: b}
    preds = {"video_1": np.array([0.1, 0.9, 0.2, 0.3]), "hand/video_2": np.linspace(1, 0, 14)}
    result = evaluate(preds, records)
    assert list(result["videos"]) == ["hand/video_1", "hand/video_2"]
    for m in METRICS:
        assert result["mean"][m] == pytest.approx(np.mean([v[m] for v in result["videos"].values()]))
    # video_2: budget floor(2.1) = 2 one-frame shots, the two highest = frames 0, 1 = the user's.
    assert result["videos"]["hand/video_2"]["f1_max"] == pytest.approx(1.0)
    with pytest.raises(DatasetError, match="twice"):
        evaluate({"video_1": preds["video_1"], "hand/video_1": preds["video_1"]}, records)
    with pytest.raises(DatasetError):
        evaluate({}, records)


def test_human_baseline_hand_made_three_users() -> None:
    # F1 between users: u0-u1 overlap 1 of 2 + 2 frames -> 0.5; u2 overlaps nobody.
    rec = make_record([[1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1]])
    out = human_baseline({rec.key: rec})
    # user 0 vs {u1, u2}: max 0.5, mean 0.25; user 1 likewise; user 2: 0, 0.
    assert out["f1_max"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert out["f1_avg"] == pytest.approx((0.25 + 0.25 + 0.0) / 3)
    s = rec.user_summary
    expect_tau = np.mean([np.mean([tau_b_brute(s[u], s[o]) for o in range(3) if o != u]) for u in range(3)])
    assert out["kendall"] == pytest.approx(expect_tau)

    # With user_scores the correlations use them: tau(u0,u1) 2/3, tau(u0,u2) -1, tau(u1,u2) -2/3,
    # rho 0.8, -1, -0.8 -> per user (-1/6, 0, -5/6) and (-0.1, 0, -0.9): both average to -1/3.
    rec2 = make_record(
        [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], user_scores=[[1, 2, 3, 4], [1, 3, 2, 4], [4, 3, 2, 1]],
        key="hand/video_2",
    )
    out2 = human_baseline({rec2.key: rec2})
    assert out2["kendall"] == pytest.approx(-1 / 3)
    assert out2["spearman"] == pytest.approx(-1 / 3)
    assert out2["f1_max"] == pytest.approx(2 / 3) and out2["f1_avg"] == pytest.approx(1 / 3)

    # Means over videos; a one-user video is left out; only one-user videos -> error.
    single = make_record([[1, 0, 0, 0]], key="hand/video_9")
    both = human_baseline({rec.key: rec, rec2.key: rec2, single.key: single})
    assert both["f1_max"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    with pytest.raises(DatasetError, match="at least two annotators"):
        human_baseline({single.key: single})


def test_baselines_and_ground_truth_on_generated_data(tmp_path: Path) -> None:
    records = load_datasets([make_dataset(tmp_path / "gen.h5", n_videos=4, steps=(40, 60), dim=16)])
    rand = random_baseline(records, n_draws=10, seed=0)
    assert rand == random_baseline(records, n_draws=10, seed=0)  # seeded
    assert rand != random_baseline(records, n_draws=10, seed=1)
    assert abs(rand["kendall"]) < 0.05 and abs(rand["spearman"]) < 0.07
    truth = evaluate({k: r.gtscore for k, r in records.items()}, records)["mean"]  # type: ignore[misc]
    human = human_baseline(records)
    # The annotations derive from gtscore, so it and the humans must clearly beat random.
    for m in METRICS:
        assert truth[m] > rand[m] + 0.1, m
        assert human[m] > rand[m] + 0.1, m
    assert all(0.0 <= v <= 1.0 for row in (rand, truth, human) for k, v in row.items() if k.startswith("f1"))
