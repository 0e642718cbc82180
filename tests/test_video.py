"""vidsum.video: probing, fps-aware sampling, streaming decode, bad inputs (generated videos)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.videogen import add_subtitles, ffmpeg_exe, has_encoder, make_video, set_rotation
from vidsum.errors import InputError
from vidsum.video import iter_frames, probe, sample_indices

SIZE = (160, 120)  # small frames keep the generated videos fast to make and decode


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("video")
    out = {
        "mp4_30": d / "a30.mp4",
        "webm_23976": d / "b23976.webm",
        "mp4_12_5": d / "c12_5.mp4",
        "mkv_2983": d / "d2983.mkv",
    }
    make_video(out["mp4_30"], durations=(2.0, 2.0), fps=30, size=SIZE, audio=True)
    make_video(out["webm_23976"], durations=(2.0, 2.0), fps="24000/1001", size=SIZE, audio=False, vcodec="libvpx")
    make_video(out["mp4_12_5"], durations=(2.0, 2.0), fps=12.5, size=SIZE, audio=False)
    make_video(out["mkv_2983"], durations=(2.0, 2.0), fps="179/6", size=SIZE, audio=False)
    # HEVC in Matroska with audio and a SubRip track; VP9 + Vorbis WebM; H.264 mp4 with mov_text.
    if has_encoder("libx265"):
        make_video(d / "hevc.mkv", durations=(2.0, 2.0), fps=25, size=SIZE, audio=True, vcodec="libx265")
        out["hevc_subs"] = add_subtitles(d / "hevc.mkv", d / "e_hevc_subs.mkv")
    out["vp9"] = d / "f_vp9.webm"
    make_video(out["vp9"], durations=(2.0, 2.0), fps=30, size=SIZE, audio=True, vcodec="libvpx-vp9")
    out["movtext"] = add_subtitles(out["mp4_30"], d / "g_movtext.mp4", codec="mov_text")
    out["mov"] = d / "h.mov"
    make_video(out["mov"], durations=(2.0, 2.0), fps=30, size=SIZE, audio=True)
    out["avi"] = d / "i.avi"  # MPEG-4 Part 2 + MP3: what old cameras and screen recorders write
    make_video(out["avi"], durations=(2.0, 2.0), fps=25, size=SIZE, audio=True, vcodec="mpeg4",
               acodec="libmp3lame" if has_encoder("libmp3lame") else "aac")
    ff = ffmpeg_exe()
    # Rotation as a display matrix (what phones write).
    out["rot"] = d / "rot.mp4"
    out["rot"].write_bytes(out["mp4_30"].read_bytes())
    set_rotation(out["rot"], 90)
    run = [ff, "-hide_banner", "-loglevel", "error", "-y"]
    # Truncated with the index in front (faststart): decodable up to the cut.
    fast = d / "fast.mp4"
    make_video(fast, durations=(2.0, 2.0), fps=30, size=SIZE, audio=False, extra=["-movflags", "+faststart"])
    data = fast.read_bytes()
    out["truncated"] = d / "truncated.mp4"
    out["truncated"].write_bytes(data[: int(len(data) * 0.5)])
    # Truncated with the index at the end (the default mp4 layout): nothing can be decoded.
    data = out["mp4_30"].read_bytes()
    out["no_moov"] = d / "no_moov.mp4"
    out["no_moov"].write_bytes(data[: len(data) // 2])
    out["text"] = d / "notes.mp4"
    out["text"].write_text("this is not a video\n" * 50)
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["audio"] = d / "audio_only.mp4"
    subprocess.run([*run, "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", str(out["audio"])], check=True)
    # Variable frame rate: frames 10-29 dropped and the timestamps kept (a 0.67 s gap).
    out["vfr"] = d / "vfr.mp4"
    subprocess.run(
        [*run, "-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=30:d=3", "-vf", "select='not(between(n,10,29))'",
         "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out["vfr"])],
        check=True,
    )
    return out


# ---- sample_indices: hand-computed values --------------------------------------------------


def test_sample_indices_30fps_is_every_15th() -> None:
    assert sample_indices(100, 30.0).tolist() == [0, 15, 30, 45, 60, 75, 90]
    assert sample_indices(90, 30.0).tolist() == [0, 15, 30, 45, 60, 75]


def test_sample_indices_fractional_rates() -> None:
    # 23.976 fps / 2 = 11.988 frames per sample: k * 11.988 rounded half up.
    idx = sample_indices(1000, 24000 / 1001)
    assert idx[[0, 1, 5, 10, 42, 43]].tolist() == [0, 12, 60, 120, 503, 515]
    # 12.5 fps: 6.25 frames per sample -> 0, 6.25, 12.5, 18.75, 25, 31.25, 37.5, 43.75
    assert sample_indices(45, 12.5).tolist() == [0, 6, 13, 19, 25, 31, 38, 44]
    # 29.83 fps (179/6): 14.9167 frames per sample
    assert sample_indices(61, 179 / 6).tolist() == [0, 15, 30, 45, 60]


@pytest.mark.parametrize("fps", [10.0, 12.5, 24000 / 1001, 25.0, 179 / 6, 30000 / 1001, 30.0, 60.0])
def test_sample_indices_track_real_time(fps: float) -> None:
    n = int(fps * 3600)  # one hour: no drift allowed
    idx = sample_indices(n, fps, 2.0)
    k = np.arange(len(idx))
    assert idx[0] == 0 and np.all(np.diff(idx) > 0) and idx[-1] < n
    assert np.max(np.abs(idx / fps - k / 2.0)) <= 0.5 / fps + 1e-9
    assert len(idx) == int(np.ceil(n / (fps / 2.0) - 1e-9)) or len(idx) == int(n / (fps / 2.0)) + 1


def test_sample_indices_edge_cases() -> None:
    assert sample_indices(5, 1.0, 2.0).tolist() == [0, 1, 2, 3, 4]  # sampling above the rate: all frames
    assert sample_indices(1, 30.0).tolist() == [0]
    assert sample_indices(0, 30.0).tolist() == []
    with pytest.raises(InputError):
        sample_indices(10, 30.0, 0.0)
    with pytest.raises(InputError):
        sample_indices(10, float("nan"))


# ---- probe ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,fps,n_frames,codec,audio",
    [
        ("mp4_30", 30.0, 120, "h264", True),
        ("webm_23976", 24000 / 1001, 96, "vp8", False),
        ("mp4_12_5", 12.5, 50, "h264", False),
        ("mkv_2983", 179 / 6, 119, "h264", False),
        ("hevc_subs", 25.0, 100, "hevc", True),
        ("vp9", 30.0, 120, "vp9", True),
        ("movtext", 30.0, 120, "h264", True),
        ("mov", 30.0, 120, "h264", True),
        ("avi", 25.0, 100, "mpeg4", True),
    ],
)
def test_probe_generated(videos: dict[str, Path], key: str, fps: float, n_frames: int, codec: str, audio: bool) -> None:
    if key not in videos:
        pytest.skip("this ffmpeg has no libx265 encoder")
    info = probe(videos[key])
    assert info.fps == pytest.approx(fps, rel=1e-3)
    assert abs(info.n_frames - n_frames) <= 1
    assert (info.width, info.height) == SIZE
    assert info.rotation == 0
    assert info.codec == codec
    assert info.has_audio is audio
    assert info.duration == pytest.approx(info.n_frames / info.fps)
    assert info.frames_counted is False


def test_rotation_is_applied_like_ffmpeg(videos: dict[str, Path]) -> None:
    info = probe(videos["rot"])
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (SIZE[1], SIZE[0])  # portrait after rotation
    stream = iter_frames(videos["rot"], size=None)
    _, frame = next(stream)
    stream.close()
    assert frame.shape == (SIZE[0], SIZE[1], 3)
    # ffmpeg auto-rotates by default: its first frame is the truth for orientation.
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(videos["rot"]), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    truth = np.frombuffer(raw, np.uint8).reshape(SIZE[0], SIZE[1], 3).astype(np.int16)
    assert np.abs(frame.astype(np.int16) - truth).mean() < 6
    # ... and not the unrotated or the opposite orientation.
    for wrong in (np.rot90(frame, 2), frame[::-1, ::-1]):
        assert np.abs(wrong.astype(np.int16) - truth).mean() > 20


@pytest.mark.parametrize(
    "key,words",
    [
        ("text", "not a readable video"),
        ("empty", "empty file"),
        ("audio", "audio-only"),
        ("no_moov", "truncated"),
    ],
)
def test_probe_bad_inputs(videos: dict[str, Path], key: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        probe(videos[key])
    assert words in str(err.value)
    assert str(videos[key]) in str(err.value)


def test_probe_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(InputError, match="directory"):
        probe(tmp_path)


# ---- iter_frames ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["mp4_30", "webm_23976", "mp4_12_5", "mkv_2983", "hevc_subs", "vp9", "movtext", "mov", "avi"])
def test_iter_frames_picks_match_sample_indices(videos: dict[str, Path], key: str) -> None:
    if key not in videos:
        pytest.skip("this ffmpeg has no libx265 encoder")
    info = probe(videos[key])
    stream = iter_frames(videos[key], sample_fps=2.0)
    got = [(i, f.shape, f.dtype) for i, f in stream]
    picks = [i for i, _, _ in got]
    assert picks == sample_indices(stream.n_decoded, info.fps, 2.0).tolist()
    assert all(s == (224, 224, 3) and d == np.uint8 for _, s, d in got)
    assert stream.truncated is False
    assert stream.info.frames_counted and stream.info.n_frames == stream.n_decoded
    assert abs(stream.n_decoded - info.n_frames) <= 1


def test_frames_are_rgb_and_from_the_right_segment(videos: dict[str, Path]) -> None:
    # Segment 2 (2-4 s) of videogen is the colour 0xB03020 with noise: red must dominate in RGB.
    frames = dict(iter_frames(videos["mp4_30"], sample_fps=2.0, size=(32, 32)))
    r, g, b = frames[75].reshape(-1, 3).mean(axis=0)
    assert r > 140 and g < 90 and b < 80
    assert set(frames) == {0, 15, 30, 45, 60, 75, 90, 105}


def test_sample_fps_changes_spacing(videos: dict[str, Path]) -> None:
    picks = [i for i, _ in iter_frames(videos["mp4_30"], sample_fps=5.0, size=(16, 16))]
    assert picks == list(range(0, 120, 6))


def test_truncated_tail_stops_with_warning(videos: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    info = probe(videos["truncated"])
    assert info.n_frames == 120  # the index still declares the whole video
    with caplog.at_level(logging.WARNING, logger="vidsum.video"):
        stream = iter_frames(videos["truncated"], size=(16, 16))
        picks = [i for i, _ in stream]
    assert stream.truncated is True
    assert 10 < stream.n_decoded < 110
    assert picks == sample_indices(stream.n_decoded, 30.0).tolist()
    assert stream.info.n_frames == stream.n_decoded
    assert any("truncated" in r.getMessage() for r in caplog.records)


def test_vfr_is_sampled_by_frame_order(videos: dict[str, Path]) -> None:
    info = probe(videos["vfr"])
    stream = iter_frames(videos["vfr"], size=(16, 16))
    picks = [i for i, _ in stream]
    assert stream.n_decoded == 70  # 90 frames made, 20 dropped: every stored frame is decoded once
    assert picks == sample_indices(70, info.fps).tolist()


def test_4k_is_resized_early(tmp_path: Path) -> None:
    path = tmp_path / "uhd.mp4"
    make_video(path, durations=(1.0,), fps=4, size=(3840, 2160), audio=False)
    info = probe(path)
    assert (info.width, info.height) == (3840, 2160)
    frames = list(iter_frames(path, sample_fps=2.0))
    assert [i for i, _ in frames] == [0, 2]
    assert all(f.shape == (224, 224, 3) for _, f in frames)


def test_stream_close_releases_early(videos: dict[str, Path]) -> None:
    stream = iter_frames(videos["mp4_30"], size=(16, 16))
    assert next(stream)[0] == 0
    stream.close()
    assert list(stream) == []


@pytest.mark.realvideo
def test_real_footage_decodes_completely(real_videos: Path) -> None:
    files = sorted(p for p in real_videos.iterdir() if p.suffix.lower() in {".mp4", ".webm", ".mkv", ".mov", ".avi"})
    assert files
    for path in files:
        info = probe(path)
        stream = iter_frames(path, size=(16, 16))
        picks = [i for i, _ in stream]
        assert not stream.truncated, path
        assert abs(stream.n_decoded - info.n_frames) <= max(2, info.fps / 2), path
        assert picks == sample_indices(stream.n_decoded, info.fps).tolist(), path
