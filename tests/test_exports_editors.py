"""Editor exports: timecode, csv, edl, otio and fcpxml, read back by independent parsers.

Each writer gets a summary JSON document built by ``report.build_report`` (the function the
pipeline uses), at 23.976, 25 and 29.97 fps, with shots that cross the minute and ten-minute
marks where drop-frame timecode skips labels. The EDL is read by the OTIO CMX 3600 adapter
(when installed) and by the strict parser below; the OTIO file by ``opentimelineio``; the
FCPXML by exact rational arithmetic (and by the OTIO FCP X adapter at whole rates).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from tests.videogen import make_video
from vidsum.errors import InputError, OutputError
from vidsum.exports import csv_table, edl, fcpxml, otio_timeline
from vidsum.exports.timecode import frame_rate, frames_to_timecode, is_drop_frame, timecode_to_frames
from vidsum.exports.json_doc import build_document as build_report

RATES = {"23.976": 24000 / 1001, "25": 25.0, "29.97": 30000 / 1001}


@dataclasses.dataclass
class Ctx:
    summary_json: Path | None = None
    source: Path | None = None
    clip: Path | None = None


def make_doc(fps: float, minutes: float = 12.0, seed: int = 0, has_audio: bool = True, path: str = "talk.mp4") -> dict[str, Any]:
    """A summary of a ``minutes``-long video: shots of 1-40 s, about a third selected, and shots
    starting exactly on the 1-minute and 10-minute marks."""
    rng = np.random.default_rng(seed)
    n = int(round(minutes * 60 * fps))
    cuts = {0, int(round(60 * fps)), int(round(600 * fps)), int(round(600 * fps)) + 1}
    at = 0
    while at < n:
        at += int(rng.integers(int(fps), int(40 * fps)))
        cuts.add(at)
    starts = sorted(c for c in cuts if c < n)
    shots = np.array([[a, b - 1] for a, b in zip(starts, starts[1:] + [n])])
    selected = rng.random(len(shots)) < 0.35
    selected[0] = selected[-1] = True
    picks = np.arange(0, n, max(1, int(fps / 2)))
    return build_report(
        input_path=path, duration_s=n / fps, fps=fps, n_frames=n, width=1280, height=720, sample_fps=2.0,
        picks=picks, scores=rng.random(len(picks)), shots=shots, shot_scores=rng.random(len(shots)), selected=selected,
        backbone_name="googlenet", backbone_weights_sha256=None, backbone_fallback=False, scorer="dmasum",
        checkpoint_path="m.pt", checkpoint_sha256=None, budget_fraction=0.15, budget_seconds=None, budget_frames=n // 7,
        summary_path="talk.summary.mp4", summary_duration_s=1.0, timings_s={"features": 1.0}, has_audio=has_audio,
    )


def selection(doc: dict[str, Any]) -> list[tuple[int, int]]:
    """[(first frame, frames)] of the selected shots."""
    return [(s["start_frame"], s["end_frame"] - s["start_frame"] + 1) for s in doc["shots"] if s["selected"]]


# --- timecode ---------------------------------------------------------------------------------


def test_frame_rates_are_recognised() -> None:
    assert frame_rate(23.976) == Fraction(24000, 1001) and frame_rate(29.97002997) == Fraction(30000, 1001)
    assert frame_rate(59.94) == Fraction(60000, 1001) and frame_rate(25.0) == 25 and frame_rate(12.5) == Fraction(25, 2)
    assert is_drop_frame(frame_rate(29.97)) and is_drop_frame(frame_rate(59.94))
    assert not is_drop_frame(frame_rate(23.976)) and not is_drop_frame(frame_rate(25)) and not is_drop_frame(frame_rate(30))


def test_drop_frame_timecode_known_values() -> None:
    df = Fraction(30000, 1001)
    # SMPTE 12M: the labels ;00 and ;01 are skipped each minute, except every tenth minute.
    assert frames_to_timecode(1799, df) == "00:00:59;29"
    assert frames_to_timecode(1800, df) == "00:01:00;02"
    assert frames_to_timecode(17982, df) == "00:10:00;00"
    assert frames_to_timecode(107892, df) == "01:00:00;00"  # one hour of 29.97 video is exactly 1:00:00;00
    assert frames_to_timecode(107892, Fraction(60000, 1001) * 1) == "00:30:00;00"
    assert frames_to_timecode(86400, Fraction(24000, 1001)) == "01:00:00:00"  # 23.976 counts 24 a second, non-drop
    with pytest.raises(ValueError, match="does not exist"):
        timecode_to_frames("00:01:00;00", df)
    with pytest.raises(ValueError, match="drop-frame"):
        timecode_to_frames("00:01:00;05", Fraction(25))


@pytest.mark.parametrize("fps", [24000 / 1001, 25.0, 30000 / 1001, 60000 / 1001, 30.0])
def test_timecode_round_trips(fps: float) -> None:
    rate = frame_rate(fps)
    for frame in [*range(0, 200_000, 997), *range(17970, 18010), *range(1795, 1805)]:
        assert timecode_to_frames(frames_to_timecode(frame, rate), rate) == frame


# --- csv ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["23.976", "25", "29.97"])
def test_csv_parses_back_to_the_shots(tmp_path: Path, name: str) -> None:
    doc = make_doc(RATES[name])
    out = tmp_path / "shots.csv"
    csv_table.write_csv(doc, out, Ctx())
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert len(rows) == len(doc["shots"])
    rate = frame_rate(doc["input"]["fps"])
    for i, (row, shot) in enumerate(zip(rows, doc["shots"])):
        assert int(row["shot"]) == i + 1
        assert int(row["start_frame"]) == shot["start_frame"] and int(row["end_frame"]) == shot["end_frame"]
        assert float(row["start_s"]) == pytest.approx(shot["start_s"], abs=1e-6)
        assert float(row["end_s"]) == pytest.approx(shot["end_s"], abs=1e-6)
        assert float(row["score"]) == pytest.approx(shot["score"], abs=1e-6)
        assert bool(int(row["selected"])) is shot["selected"]
        assert timecode_to_frames(row["start_tc"], rate) == shot["start_frame"]
        assert timecode_to_frames(row["end_tc"], rate) == shot["end_frame"] + 1


def test_bad_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="schema version"):
        csv_table.write_csv({"schema_version": 99}, tmp_path / "x.csv", Ctx(summary_json=tmp_path / "s.json"))
    with pytest.raises(InputError, match="not a complete vidsum summary"):
        edl.write_edl({"schema_version": 1, "input": {}}, tmp_path / "x.edl", Ctx())


# --- edl ---------------------------------------------------------------------------------------

_EVENT = re.compile(
    r"^(\d{3})  (\S{1,8}) +(V|A|A2|AA|B|AA/V) +C {8}"
    r"(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d)$"
)


def strict_parse_edl(text: str, fps: float) -> list[dict[str, Any]]:
    """A strict CMX 3600 reader: every line must be a header, an event, a comment or blank;
    events are numbered 1, 2, ...; the FCM line matches the separators; record times are
    contiguous from 00:00:00:00 and each event's source and record lengths agree."""
    rate = frame_rate(fps)
    lines = text.split("\n")
    assert lines[0].startswith("TITLE: ") and len(lines[0]) <= 77
    assert lines[1] in ("FCM: DROP FRAME", "FCM: NON-DROP FRAME")
    drop = lines[1] == "FCM: DROP FRAME"
    assert drop == is_drop_frame(rate)
    events: list[dict[str, Any]] = []
    record = 0
    for line in lines[2:]:
        if not line or line.startswith("* "):
            continue
        m = _EVENT.match(line)
        assert m, f"not a CMX 3600 event line: {line!r}"
        tcs = m.groups()[3:]
        assert all((tc[8] == ";") == drop for tc in tcs), f"separator does not match the FCM line: {line!r}"
        src_in, src_out, rec_in, rec_out = (timecode_to_frames(tc, rate) for tc in tcs)
        assert int(m.group(1)) == len(events) + 1
        assert rec_in == record and rec_out - rec_in == src_out - src_in > 0
        record = rec_out
        events.append({"reel": m.group(2), "channel": m.group(3), "start": src_in, "frames": src_out - src_in})
    return events


