"""The frame decoders of issue 15 in `summarize` (pyav by default for H.264, opt-in `--frame-decoder
ffmpeg` / `ffmpeg-noref`, the real picks in the JSON) and what stays: `vidsum features` keeps the OpenCV decoder, so
dataset features do not change (bf16 and ffmpeg-noref stay opt-in: on real weights they moved
the selected shots, docs/features.md)."""

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


def test_summarize_decoders_and_the_real_picks_in_the_json(bframes: Path, tmp_path: Path) -> None:
    info = probe(bframes)
    exact = sample_indices(info.n_frames, info.fps)
    default = summarize(bframes, SummarizeConfig(output=str(tmp_path / "default.mp4"), frame_decoder="ffmpeg"))
    doc = json.loads(default.json_path.read_text())
    assert doc["sampling"]["frame_decoder"] == "ffmpeg" and doc["sampling"]["picks"] == exact.tolist()

    fast = summarize(bframes, SummarizeConfig(output=str(tmp_path / "fast.mp4"), frame_decoder="ffmpeg-noref"))
    doc = json.loads(fast.json_path.read_text())
    assert doc["sampling"]["frame_decoder"] == "ffmpeg-noref"
    picks = np.asarray(doc["sampling"]["picks"])  # the frames really analysed
    assert len(picks) == len(exact) and (np.diff(picks) > 0).all()
    assert ((picks - exact) >= 0).all() and (picks - exact).max() <= 2 and (picks != exact).any()
    assert fast.n_frames == default.n_frames == info.n_frames == 240

    slow = summarize(bframes, SummarizeConfig(output=str(tmp_path / "exact.mp4")))  # the default: pyav on H.264
    doc = json.loads(slow.json_path.read_text())
    assert doc["sampling"]["frame_decoder"] == "pyav" and doc["sampling"]["picks"] == exact.tolist()
    # The generated shots are found by all three.
    assert fast.shots.tolist() == slow.shots.tolist() == default.shots.tolist()


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
    r = CliRunner().invoke(app, ["features", str(bframes), "-o", str(out), "--allow-fallback"], env={"VIDSUM_OFFLINE": "1"})
    assert r.exit_code == 0, r.output
    info = probe(bframes)
    with h5py.File(out) as h5:
        (group,) = h5.values()
        picks, feats = group["picks"][()], group["features"][()]
    assert picks.tolist() == sample_indices(info.n_frames, info.fps).tolist()  # every 15th frame
    frames = np.stack([f for _, f in iter_frames(bframes, info=info)])
    np.testing.assert_allclose(feats, FallbackExtractor().extract_frames(frames), atol=FEATURES_ATOL, rtol=0)



@pytest.mark.parametrize("workers", ["thread", "process"])
def test_features_with_the_pyav_decoder_are_the_default_ones(bframes: Path, tmp_path: Path, workers: str) -> None:
    """`--frame-decoder auto` (pyav on this file: it skips the unsampled non-reference frames)
    writes the same picks and the same features as the default OpenCV decoder."""
    out = {}
    for name in ("opencv", "auto"):
        out[name] = tmp_path / f"{name}.h5"
        r = CliRunner().invoke(app, ["features", str(bframes), "-o", str(out[name]), "--allow-fallback", "--decoder", workers,
                                     "--frame-decoder", name], env={"VIDSUM_OFFLINE": "1"})
        assert r.exit_code == 0, r.output
    with h5py.File(out["opencv"]) as a, h5py.File(out["auto"]) as b:
        (ga,), (gb,) = a.values(), b.values()
        assert ga["picks"][()].tolist() == gb["picks"][()].tolist() == sample_indices(240, 30.0).tolist()
        np.testing.assert_array_equal(ga["features"][()], gb["features"][()])
    r = CliRunner().invoke(app, ["features", str(bframes), "-o", str(tmp_path / "x.h5"), "--frame-decoder", "ffmpeg-noref"])
    assert r.exit_code == 2 and "exact picks" in r.output
