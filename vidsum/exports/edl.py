"""``edl``: a CMX 3600 edit decision list of the selected shots, for any editor.

One cut event per selected shot, in clip order: source in/out are the shot's first frame and the
frame after its last, record in/out its place in the summary clip (which starts at 00:00:00:00,
so record times are clip times). Times are SMPTE timecode at the source's frame rate: 23.976 and
24 count 24 frames a second, 29.97 and 59.94 use drop-frame (``FCM: DROP FRAME`` and ``;``
before the frames), other rates count their nearest whole rate. Source times start at the
video's own start timecode when it records one (a tmcd track), else at 00:00:00:00, as editors
expect when they relink the media.

A CMX 3600 list holds at most 999 events; a summary with more selected shots is refused
(OTIO and FCPXML have no such limit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from vidsum.errors import OutputError
from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import check_document, fps_of, source_video, start_frame, summary_events, title_of
from vidsum.exports.timecode import frame_rate, frames_to_timecode, is_drop_frame

MAX_EVENTS = 999  # CMX 3600 event numbers have three digits
REEL = "AX"  # the conventional reel name of a file-based (auxiliary) source
TITLE_CHARS = 70  # CMX 3600 title field width


def write_edl(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write the CMX 3600 list of ``doc``'s selected shots to ``out`` (ASCII text)."""
    where = getattr(ctx, "summary_json", None)
    check_document(doc, where)
    out.write_text(edl_text(doc, ctx), encoding="ascii", errors="replace")


def edl_text(doc: Mapping[str, Any], ctx: Any = None) -> str:
    """The EDL as text (see the module docstring)."""
    rate = frame_rate(fps_of(doc))
    events = summary_events(doc)
    if len(events) > MAX_EVENTS:
        raise OutputError(
            f"{getattr(ctx, 'summary_json', None) or 'the summary'}: {len(events)} selected shots do not fit a CMX 3600 "
            f"EDL (at most {MAX_EVENTS} events); export otio or fcpxml instead"
        )
    source = source_video(doc, ctx)
    offset = start_frame(source, rate)
    drop = is_drop_frame(rate)
    name = title_of(doc)
    channel = "AA/V" if doc["input"].get("has_audio") else "V"
    lines = [
        f"TITLE: {name} summary"[: len("TITLE: ") + TITLE_CHARS],
        f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}",
        "",
    ]
    for number, event in enumerate(events, start=1):
        shot = event.shot
        src_in = frames_to_timecode(offset + shot.start_frame, rate)
        src_out = frames_to_timecode(offset + shot.end_frame + 1, rate)
        rec_in = frames_to_timecode(event.record_frame, rate)
        rec_out = frames_to_timecode(event.record_end_frame, rate)
        lines.append(f"{number:03d}  {REEL:<8} {channel:<5} C        {src_in} {src_out} {rec_in} {rec_out}")
        lines.append(f"* FROM CLIP NAME: {name}")
        lines.append(f"* SOURCE FILE: {source.resolve() if source else doc['input'].get('path')}")
        lines.append(f"* LOC: {src_in} {'GREEN':<7} shot {shot.number} score {shot.score:.3f}")
        lines.append(f"* VIDSUM SHOT {shot.number} SCORE {shot.score:.6f}")
        lines.append("")
    return "\n".join(lines)


SPEC = ExportSpec(
    name="edl", suffix=".edl", write=write_edl,
    description="CMX 3600 edit decision list of the selected shots",
)