@pytest.mark.parametrize("name", ["23.976", "25", "29.97"])
def test_edl_events_equal_the_selection_to_the_frame(tmp_path: Path, name: str) -> None:
    fps = RATES[name]
    doc = make_doc(fps)
    out = tmp_path / "cut.edl"
    edl.write_edl(doc, out, Ctx())
    text = out.read_text(encoding="ascii")
    events = strict_parse_edl(text, fps)
    assert [(e["start"], e["frames"]) for e in events] == selection(doc)
    assert all(e["channel"] == "AA/V" and e["reel"] == "AX" for e in events)
    if name == "29.97":
        assert "FCM: DROP FRAME" in text and ";" in text


@pytest.mark.parametrize("name", ["23.976", "25", "29.97"])
def test_edl_reads_back_in_the_otio_cmx3600_adapter(tmp_path: Path, name: str) -> None:
    otio = pytest.importorskip("opentimelineio")
    if "cmx_3600" not in otio.adapters.available_adapter_names():
        pytest.skip("the OTIO CMX 3600 adapter (otio-cmx3600-adapter) is not installed")
    fps = RATES[name]
    doc = make_doc(fps, has_audio=False)
    out = tmp_path / "cut.edl"
    edl.write_edl(doc, out, Ctx())
    timeline = otio.adapters.read_from_string(out.read_text(), "cmx_3600", rate=fps)
    (track,) = timeline.video_tracks()
    clips = list(track.find_clips())
    got = [(round(c.source_range.start_time.value), round(c.source_range.duration.value)) for c in clips]
    assert got == selection(doc)
    assert all(c.name == "talk.mp4" for c in clips)


