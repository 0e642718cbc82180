"""Every registered family through the harness: `vidsum train --arch`, its checkpoints, `vidsum
eval --model` and `vidsum summarize --model`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.scenegen import make_scene_dataset
from vidsum.cli import app
from vidsum.cli.train import ARCHS
from vidsum.config import TrainConfig
from vidsum.data import load_datasets
from vidsum.errors import UsageError
from vidsum.evaluation import evaluate
from vidsum.models import MODELS, load_model, predict
from vidsum.train import model_config, run_training

torch.set_num_threads(1)

TINY = {
    "dmasum": {"d_model": 8, "lstm_hidden": 4, "head_hidden": 8, "layers_visual": 1, "layers_sequential": 1},
    "vslstm": {"lstm_hidden": 8, "mlp_hidden": 8},
    "dpp-lstm": {"lstm_hidden": 8, "mlp_hidden": 8, "phi_dim": 4},
    "dr-dsn": {"hidden": 8},
    "dr-dsn-sup": {"hidden": 8},
    "sum-gan": {"hidden": 8, "layers": 1},
    "sum-gan-sup": {"hidden": 8, "layers": 1},
    "vasnet": {"attention_dim": 8, "head_hidden": 8},
}
TRAINED = [name for name, spec in MODELS.items() if spec.needs_training]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scene_dataset(tmp_path_factory.mktemp("scenes") / "scenes.h5", n_videos=6, dim=16, seed=3)


def test_cli_names_every_registered_family() -> None:
    assert list(ARCHS) == list(MODELS)
    assert set(TINY) == set(TRAINED)


@pytest.mark.parametrize("arch", TRAINED)
def test_each_family_trains_and_its_checkpoint_round_trips(arch: str, scenes: Path, tmp_path: Path) -> None:
    out = tmp_path / arch
    metrics = run_training(
        [scenes], out, model_config(arch, TINY[arch]), TrainConfig(strategy="plain", folds=2, epochs=2, device="cpu"),
        arch=arch,
    )
    config = json.loads((out / "config.json").read_text())
    assert config["arch"] == arch and config["model"]["input_dim"] == 16
    assert "never the test videos" in config["model_selection"]
    if not MODELS[arch].needs_labels:
        assert "label-free" in config["model_selection"]
    model, ckpt = load_model(out / "fold_0.pt")
    assert ckpt["format"] == 2 and ckpt["arch"] == arch and type(model).__module__ == MODELS[arch].module
    assert len(ckpt["train"]["history"]) == 2 and 1 <= ckpt["train"]["best_epoch"] <= 2
    # Reloaded, the checkpoint gives its fold's test metrics again: the same weights, the same scores.
    records = load_datasets([scenes])
    test = {k: records[k] for k in ckpt["train"]["test_keys"]}
    again = evaluate({k: predict(model, r.features) for k, r in test.items()}, test)["mean"]
    for m in ("f1_avg", "kendall"):
        assert again[m] == pytest.approx(metrics["folds"][0][m])


def test_training_free_is_evaluated_on_the_same_folds(scenes: Path, tmp_path: Path) -> None:
    from vidsum.models.training_free import TrainingFreeScorer

    metrics = run_training([scenes], tmp_path / "tf", cfg=TrainConfig(folds=2), arch="training-free")
    assert len(metrics["folds"]) == 2 and not list((tmp_path / "tf").glob("*.pt"))
    splits = json.loads((tmp_path / "tf" / "splits.json").read_text())
    records = load_datasets([scenes])
    test = {k: records[k] for k in splits[1]["test_keys"]}
    scorer = TrainingFreeScorer()
    expected = evaluate(
        {k: scorer.score(r.features, r.change_points, r.picks, r.n_frames) for k, r in test.items()}, test
    )["mean"]
    assert metrics["folds"][1]["f1_max"] == pytest.approx(expected["f1_max"])
    # The same folds as a trained family with the same seed.
    trained = run_training([scenes], tmp_path / "v", model_config("vslstm", TINY["vslstm"]),
                           TrainConfig(strategy="plain", folds=2, epochs=1), arch="vslstm")
    assert json.loads((tmp_path / "v" / "splits.json").read_text()) == splits
    assert len(trained["folds"]) == 2


def test_meta_strategy_trains_a_compared_family(scenes: Path, tmp_path: Path) -> None:
    metrics = run_training([scenes], tmp_path / "m", model_config("vasnet", TINY["vasnet"]),
                           TrainConfig(strategy="meta", folds=2, epochs=1, inner_steps=2), arch="vasnet")
    ckpt = torch.load(tmp_path / "m" / "fold_1.pt", weights_only=True)
    assert ckpt["train"]["strategy"] == "meta" and np.isfinite(metrics["mean"]["f1_avg"])


def test_unsupervised_family_trains_on_a_feature_file(tmp_path: Path) -> None:
    features = make_scene_dataset(tmp_path / "features.h5", n_videos=4, dim=16, labels=False)
    labelled = make_scene_dataset(tmp_path / "labelled.h5", n_videos=3, dim=16, seed=9)
    res = CliRunner().invoke(app, ["train", "--arch", "dr-dsn", "--data", str(features), "--out", str(tmp_path / "r"),
                                   "--epochs", "1", "--model-opt", "hidden=8", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "without evaluation" in res.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["folds"] == [] and metrics["mean"] is None
    ckpt = torch.load(tmp_path / "r" / "fold_0.pt", weights_only=True)
    assert ckpt["arch"] == "dr-dsn" and ckpt["train"]["test_keys"] == [] and len(ckpt["train"]["val_keys"]) == 1
    ev = CliRunner().invoke(app, ["eval", "--data", str(labelled), "--model", str(tmp_path / "r" / "fold_0.pt")])
    assert ev.exit_code == 0, ev.output
    # A supervised family refuses the same file, naming what is missing.
    res = CliRunner().invoke(app, ["train", "--arch", "vslstm", "--data", str(features), "--out", str(tmp_path / "s")])
    assert res.exit_code != 0 and "gtscore" in res.output


def test_option_errors(scenes: Path, tmp_path: Path) -> None:
    def run(*args: str):
        return CliRunner().invoke(app, ["train", "--data", str(scenes), "--out", str(tmp_path / "x"), *args])

    res = run("--arch", "sum-gan", "--strategy", "meta")
    assert res.exit_code == 2 and "plain" in res.output
    res = run("--arch", "vslstm", "--d-model", "8")
    assert res.exit_code == 2 and "--d-model" in res.output
    res = run("--arch", "dr-dsn", "--model-opt", "nope=1")
    assert res.exit_code == 2 and "hidden" in res.output  # lists the real options
    res = run("--arch", "dr-dsn", "--model-opt", "hidden=big")
    assert res.exit_code == 2 and "int" in res.output
    res = run("--arch", "nonesuch")
    assert res.exit_code == 2 and "vasnet" in res.output
    assert not (tmp_path / "x").exists()
    with pytest.raises(UsageError, match="no options"):
        model_config("training-free", {"hidden": 1})
    with pytest.raises(UsageError, match="dr-dsn-sup"):
        model_config("dr-dsn", {"supervised": "true"})
    cfg = model_config("dr-dsn", {"temporal_window": "0", "length_weight": "0.01"})
    assert (cfg.temporal_window, cfg.length_weight, cfg.supervised) == (0, 0.01, False)
    assert model_config("vslstm", {"dropout": 0.25}).dropout == 0.25  # values, not only strings


# summarize takes ~2-3 s per run here; two families run by default, the others with -m slow (the
# scorer path they share with these two is checked for every family just below).
SUMMARIZE_DEFAULT = ("sum-gan", "vasnet")


@pytest.mark.parametrize(
    "arch", [a if a in SUMMARIZE_DEFAULT else pytest.param(a, marks=pytest.mark.slow) for a in TRAINED]
)
def test_summarize_runs_with_each_family(arch: str, cut_video, tmp_path: Path) -> None:
    from vidsum.checkpoint import save_checkpoint
    from vidsum.config import SummarizeConfig
    from vidsum.features import FallbackExtractor
    from vidsum.pipeline import summarize

    src, _ = cut_video
    torch.manual_seed(0)
    cfg = dataclasses.replace(model_config(arch, TINY[arch]), input_dim=FallbackExtractor.dim)
    model = MODELS[arch].build(cfg)
    ckpt = save_checkpoint(tmp_path / f"{arch}.pt", model, cfg, FallbackExtractor().describe(2.0), arch=arch)
    out = tmp_path / "out.mp4"
    # fast: stream-copy cuts (the render is not what this test is about, and it is most of the time)
    # opencv: the decoder Extractor.extract uses below (the ffmpeg one differs by pixel rounding)
    s = summarize(src, SummarizeConfig(output=str(out), model=str(ckpt), length_s=3.0, fast=True, frame_decoder="opencv"))
    assert s.model == str(ckpt) and out.is_file()
    feats = FallbackExtractor().extract(src, sample_fps=2.0)
    model, _ = load_model(ckpt)
    np.testing.assert_allclose(s.step_scores, predict(model, feats.features, "cpu"), atol=1e-5)


@pytest.mark.parametrize("arch", TRAINED)
def test_load_scorer_scores_with_each_family(arch: str, tmp_path: Path) -> None:
    # What summarize calls: load_scorer(checkpoint).score(features, shots, picks, n_frames).
    from vidsum.checkpoint import save_checkpoint
    from vidsum.models import load_scorer

    torch.manual_seed(0)
    cfg = dataclasses.replace(model_config(arch, TINY[arch]), input_dim=12)
    model = MODELS[arch].build(cfg).eval()
    ckpt = save_checkpoint(tmp_path / "m.pt", model, cfg, {"backbone": "test", "dim": 12}, arch=arch)
    scorer = load_scorer(ckpt)
    x = np.random.default_rng(0).normal(size=(30, 12)).astype(np.float32)
    scores = scorer.score(x, np.array([[0, 149], [150, 449]]), np.arange(30) * 15, 450)
    assert scorer.name == arch and scores.shape == (30,) and scores.dtype == np.float32
    with torch.no_grad():
        np.testing.assert_allclose(scores, model(torch.from_numpy(x)).numpy(), atol=1e-6)
