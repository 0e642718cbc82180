"""`vidsum dataset build`: TVSum TSV / SumMe .mat readers, the 15 % knapsack user summaries, the
frame-count checks, and the output accepted by load_datasets / evaluation / the CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.io import savemat
from typer.testing import CliRunner

import vidsum.annotations as ann  # not `from vidsum import annotations`: the package binds that name to __future__.annotations
from vidsum.data import load_datasets, read_file_attrs, write_video_group
from vidsum.errors import DatasetError, InputError

STEP = 15  # frames between picks (2 samples/s at 30 fps)
DESC = {"backbone": "test", "dim": 8, "weights_sha256": None, "sample_fps": 2.0}


def _shots(n_frames: int, length: int) -> np.ndarray:
    starts = np.arange(0, n_frames, length)
    return np.stack([starts, np.minimum(starts + length - 1, n_frames - 1)], axis=1).astype(np.int64)


def make_features(path: Path, videos: dict[str, int], shot_len: int = 30, seed: int = 0) -> Path:
    """A `vidsum features`-like file: one group per video name with n_frames frames."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as h5:
        h5.attrs["extractor"] = json.dumps(DESC)
        for name, n_frames in videos.items():
            picks = np.arange(0, n_frames, STEP, dtype=np.int64)
            write_video_group(
                h5, name, features=rng.normal(size=(picks.size, 8)).astype(np.float32), picks=picks,
                n_frames=n_frames, change_points=_shots(n_frames, shot_len), video_name=name,
                extra={"fps": 30.0, "duration": n_frames / 30.0, "source_path": f"/videos/{name}.mp4"},
            )
    return path