def test_edl_counts_from_the_source_start_timecode(tmp_path: Path) -> None:
    video = tmp_path / "tc.mp4"
    make_video(video, durations=(1.0, 1.0), fps=25, audio=False, extra=["-timecode", "01:00:00:00"])
    doc = make_doc(25.0, minutes=0.5, path=str(video), has_audio=False)
    out = tmp_path / "cut.edl"
    edl.write_edl(doc, out, Ctx())
    events = strict_parse_edl(out.read_text(), 25.0)
    hour = 25 * 3600
    assert [(e["start"] - hour, e["frames"]) for e in events] == selection(doc)


def test_edl_refuses_more_than_999_events(tmp_path: Path) -> None:
    doc = make_doc(25.0, minutes=1)
    shot = doc["shots"][0]
    doc["shots"] = [dict(shot, start_frame=2 * i, end_frame=2 * i, selected=True) for i in range(1000)]
    with pytest.raises(OutputError, match="999"):
        edl.write_edl(doc, tmp_path / "x.edl", Ctx())


# --- otio --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["23.976", "25", "29.97"])
def test_otio_clip_ranges_equal_the_selection(tmp_path: Path, name: str) -> None:
    otio = pytest.importorskip("opentimelineio")
    fps = RATES[name]
    doc = make_doc(fps)
    out = tmp_path / "cut.otio"
    otio_timeline.write_otio(doc, out, Ctx())
    timeline = otio.adapters.read_from_file(str(out))
    video, audio = timeline.video_tracks(), timeline.audio_tracks()
    assert len(video) == 1 and len(audio) == 1
    for track in (video[0], audio[0]):
        clips = list(track.find_clips())
        assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == selection(doc)
        assert all(c.source_range.start_time.rate == pytest.approx(fps, rel=1e-12) for c in clips)
    clips = list(video[0].find_clips())
    chosen = [s for s in doc["shots"] if s["selected"]]
    for clip, shot in zip(clips, chosen):
        (marker,) = clip.markers
        assert marker.metadata["vidsum"]["score"] == pytest.approx(shot["score"])
        assert f"score {shot['score']:.3f}" in marker.name
        assert marker.marked_range == clip.source_range
    # the clips play back to back: the timeline lasts the selected frames
    assert timeline.duration().value == pytest.approx(sum(n for _, n in selection(doc)))
    assert timeline.metadata["vidsum"]["frame_rate"] == f"{frame_rate(fps).numerator}/{frame_rate(fps).denominator}"


