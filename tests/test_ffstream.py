"""The ffmpeg pipe decoder (vidsum.ffstream): exact picks without skipping, real picks with
-skip_frame noref, pixels close to the OpenCV decoder's, and the version-dependent flags."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.videogen import ffmpeg_exe, make_video
from vidsum.errors import InputError, UsageError
from vidsum.ffstream import (
    FFmpegFrameStream,
    open_frames,
    passthrough_flags,
    resolve_decoder,
)
from vidsum.video import iter_frames, probe, sample_indices

# Debian 12's ffmpeg 5.1, kept off PATH on the build machine; the tests that want it skip without it.
DEBIAN_FFMPEG = Path("/opt/debian-ffmpeg/bin/ffmpeg")


@pytest.fixture(scope="module")
def bframe_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s 320x240 30 fps H.264 with B-frames (x264 veryfast: non-reference B-frames to skip)."""
    path = tmp_path_factory.mktemp("ffstream") / "bframes.mp4"
    make_video(path, durations=(2.0, 2.0, 2.0), audio=True, extra=["-preset", "veryfast", "-bf", "3"])
    return path


def _decode(stream) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    pairs = list(stream)
    return np.array([i for i, _ in pairs], dtype=np.int64), np.stack([f for _, f in pairs])


def test_exact_mode_keeps_the_opencv_picks_and_close_pixels(cut_video: tuple[Path, list[float]]) -> None:
    path, _ = cut_video
    info = probe(path)
    ref_picks, ref = _decode(iter_frames(path, info=info))
    stream = FFmpegFrameStream(path, info=info, skip_nonref=False)
    picks, frames = _decode(stream)
    assert picks.tolist() == sample_indices(info.n_frames, info.fps).tolist() == ref_picks.tolist()
    assert frames.shape == ref.shape == (len(picks), 224, 224, 3) and frames.dtype == np.uint8
    # swscale's area filter in RGB against OpenCV's INTER_AREA: equal within rounding.
    diff = np.abs(frames.astype(np.int16) - ref.astype(np.int16))
    assert diff.mean() < 0.1 and np.percentile(diff, 99) <= 1
    assert not stream.truncated and stream.done


def test_exact_mode_at_a_fractional_rate(tmp_path: Path) -> None:
    path = tmp_path / "ntsc.mp4"
    make_video(path, durations=(4.0,), fps="24000/1001", audio=False)
    info = probe(path)
    picks, _ = _decode(FFmpegFrameStream(path, info=info, skip_nonref=False))
    assert picks.tolist() == sample_indices(info.n_frames, info.fps).tolist()
    assert picks[:7].tolist() == [0, 12, 24, 36, 48, 60, 72]


def test_noref_skips_frames_and_records_the_real_ones(bframe_video: Path) -> None:
    info = probe(bframe_video)
    exact = sample_indices(info.n_frames, info.fps)
    picks, frames = _decode(FFmpegFrameStream(bframe_video, info=info, skip_nonref=True))
    assert len(picks) == len(exact)
    assert (np.diff(picks) > 0).all()
    shift = picks - exact
    assert (shift >= 0).all() and shift.max() <= 2  # the next decoded frame, at most 2 later
    assert (shift > 0).any(), "no sampled frame was skipped: the video has no non-reference frames"
    # The recorded index is the frame that was really used: H.264 decoding is bit-exact, so it
    # equals that frame taken from a decode of every frame.
    every, all_frames = _decode(FFmpegFrameStream(bframe_video, info=info, sample_fps=info.fps, skip_nonref=False))
    assert every.tolist() == list(range(len(every)))
    np.testing.assert_array_equal(frames, all_frames[picks])


def test_noref_without_bframes_keeps_exact_picks(cut_video: tuple[Path, list[float]]) -> None:
    path, _ = cut_video  # x264 ultrafast: no B-frames, every frame is a reference
    info = probe(path)
    picks, _ = _decode(FFmpegFrameStream(path, info=info, skip_nonref=True))
    assert picks.tolist() == sample_indices(info.n_frames, info.fps).tolist()


