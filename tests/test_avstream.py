"""The PyAV decoder (vidsum.avstream): the OpenCV decoder's picks and pixels, with the unneeded
non-reference frames skipped; timestamps that cannot number frames fall back to counting."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.videogen import ffmpeg_exe, make_video
from vidsum.avstream import AVFrameStream
from vidsum.ffstream import open_frames, resolve_decoder
from vidsum.video import iter_frames, probe, sample_indices


@pytest.fixture(scope="module")
def bframe_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s 320x240 30 fps H.264 with B-frames (x264 veryfast, 3 B-frames, B-pyramid)."""
    path = tmp_path_factory.mktemp("avstream") / "bframes.mp4"
    make_video(path, durations=(2.0, 3.0, 3.0), audio=True, extra=["-preset", "veryfast", "-bf", "3"])
    return path


def _same_as_opencv(path: Path, stream: AVFrameStream) -> None:
    info = probe(path)
    opencv = iter_frames(path, info=info)
    ref = list(opencv)
    got = list(stream)
    assert [i for i, _ in got] == [i for i, _ in ref] == sample_indices(stream.info.n_frames, info.fps).tolist()
    # the frames counted, as OpenCV counts them (containers such as mkv and ts only estimate it)
    assert stream.n_decoded == stream.info.n_frames == opencv.info.n_frames
    for (_, a), (_, b) in zip(got, ref):
        assert a.shape == b.shape == (224, 224, 3) and a.dtype == np.uint8
        # the same libswscale conversion and the same cv2 resize: equal (both wheels carry
        # FFmpeg 7-8; a libswscale of another version may round a level differently)
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        assert diff.max() <= 1 and diff.mean() < 0.01


def test_skips_unsampled_nonreference_frames_and_matches_opencv(bframe_video: Path) -> None:
    stream = AVFrameStream(bframe_video)
    _same_as_opencv(bframe_video, stream)
    # 65 of the 240 frames are non-reference B-frames nobody samples (B-pyramid keeps the others)
    assert stream.skip and not stream.restarted and stream.skipped >= 40, stream.skipped
    assert not stream.truncated and stream.done


def test_without_bframes_nothing_is_skipped(cut_video: tuple[Path, list[float]]) -> None:
    assert resolve_decoder("auto", probe(cut_video[0])) == "opencv"  # (x264 ultrafast: no B-frames)
    stream = AVFrameStream(cut_video[0])
    _same_as_opencv(cut_video[0], stream)
    assert stream.skipped == 0 and not stream.restarted


@pytest.mark.parametrize(
    "case, vf, restarts",
    [
        # frames 100 on come 0.4 frame late (a time base fine enough to keep it): the average
        # rate (29.95 fps) still numbers every frame uniquely and without holes, as counting does
        ("late frames", "setpts=PTS+gt(N\\,99)*0.4/30/TB", False),
        # frame 100 is missing: the timestamps jump one frame, and counting numbers it 100
        ("a gap", "select=not(eq(n\\,100))", True),
        # frames 100 on come 1.6 frames late: two numbers are skipped
        ("a jump", "setpts=PTS+gt(N\\,99)*1.6/30/TB", True),
        # frame 235 is missing, after the last sample (225): found at the end, and the count is 239
        ("a gap at the end", "select=not(eq(n\\,235))", True),
    ],
)
def test_timestamps_that_do_not_number_frames_fall_back_to_counting(
    case: str, vf: str, restarts: bool, bframe_video: Path, tmp_path: Path
) -> None:
    """Where the timestamps do not number the frames as counting would, the stream starts again
    without skipping and numbers frames by counting, as OpenCV does; the frames are OpenCV's either way."""
    vfr = tmp_path / "vfr.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(bframe_video), "-vf", vf,
         "-fps_mode", "passthrough", "-enc_time_base", "1/3000", "-an",
         "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", str(vfr)],
        check=True,
    )
    stream = AVFrameStream(vfr)
    _same_as_opencv(vfr, stream)
    assert stream.restarted == restarts, case


@pytest.mark.parametrize(
    "name, args",
    [
        ("remux.mkv", ["-c", "copy"]),  # 1 ms timestamps
        ("remux.ts", ["-c", "copy"]),  # 90 kHz, and the frame count is an estimate
        ("edit_list.mp4", ["-ss", "1.1", "-c", "copy"]),  # starts after a keyframe: an edit list's lead-in
        ("hevc.mkv", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "bframes=3:log-level=error"]),
    ],
)
def test_containers_and_hevc_match_opencv(name: str, args: list[str], bframe_video: Path, tmp_path: Path) -> None:
    out = tmp_path / name
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(bframe_video), *args, str(out)], check=True)
    stream = AVFrameStream(out)
    assert resolve_decoder("auto", probe(out)) == "pyav"
    _same_as_opencv(out, stream)
    assert stream.skipped > 0 and not stream.restarted


def test_other_codecs_and_rotated_videos_are_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "vp8.webm"
    make_video(path, durations=(1.0, 1.0), vcodec="libvpx", audio=False)
    info = probe(path)
    assert resolve_decoder("auto", info) == "opencv"
    stream = AVFrameStream(path, info=info)
    assert not stream.skip
    _same_as_opencv(path, stream)


def test_auto_picks_pyav_for_h264(bframe_video: Path) -> None:
    info = probe(bframe_video)
    assert resolve_decoder("auto", info) == "pyav" and resolve_decoder("auto") == "opencv"
    assert isinstance(open_frames(bframe_video, "pyav", info=info), AVFrameStream)


def test_summarize_default_decoder_gives_the_opencv_summary(bframe_video: Path, tmp_path: Path) -> None:
    from vidsum.config import SummarizeConfig
    from vidsum.pipeline import summarize

    docs = {}
    for decoder in ("auto", "opencv"):
        out = tmp_path / f"{decoder}.mp4"
        summarize(bframe_video, SummarizeConfig(output=str(out), frame_decoder=decoder, length_s=2.0))
        docs[decoder] = json.loads(out.with_suffix(".json").read_text())
    assert docs["auto"]["sampling"]["frame_decoder"] == "pyav" and docs["opencv"]["sampling"]["frame_decoder"] == "opencv"
    assert docs["auto"]["sampling"]["picks"] == docs["opencv"]["sampling"]["picks"]
    assert docs["auto"]["scores"] == docs["opencv"]["scores"] and docs["auto"]["shots"] == docs["opencv"]["shots"]


def test_collection_summaries_use_it_too(bframe_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collection's extraction (decoder threads feeding one model) decodes with it, and the
    JSON says so."""
    from vidsum.collection import summarize_collection
    from vidsum.config import SummarizeConfig

    opened: list[Path] = []
    init = AVFrameStream.__init__

    def counting(self, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(Path(path))
        init(self, path, *args, **kwargs)

    monkeypatch.setattr(AVFrameStream, "__init__", counting)
    res = summarize_collection([bframe_video], tmp_path / "out", SummarizeConfig(length_s=2.0), workers=1)
    assert len(res.summarized) == 1 and opened == [bframe_video]
    doc = json.loads((tmp_path / "out" / "bframes.summary.json").read_text())
    assert doc["sampling"]["frame_decoder"] == "pyav"
    assert doc["sampling"]["picks"] == sample_indices(240, 30.0).tolist()
