"""Frame rates and SMPTE timecode, for the editor exports (EDL, OTIO, FCPXML, CSV).

A summary JSON stores the source frame rate as a float (``input.fps``, e.g. 29.97002997). Editors
want the exact rate: ``frame_rate`` recognises the NTSC rates (N * 1000/1001) and whole rates and
returns them as a ``Fraction``. Timecode counts frames at the *nominal* rate (24 for 23.976, 30
for 29.97); 29.97 and 59.94 use drop-frame timecode, which skips the labels ;00 and ;01 (;00-;03
at 59.94) at the start of every minute except each tenth, so that the label stays within a
frame of the wall clock (SMPTE 12M).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

# NTSC rates: the nominal rate times 1000/1001. Only these have a drop-frame timecode.
NTSC_NOMINAL = (24, 30, 48, 60, 120)
DROP_FRAME_NOMINAL = (30, 60)  # 23.976 and 47.952 count non-drop (SMPTE 12M)
RATE_TOLERANCE = 0.0005  # relative: 29.97 matches 30000/1001, 29.9 does not
MAX_DENOMINATOR = 1001  # other rates are approximated by a fraction with at most this denominator

_TC_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


def frame_rate(fps: float) -> Fraction:
    """The exact frame rate behind a float: 29.97 -> 30000/1001, 25.0 -> 25, 12.5 -> 25/2.

    Raises ValueError for a rate that is not a positive finite number.
    """
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"the frame rate must be a positive number, got {fps}")
    whole = round(fps)
    if whole >= 1 and abs(fps - whole) <= RATE_TOLERANCE * fps:
        return Fraction(whole)
    for nominal in NTSC_NOMINAL:
        ntsc = Fraction(nominal * 1000, 1001)
        if abs(fps - float(ntsc)) <= RATE_TOLERANCE * fps:
            return ntsc
    return Fraction(fps).limit_denominator(MAX_DENOMINATOR)


def nominal_rate(rate: Fraction) -> int:
    """Frames per timecode second: 24 for 23.976, 30 for 29.97, 25 for 25 (halves round up:
    13 for 12.5), at least 1."""
    return max(1, math.floor(rate + Fraction(1, 2)))


def is_drop_frame(rate: Fraction) -> bool:
    """Whether timecode at ``rate`` is drop-frame by convention (29.97 and 59.94)."""
    return rate.denominator == 1001 and nominal_rate(rate) in DROP_FRAME_NOMINAL


def _dropped_per_minute(nominal: int) -> int:
    return 2 * nominal // 30  # 2 labels at 29.97, 4 at 59.94


def frames_to_timecode(frame: int, rate: Fraction, drop: bool | None = None) -> str:
    """Frame count -> "HH:MM:SS:FF" ("HH:MM:SS;FF" when drop-frame). Hours wrap at 24.

    ``drop`` defaults to ``is_drop_frame(rate)``; asking for drop-frame at a rate without one
    is a ValueError.
    """
    if frame < 0:
        raise ValueError(f"a timecode cannot be negative (frame {frame})")
    nominal = nominal_rate(rate)
    drop = is_drop_frame(rate) if drop is None else drop
    if drop and nominal not in DROP_FRAME_NOMINAL:
        raise ValueError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not {float(rate):g}")
    frame = int(frame)
    if drop:
        skip = _dropped_per_minute(nominal)
        per_10min = nominal * 600 - 9 * skip
        per_min = nominal * 60 - skip
        tens, rest = divmod(frame, per_10min)
        # The first minute of every ten keeps all its labels; the other nine lose `skip` each.
        frame += 9 * skip * tens + (skip * ((rest - skip) // per_min) if rest >= skip else 0)
    ff = frame % nominal
    total_s = frame // nominal
    hh, mm, ss = (total_s // 3600) % 24, (total_s // 60) % 60, total_s % 60
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"


def timecode_to_frames(text: str, rate: Fraction) -> int:
    """"HH:MM:SS:FF" or "HH:MM:SS;FF" -> frame count at ``rate`` (the inverse of
    ``frames_to_timecode``). A ';' or ',' before the frames means drop-frame. Raises ValueError
    for malformed text, out-of-range fields and labels that drop-frame skips."""
    m = _TC_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a timecode: {text!r} (expected HH:MM:SS:FF)")
    hh, mm, ss, sep, ff = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), int(m.group(5))
    nominal = nominal_rate(rate)
    if mm > 59 or ss > 59 or ff >= nominal:
        raise ValueError(f"timecode {text!r} is out of range at {float(rate):g} fps")
    drop = sep in ";,"
    if drop and nominal not in DROP_FRAME_NOMINAL:
        raise ValueError(f"timecode {text!r} is drop-frame, which does not exist at {float(rate):g} fps")
    frames = ((hh * 60 + mm) * 60 + ss) * nominal + ff
    if drop:
        skip = _dropped_per_minute(nominal)
        if ss == 0 and ff < skip and mm % 10 != 0:
            raise ValueError(f"timecode {text!r} does not exist: drop-frame skips it")
        minutes = hh * 60 + mm
        frames -= skip * (minutes - minutes // 10)
    return frames


def timecode_string(rate: Fraction) -> str:
    """"DF" or "NDF", as FCPXML and the EDL FCM line name the two counts."""
    return "DF" if is_drop_frame(rate) else "NDF"