def test_truncated_file_ends_early_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    full = tmp_path / "full.mkv"
    make_video(full, durations=(3.0, 3.0), audio=False)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    stream = FFmpegFrameStream(cut, info=info, skip_nonref=True)
    with caplog.at_level(logging.WARNING, logger="vidsum.ffstream"):
        picks, _ = _decode(stream)
    assert 0 < len(picks) < len(sample_indices(info.n_frames, info.fps))
    assert stream.truncated and stream.info.n_frames < info.n_frames
    assert "truncated" in caplog.text


def test_undecodable_data_is_an_input_error(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    path, _ = cut_video
    info = probe(path)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all " * 1000)
    with pytest.raises(InputError, match="junk.mp4: no frame could be decoded"):
        list(FFmpegFrameStream(junk, info=info))


def test_close_stops_ffmpeg_early(cut_video: tuple[Path, list[float]]) -> None:
    path, _ = cut_video
    stream = FFmpegFrameStream(path, skip_nonref=False)
    next(stream)
    proc = stream._proc
    assert proc is not None and proc.poll() is None
    stream.close()
    assert proc.poll() is not None and stream.done
    stream.close()  # twice is fine
    with pytest.raises(StopIteration):
        next(stream)


def test_passthrough_flags_follow_the_version() -> None:
    assert passthrough_flags((4, 4)) == ["-vsync", "passthrough"]
    assert passthrough_flags((5, 0)) == ["-vsync", "passthrough"]
    assert passthrough_flags((5, 1)) == ["-fps_mode", "passthrough"]
    assert passthrough_flags((9, 0)) == ["-fps_mode", "passthrough"]
    assert passthrough_flags(None) == ["-fps_mode", "passthrough"]  # snapshot builds are recent


@pytest.mark.skipif(not DEBIAN_FFMPEG.exists(), reason=f"no Debian ffmpeg at {DEBIAN_FFMPEG}")
def test_debian_ffmpeg_gives_the_same_picks(bframe_video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = probe(bframe_video)
    ours = _decode(FFmpegFrameStream(bframe_video, info=info, skip_nonref=True))
    monkeypatch.setenv("VIDSUM_FFMPEG", str(DEBIAN_FFMPEG))
    stream = FFmpegFrameStream(bframe_video, info=info, skip_nonref=True)
    assert stream.tool.release is not None and stream.tool.release[:2] == (5, 1)
    theirs = _decode(stream)
    assert ours[0].tolist() == theirs[0].tolist()
    assert np.abs(ours[1].astype(np.int16) - theirs[1].astype(np.int16)).mean() < 1.0


def test_select_expression_counts_samples() -> None:
    # The expression is evaluated by ffmpeg; here its arithmetic is checked in Python for 30 fps
    # sampled at 2 fps: frame i is kept when ceil((i + 0.5) / 15) grows.
    kept = [i for i in range(100) if np.ceil((i + 0.5) / 15) > np.ceil((i - 1 + 0.5) / 15)]
    assert kept == sample_indices(100, 30.0, 2.0).tolist()


def test_resolve_and_open() -> None:
    assert resolve_decoder("auto") == "opencv"
    assert resolve_decoder("ffmpeg-noref") == "ffmpeg-noref"
    with pytest.raises(UsageError, match="frame decoder must be one of"):
        resolve_decoder("gstreamer")
    with pytest.raises(UsageError, match="frame decoder must be auto, opencv"):
        open_frames("x.mp4", "vlc", info=object())  # type: ignore[arg-type]


def test_video_starting_after_the_audio_counts_from_its_first_frame(bframe_video: Path, tmp_path: Path) -> None:
    # ffmpeg starts its clock at the earliest stream: here the video starts 0.1 s (3 frames) late.
    late = tmp_path / "late.mkv"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-itsoffset", "0.1", "-i", str(bframe_video),
                    "-i", str(bframe_video), "-map", "0:v", "-map", "1:a", "-c", "copy", str(late)], check=True)
    info = probe(late)  # (its frame count includes the 0.1 s offset; the packets say 180)
    for skip in (False, True):
        stream = FFmpegFrameStream(late, info=info, skip_nonref=skip)
        picks, _ = _decode(stream)
        exact = sample_indices(stream.info.n_frames, info.fps)
        assert stream.info.n_frames == 180 and picks[0] == 0 and picks[-1] < 180
        assert len(picks) == len(exact) and ((picks - exact) >= 0).all() and (picks - exact).max() <= 2
