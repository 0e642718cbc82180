"""``fcpxml``: a Final Cut Pro X XML (version 1.8) project of the selected shots.

Final Cut Pro (10.4.1 and later) and DaVinci Resolve import it (File > Import > XML). It holds
one ``format`` (the source's exact frame duration, e.g. 1001/30000 s, and size), one ``asset``
(the source file), and a project whose spine has an ``asset-clip`` per selected shot, back to
back, each with a marker named with the shot's number and score. Every time is a whole number
of frames written as a rational number of seconds, so nothing is rounded. Version 1.8 names the
media with the asset's ``src`` attribute, which every FCPXML reader (1.8 to 1.11) accepts.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping
from xml.etree import ElementTree as ET

from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import check_document, fps_of, source_video, start_frame, summary_events, title_of
from vidsum.exports.timecode import frame_rate, timecode_string

FCPXML_VERSION = "1.8"
AUDIO_RATE = "48k"  # the project audio rate FCP asks for; 48 kHz is its default


def rational_time(frames: int, frame_duration: Fraction) -> str:
    """``frames`` frames as FCPXML time: "0s", "3003/1000s" (kept in the frame duration's units)."""
    if frames == 0:
        return "0s"
    value = frames * frame_duration.numerator
    return f"{value}/{frame_duration.denominator}s" if frame_duration.denominator != 1 else f"{value}s"


def fcpxml_tree(doc: Mapping[str, Any], ctx: Any = None) -> ET.ElementTree:
    """The FCPXML document of ``doc``'s selection (see the module docstring)."""
    rate = frame_rate(fps_of(doc))
    frame = 1 / rate  # seconds per frame, exact
    source = source_video(doc, ctx)
    offset = start_frame(source, rate)
    name = title_of(doc)
    src = source.resolve().as_uri() if source is not None else str(doc["input"].get("path") or "")
    has_audio = bool(doc["input"].get("has_audio"))
    n_frames = int(doc["input"]["n_frames"])
    tc_format = timecode_string(rate)

    def t(frames: int) -> str:
        return rational_time(frames, frame)

    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    ET.SubElement(
        resources, "format", id="r1", name=f"vidsum {doc['input']['width']}x{doc['input']['height']} {float(rate):.3f}",
        frameDuration=t(1), width=str(doc["input"]["width"]), height=str(doc["input"]["height"]),
    )
    ET.SubElement(
        resources, "asset", id="r2", name=name, src=src, start=t(offset), duration=t(n_frames),
        hasVideo="1", hasAudio="1" if has_audio else "0", format="r1",
        **({"audioSources": "1"} if has_audio else {}),
    )
    library = ET.SubElement(root, "library")
    event = ET.SubElement(library, "event", name="vidsum")
    project = ET.SubElement(event, "project", name=f"{name} summary")
    events = summary_events(doc)
    total = events[-1].record_end_frame if events else 0
    sequence = ET.SubElement(
        project, "sequence", format="r1", duration=t(total), tcStart="0s", tcFormat=tc_format,
        **({"audioLayout": "stereo", "audioRate": AUDIO_RATE} if has_audio else {}),
    )
    spine = ET.SubElement(sequence, "spine")
    for item in events:
        shot = item.shot
        clip = ET.SubElement(
            spine, "asset-clip", ref="r2", name=f"shot {shot.number}", offset=t(item.record_frame),
            start=t(offset + shot.start_frame), duration=t(shot.n_frames), format="r1", tcFormat=tc_format,
        )
        ET.SubElement(clip, "marker", start=t(offset + shot.start_frame), duration=t(1), value=f"shot {shot.number} score {shot.score:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_fcpxml(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write ``doc``'s selection as an ``.fcpxml`` file to ``out``."""
    check_document(doc, getattr(ctx, "summary_json", None))
    tree = fcpxml_tree(doc, ctx)
    with open(out, "wb") as fh:
        fh.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
        tree.write(fh, encoding="utf-8", xml_declaration=False)
        fh.write(b"\n")


SPEC = ExportSpec(
    name="fcpxml", suffix=".fcpxml", write=write_fcpxml,
    description="Final Cut Pro X XML 1.8 project (Final Cut Pro, DaVinci Resolve)",
)
