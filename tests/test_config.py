"""config.py: constants defined once, FeaturesConfig's plain-data round trip, --device cuda:N."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vidsum.config import (
    DEFAULT_BUDGET,
    SAMPLE_FPS,
    EvalConfig,
    FeaturesConfig,
    SummarizeConfig,
    TrainConfig,
)
from vidsum.errors import UsageError


def test_features_config_round_trips_as_json() -> None:
    cfg = FeaturesConfig(backbone="googlenet", backbone_weights="/w/g.pth", device="cuda:1", batch_size=16,
                         precision="bf16", sample_fps=1.0, allow_fallback=False, allow_download=False)
    wire = json.loads(json.dumps(cfg.to_dict()))  # what travels to another process or machine
    assert FeaturesConfig.from_dict(wire) == cfg
    assert FeaturesConfig().sample_fps == SAMPLE_FPS == 2.0
    with pytest.raises(UsageError, match="colour"):
        FeaturesConfig.from_dict({**wire, "colour": 1})
    with pytest.raises(UsageError, match="precision"):
        FeaturesConfig(precision="int8")
    with pytest.raises(UsageError, match="sample_fps"):
        FeaturesConfig(sample_fps=0)


@pytest.mark.parametrize("cls", [FeaturesConfig, SummarizeConfig, TrainConfig, EvalConfig])
def test_every_config_takes_cuda_n(cls: type) -> None:
    for ok in ("auto", "cpu", "cuda", "cuda:0", "cuda:3"):
        assert cls(device=ok).device == ok
    for bad in ("tpu", "cuda:", "cuda:x", "gpu:0"):
        with pytest.raises(UsageError, match="cuda:N"):
            cls(device=bad)


def test_defaults_come_from_the_constants() -> None:
    assert SummarizeConfig().budget == EvalConfig().budget == DEFAULT_BUDGET == 0.15
    assert SummarizeConfig().sample_fps == SAMPLE_FPS
    with pytest.raises(UsageError, match="--budget"):
        EvalConfig(budget=1.5)


def test_cuda_n_is_accepted_everywhere_and_checked_against_the_gpus(cut_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: this checks the message on machines without one")
    from vidsum.cli import app
    from vidsum.device import resolve_device

    src, _ = cut_video
    out = tmp_path / "s.mp4"
    res = CliRunner().invoke(app, ["summarize", str(src), "-o", str(out), "--device", "cuda:1"], env={"COLUMNS": "200"})
    # the option is valid (not "device must be ..."); there is just no such GPU here
    assert res.exit_code == 2 and "cuda:1: no CUDA GPU" in res.output and "must be" not in res.output
    assert not out.exists()
    with pytest.raises(UsageError, match="cuda:1: no CUDA GPU"):
        resolve_device("cuda:1")
