"""`vidsum eval` in-process (CliRunner): rows match the library, bad inputs give one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.h5gen import make_dataset
from vidsum.cli import app
from vidsum.data import load_datasets, write_predictions
from vidsum.evaluation import METRICS, evaluate, human_baseline, random_baseline

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["eval", *args], env={"VIDSUM_DEBUG": "", "COLUMNS": "200"})
    try:
        text = result.stdout + result.stderr
    except ValueError:
        text = result.output
    return result.exit_code, text


def _error_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture(scope="module")
def tvsum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "tvsum.h5", n_videos=4, steps=(30, 50), dim=16)


def _rows(path: Path) -> dict[str, dict]:
    doc = json.loads(path.read_text())
    return {row["name"]: row for row in doc["rows"]}


def test_baselines_only(tvsum: Path, tmp_path: Path) -> None:
    code, text = _run("--data", str(tvsum), "--baselines", "--draws", "3", "--json", str(tmp_path / "b.json"), "-q")
    assert code == 0, text
    assert "random" in text and "human" in text and "F1-max % (SumMe)" in text and "F1-avg % (TVSum)" in text
    rows = _rows(tmp_path / "b.json")
    assert list(rows) == ["random", "human"]
    records = load_datasets([tvsum])
    assert {m: rows["random"][m] for m in METRICS} == pytest.approx(random_baseline(records, n_draws=3, seed=0))
    assert {m: rows["human"][m] for m in METRICS} == pytest.approx(human_baseline(records))


def test_predictions_file_nested_and_plain(tvsum: Path, tmp_path: Path) -> None:
    records = load_datasets([tvsum])
    truth = {k: r.gtscore for k, r in records.items()}
    nested = tmp_path / "nested.h5"
    write_predictions(nested, truth)  # /tvsum/video_k/scores, per step
    code, text = _run("--data", str(tvsum), "--predictions", str(nested), "--baselines", "--json", str(tmp_path / "p.json"))
    assert code == 0, text
    rows = _rows(tmp_path / "p.json")
    assert list(rows) == ["model", "random", "human"]
    expect = evaluate(truth, records)["mean"]  # type: ignore[arg-type]
    assert {m: rows["model"][m] for m in METRICS} == pytest.approx(expect)
    assert rows["model"]["f1_avg"] > rows["random"]["f1_avg"] + 0.1
    assert set(json.loads((tmp_path / "p.json").read_text())["videos"]) == set(records)

    # Plain /video_k/scores, per frame, for two of the four videos: only those are scored.
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        for key in list(records)[:2]:
            rec = records[key]
            f.create_dataset(f"{rec.group}/scores", data=np.repeat(rec.gtscore, 15)[: rec.n_frames])
    code, text = _run("--data", str(tvsum), "-p", str(plain), "--per-video", "--json", str(tmp_path / "q.json"))
    assert code == 0, text
    assert "2 of 4 videos" in text and "tvsum/video_2" in text
    doc = json.loads((tmp_path / "q.json").read_text())
    assert doc["rows"][0]["n_videos"] == 2
    subset = {k: truth[k] for k in list(records)[:2]}
    assert doc["rows"][0]["f1_max"] == pytest.approx(evaluate(subset, records)["mean"]["f1_max"])


def _tiny_checkpoint(path: Path, train_keys: list[str], test_keys: list[str]) -> None:
    import torch

    from vidsum.checkpoint import save_checkpoint
    from vidsum.config import ModelConfig
    from vidsum.models.dmasum import DMASum

    torch.manual_seed(0)
    cfg = ModelConfig(
        input_dim=16, d_model=16, layers_visual=1, layers_sequential=1, lstm_hidden=8, lstm_layers=1, head_hidden=16
    )
    save_checkpoint(path, DMASum(cfg), cfg, {"backbone": "test", "dim": 16}, {"train_keys": train_keys, "test_keys": test_keys})


@pytest.mark.skipif(
    not (Path(__file__).parents[1] / "vidsum" / "checkpoint.py").exists(), reason="vidsum.checkpoint not present"
)
def test_model_checkpoint(tvsum: Path, tmp_path: Path) -> None:
    from vidsum.models import load_model, predict

    keys = list(load_datasets([tvsum]))
    ckpt = tmp_path / "fold_0.pt"
    _tiny_checkpoint(ckpt, keys[:3], keys[3:])
    code, text = _run("--data", str(tvsum), "--model", str(ckpt), "--device", "cpu", "--json", str(tmp_path / "m.json"))
    assert code == 0, text
    assert "3 of the 4 evaluated videos were used to train" in " ".join(text.split())
    records = load_datasets([tvsum])
    model, _ = load_model(ckpt)
    expect = evaluate({k: predict(model, r.features) for k, r in records.items()}, records)["mean"]
    assert {m: _rows(tmp_path / "m.json")["model"][m] for m in METRICS} == pytest.approx(expect)

    code, text = _run("--data", str(tvsum), "-m", str(ckpt), "--test-only", "--device", "cpu", "--json", str(tmp_path / "t.json"))
    assert code == 0, text
    assert "were used to train" not in text
    assert list(json.loads((tmp_path / "t.json").read_text())["videos"]) == keys[3:]

    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    code, text = _run("--data", str(tvsum), "--model", str(junk), "--device", "cpu")
    assert code == 1 and "junk.pt" in _error_line(text)


def test_bad_inputs_give_one_line(tvsum: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.h5"
    notes.write_text("not hdf5")
    code, text = _run("--data", str(notes), "--baselines")
    assert code == 1 and "notes.h5: not a readable HDF5 file" in _error_line(text)

    broken = make_dataset(tmp_path / "broken.h5", n_videos=2, steps=(10, 12), dim=8)
    with h5py.File(broken, "a") as f:
        del f["video_2/user_summary"]
    code, text = _run("--data", str(broken), "--baselines")
    line = _error_line(text)
    assert code == 1 and "broken.h5" in line and "'video_2'" in line and "'user_summary'" in line

    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as f:
        f.create_dataset("video_1/scores", data=np.zeros(7))
    code, text = _run("--data", str(tvsum), "--predictions", str(wrong))
    assert code == 1 and "7 scores" in _error_line(text)

    unknown = tmp_path / "unknown.h5"
    with h5py.File(unknown, "w") as f:
        f.create_dataset("summe/video_1/scores", data=np.zeros(7))
    code, text = _run("--data", str(tvsum), "--predictions", str(unknown))
    assert code == 1 and "'summe/video_1' is not in the loaded datasets" in _error_line(text)

    code, text = _run("--data", str(tvsum), "--baselines", "--json", str(tmp_path / "no" / "such" / "x.json"))
    assert code == 1 and "does not exist" in _error_line(text)


def test_usage_errors_exit_2(tvsum: Path, tmp_path: Path) -> None:
    code, text = _run("--data", str(tvsum))
    assert code == 2 and "nothing to evaluate" in _error_line(text)
    code, text = _run("--data", str(tvsum), "--model", "a.pt", "--predictions", "b.h5")
    assert code == 2 and "not both" in _error_line(text)
    code, text = _run("--data", str(tvsum), "--baselines", "--budget", "1.5")
    assert code == 2 and "--budget" in _error_line(text)


def test_real_subprocess_missing_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from vidsum.cli import main; main()", "eval", "--data", str(tmp_path / "x.h5"), "--baselines"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error:") and "x.h5: file not found" in proc.stderr
    assert "Traceback" not in proc.stderr
