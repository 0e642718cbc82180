from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidsum.checkpoint import load_checkpoint, save_checkpoint
from vidsum.config import ModelConfig
from vidsum.errors import CheckpointError, OutputError
from vidsum.models import load_model, load_scorer, predict
from vidsum.models.dmasum import DMASum

torch.set_num_threads(1)

CFG = ModelConfig(input_dim=12, d_model=8, lstm_hidden=4, head_hidden=8, layers_visual=1, layers_sequential=1)


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[Path, DMASum]:
    torch.manual_seed(0)
    model = DMASum(CFG)
    path = save_checkpoint(
        tmp_path / "fold_0.pt",
        model,
        CFG,
        {"backbone": "googlenet-pool5", "dim": 12, "sample_fps": np.float64(2.0)},
        {"strategy": "meta", "epoch": np.int64(3), "keys": ("a", "b")},
    )
    return path, model


def test_round_trip_is_plain_data_and_same_scores(saved: tuple[Path, DMASum]) -> None:
    path, model = saved
    raw = torch.load(path, weights_only=True)  # plain data only: no pickled classes
    assert raw["format"] == 2 and raw["arch"] == "dmasum"
    assert raw["config"]["d_model"] == 8 and raw["config"]["attention"] == "moa"
    assert raw["features"] == {"backbone": "googlenet-pool5", "dim": 12, "sample_fps": 2.0}
    assert raw["train"] == {"strategy": "meta", "epoch": 3, "keys": ["a", "b"]}
    loaded, ckpt = load_model(path)
    assert not loaded.training and ckpt["features"]["backbone"] == "googlenet-pool5"
    x = np.random.default_rng(0).normal(size=(20, 12)).astype(np.float32)
    expected = model.eval()(torch.from_numpy(x)).detach().numpy()
    got = predict(loaded, x)
    assert got.dtype == np.float32 and got.shape == (20,)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not list(path.parent.glob(".*part*"))  # atomic write left no temporary file


def test_predict_restores_training_mode_and_has_no_grad(saved: tuple[Path, DMASum]) -> None:
    _, model = saved
    model.train()
    x = np.zeros((5, 12), dtype=np.float32)
    a, b = predict(model, x), predict(model, x)
    np.testing.assert_array_equal(a, b)  # eval mode: dropout off, deterministic
    assert model.training
    assert predict(model, np.zeros((0, 12), dtype=np.float32)).shape == (0,)


def test_predict_rejects_other_feature_size(saved: tuple[Path, DMASum]) -> None:
    with pytest.raises(CheckpointError, match="expects \\(n_steps, 12\\)"):
        predict(saved[1], np.zeros((5, 1024), dtype=np.float32))


def test_missing_corrupt_and_foreign_files(tmp_path: Path, saved: tuple[Path, DMASum]) -> None:
    with pytest.raises(CheckpointError, match="nope.pt: checkpoint not found"):
        load_model(tmp_path / "nope.pt")
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(saved[0].read_bytes()[:200])
    with pytest.raises(CheckpointError, match="trunc.pt: not a readable"):
        load_model(truncated)
    text = tmp_path / "text.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="text.pt"):
        load_checkpoint(text)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt: not a vidsum checkpoint"):
        load_checkpoint(foreign)
    newer = tmp_path / "newer.pt"
    ckpt = load_checkpoint(saved[0])
    torch.save({**ckpt, "format": 3}, newer)
    with pytest.raises(CheckpointError, match="format 3 is not supported"):
        load_checkpoint(newer)


def test_mismatched_weights_and_bad_config(tmp_path: Path, saved: tuple[Path, DMASum]) -> None:
    ckpt = load_checkpoint(saved[0])
    bad = tmp_path / "bad.pt"
    torch.save({**ckpt, "config": {**ckpt["config"], "d_model": 16}}, bad)
    with pytest.raises(CheckpointError, match="bad.pt: weights do not match"):
        load_model(bad)
    torch.save({**ckpt, "config": {**ckpt["config"], "colour": 1}}, bad)
    with pytest.raises(CheckpointError, match="bad.pt: invalid model config.*colour"):
        load_model(bad)


def test_pickled_class_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    torch.save({"format": 1, "config": {}, "state_dict": {}, "obj": Path("x")}, evil)
    with pytest.raises(CheckpointError, match="evil.pt: not a readable"):
        load_checkpoint(evil)


def test_save_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        save_checkpoint(tmp_path / "no" / "x.pt", DMASum(CFG), CFG, {})


def test_format_1_checkpoint_loads_as_dmasum_and_predicts_the_same() -> None:
    """tests/data/format1_dmasum.pt was written by the last format-1 vidsum
    (tests/make_format1_checkpoint.py), with the scores that vidsum computed."""
    data = Path(__file__).resolve().parent / "data"
    expected = json.loads((data / "format1_dmasum.json").read_text())
    ckpt = load_checkpoint(data / "format1_dmasum.pt")
    assert ckpt["format"] == 1 and ckpt["arch"] == "dmasum"
    model, _ = load_model(data / "format1_dmasum.pt")
    assert isinstance(model, DMASum)
    x = np.random.default_rng(expected["input_seed"]).normal(size=expected["input_shape"]).astype(np.float32)
    np.testing.assert_array_equal(predict(model, x), np.asarray(expected["scores"], dtype=np.float32))
    scorer = load_scorer(data / "format1_dmasum.pt")
    assert scorer.name == "dmasum" and scorer.features == ckpt["features"]
    shots = np.array([[0, 39]])
    np.testing.assert_array_equal(scorer.score(x, shots, np.arange(40), 40), predict(model, x))
