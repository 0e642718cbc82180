"""The speed defaults of issue 15 and where they stop: `summarize` decodes with the fast ffmpeg
decoder (the real picks in its JSON) and runs bf16 where the CPU computes it natively;
`vidsum features` keeps the exact OpenCV decoder and fp32, so dataset features do not change."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.videogen import make_video
from vidsum.cli import app
from vidsum.config import SummarizeConfig
from vidsum.features import FallbackExtractor
from vidsum.pipeline import summarize
from vidsum.video import iter_frames, probe, sample_indices

FEATURES_ATOL = 1e-6  # the default `vidsum features` output against the OpenCV decoder + extractor


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s 320x240 30 fps H.264 + AAC with B-frames (the frames `-skip_frame noref` skips), 4 shots."""
    path = tmp_path_factory.mktemp("decoders") / "bframes.mp4"
    make_video(path, durations=(2.0, 2.0, 2.0, 2.0), extra=["-preset", "veryfast", "-bf", "3"])
    return path


def test_summarize_defaults_to_ffmpeg_noref_and_records_the_real_picks(bframes: Path, tmp_path: Path) -> None:
    info = probe(bframes)
    exact = sample_indices(info.n_frames, info.fps)
    fast = summarize(bframes, SummarizeConfig(output=str(tmp_path / "fast.mp4")))
    doc = json.loads(fast.json_path.read_text())
    assert doc["sampling"]["frame_decoder"] == "ffmpeg-noref"
    picks = np.asarray(doc["sampling"]["picks"])
    assert len(picks) == len(exact) and (np.diff(picks) > 0).all()
    assert ((picks - exact) >= 0).all() and (picks - exact).max() <= 2 and (picks != exact).any()
    assert fast.n_frames == info.n_frames == 240

    slow = summarize(bframes, SummarizeConfig(output=str(tmp_path / "exact.mp4"), frame_decoder="opencv"))
    doc = json.loads(slow.json_path.read_text())
    assert doc["sampling"]["frame_decoder"] == "opencv" and doc["sampling"]["picks"] == exact.tolist()
    # The same four generated shots are found either way.
    assert fast.shots.tolist() == slow.shots.tolist()


def test_summarize_frame_decoder_flag(bframes: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.mp4"
    r = CliRunner().invoke(app, ["summarize", str(bframes), "-o", str(out), "--frame-decoder", "ffmpeg", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["sampling"]["frame_decoder"] == "ffmpeg"
    assert doc["sampling"]["picks"] == sample_indices(240, 30.0).tolist()
    r = CliRunner().invoke(app, ["summarize", str(bframes), "-o", str(tmp_path / "x.mp4"), "--frame-decoder", "vlc"])
    assert r.exit_code == 2 and "frame_decoder must be one of" in r.output


def test_features_default_keeps_exact_picks_and_opencv_features(bframes: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.h5"
    r = CliRunner().invoke(app, ["features", str(bframes), "-o", str(out)], env={"VIDSUM_OFFLINE": "1"})
    assert r.exit_code == 0, r.output
    info = probe(bframes)
    with h5py.File(out) as h5:
        (group,) = h5.values()
        picks, feats = group["picks"][()], group["features"][()]
    assert picks.tolist() == sample_indices(info.n_frames, info.fps).tolist()  # every 15th frame
    frames = np.stack([f for _, f in iter_frames(bframes, info=info)])
    np.testing.assert_allclose(feats, FallbackExtractor().extract_frames(frames), atol=FEATURES_ATOL, rtol=0)


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    from vidsum.features import cpu_has_native_bf16

    for flags, native in (("fpu avx2 avx512f avx512bw", False), ("fpu avx512f avx512_bf16", True),
                          ("fpu amx_bf16 amx_tile", True), ("fpu avx512_bf16x", False)):
        info = tmp_path / f"cpuinfo-{native}-{len(flags)}"
        info.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        assert cpu_has_native_bf16(str(info)) is native
    assert cpu_has_native_bf16(str(tmp_path / "missing")) is False


def test_summary_precision_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from vidsum import features

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(features, "cpu_has_native_bf16", lambda: True)
    assert features.summary_precision("auto", cpu) == "bf16"
    assert features.summary_precision("fp32", cpu) == "fp32"  # asked for: kept
    assert features.summary_precision("auto", cuda) == "fp16"
    assert features.resolve_precision("auto", cpu) == "fp32"  # `vidsum features`: fp32 everywhere
    monkeypatch.setattr(features, "cpu_has_native_bf16", lambda: False)
    assert features.summary_precision("auto", cpu) == "fp32"
