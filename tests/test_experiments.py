"""vidsum experiment: every experiment end to end on tiny generated data, resuming, and the math."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.h5gen import make_dataset
from vidsum.cli import app
from vidsum.config import ModelConfig, TrainConfig
from vidsum.errors import OutputError, UsageError
from vidsum.experiments import (
    ABLATION_SYSTEMS,
    PAPER_TABLE1,
    PAPER_TABLE3,
    SIZES,
    correlation_curve,
    numerical_rank,
    paper_dataset,
    rank_bucket,
    rank_deficits,
    run_experiment,
)
from vidsum.models.dmasum import DMASum

torch.set_num_threads(1)

TINY = ModelConfig(**SIZES["tiny"])
FAST = TrainConfig(folds=2, epochs=1, device="cpu", meta_lr=3e-3)
CLI_FAST = ["--size", "tiny", "--folds", "2", "--epochs", "1", "--device", "cpu", "--meta-lr", "3e-3"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exp-h5")
    return {
        # Named like the public files, so the paper's columns are filled in.
        "tvsum": make_dataset(root / "tvsum_gen.h5", n_videos=5, steps=(16, 24), dim=16, n_users=4, seed=3),
        "summe": make_dataset(root / "summe_gen.h5", n_videos=4, steps=(16, 24), dim=16, n_users=3, seed=4,
                              user_scores=False),
        "ovp": make_dataset(root / "ovp_gen.h5", n_videos=3, steps=(16, 24), dim=16, n_users=3, seed=5),
    }


def _test_docs(out: Path) -> list[Path]:
    return sorted(out.glob("runs/*/*/*/fold_*/test.json"))


def _check_runs_are_leak_free(out: Path) -> None:
    """Every run: test videos never trained on or selected the epoch, and test.json agrees with vidsum train."""
    docs = _test_docs(out)
    assert docs
    for path in docs:
        doc = json.loads(path.read_text())
        checkpoint = path.parent / "train" / "fold_0.pt"
        if checkpoint.is_file() or doc.get("arch", "dmasum") != "training-free":
            ckpt = torch.load(checkpoint, weights_only=True)
            seen = set(ckpt["train"]["train_keys"]) | set(ckpt["train"]["val_keys"])
            assert not seen & set(doc["test_keys"])
        fold = json.loads((path.parent / "train" / "metrics.json").read_text())["folds"][0]
        for m in ("f1_max", "f1_avg", "kendall", "spearman"):
            assert doc["metrics"][m] == pytest.approx(fold[m])


# ---------------------------------------------------------------------------------------------
# Pieces


def test_paper_dataset_from_file_stem() -> None:
    assert paper_dataset("eccv16_dataset_tvsum_google_pool5") == "TVSum"
    assert paper_dataset("eccv16_dataset_summe_google_pool5") == "SumMe"
    assert paper_dataset("eccv16_dataset_ovp_google_pool5") == "OVP"
    assert paper_dataset("my_videos") is None


def test_correlation_curve_bounds_random_and_ties() -> None:
    rng = np.random.default_rng(0)
    reference = rng.random(300)
    upper = correlation_curve(reference, reference)[1]
    lower = correlation_curve(-reference, reference)[1]
    x, y = correlation_curve(rng.random(300), reference)
    assert x[0] == 0 and y[0] == 0 and x[-1] == 1 and y[-1] == pytest.approx(1)
    assert np.all(lower <= y + 1e-12) and np.all(y <= upper + 1e-12)
    assert upper[len(upper) // 2] > 0.6 > 0.4 > lower[len(lower) // 2]
    # A constant score ranks nothing: its expected curve is the random diagonal.
    xc, yc = correlation_curve(np.ones(300), reference)
    np.testing.assert_allclose(yc, xc)
    # By hand: the best frame holds 3 of the 4 units of importance.
    x4, y4 = correlation_curve(np.array([0.9, 0.5, 0.1, 0.0]), np.array([3.0, 1.0, 0.0, 0.0]), points=4)
    np.testing.assert_allclose(x4, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(y4, [0, 0.75, 1, 1, 1])
    # Ties among the two first frames: their importance is shared (expected over orders).
    _, yt = correlation_curve(np.array([1.0, 1.0, 0.0, 0.0]), np.array([3.0, 1.0, 0.0, 0.0]), points=4)
    np.testing.assert_allclose(yt, [0, 0.5, 1, 1, 1])


def test_numerical_rank_and_buckets() -> None:
    assert numerical_rank(np.diag([1.0, 1.0, 0.0])) == 2
    u = np.arange(1.0, 6.0)
    assert numerical_rank(np.outer(u, u)) == 1
    assert numerical_rank(np.random.default_rng(1).normal(size=(8, 8))) == 8
    assert numerical_rank(np.diag([1.0, 1e-9])) == 1  # below eps32 * sigma_max * T
    assert [rank_bucket(d) for d in (0, 3, 4, 11, 12, 16, 500)] == [0, 0, 1, 2, 3, 4, 4]


def test_rank_deficits_show_the_softmax_bottleneck() -> None:
    torch.manual_seed(0)
    T, d = 40, 8
    x = np.random.default_rng(0).normal(size=(T, 12)).astype(np.float32)
    cfg = ModelConfig(input_dim=12, d_model=d, layers_visual=2, layers_sequential=1, lstm_hidden=4, lstm_layers=1,
                      head_hidden=8, attention="softmax")
    soft = rank_deficits(DMASum(cfg), x)
    assert set(soft) == {"A", "log A"}
    assert [len(soft["A"]["visual"]), len(soft["A"]["sequential"])] == [2, 1]
    # log softmax(Q K^T / sqrt(d)) = logits - row constant: rank <= d + 1, so D >= T - d - 1.
    assert all(D >= T - d - 1 for ch in soft["log A"].values() for D in ch)
    # Identical steps give identical attention rows: rank 1.
    same = np.repeat(x[:1], T, axis=0)
    moa = DMASum(ModelConfig(**{**cfg.__dict__, "attention": "moa"}))
    flat = rank_deficits(moa, same)
    assert flat["A"]["visual"] == [T - 1, T - 1] and flat["A"]["sequential"] == [T - 1]


# ---------------------------------------------------------------------------------------------
# The experiments, end to end


def test_ablation_through_the_cli_every_row_and_resume(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "table3"
    argv = ["experiment", "ablation", "--data", str(data["tvsum"]), "--out", str(out), *CLI_FAST]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    assert "14 runs: 14 trained, 0 reused" in " ".join(res.output.split())
    md = (out / "results.md").read_text()
    for s in ABLATION_SYSTEMS:
        line = next(row for row in md.splitlines() if row.startswith(f"| {s.label} |"))
        assert f"| {PAPER_TABLE3[s.paper][1]:.1f} |" in line  # TVSum's paper number beside the measured one
    assert "| Method | TVSum F1 (%) | paper |" in md
    results = json.loads((out / "results.json").read_text())
    assert len(results["rows"]) == 7 and all(len(r["folds"]) == 2 for r in results["rows"])
    assert results["rows"][0]["paper_f1"] == 60.6
    _check_runs_are_leak_free(out)
    # The systems differ where they should.
    wom = json.loads((out / "runs/tvsum_gen/C/dmasum_wom/fold_0/train/config.json").read_text())
    soft = json.loads((out / "runs/tvsum_gen/C/dmasum_softmax/fold_0/train/config.json").read_text())
    assert wom["train"]["strategy"] == "plain" and soft["model"]["attention"] == "softmax"
    assert soft["train"]["inner_steps"] == 5  # the paper's m on TVSum
    # A re-run trains nothing and rewrites the same tables.
    stamps = {p: p.stat().st_mtime_ns for p in _test_docs(out)}
    again = CliRunner().invoke(app, argv)
    assert again.exit_code == 0, again.output
    assert "14 runs: 0 trained, 14 reused" in " ".join(again.output.split())
    assert {p: p.stat().st_mtime_ns for p in _test_docs(out)} == stamps
    assert (out / "results.md").read_text() == md
    # An interrupted run (no test.json) is the only one run again.
    (out / "runs/tvsum_gen/C/dmasum_maml/fold_1/test.json").unlink()
    third = CliRunner().invoke(app, [*argv, "--note", "generated data"])  # a note changes no number
    assert "14 runs: 1 trained, 13 reused" in " ".join(third.output.split())
    assert (out / "results.md").read_text().startswith("# Table 3: ablation study (F1 %)\n\n> generated data\n")
    # Other options cannot silently reuse these runs.
    bad = CliRunner().invoke(app, [*argv[:-len(CLI_FAST)], *CLI_FAST[:-2], "--meta-lr", "1e-3"])
    assert bad.exit_code == 1 and "other options" in bad.output and "--overwrite" in " ".join(bad.output.split())


def test_rank_buckets_every_test_video(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fig3"
    results = run_experiment("rank", [data["tvsum"]], out, TINY, FAST)
    assert results["runs"] == {"runs": 4, "trained": 4, "skipped": 0}
    assert "1.19e-07 x sigma_max x T" in results["rank_tolerance"]
    per = results["buckets"]["tvsum_gen"]
    for kind in ("A", "log A"):
        for system in ("dmasum", "dmasum_softmax"):
            entry = per[kind][system]
            assert len(entry["videos"]) == 5
            for ch in ("visual", "sequential"):
                assert len(entry["buckets"][ch]) == 5
                assert sum(b["videos"] for b in entry["buckets"][ch]) == 5
            for v in entry["videos"]:
                assert all(0 <= D < v["n_steps"] for layers in v["deficit_per_layer"].values() for D in layers)
    for name in ("figure3_rank_tvsum_gen.png", "figure3_logrank_tvsum_gen.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "results.md").read_text()
    assert "TVSum, sequential channel, M = log A" in md and "MoA videos" in md and "softmax mean F1 (%)" in md
    assert run_experiment("rank", [data["tvsum"]], out, TINY, FAST)["runs"]["skipped"] == 4


def test_curves_train_only_the_fold_of_the_chosen_video(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fig5"
    results = run_experiment("curves", [data["tvsum"]], out, TINY, FAST, videos=["video_3"], size="tiny", archs=["dmasum"])
    assert results["runs"]["runs"] == 1
    v = results["videos"]["tvsum_gen/video_3"]
    assert len(v["annotators"]) == 4 and set(v["systems"]) == {"dmasum"}
    for curve in (v["upper"], v["lower"], [v["systems"]["dmasum"]["x"], v["systems"]["dmasum"]["y"]]):
        assert curve[1][-1] == pytest.approx(1.0) and curve[0][0] == 0
    assert (out / "figure5_curves.png").is_file()
    assert "human (leave-one-out" in (out / "results.md").read_text()
    with pytest.raises(UsageError, match="--video"):
        run_experiment("curves", [data["tvsum"]], tmp_path / "bad", TINY, FAST, videos=["video_99"])


def test_learners_one_row_per_m(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fig6"
    results = run_experiment("learners", [data["tvsum"]], out, TINY, FAST, steps=[1, 5])
    points = results["curves"]["tvsum_gen"]
    assert [p["inner_steps"] for p in points] == [1, 5] and all(len(p["folds"]) == 2 for p in points)
    cfg = json.loads((out / "runs/tvsum_gen/C/dmasum_m1/fold_0/train/config.json").read_text())
    assert cfg["train"]["inner_steps"] == 1
    md = (out / "results.md").read_text()
    assert "| 1 |" in md and "(paper's m)" in md
    assert (out / "figure6_learners.png").is_file()


def test_qualitative_selected_frames(data: dict[str, Path], tmp_path: Path) -> None:
    from vidsum.data import load_datasets
    from vidsum.selection import machine_summary

    out = tmp_path / "fig7"
    results = run_experiment("qualitative", [data["summe"]], out, TINY, FAST, size="tiny", archs=["dmasum"])
    v = results["video"]
    assert v["video"] == "summe_gen/video_1" and results["runs"]["runs"] == 1
    rec = load_datasets([data["summe"]])["summe_gen/video_1"]
    s = v["systems"]["dmasum"]
    summary = machine_summary(np.asarray(s["scores"]), rec.picks, rec.change_points, rec.n_frames)
    assert s["selected_steps"] == summary[rec.picks].astype(int).tolist() and any(s["selected_steps"])
    assert (out / "figure7_qualitative.png").is_file()
    assert "| DMASum |" in (out / "results.md").read_text()


def test_compare_tables_1_and_2_every_family(data: dict[str, Path], tmp_path: Path) -> None:
    from vidsum.experiments import available_archs

    out = tmp_path / "t12"
    results = run_experiment("compare", [data["summe"]], out, TINY, FAST, draws=2, size="tiny")
    names = [r["system"] for r in results["rows"]]
    assert names == [a.replace("-", "_") for a in available_archs()] + ["random", "human"]
    assert "dmasum" in names and len(names) >= 3
    human = results["rows"][-1]
    assert len(human["folds"]) == 2 and human["mean"]["kendall"] > 0.5  # annotators share the generator's signal
    md = (out / "results.md").read_text()
    assert "| Method | SumMe F1 (%) | paper |" in md and "| SumMe τ | paper | SumMe ρ | paper |" in md
    for row in PAPER_TABLE1:
        assert f"| {row} " in md or f"(paper row: {row})" in md
    assert "| DMASum | " in md and f"| {PAPER_TABLE1['DMASum'][0]:.1f} |" in md
    if "vslstm" in names:  # the other families at --size tiny: every width field 16
        cfg = json.loads((out / "runs/summe_gen/C/vslstm/fold_0/train/config.json").read_text())
        assert cfg["arch"] == "vslstm" and cfg["model"]["lstm_hidden"] == 16 and cfg["model"]["mlp_hidden"] == 16
    _check_runs_are_leak_free(out)


def test_settings_canonical_augmented_transfer(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "t4"
    results = run_experiment("settings", [data["summe"]], out, TINY, FAST, aug_data=[data["ovp"]], size="tiny",
                             archs=["dmasum"])
    by_setting = {r["setting"]: r for r in results["rows"]}
    assert set(by_setting) == {"C", "A", "T"}
    assert len(by_setting["T"]["folds"]) == 1 and len(by_setting["A"]["folds"]) == 2
    ckpt = torch.load(out / "runs/summe_gen/A/dmasum/fold_0/train/fold_0.pt", weights_only=True)
    trained = set(ckpt["train"]["train_keys"]) | set(ckpt["train"]["val_keys"])
    assert {f"ovp_gen/video_{i}" for i in (1, 2, 3)} <= trained
    transfer = json.loads((out / "runs/summe_gen/T/dmasum/fold_0/test.json").read_text())
    assert len(transfer["test_keys"]) == 4
    md = (out / "results.md").read_text()
    assert "| SumMe C (%) | paper | SumMe A (%) | paper | SumMe T (%) | paper |" in md and "| 52.2 |" in md
    _check_runs_are_leak_free(out)
    with pytest.raises(UsageError, match="--aug-data"):
        run_experiment("settings", [data["summe"]], tmp_path / "t4b", TINY, FAST)


def test_bad_options_fail_before_training(data: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown experiment"):
        run_experiment("tables", [data["summe"]], tmp_path / "x", TINY, FAST)
    with pytest.raises(UsageError, match="--only"):
        run_experiment("ablation", [data["summe"]], tmp_path / "y", TINY, FAST, only=["nope"])
    with pytest.raises(UsageError, match="--arch"):
        run_experiment("compare", [data["summe"]], tmp_path / "z", TINY, FAST, archs=["nope"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        run_experiment("ablation", [data["summe"]], tmp_path / "file", TINY, FAST)
    assert not (tmp_path / "y").exists() and not (tmp_path / "z" / "runs").exists()


@pytest.mark.slow
def test_ablation_on_two_datasets_fills_both_columns(data: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "table3-both"
    results = run_experiment("ablation", [data["summe"], data["tvsum"]], out, TINY, FAST)
    assert len(results["rows"]) == 14
    md = (out / "results.md").read_text()
    assert "| Method | SumMe F1 (%) | paper | TVSum F1 (%) | paper |" in md
    for s in ABLATION_SYSTEMS:
        sm, tv = PAPER_TABLE3[s.paper]
        assert f"| {sm:.1f} |" in md and f"| {tv:.1f} |" in md
    summe = json.loads((out / "runs/summe_gen/C/dmasum/fold_0/train/config.json").read_text())
    assert summe["train"]["inner_steps"] == 3  # the paper's m on SumMe