def make_tvsum(path: Path, videos: dict[str, int], n_users: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a TVSum-format TSV; returns the (n_users, n_frames) scores per video."""
    rng = np.random.default_rng(seed)
    scores, lines = {}, []
    for name, n_frames in videos.items():
        # users agree on a slowly varying importance (so gtscore means something) plus own noise
        shared = np.repeat(rng.uniform(1, 5, size=n_frames // 20 + 1), 20)[:n_frames]
        s = np.clip(np.rint(shared + rng.normal(scale=0.7, size=(n_users, n_frames))), 1, 5).astype(int)
        scores[name] = s
        lines += [f"{name}\tVT\t{','.join(map(str, row))}" for row in s]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return scores


def make_summe(folder: Path, videos: dict[str, int], n_users: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Write SumMe-format GT/*.mat files; returns the (n_frames, n_users) user_score per video."""
    rng = np.random.default_rng(seed)
    gt = folder / "GT"
    gt.mkdir(parents=True)
    out = {}
    for name, n_frames in videos.items():
        us = (rng.random((n_frames, n_users)) < 0.2).astype(np.float64) * rng.integers(1, 3, size=(n_frames, n_users))
        out[name] = us
        savemat(gt / f"{name}.mat", {
            "user_score": us, "gt_score": us.mean(axis=1, keepdims=True), "nFrames": np.array([[n_frames]]),
            "FPS": np.array([[30.0]]),
        })
    return out


def brute_force_summary(values: np.ndarray, cps: np.ndarray, capacity: int) -> np.ndarray:
    """Best-value shot subset by enumeration (ties: the first subset found in lexicographic order)."""
    means = np.array([values[a : b + 1].mean() for a, b in cps])
    lengths = cps[:, 1] - cps[:, 0] + 1
    best, best_set = -1.0, ()
    for r in range(len(cps) + 1):
        for subset in itertools.combinations(range(len(cps)), r):
            if lengths[list(subset)].sum() <= capacity and means[list(subset)].sum() > best + 1e-12:
                best, best_set = means[list(subset)].sum(), subset
    out = np.zeros(values.size, dtype=np.float32)
    for s in best_set:
        out[cps[s, 0] : cps[s, 1] + 1] = 1
    return out


# --- readers -----------------------------------------------------------------------------------


def test_read_tvsum_groups_lines_by_video(tmp_path: Path) -> None:
    scores = make_tvsum(tmp_path / "anno.tsv", {"vidA": 40, "vidB": 25}, n_users=3)
    got = ann.read_tvsum(tmp_path / "anno.tsv")
    assert sorted(got) == ["vidA", "vidB"]
    assert got["vidA"].user_scores.shape == (3, 40)
    np.testing.assert_array_equal(got["vidB"].user_scores, scores["vidB"])
    assert got["vidA"].user_summary is None
    assert got["vidB"].source.endswith("anno.tsv:4")


@pytest.mark.parametrize(
    "text, match",
    [
        ("vid\tVT\n", "expected 3 tab-separated"),
        ("vid\tVT\t1,2,x\n", "comma-separated integers"),
        ("vid\tVT\t1,2,6\n", "must be 1-5"),
        ("vid\tVT\t1,2,3\nvid\tVT\t1,2\n", "line 1 scored 3"),
    ],
)
def test_read_tvsum_rejects_damaged_lines(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "a.tsv").write_text(text)
    with pytest.raises(DatasetError, match=match):
        ann.read_tvsum(tmp_path / "a.tsv")


def test_read_tvsum_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ydata-tvsum50-anno.tsv"):
        ann.read_tvsum(tmp_path / "nope.tsv")


def test_read_summe_transposes_and_selects_nonzero(tmp_path: Path) -> None:
    raw = make_summe(tmp_path, {"Air_Force_One": 50, "Bike_Polo": 31}, n_users=4)
    for where in (tmp_path, tmp_path / "GT"):  # the GT folder or its parent
        got = ann.read_summe(where)
        assert sorted(got) == ["Air_Force_One", "Bike_Polo"]
        a = got["Bike_Polo"]
        assert a.user_scores.shape == (4, 31) and a.fps == 30.0
        np.testing.assert_array_equal(a.user_scores, raw["Bike_Polo"].T)
        np.testing.assert_array_equal(a.user_summary, (raw["Bike_Polo"].T > 0).astype(np.float32))


def test_read_summe_rejects_inconsistent_nframes(tmp_path: Path) -> None:
    savemat(tmp_path / "x.mat", {"user_score": np.zeros((10, 2)), "nFrames": np.array([[12]])})
    with pytest.raises(DatasetError, match="nFrames is 12 but user_score has 10"):
        ann.read_summe(tmp_path)


# --- summaries and targets ---------------------------------------------------------------------


def test_knapsack_summary_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(30):
        n_frames = int(rng.integers(20, 60))
        bounds = np.sort(rng.choice(np.arange(1, n_frames), size=int(rng.integers(2, 7)), replace=False))
        starts = np.concatenate(([0], bounds))
        cps = np.stack([starts, np.concatenate((bounds - 1, [n_frames - 1]))], axis=1)
        values = rng.integers(1, 6, size=n_frames).astype(np.float64)
        got = ann.knapsack_summary(values, cps, 0.15)
        want = brute_force_summary(values, cps, int(np.floor(0.15 * n_frames)))
        means = lambda s: sum(values[a : b + 1].mean() for a, b in cps if s[a])  # noqa: E731
        assert got.sum() <= np.floor(0.15 * n_frames)
        assert means(got) == pytest.approx(means(want))


def test_annotate_tvsum_hand_computed() -> None:
    # 2 users, 10 frames, shots [0-3] [4-5] [6-9]; 50 % budget = 5 frames
    scores = np.array([[5, 5, 5, 5, 1, 1, 2, 2, 2, 2], [1, 1, 1, 1, 4, 4, 3, 3, 3, 3]], dtype=np.float32)
    cps = np.array([[0, 3], [4, 5], [6, 9]])
    a = ann.Annotation("v", scores, None, None, "test")
    got = ann.annotate(a, np.array([0, 5, 8]), cps, 10, "tvsum", proportion=0.5)
    # user 0: shot 0 (mean 5, 4 frames); user 1: shot 1 (mean 4, 2 frames) - shot 2 would need 6 frames
    np.testing.assert_array_equal(got["user_summary"][0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(got["user_summary"][1], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    # mean scores at picks 0, 5, 8: 3, 2.5, 2.5 -> scaled (x - 2.5) / 0.5
    np.testing.assert_allclose(got["gtscore"], [1.0, 0.0, 0.0])
    # mean per frame: 3 3 3 3 2.5 2.5 2.5 ...: shot 0 (mean 3, 4 frames) fits, then nothing else
    np.testing.assert_array_equal(got["gtsummary"], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert got["user_scores"].dtype == np.float32


def test_annotate_summe_uses_users_own_selection_and_fraction() -> None:
    us = np.array([[0, 2, 2, 0, 0, 0], [0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]], dtype=np.float32)
    a = ann.Annotation("v", us, (us > 0).astype(np.float32), 30.0, "test")
    got = ann.annotate(a, np.array([0, 1, 2, 5]), np.array([[0, 2], [3, 5]]), 6, "summe")
    np.testing.assert_array_equal(got["user_summary"], (us > 0))
    # fraction of users at picks 0, 1, 2, 5: 0, 2/3, 1/3, 1/3 -> scaled by 2/3
    np.testing.assert_allclose(got["gtscore"], [0.0, 1.0, 0.5, 0.5], atol=1e-6)


def test_flat_scores_give_zero_gtscore_not_nan() -> None:
    a = ann.Annotation("v", np.full((2, 30), 3.0, dtype=np.float32), None, None, "test")
    got = ann.annotate(a, np.arange(0, 30, 15), _shots(30, 10), 30, "tvsum")
    np.testing.assert_array_equal(got["gtscore"], [0.0, 0.0])


def test_fit_frames_trims_and_edge_pads() -> None:
    x = np.array([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(ann.fit_frames(x, 2), [[1, 2], [4, 5]])
    np.testing.assert_array_equal(ann.fit_frames(x, 5), [[1, 2, 3, 3, 3], [4, 5, 6, 6, 6]])


# --- build_dataset -----------------------------------------------------------------------------


def test_build_tvsum_dataset_is_loadable_and_evaluable(tmp_path: Path) -> None:
    from vidsum.evaluation import evaluate

    feats = make_features(tmp_path / "features.h5", {"vidA": 300, "vidB": 240, "other": 200})
    scores = make_tvsum(tmp_path / "anno.tsv", {"vidA": 300, "vidB": 240, "notExtracted": 90}, n_users=5)
    rep = ann.build_dataset(feats, "tvsum", tmp_path / "anno.tsv", tmp_path / "tvsum.h5")
    assert sorted(rep.written) == ["vidA", "vidB"]
    assert rep.unannotated == ["other"] and rep.missing_features == ["notExtracted"] and rep.adjusted == []

    records = load_datasets([tmp_path / "tvsum.h5"], require_annotations=True)
    assert sorted(records) == ["tvsum/vidA", "tvsum/vidB"]
    rec = records["tvsum/vidA"]
    src = load_datasets([feats], require_annotations=False)["features/vidA"]
    np.testing.assert_array_equal(rec.features, src.features)
    np.testing.assert_array_equal(rec.change_points, src.change_points)
    np.testing.assert_array_equal(rec.user_scores, scores["vidA"])
    assert rec.user_summary.shape == (5, 300) and rec.fps == 30.0 and rec.video_name == "vidA"
    for u in range(5):
        assert rec.user_summary[u].sum() <= 45  # 15 % of 300 frames
        want = brute_force_summary(scores["vidA"][u].astype(float), rec.change_points, 45)
        np.testing.assert_array_equal(rec.user_summary[u], want)
    assert read_file_attrs(tmp_path / "tvsum.h5")["extractor"] == DESC
    with h5py.File(tmp_path / "tvsum.h5") as h5:
        assert h5["vidA/source_path"][()] == b"/videos/vidA.mp4"

    # the ground truth as a prediction must beat random scores (evaluation accepts the file)
    gt = evaluate({k: r.gtscore for k, r in records.items()}, records)["mean"]
    rng = np.random.default_rng(0)
    rnd = evaluate({k: rng.random(r.n_steps) for k, r in records.items()}, records)["mean"]
    assert gt["spearman"] > 0.3 > rnd["spearman"]
    assert gt["f1_avg"] > rnd["f1_avg"]


def test_build_summe_dataset(tmp_path: Path) -> None:
    feats = make_features(tmp_path / "features.h5", {"Air_Force_One": 150, "Bike_Polo": 120})
    raw = make_summe(tmp_path / "SumMe", {"Air_Force_One": 150, "Bike_Polo": 120})
    rep = ann.build_dataset(feats, "summe", tmp_path / "SumMe" / "GT", tmp_path / "summe.h5")
    assert sorted(rep.written) == ["Air_Force_One", "Bike_Polo"]
    rec = load_datasets([tmp_path / "summe.h5"])["summe/Bike_Polo"]
    np.testing.assert_array_equal(rec.user_summary, (raw["Bike_Polo"].T > 0))
    frac = (raw["Bike_Polo"] > 0).mean(axis=1)[rec.picks]
    np.testing.assert_allclose(rec.gtscore, (frac - frac.min()) / (frac.max() - frac.min()), atol=1e-6)


def test_small_frame_mismatch_is_fitted_and_reported(tmp_path: Path) -> None:
    feats = make_features(tmp_path / "features.h5", {"vidA": 300, "vidB": 240})
    scores = make_tvsum(tmp_path / "anno.tsv", {"vidA": 303, "vidB": 238})
    rep = ann.build_dataset(feats, "tvsum", tmp_path / "anno.tsv", tmp_path / "out.h5")
    assert sorted(rep.adjusted) == [("vidA", 303, 300), ("vidB", 238, 240)]
    recs = load_datasets([tmp_path / "out.h5"])
    np.testing.assert_array_equal(recs["out/vidA"].user_scores, scores["vidA"][:, :300])
    np.testing.assert_array_equal(recs["out/vidB"].user_scores[:, 238:], scores["vidB"][:, [-1, -1]])


def test_large_frame_mismatch_names_the_video_and_writes_nothing(tmp_path: Path) -> None:
    feats = make_features(tmp_path / "features.h5", {"vidA": 300, "vidB": 240})
    make_tvsum(tmp_path / "anno.tsv", {"vidA": 300, "vidB": 400})
    with pytest.raises(DatasetError, match=r"video vidB has 240 frames but its annotation .* has 400"):
        ann.build_dataset(feats, "tvsum", tmp_path / "anno.tsv", tmp_path / "out.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anno.tsv", "features.h5"]


def test_no_match_at_all_is_an_error(tmp_path: Path) -> None:
    feats = make_features(tmp_path / "features.h5", {"clip": 100})
    make_tvsum(tmp_path / "anno.tsv", {"vidA": 100})
    with pytest.raises(DatasetError, match="matched by file stem"):
        ann.build_dataset(feats, "tvsum", tmp_path / "anno.tsv", tmp_path / "out.h5")


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_dataset_build(tmp_path: Path) -> None:
    from vidsum.cli import app

    feats = make_features(tmp_path / "features.h5", {"vidA": 300, "vidB": 240, "other": 200})
    make_tvsum(tmp_path / "anno.tsv", {"vidA": 302, "vidB": 240})
    out = tmp_path / "ds.h5"
    argv = ["dataset", "build", "--features", str(feats), "--annotations", "tvsum", str(tmp_path / "anno.tsv"), "-o", str(out)]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    assert "2 annotated video(s)" in res.output and "other" in res.output and "vidA (302 vs 300)" in res.output
    assert len(load_datasets([out])) == 2

    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 1 and "--overwrite" in res.output
    assert CliRunner().invoke(app, argv + ["--overwrite"]).exit_code == 0

    bad = ["dataset", "build", "-f", str(feats), "--annotations", "ovp", str(tmp_path), "-o", str(tmp_path / "x.h5")]
    res = CliRunner().invoke(app, bad)
    assert res.exit_code == 2 and "unknown format 'ovp'" in res.output


def test_built_dataset_trains_and_evaluates_via_cli(tmp_path: Path) -> None:
    """dataset build -> `vidsum train` (tiny model, 1 epoch) -> `vidsum eval` with the checkpoint."""
    from vidsum.cli import app

    videos = {f"vid{i}": 240 + 30 * i for i in range(4)}
    feats = make_features(tmp_path / "features.h5", videos)
    make_tvsum(tmp_path / "anno.tsv", videos)
    ds = tmp_path / "ds.h5"
    runner = CliRunner()
    res = runner.invoke(app, ["dataset", "build", "-f", str(feats), "-a", "tvsum", str(tmp_path / "anno.tsv"), "-o", str(ds), "-q"])
    assert res.exit_code == 0, res.output
    runs = tmp_path / "runs"
    res = runner.invoke(app, [
        "train", "--data", str(ds), "--out", str(runs), "--folds", "2", "--epochs", "1", "--strategy", "plain",
        "--val-fraction", "0", "--d-model", "8", "--layers-visual", "1", "--layers-sequential", "1",
        "--lstm-hidden", "4", "--head-hidden", "8", "--device", "cpu", "-q",
    ])
    assert res.exit_code == 0, res.output
    metrics = json.loads((runs / "metrics.json").read_text())
    assert len(metrics["folds"]) == 2
    res = runner.invoke(app, ["eval", "--data", str(ds), "--model", str(runs / "fold_1.pt"), "--baselines", "--json",
                              str(tmp_path / "eval.json"), "--device", "cpu", "-q"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads((tmp_path / "eval.json").read_text())["rows"]}
    # the annotators of make_tvsum agree, so the built user summaries agree far above chance
    assert rows["human"]["f1_avg"] > rows["random"]["f1_avg"] + 0.3
    assert rows["human"]["spearman"] > 0.3 > rows["random"]["spearman"]