def test_otio_without_sound_has_one_track(tmp_path: Path) -> None:
    otio = pytest.importorskip("opentimelineio")
    out = tmp_path / "cut.otio"
    otio_timeline.write_otio(make_doc(25.0, has_audio=False), out, Ctx())
    timeline = otio.adapters.read_from_file(str(out))
    assert len(timeline.tracks) == 1 and len(timeline.video_tracks()) == 1


# --- fcpxml ------------------------------------------------------------------------------------


def _seconds(text: str) -> Fraction:
    assert text.endswith("s"), text
    return Fraction(text[:-1])


@pytest.mark.parametrize("name", ["23.976", "25", "29.97"])
def test_fcpxml_clips_equal_the_selection(tmp_path: Path, name: str) -> None:
    fps = RATES[name]
    doc = make_doc(fps)
    out = tmp_path / "cut.fcpxml"
    fcpxml.write_fcpxml(doc, out, Ctx())
    assert out.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
    root = ET.parse(out).getroot()
    assert root.tag == "fcpxml" and root.get("version") == "1.8"
    (fmt,) = root.iter("format")
    frame = _seconds(fmt.get("frameDuration"))
    assert frame == 1 / frame_rate(fps)
    got, at = [], Fraction(0)
    for clip in root.iter("asset-clip"):
        start, duration, offset = (_seconds(clip.get(k)) for k in ("start", "duration", "offset"))
        # every time is a whole number of frames
        assert (start / frame).denominator == (duration / frame).denominator == (offset / frame).denominator == 1
        assert offset == at
        at += duration
        got.append((int(start / frame), int(duration / frame)))
        assert clip.find("marker").get("value").startswith(clip.get("name") + " score ")
    assert got == selection(doc)
    (sequence,) = root.iter("sequence")
    assert _seconds(sequence.get("duration")) == at
    assert sequence.get("tcFormat") == ("DF" if name == "29.97" else "NDF")


def test_fcpxml_reads_back_in_the_otio_fcpx_adapter(tmp_path: Path) -> None:
    otio = pytest.importorskip("opentimelineio")
    if "fcpx_xml" not in otio.adapters.available_adapter_names():
        pytest.skip("the OTIO FCP X adapter (otio-fcpx-xml-adapter) is not installed")
    # A second reader, written by others. It reads whole frame rates only (it truncates 1001-based
    # ones), so 25 fps here, and it truncates float products (int(854 / 25 * 25) is 853), so it
    # is allowed one frame less; the exact check is test_fcpxml_clips_equal_the_selection.
    doc = make_doc(25.0)
    out = tmp_path / "cut.fcpxml"
    fcpxml.write_fcpxml(doc, out, Ctx())
    collection = otio.adapters.read_from_file(str(out), adapter_name="fcpx_xml")
    (timeline,) = list(collection)
    clips = [c for c in timeline.find_clips()]
    assert len(clips) == len(selection(doc))
    for clip, (start, frames) in zip(clips, selection(doc)):
        assert start - 1 <= clip.source_range.start_time.value <= start
        assert frames - 1 <= clip.source_range.duration.value <= frames
        assert clip.media_reference.target_url == "talk.mp4"


# --- finding the videos ------------------------------------------------------------------------


def test_videos_are_found_beside_the_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidsum.exports.document import source_video, summary_clip

    folder = tmp_path / "moved"
    folder.mkdir()
    (folder / "talk.mp4").write_bytes(b"x")
    (folder / "talk.summary.mp4").write_bytes(b"x")
    doc = make_doc(25.0, minutes=0.5)
    doc["input"]["path"] = "videos/talk.mp4"  # as given on the command line, elsewhere
    monkeypatch.chdir(tmp_path)
    ctx = Ctx(summary_json=folder / "talk.summary.json")
    assert source_video(doc, ctx) == folder / "talk.mp4"  # by file name beside the JSON
    assert summary_clip(doc, ctx) == folder / "talk.summary.mp4"  # the recorded relative path, from the JSON's folder
    assert source_video(doc, Ctx()) is None
    with pytest.raises(InputError, match="no such video file"):
        source_video(doc, Ctx(source=tmp_path / "nope.mp4"))
