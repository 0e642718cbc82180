"""``csv``: one row per shot, for spreadsheets and scripts.

Columns: ``shot`` (1-based), ``start_frame``, ``end_frame`` (inclusive, as in the JSON),
``n_frames``, ``start_s``, ``end_s`` (exclusive), ``duration_s``, ``start_tc``, ``end_tc``
(SMPTE timecode of the first frame and of the frame after the last, at the source rate, ``;``
before the frames when drop-frame, as in the EDL), ``score``, ``selected`` (1 or 0).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Mapping

from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import check_document, fps_of, read_shots
from vidsum.exports.timecode import frame_rate, frames_to_timecode

COLUMNS = (
    "shot", "start_frame", "end_frame", "n_frames", "start_s", "end_s", "duration_s",
    "start_tc", "end_tc", "score", "selected",
)


def write_csv(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write the shot table of ``doc`` to ``out`` (UTF-8, comma-separated, a header row)."""
    check_document(doc, getattr(ctx, "summary_json", None))
    rate = frame_rate(fps_of(doc))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for shot in read_shots(doc):
            writer.writerow([
                shot.number, shot.start_frame, shot.end_frame, shot.n_frames,
                f"{shot.start_s:.6f}", f"{shot.end_s:.6f}", f"{shot.end_s - shot.start_s:.6f}",
                frames_to_timecode(shot.start_frame, rate), frames_to_timecode(shot.end_frame + 1, rate),
                f"{shot.score:.6f}", int(shot.selected),
            ])


SPEC = ExportSpec(
    name="csv", suffix=".csv", write=write_csv,
    description="one row per shot: frames, seconds, timecode, score, selected",
)
