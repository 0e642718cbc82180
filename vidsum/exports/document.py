"""Reading a summary JSON document (docs/output.md, schema version 1) for the export writers.

Every writer gets the document exactly as ``vidsum summarize`` wrote it, plus a context naming
the summary JSON, the source video and the clip (any of them may be None). This module turns the
document into shots and summary events, and finds the videos it names: an explicit context path
first, then the path recorded in the JSON, tried as written, then relative to the JSON's folder.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import subprocess
from pathlib import Path
from fractions import Fraction
from typing import Any, Mapping

from vidsum.errors import InputError
from vidsum.exports.timecode import timecode_to_frames

log = logging.getLogger(__name__)

SCHEMA_VERSIONS = (1,)  # summary JSON versions these writers read
HEADER_TIMEOUT_S = 60.0  # seconds for `ffmpeg -i` to list a file's streams


@dataclasses.dataclass(frozen=True)
class Shot:
    """One shot of the source: frames ``start_frame .. end_frame`` inclusive (the JSON's convention)."""

    index: int  # 0-based position in the JSON's shot list
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float  # exclusive: (end_frame + 1) / fps
    score: float
    selected: bool

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    @property
    def number(self) -> int:
        """1-based, as people count shots."""
        return self.index + 1


@dataclasses.dataclass(frozen=True)
class Event:
    """A selected shot placed in the summary clip: it plays from ``record_frame`` (frames of the clip)."""

    shot: Shot
    record_frame: int

    @property
    def record_end_frame(self) -> int:
        """Exclusive."""
        return self.record_frame + self.shot.n_frames


@dataclasses.dataclass(frozen=True)
class Segment:
    """Adjacent selected shots joined: one uninterrupted piece of the source in the clip."""

    shots: tuple[Shot, ...]
    record_frame: int

    @property
    def start_frame(self) -> int:
        return self.shots[0].start_frame

    @property
    def end_frame(self) -> int:
        """Inclusive."""
        return self.shots[-1].end_frame

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame + 1


def check_document(doc: Mapping[str, Any], where: Path | str | None = None) -> None:
    """Raise InputError unless ``doc`` looks like a summary JSON these writers can read."""
    name = str(where) if where else "the summary JSON"
    if not isinstance(doc, Mapping):
        raise InputError(f"{name}: is not a vidsum summary (a JSON object is expected); pass the JSON `vidsum summarize` wrote")
    version = doc.get("schema_version")
    if version not in SCHEMA_VERSIONS:
        raise InputError(
            f"{name}: summary schema version {version!r} is not one this vidsum reads ({', '.join(map(str, SCHEMA_VERSIONS))}); "
            "re-run `vidsum summarize` with this version, or export with the vidsum that wrote it"
        )
    missing = [k for k in ("input", "shots", "summary", "sampling", "scores") if k not in doc]
    if missing:
        raise InputError(f"{name}: not a complete vidsum summary (no {', '.join(missing)}); pass the JSON `vidsum summarize` wrote")
    fps = doc["input"].get("fps")
    if not isinstance(fps, (int, float)) or not (math.isfinite(fps) and fps > 0):
        raise InputError(f"{name}: input.fps is {fps!r}, not a frame rate; the file is damaged")


def fps_of(doc: Mapping[str, Any]) -> float:
    return float(doc["input"]["fps"])


def read_shots(doc: Mapping[str, Any]) -> list[Shot]:
    """The JSON's shots, in time order."""
    return [
        Shot(
            index=i,
            start_frame=int(s["start_frame"]),
            end_frame=int(s["end_frame"]),
            start_s=float(s["start_s"]),
            end_s=float(s["end_s"]),
            score=float(s["score"]),
            selected=bool(s["selected"]),
        )
        for i, s in enumerate(doc["shots"])
    ]


def summary_events(doc: Mapping[str, Any]) -> list[Event]:
    """The selected shots in clip order, each with the clip frame it starts at.

    The clip is the selected shots back to back (docs/output.md), so a shot starts where the
    previous one ends. With ``summary.fast`` (stream copy) the real clip starts each cut at an
    earlier keyframe; these positions are then approximate (the writers that use them warn).
    """
    events: list[Event] = []
    at = 0
    for shot in read_shots(doc):
        if shot.selected:
            events.append(Event(shot, at))
            at += shot.n_frames
    return events


def summary_segments(doc: Mapping[str, Any]) -> list[Segment]:
    """Selected shots that touch in the source joined into one segment (as the clip is rendered)."""
    segments: list[Segment] = []
    for event in summary_events(doc):
        last = segments[-1] if segments else None
        if last is not None and last.end_frame + 1 == event.shot.start_frame:
            segments[-1] = Segment(last.shots + (event.shot,), last.record_frame)
        else:
            segments.append(Segment((event.shot,), event.record_frame))
    return segments


def warn_if_fast(doc: Mapping[str, Any], what: str) -> str | None:
    """The warning for positions in a ``--fast`` clip (cuts start at keyframes), or None."""
    if doc.get("summary", {}).get("fast"):
        msg = (
            f"the clip was cut with --fast (stream copy from keyframes), so the {what} positions in it "
            "are approximate; summarize without --fast for exact ones"
        )
        log.warning(msg)
        return msg
    return None


def _candidates(recorded: str | None, summary_json: Path | None) -> list[Path]:
    if not recorded:
        return []
    p = Path(recorded).expanduser()
    out = [p]
    if summary_json is not None:
        folder = Path(summary_json).parent
        if not p.is_absolute():
            out.append(folder / p)
        out.append(folder / p.name)  # moved together with the JSON
    return out


def find_video(explicit: str | os.PathLike[str] | None, recorded: str | None, summary_json: Path | None) -> Path | None:
    """The first existing file among: ``explicit``; ``recorded`` as written; ``recorded`` (when
    relative) from the summary JSON's folder; its file name in that folder. An ``explicit`` path
    that does not exist is an InputError (the user named it); the others just return None."""
    if explicit is not None:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise InputError(f"{p}: no such video file; check the path")
        return p
    for p in _candidates(recorded, summary_json):
        if p.is_file():
            return p
    return None


def source_video(doc: Mapping[str, Any], ctx: Any) -> Path | None:
    """The source video of the summary, if it can be found (see ``find_video``)."""
    return find_video(getattr(ctx, "source", None), doc["input"].get("path"), getattr(ctx, "summary_json", None))


def summary_clip(doc: Mapping[str, Any], ctx: Any) -> Path | None:
    """The summary clip, if it can be found (see ``find_video``)."""
    return find_video(getattr(ctx, "clip", None), doc["summary"].get("path"), getattr(ctx, "summary_json", None))


def clock(seconds: float, decimals: int = 1) -> str:
    """Seconds -> "m:ss.s" or "h:mm:ss.s" (decimals=0: "m:ss"), for labels people read."""
    seconds = max(0.0, float(seconds))
    scale = 10**decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{frac:0{decimals}d}" if decimals else ""
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{minutes}:{secs:02d}{tail}"


def title_of(doc: Mapping[str, Any]) -> str:
    """The source's file name, for titles."""
    path = doc["input"].get("path") or "video"
    return Path(str(path)).name


_TIMECODE_TAG = re.compile(r"^\s*timecode\s*:\s*(\d{2}:\d{2}:\d{2}[:;.,]\d{2})\s*$", re.M)


def start_timecode(path: Path | None) -> str | None:
    """The start timecode recorded in a video (an mp4/mov tmcd track, an mxf or mkv tag), e.g.
    "01:00:00:00", or None when it has none or cannot be read. Editors match EDL and XML source
    times to it, so the exports start their source times there."""
    if path is None:
        return None
    from vidsum.errors import ToolError
    from vidsum.ffmpeg import ffmpeg_path

    try:
        # ffmpeg exits 1 without an output file; the stream listing is on stderr.
        proc = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True, text=True, errors="replace", timeout=HEADER_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired, ToolError) as exc:
        log.debug("cannot read the timecode of %s: %s", path, exc)
        return None
    m = _TIMECODE_TAG.search(proc.stderr)
    return m.group(1) if m else None


def start_frame(source: Path | None, rate: Fraction) -> int:
    """The frame count of ``source``'s start timecode at ``rate`` (0 when it records none, or one
    that does not exist at this rate)."""
    tc = start_timecode(source)
    if tc is None:
        return 0
    try:
        return timecode_to_frames(tc, rate)
    except ValueError as exc:
        log.warning("%s: ignoring its start timecode (%s); source times start at 0", source, exc)
        return 0
