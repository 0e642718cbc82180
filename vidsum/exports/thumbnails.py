"""Thumbnails of shots, for the storyboard and the HTML report.

One frame per shot: the middle one (the first frames of a shot are often the tail of a cut or a
fade). Frames are read with OpenCV in one pass over the file: it seeks to a frame far ahead and
decodes forward to one close by, so a few hundred thumbnails of a long video cost a few hundred
seeks, not a full decode.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from vidsum.errors import InputError
from vidsum.exports.document import Shot
from vidsum.progress import ProgressFn, report

log = logging.getLogger(__name__)

SEEK_AHEAD = 150  # frames: a wanted frame further ahead than this is reached by seeking, not decoding


def thumbnail_frame(shot: Shot) -> int:
    """The frame shown for a shot: its middle frame."""
    return (shot.start_frame + shot.end_frame) // 2


def grab_frames(
    path: Path, frames: Sequence[int], width: int, progress: ProgressFn | None = None
) -> dict[int, np.ndarray]:
    """Read ``frames`` (source frame numbers) of the video at ``path``, resized to ``width``.

    Returns {frame: (h, width, 3) uint8 RGB}, h keeping the aspect ratio (after rotation
    metadata, as OpenCV applies it). Frames past the decodable end are missing from the result
    (logged). Raises InputError when the file cannot be opened.
    """
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise InputError(f"{path}: OpenCV cannot open it as a video, so no thumbnails can be made; check the file")
    wanted = sorted(set(int(f) for f in frames))
    out: dict[int, np.ndarray] = {}
    pos = 0  # index of the frame the next grab() returns
    try:
        for done, frame_no in enumerate(wanted):
            if frame_no - pos > SEEK_AHEAD or frame_no < pos:
                cap.set(cv2.CAP_PROP_POS_FRAMES, frame_no)
                pos = frame_no
            ok = True
            while ok and pos <= frame_no:
                ok = cap.grab()
                pos += 1
            image = cap.retrieve()[1] if ok else None
            if image is None:
                log.warning("%s: frame %d could not be decoded; its thumbnail is left blank", path, frame_no)
                continue
            h, w = image.shape[:2]
            height = max(1, round(h * width / w))
            small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if width < w else cv2.INTER_LINEAR)
            out[frame_no] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
            report(progress, "thumbnails", done + 1, len(wanted))
    finally:
        cap.release()
    return out
