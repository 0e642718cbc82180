"""``otio``: an OpenTimelineIO timeline of the selected shots (``pip install "vidsum[otio]"``).

Built with the ``opentimelineio`` library and written by its ``otio_json`` adapter, so any OTIO
tool (and, through its adapters, Resolve, Premiere, Avid, ...) reads it. One video track (plus
one audio track when the source has sound) holds a clip per selected shot, in clip order, each
referencing the source file with the shot's exact frame range at the source rate (times start at
the source's start timecode when it records one, as in the EDL). Each clip carries a marker
spanning the shot, named with its number and score; the marker's metadata ``vidsum`` holds the
shot number, frames and score. Unselected shots are not in the timeline (the CSV and JSON list
them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from vidsum.errors import ToolError
from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import check_document, fps_of, source_video, start_frame, summary_events, title_of
from vidsum.exports.timecode import frame_rate


def check_available() -> None:
    """Raise ToolError now (before any work) when the OTIO library is missing."""
    try:
        import opentimelineio  # noqa: F401
    except ImportError:
        raise ToolError(
            'opentimelineio is not installed, so the otio export cannot be written; install it with '
            '`pip install "vidsum[otio]"`, or export edl or fcpxml instead'
        ) from None


def build_timeline(doc: Mapping[str, Any], ctx: Any = None) -> Any:
    """The ``opentimelineio.schema.Timeline`` of ``doc``'s selection (see the module docstring)."""
    check_available()
    import opentimelineio as otio

    rate_q = frame_rate(fps_of(doc))
    rate = float(rate_q)
    source = source_video(doc, ctx)
    offset = start_frame(source, rate_q)
    n_frames = int(doc["input"]["n_frames"])
    name = title_of(doc)
    url = source.resolve().as_uri() if source is not None else str(doc["input"].get("path") or "")

    def span(first: int, count: int) -> Any:
        return otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(count, rate))

    timeline = otio.schema.Timeline(name=f"{name} summary")
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    timeline.metadata["vidsum"] = {
        "vidsum_version": doc.get("vidsum_version"),
        "source": doc["input"].get("path"),
        "frame_rate": f"{rate_q.numerator}/{rate_q.denominator}",
        "scorer": doc.get("model", {}).get("scorer"),
        "summary_clip": doc["summary"].get("path"),
    }
    kinds = [otio.schema.TrackKind.Video] + ([otio.schema.TrackKind.Audio] if doc["input"].get("has_audio") else [])
    for kind in kinds:
        track = otio.schema.Track(name="V1" if kind == otio.schema.TrackKind.Video else "A1", kind=kind)
        for event in summary_events(doc):
            shot = event.shot
            reference = otio.schema.ExternalReference(target_url=url, available_range=span(offset, n_frames))
            clip = otio.schema.Clip(
                name=f"shot {shot.number}",
                media_reference=reference,
                source_range=span(offset + shot.start_frame, shot.n_frames),
            )
            marker = otio.schema.Marker(
                name=f"shot {shot.number} score {shot.score:.3f}",
                marked_range=span(offset + shot.start_frame, shot.n_frames),
                color=otio.schema.MarkerColor.GREEN,
            )
            marker.metadata["vidsum"] = {
                "shot": shot.number, "start_frame": shot.start_frame, "end_frame": shot.end_frame, "score": shot.score,
            }
            clip.markers.append(marker)
            track.append(clip)
        timeline.tracks.append(track)
    return timeline


def write_otio(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write ``doc``'s selection as an ``.otio`` (OTIO JSON) file to ``out``."""
    check_document(doc, getattr(ctx, "summary_json", None))
    timeline = build_timeline(doc, ctx)
    import opentimelineio as otio

    otio.adapters.write_to_file(timeline, str(out), adapter_name="otio_json")


SPEC = ExportSpec(
    name="otio", suffix=".otio", write=write_otio,
    description="OpenTimelineIO timeline of the selected shots, a marker per shot",
)
