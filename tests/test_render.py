"""render.py on generated videos with known content: durations, frame accuracy, audio, failures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.videogen import make_video
from vidsum import render
from vidsum.errors import InputError, OutputError, ToolError, UsageError

FPS = 30
SAMPLE_RATE = 44100  # the sine tone of tests/videogen.py


@pytest.fixture(scope="module")
def four_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s, 30 fps, cuts at 1, 2, 3 s: testsrc2 | red noise | SMPTE bars | blue grid; sine tone."""
    path = tmp_path_factory.mktemp("render") / "four.mp4"
    make_video(path, durations=(1.0, 1.0, 1.0, 1.0), fps=FPS)
    return path


@pytest.fixture(scope="module")
def silent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("render") / "silent.mp4"
    make_video(path, durations=(1.0, 1.0), fps=FPS, audio=False)
    return path


def decode(path: Path) -> np.ndarray:
    """All frames, (n, h, w, 3) float32 BGR."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame.astype(np.float32))
    cap.release()
    return np.stack(frames) if frames else np.zeros((0, 1, 1, 3), np.float32)


def header(path: Path) -> str:
    proc = subprocess.run([render.ffmpeg_path(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return proc.stderr


def audio_seconds(path: Path) -> float:
    """Length of the first audio stream, from its decoded samples (mono s16 at 44.1 kHz)."""
    cmd = [render.ffmpeg_path(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1"]
    cmd += ["-ar", str(SAMPLE_RATE), "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return len(raw) / 2 / SAMPLE_RATE


def audio_samples(path: Path) -> np.ndarray:
    """The first audio stream as mono float samples in [-1, 1] at 44.1 kHz."""
    cmd = [render.ffmpeg_path(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1"]
    cmd += ["-ar", str(SAMPLE_RATE), "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# MERGE_GAP_S = 0: one input per segment; 5 s: one input for all (decoded through the gaps).
@pytest.mark.parametrize("merge_gap_s", [0.0, 5.0])
def test_exact_clip_duration_frames_and_audio(
    four_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_gap_s: float
) -> None:
    monkeypatch.setattr(render, "MERGE_GAP_S", merge_gap_s)
    segments = [(0.5, 1.5), (2.5, 3.2), (3.4, 3.9)]
    out = tmp_path / "clip.mp4"
    result = render.render_summary(four_sources, segments, out, fps=FPS, has_audio=True)
    expected_frames = 30 + 21 + 15
    assert len(decode(out)) == expected_frames == result.n_frames
    expected_s = expected_frames / FPS  # 2.2 s
    assert abs(result.duration_s - expected_s) <= 1 / FPS
    assert result.has_audio and "Audio: aac" in header(out)
    # The audio is cut at the same boundaries: its length matches the picture within one AAC frame.
    assert abs(audio_seconds(out) - expected_s) <= 1024 / SAMPLE_RATE + 1e-3
    info = header(out)
    assert "Video: h264" in info and "yuv420p" in info and "320x240" in info and "30 fps" in info
    assert leftovers(tmp_path, {"clip.mp4"}) == []


@pytest.mark.parametrize("merge_gap_s", [0.0, 5.0])
def test_exact_cuts_are_frame_accurate(
    four_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_gap_s: float
) -> None:
    monkeypatch.setattr(render, "MERGE_GAP_S", merge_gap_s)
    src = decode(four_sources)
    # Inside testsrc2 (every frame differs), and across the cuts at 1 s and 2 s.
    segments = [(0.4, 0.8), (0.9, 1.1), (1.9, 2.1)]
    expected = [*range(12, 24), *range(27, 33), *range(57, 63)]
    out = tmp_path / "clip.mp4"
    render.render_summary(four_sources, segments, out, fps=FPS, has_audio=True)
    clip = decode(out)
    assert len(clip) == len(expected)
    for k, j in enumerate(expected):
        window = np.arange(max(0, j - 3), min(len(src), j + 4))
        err = np.abs(src[window] - clip[k]).mean(axis=(1, 2, 3))  # mean abs difference per source frame
        # The expected source frame matches best (static sources tie with their neighbours, hence
        # the tolerance; a frame off by one across a cut or within testsrc2 differs by >= 3).
        assert err[window == j][0] <= err.min() + 0.5, (k, j, int(window[err.argmin()]))
        assert err[window == j][0] < 4.0, (k, j, err)


@pytest.mark.parametrize("rate,fps", [("30000/1001", 30000 / 1001), ("179/6", 179 / 6), ("25", 25.0)])
def test_exact_frame_counts_at_fractional_rates(tmp_path: Path, rate: str, fps: float) -> None:
    src = tmp_path / "src.mp4"
    make_video(src, durations=(2.0,), fps=rate)
    # Frames 7..19, 30..44 and 47..47 (a 2 s video has >= 50): times from frame numbers, as the pipeline does.
    segments = [(7 / fps, 20 / fps), (30 / fps, 45 / fps), (47 / fps, 48 / fps)]
    out = tmp_path / "clip.mp4"
    result = render.render_summary(src, segments, out, fps=fps, has_audio=True)
    clip, source = decode(out), decode(src)
    assert len(clip) == result.n_frames == 13 + 15 + 1
    expected = [*range(7, 20), *range(30, 45), 47]
    for k in (0, 12, 13, 27, 28):  # first and last frame of every segment
        j = expected[k]
        window = np.arange(j - 2, j + 3)
        err = np.abs(source[window] - clip[k]).mean(axis=(1, 2, 3))
        assert window[err.argmin()] == j, (rate, k, j, err)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_video_that_starts_after_the_audio(tmp_path: Path, suffix: str) -> None:
    """Frame 0 shown at 0.1 s on the file's timeline (Matroska from ffmpeg <= 6 with AAC starts the
    video 23 ms late): the cut keeps exactly the asked frames, counted from the first decoded one."""
    plain = tmp_path / "plain.mp4"
    make_video(plain, durations=(2.0,), fps=FPS, audio=False)
    src = tmp_path / f"late{suffix}"
    subprocess.run(
        [render.ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "sine=frequency=440:sample_rate=44100:duration=2.2", "-itsoffset", "0.1", "-i", str(plain),
         "-map", "1:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", str(src)],
        check=True,
    )
    assert render._first_frame_s(render.ffmpeg_path(), src) == pytest.approx(0.1, abs=0.03)
    out = tmp_path / "clip.mp4"
    result = render.render_summary(src, [(12 / FPS, 24 / FPS), (40 / FPS, 50 / FPS)], out, fps=FPS, has_audio=True)
    clip, source = decode(out), decode(src)
    expected = [*range(12, 24), *range(40, 50)]
    assert len(clip) == result.n_frames == len(expected)
    for k in (0, 11, 12, 21):
        j = expected[k]
        err = np.abs(source[j - 2 : j + 3] - clip[k]).mean(axis=(1, 2, 3))
        assert int(err.argmin()) == 2, (k, j, err)


@pytest.mark.parametrize("segments", [[(2.0, 2.5), (3.0, 3.5)], [(0.5, 1.0), (2.5, 3.0)], [(0.5, 1.0), (2.5, 3.0), (3.5, 4.0)]])
def test_shots_after_the_audio_ends_get_silence(tmp_path: Path, segments: list[tuple[float, float]]) -> None:
    """Audio 1.5 s long under 4 s of picture: segments after the sound ends render, with silence."""
    src = tmp_path / "short_audio.mp4"
    subprocess.run(
        [render.ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=s=160x120:r={FPS}:d=4", "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={SAMPLE_RATE}:duration=1.5",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(src)],
        check=True,
    )
    out = tmp_path / "clip.mp4"
    res = render.render_summary(src, segments, out, fps=FPS, has_audio=True)
    total = sum(b - a for a, b in segments)
    assert res.has_audio and res.n_frames == round(total * FPS)
    samples = audio_samples(out)
    assert abs(len(samples) / SAMPLE_RATE - total) < 0.05
    # Each segment's half-second of sound: the tone where the source had it, silence after 1.5 s.
    t = 0.0
    for a, b in segments:
        part = samples[int((t + 0.1) * SAMPLE_RATE) : int((t + (b - a) - 0.1) * SAMPLE_RATE)]
        rms = float(np.sqrt(np.mean(part**2)))
        assert (rms > 0.05) if b <= 1.5 else (rms < 0.01), (a, b, rms)
        t += b - a


def test_silent_input_gives_silent_clip(silent: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = render.render_summary(silent, [(0.2, 0.7), (1.0, 1.5)], out, fps=FPS, has_audio=False)
    assert not result.has_audio and "Audio:" not in header(out)
    assert len(decode(out)) == 30


def test_fast_mode_is_playable_and_starts_at_a_keyframe(four_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "fast.mp4"
    result = render.render_summary(four_sources, [(1.5, 2.0), (2.5, 3.0)], out, fps=FPS, has_audio=True, fast=True)
    # The generated file has one keyframe (at 0; the GOP is 250 frames): both segments move back to
    # it and merge into 0 .. 3.0 s. A playable file decodes without errors from start to end.
    frames = decode(out)
    assert len(frames) == result.n_frames == 90
    assert abs(result.duration_s - 3.0) <= 2 / FPS and result.has_audio
    check = subprocess.run(
        [render.ffmpeg_path(), "-v", "error", "-i", str(out), "-f", "null", "-"], capture_output=True, text=True
    )
    assert check.returncode == 0 and check.stderr.strip() == ""
    assert np.abs(frames[0] - decode(four_sources)[0]).mean() < 1.0  # stream copy: the same pixels


def test_output_is_yuv420p_even_for_444_input(tmp_path: Path) -> None:
    src = tmp_path / "yuv444.mkv"
    make_video(src, durations=(1.0,), audio=False, extra=["-pix_fmt", "yuv444p"])
    assert "yuv444p" in header(src)
    out = tmp_path / "clip.mp4"
    render.render_summary(src, [(0.0, 0.5)], out, fps=FPS, has_audio=False)
    assert re.search(r"Video: h264.*yuv420p", header(out))


def test_odd_frame_size_is_cropped_to_even(tmp_path: Path) -> None:
    src = tmp_path / "odd.mkv"
    make_video(src, durations=(1.0,), size=(161, 121), audio=False, vcodec="ffv1")
    out = tmp_path / "clip.mp4"
    render.render_summary(src, [(0.0, 0.5)], out, fps=FPS, has_audio=False)
    assert "160x120" in header(out)


@pytest.mark.parametrize(
    "suffix,vcodec,acodec", [(".mkv", "h264", "aac"), (".mov", "h264", "aac"), (".webm", "vp9", "opus")]
)
def test_containers_follow_the_suffix(
    four_sources: Path, tmp_path: Path, suffix: str, vcodec: str, acodec: str
) -> None:
    out = tmp_path / f"clip{suffix}"
    result = render.render_summary(four_sources, [(0.5, 1.0)], out, fps=FPS, has_audio=True)
    info = header(out)
    assert f"Video: {vcodec}" in info and f"Audio: {acodec}" in info
    assert len(decode(out)) == 15 and result.has_audio


def test_many_segments_are_rendered_in_batches(
    four_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "MAX_SEGMENTS_PER_COMMAND", 3)
    segments = [(0.3 * i, 0.3 * i + 0.2) for i in range(7)]  # 7 x 6 frames, 3 batches
    out = tmp_path / "clip.mp4"
    seen: list[tuple[str, float, float | None]] = []
    result = render.render_summary(
        four_sources, segments, out, fps=FPS, has_audio=True, progress=lambda *a: seen.append(a)
    )
    assert len(decode(out)) == 42 == result.n_frames
    assert abs(audio_seconds(out) - 42 / FPS) <= 1024 / SAMPLE_RATE + 1e-3
    assert leftovers(tmp_path, {"clip.mp4"}) == []
    assert all(stage == "render" and total == pytest.approx(1.4) for stage, _, total in seen)
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and done[-1] == pytest.approx(1.4)


def test_touching_segments_are_joined(four_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = render.render_summary(four_sources, [(0.0, 0.5), (0.5, 1.0)], out, fps=FPS, has_audio=True)
    assert result.n_frames == 30


def test_zero_segments_is_a_clear_error(four_sources: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no segments"):
        render.render_summary(four_sources, [], tmp_path / "clip.mp4", fps=FPS, has_audio=True)
    assert leftovers(tmp_path, set()) == []


@pytest.mark.parametrize("segments", [[(1.0, 0.5)], [(0.0, 1.0), (0.5, 1.5)], [(-1.0, 0.5)]])
def test_bad_segments_are_refused(four_sources: Path, tmp_path: Path, segments: list[tuple[float, float]]) -> None:
    with pytest.raises(UsageError):
        render.render_summary(four_sources, segments, tmp_path / "clip.mp4", fps=FPS, has_audio=True)


def test_not_a_video_fails_cleanly_and_leaves_no_file(tmp_path: Path) -> None:
    src = tmp_path / "fake.mp4"
    src.write_text("this is not a video\n")
    with pytest.raises(ToolError, match=r"fake\.mp4: ffmpeg failed cutting.*Invalid data"):
        render.render_summary(src, [(0.0, 1.0)], tmp_path / "clip.mp4", fps=FPS, has_audio=True)
    assert leftovers(tmp_path, {"fake.mp4"}) == []


def test_segments_past_the_end_are_an_input_error(four_sources: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no video frames"):
        render.render_summary(four_sources, [(10.0, 11.0)], tmp_path / "clip.mp4", fps=FPS, has_audio=True)
    assert leftovers(tmp_path, set()) == []


def test_interrupt_stops_ffmpeg_and_leaves_no_file(four_sources: Path, tmp_path: Path) -> None:
    def interrupt(stage: str, done: float, total: float | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render.render_summary(
            four_sources, [(0.0, 3.5)], tmp_path / "clip.mp4", fps=FPS, has_audio=True, progress=interrupt
        )
    assert leftovers(tmp_path, set()) == []


def test_output_path_checks(four_sources: Path, tmp_path: Path) -> None:
    existing = tmp_path / "clip.mp4"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="--overwrite"):
        render.render_summary(four_sources, [(0.0, 0.5)], existing, fps=FPS, has_audio=True)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(OutputError, match="is the input"):
        render.render_summary(four_sources, [(0.0, 0.5)], four_sources, fps=FPS, has_audio=True, overwrite=True)
    with pytest.raises(OutputError, match="does not exist"):
        render.render_summary(four_sources, [(0.0, 0.5)], tmp_path / "nope" / "c.mp4", fps=FPS, has_audio=True)
    with pytest.raises(OutputError, match=r"\.avi"):
        render.render_summary(four_sources, [(0.0, 0.5)], tmp_path / "c.avi", fps=FPS, has_audio=True)
    result = render.render_summary(four_sources, [(0.0, 0.5)], existing, fps=FPS, has_audio=True, overwrite=True)
    assert result.n_frames == 15 and existing.stat().st_size > 1000
    assert existing.stat().st_mode & 0o044 == 0o044  # readable by others, unlike a mkstemp file


def test_preset_reaches_the_encoder(four_sources: Path, tmp_path: Path) -> None:
    # x264's ultrafast turns off CABAC and B-frames, which makes the stream Constrained Baseline;
    # the default (veryfast) stays in the High profile.
    fast = render.render_summary(four_sources, [(0.0, 1.0)], tmp_path / "u.mp4", fps=FPS, has_audio=True, preset="ultrafast")
    default = render.render_summary(four_sources, [(0.0, 1.0)], tmp_path / "d.mp4", fps=FPS, has_audio=True)
    assert fast.n_frames == default.n_frames == 30
    assert "h264 (Constrained Baseline)" in header(tmp_path / "u.mp4")
    assert "h264 (High)" in header(tmp_path / "d.mp4")
    with pytest.raises(UsageError, match="preset"):
        render.render_summary(four_sources, [(0.0, 1.0)], tmp_path / "x.mp4", fps=FPS, has_audio=True, preset="warp")
    assert not (tmp_path / "x.mp4").exists()


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        render.render_summary(tmp_path / "gone.mp4", [(0.0, 1.0)], tmp_path / "c.mp4", fps=FPS, has_audio=True)


def test_segments_from_shots() -> None:
    shots = np.array([[0, 29], [30, 59], [60, 89], [90, 119]])
    got = render.segments_from_shots(shots, [True, True, False, True], fps=30.0)
    assert got == [(0.0, 2.0), (3.0, 4.0)]
    assert render.segments_from_shots(shots, [False] * 4, fps=30.0) == []
