"""``srt``: subtitles for the summary clip that say where in the source each segment comes from.

One cue per segment of the clip (adjacent selected shots play as one segment), timed on the
clip's own timeline, e.g. ``source 10:00.601 - 11:39.999 (shots 3-4)``. Load it in a player next
to the clip (``mpv --sub-file=talk.summary.srt talk.summary.mp4``, or give it the clip's name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import Segment, check_document, clock, fps_of, summary_segments, warn_if_fast

MS_PER_S = 1000


def cue_time(seconds: float, sep: str = ",") -> str:
    """Seconds -> "HH:MM:SS,mmm" (SRT; sep="." gives WebVTT's "HH:MM:SS.mmm")."""
    ms = max(0, round(seconds * MS_PER_S))
    s, ms = divmod(ms, MS_PER_S)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{sep}{ms:03d}"


def segment_text(segment: Segment) -> str:
    first, last = segment.shots[0], segment.shots[-1]
    which = f"shot {first.number}" if first is last else f"shots {first.number}-{last.number}"
    return f"source {clock(first.start_s, 3)} - {clock(last.end_s, 3)} ({which})"


def write_srt(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write the segment cues of ``doc`` to ``out`` (SubRip, UTF-8)."""
    check_document(doc, getattr(ctx, "summary_json", None))
    warn_if_fast(doc, "subtitle")
    fps = fps_of(doc)
    blocks = []
    for number, segment in enumerate(summary_segments(doc), start=1):
        start = cue_time(segment.record_frame / fps)
        end = cue_time((segment.record_frame + segment.n_frames) / fps)
        blocks.append(f"{number}\n{start} --> {end}\n{segment_text(segment)}\n")
    out.write_text("\n".join(blocks), encoding="utf-8")


SPEC = ExportSpec(
    name="srt", suffix=".srt", write=write_srt,
    description="subtitles for the clip giving each segment's source time",
)
