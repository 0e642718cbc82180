"""``chapters``: one chapter per selected shot, in the summary clip itself and as WebVTT.

The clip gets the chapters as container metadata (mp4/mov chapter track, Matroska/WebM
chapters): ffmpeg copies its streams unchanged (no re-encoding) into a new file that replaces
the clip atomically. Players show them in their chapter menu (VLC, mpv, QuickTime). The WebVTT
file (the export's own output) holds the same chapters for web players
(``<track kind="chapters">``). Each chapter is named after its shot: number, source times and
score, e.g. ``Shot 3 (source 0:05.0-0:13.0, score 0.77)``.

When the clip cannot be found (not at the path the JSON records, and none given), only the
WebVTT file is written, with a warning.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

from vidsum.errors import ToolError
from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import Event, check_document, clock, fps_of, summary_clip, summary_events, warn_if_fast
from vidsum.exports.subtitles import cue_time
from vidsum.io import atomic_path

log = logging.getLogger(__name__)

REMUX_TIMEOUT_S = 600.0  # seconds; a stream copy of even a long clip takes a few
FASTSTART = (".mp4", ".m4v", ".mov")  # containers whose index is moved to the front for the web
_META_SPECIAL = ("\\", "=", ";", "#", "\n")  # escaped with a backslash in ffmetadata files


def chapter_title(event: Event) -> str:
    shot = event.shot
    return f"Shot {shot.number} (source {clock(shot.start_s)}-{clock(shot.end_s)}, score {shot.score:.2f})"


def chapter_times(doc: Mapping[str, Any]) -> list[tuple[float, float, str]]:
    """[(start_s, end_s, title)] of the chapters, on the clip's timeline."""
    fps = fps_of(doc)
    return [(e.record_frame / fps, e.record_end_frame / fps, chapter_title(e)) for e in summary_events(doc)]


def webvtt(doc: Mapping[str, Any]) -> str:
    """The chapters as a WebVTT file."""
    cues = ["WEBVTT", ""]
    for number, (start, end, title) in enumerate(chapter_times(doc), start=1):
        cues += [str(number), f"{cue_time(start, '.')} --> {cue_time(end, '.')}", title, ""]
    return "\n".join(cues)


def ffmetadata(doc: Mapping[str, Any]) -> str:
    """The chapters as an ffmpeg metadata file (milliseconds)."""
    lines = [";FFMETADATA1"]
    for start, end, title in chapter_times(doc):
        for ch in _META_SPECIAL:
            title = title.replace(ch, "\\" + ch)
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(start * 1000)}", f"END={round(end * 1000)}", f"title={title}"]
    return "\n".join(lines) + "\n"


def embed_chapters(doc: Mapping[str, Any], clip: Path) -> None:
    """Rewrite ``clip`` with the chapters of ``doc`` (stream copy, atomic replace)."""
    from vidsum.ffmpeg import ffmpeg_path

    exe = ffmpeg_path()
    with tempfile.TemporaryDirectory(prefix="vidsum-chapters-") as tmp_dir:
        meta = Path(tmp_dir) / "chapters.txt"
        meta.write_text(ffmetadata(doc), encoding="utf-8")
        with atomic_path(clip) as tmp:
            cmd = [
                exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(clip), "-i", str(meta),
                # Picture and sound only: an earlier chapter track of the clip is replaced, not copied.
                "-map", "0:v", "-map", "0:a?", "-map_metadata", "0", "-map_chapters", "1", "-c", "copy",
            ]
            if clip.suffix.lower() in FASTSTART:
                cmd += ["-movflags", "+faststart"]
            try:
                proc = subprocess.run(cmd + [str(tmp)], capture_output=True, text=True, errors="replace", timeout=REMUX_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise ToolError(f"{clip}: ffmpeg did not finish adding chapters within {REMUX_TIMEOUT_S:g} s") from None
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
                raise ToolError(f"{clip}: ffmpeg could not add chapters ({last}); the clip is unchanged")
    log.info("added %d chapters to %s", len(summary_events(doc)), clip)


def write_chapters(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write the WebVTT chapters of ``doc`` to ``out`` and add the chapters to the summary clip."""
    check_document(doc, getattr(ctx, "summary_json", None))
    warn_if_fast(doc, "chapter")
    clip = summary_clip(doc, ctx)
    if clip is None:
        log.warning(
            "the summary clip %s was not found, so only the WebVTT chapters are written; pass the clip's path to add them to it",
            doc["summary"].get("path"),
        )
    else:
        embed_chapters(doc, clip)
    out.write_text(webvtt(doc), encoding="utf-8")


SPEC = ExportSpec(
    name="chapters", suffix=".chapters.vtt", write=write_chapters,
    description="a chapter per selected shot, in the clip itself and as WebVTT",
)
