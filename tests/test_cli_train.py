from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tests.h5gen import make_dataset
from vidsum.cli import app

torch.set_num_threads(1)

TINY = ["--d-model", "8", "--lstm-hidden", "4", "--head-hidden", "8", "--layers-visual", "1", "--layers-sequential", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("h5") / "gen.h5", n_videos=6, steps=(30, 40), dim=16, seed=2)


def _run(*args: str) -> "object":
    return CliRunner().invoke(app, ["train", *args])


def test_tiny_train_then_eval_through_the_cli(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _run("--data", str(dataset), "--out", str(out), "--folds", "2", "--epochs", "2", "--inner-steps", "2",
               "--device", "cpu", "--attention", "softmax", "--channels", "visual", *TINY)
    assert res.exit_code == 0, res.output
    assert "mean ± std" in res.output and "F1 max (%)" in res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["folds"]) == 2
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["attention"] == "softmax" and config["model"]["channels"] == "visual"
    assert config["model"]["d_model"] == 8 and config["train"]["inner_steps"] == 2
    # The fold checkpoint scores its own test videos through `vidsum eval` to the same numbers.
    splits = json.loads((out / "splits.json").read_text())
    ev = CliRunner().invoke(app, ["eval", "--data", str(dataset), "--model", str(out / "fold_0.pt"),
                                  "--json", str(tmp_path / "ev.json")])
    assert ev.exit_code == 0, ev.output
    row = json.loads((tmp_path / "ev.json").read_text())["rows"][0]
    from vidsum.models import load_model, predict
    from vidsum.data import load_datasets
    from vidsum.evaluation import evaluate

    records = load_datasets([dataset])
    model, _ = load_model(out / "fold_0.pt")
    test = {k: records[k] for k in splits[0]["test_keys"]}
    fold0 = evaluate({k: predict(model, r.features) for k, r in test.items()}, test)["mean"]
    assert fold0["f1_avg"] == pytest.approx(metrics["folds"][0]["f1_avg"])
    every = evaluate({k: predict(model, r.features) for k, r in records.items()}, records)["mean"]
    assert row["name"] == "model" and row["kendall"] == pytest.approx(every["kendall"])


def test_splits_file_is_reused(dataset: Path, tmp_path: Path) -> None:
    splits = tmp_path / "s.json"
    keys = [f"gen/video_{i}" for i in range(1, 7)]
    splits.write_text(json.dumps([{"train_keys": keys[:5], "test_keys": keys[5:]}]))
    res = _run("--data", str(dataset), "--out", str(tmp_path / "r"), "--splits", str(splits), "--epochs", "1",
               "--strategy", "plain", "--device", "cpu", "-q", *TINY)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r" / "splits.json").read_text())[0]["test_keys"] == ["gen/video_6"]


def test_errors_are_one_line_with_exit_codes(dataset: Path, tmp_path: Path) -> None:
    res = _run("--data", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "r"))
    assert res.exit_code == 1 and "missing.h5" in res.output and "Traceback" not in res.output
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    res = _run("--data", str(junk), "--out", str(tmp_path / "r"))
    assert res.exit_code == 1 and "junk.h5" in res.output
    res = _run("--data", str(dataset), "--out", str(tmp_path / "r"), "--strategy", "sgd")
    assert res.exit_code == 2 and "strategy must be one of" in res.output
    res = _run("--data", str(dataset), "--out", str(tmp_path / "r"), "--split", "transfer")
    assert res.exit_code == 2 and "--aug-data" in res.output
    res = _run("--data", str(dataset), "--out", str(tmp_path / "r"), "--folds", "9")
    assert res.exit_code == 2 and "9 folds need at least 9 videos" in res.output
    res = _run("--data", str(dataset), "--out", str(tmp_path / "r"), "--device", "tpu")
    assert res.exit_code == 2 and "device must be" in res.output
    assert not (tmp_path / "r").exists()  # nothing written before the inputs were checked


def test_real_subprocess_reports_missing_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from vidsum.cli import main; main()", "train", "--data", str(tmp_path / "nope.h5"),
         "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "nope.h5" in proc.stderr and "Traceback" not in proc.stderr
