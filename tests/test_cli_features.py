"""`vidsum features` on the command line: exit codes, the list of skipped videos, resuming, usage
errors, and one real subprocess with an explicit (random) GoogLeNet weight file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.videogen import make_video
from vidsum.cli import app


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_videos")
    make_video(root / "one.mp4", durations=(1.0, 1.0), size=(128, 96))
    make_video(root / "two.mkv", durations=(1.5,), size=(128, 96), audio=False)
    (root / "broken.avi").write_bytes(os.urandom(4096))
    return root


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSUM_OFFLINE", "1")  # no weights download attempts: the fallback extractor


def test_bad_video_is_listed_and_exit_code_is_1(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.h5"
    res = CliRunner().invoke(app, ["features", str(folder), "-o", str(out), "--workers", "2", "--allow-fallback"])
    assert res.exit_code == 1, res.output
    assert "1 video(s) skipped" in res.output and "broken.avi" in res.output
    assert "2 extracted, 0 already done, 1 failed" in res.output
    with h5py.File(out) as h5:
        assert sorted(h5) == ["one", "two"]
        assert json.loads(h5.attrs["extractor"])["fallback"] is True

    # the same command again: nothing to redo, the bad file still fails
    res = CliRunner().invoke(app, ["features", str(folder), "-o", str(out), "--allow-fallback"])
    assert res.exit_code == 1 and "0 extracted, 2 already done, 1 failed" in res.output
    # only good videos (via --list, relative to the list file): success
    lst = tmp_path / "videos.txt"
    lst.write_text(f"{folder / 'one.mp4'}\n{os.path.relpath(folder / 'two.mkv', tmp_path)}\n")
    res = CliRunner().invoke(app, ["features", "--list", str(lst), "-o", str(out), "--allow-fallback"])
    assert res.exit_code == 0, res.output
    assert "0 extracted, 2 already done, 0 failed" in res.output


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--decoder", "fork"], 2, "--decoder must be"),
        (["--batch-size", "0"], 2, "--batch-size must be >= 1"),
        (["--workers", "0"], 2, "--workers must be >= 1"),
        (["--sample-fps", "0"], 2, "--sample-fps must be > 0"),
        (["--precision", "half"], 2, "--precision must be one of"),
        (["--precision", "fp16", "--device", "cpu"], 2, "needs a CUDA GPU"),
    ],
)
def test_usage_errors(folder: Path, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    res = CliRunner().invoke(app, ["features", str(folder / "one.mp4"), "-o", str(tmp_path / "f.h5"), *args])
    assert res.exit_code == code and message in res.output, res.output
    assert not (tmp_path / "f.h5").exists()


def test_without_backbone_weights_it_refuses(folder: Path, tmp_path: Path) -> None:
    """Datasets are for mixing with others: no silent weight-free features without --allow-fallback."""
    out = tmp_path / "f.h5"
    res = CliRunner().invoke(app, ["features", str(folder / "one.mp4"), "-o", str(out)])
    assert res.exit_code == 1, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) <= 3 and lines[0].startswith("error: no bvlc-googlenet weights"), res.output  # one (wrapped) line
    text = " ".join(res.output.split())
    assert "vidsum weights download bvlc-googlenet" in text and "--allow-fallback" in text and "Traceback" not in text
    assert not out.exists()
    res = CliRunner().invoke(app, ["features", str(folder / "one.mp4"), "-o", str(out), "--backbone", "resnet"])
    assert res.exit_code == 2 and "unknown backbone 'resnet'" in res.output


def test_no_videos_and_bad_output(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(app, ["features", str(tmp_path / "empty"), "-o", str(tmp_path / "f.h5")])
    assert res.exit_code == 2 and "no videos found" in res.output
    res = CliRunner().invoke(app, ["features", str(folder), "-o", str(tmp_path / "missing" / "f.h5")])
    assert res.exit_code == 1 and "does not exist" in res.output


def test_real_process_exit_code_and_report(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.h5"
    proc = subprocess.run(
        [sys.executable, "-c", "from vidsum.cli import main; main()", "features", str(folder), "-o", str(out), "--allow-fallback"],
        capture_output=True, text=True, env={**os.environ, "VIDSUM_OFFLINE": "1", "COLUMNS": "200"}, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "broken.avi" in proc.stderr and "2 extracted, 0 already done, 1 failed" in proc.stdout
    assert "Traceback" not in proc.stderr
    with h5py.File(out) as h5:
        assert sorted(h5) == ["one", "two"]


@pytest.mark.slow  # GoogLeNet on the CPU: ~10 s on an idle 2-core machine, minutes when it is busy
def test_subprocess_with_explicit_googlenet_weights(folder: Path, tmp_path: Path) -> None:
    """A real process, with a random-weights GoogLeNet file given explicitly, in bf16: 1024-d pool5
    features, and the file's sha256 and the precision recorded in the extractor description."""
    import torch

    from vidsum.backbones.googlenet import GoogLeNet

    torch.manual_seed(0)
    weights = tmp_path / "random-googlenet.pth"
    torch.save(GoogLeNet(aux_logits=True).state_dict(), weights)
    out = tmp_path / "g.h5"
    env = {**os.environ, "VIDSUM_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", "from vidsum.cli import main; main()", "features", str(folder / "one.mp4"),
         "-o", str(out), "--backbone-weights", str(weights), "--device", "cpu", "--precision", "bf16", "-q"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    desc = json.loads(h5py.File(out)["/"].attrs["extractor"])
    assert desc["dim"] == 1024 and desc["fallback"] is False and desc["precision"] == "bf16"
    assert desc["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    with h5py.File(out) as h5:
        feats = h5["one/features"][()]
        assert feats.shape == (4, 1024) and np.all(np.isfinite(feats)) and feats.std() > 0
