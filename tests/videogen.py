"""Generate small test videos with KNOWN cut times (ffmpeg lavfi), with an optional sine tone.

Used by the tests and by bench/. Each segment is a visually distinct lavfi source, so a cut
between segments is a true shot boundary that KTS should recover.
"""

from __future__ import annotations

import functools
import struct
import subprocess
from pathlib import Path
from typing import Sequence

from vidsum.ffmpeg import ffmpeg_path as ffmpeg_exe

# Distinct lavfi sources; {w}x{h}, {r} frame rate and {d} duration are filled in.
SOURCES = [
    "testsrc2=s={w}x{h}:r={r}:d={d}",
    "color=c=0xB03020:s={w}x{h}:r={r}:d={d},noise=alls=30:allf=t",
    "smptehdbars=s={w}x{h}:r={r}:d={d}",
    "color=c=0x2050C0:s={w}x{h}:r={r}:d={d},drawgrid=w=32:h=32:t=4:c=white",
    "mandelbrot=s={w}x{h}:r={r},trim=duration={d}",
    "color=c=0x30A040:s={w}x{h}:r={r}:d={d},noise=alls=60:allf=t",
    "rgbtestsrc=s={w}x{h}:r={r}:d={d}",
    "color=c=0xE0D020:s={w}x{h}:r={r}:d={d},drawbox=x=20:y=20:w=60:h=60:c=black:t=fill",
]


@functools.lru_cache(maxsize=None)
def has_encoder(name: str) -> bool:
    """Whether the ffmpeg in use can encode with ``name`` (libx265 is missing from some builds)."""
    listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == [name] for line in listing.splitlines() if line.startswith(" "))


def add_subtitles(src: Path, dst: Path, codec: str = "srt") -> Path:
    """Copy ``src`` to ``dst`` with a two-cue subtitle stream added (srt for Matroska, mov_text for mp4)."""
    cues = dst.with_suffix(".srt")
    cues.write_text("1\n00:00:00,500 --> 00:00:01,500\nfirst cue\n\n2\n00:00:02,000 --> 00:00:03,000\nsecond cue\n")
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-i", str(cues),
         "-map", "0", "-map", "1", "-c", "copy", "-c:s", codec, str(dst)],
        check=True,
    )
    return dst


def boxes(data: bytes | bytearray, start: int, end: int):
    """(kind, payload_start, end) of each ISO-BMFF (mp4) box in data[start:end]."""
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        elif size == 0:
            size = end - start
        if size < header:
            return
        yield kind, start + header, start + size
        start += size


def frame_count(path: Path) -> int:
    """Frames OpenCV decodes from ``path`` (as vidsum counts them)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n


def set_rotation(path: Path, degrees: int) -> Path:
    """Write a display matrix rotating the video track of the mp4 at ``path`` by ``degrees``
    clockwise (90, 180, 270), in place, as phones do.

    The matrix is patched into the track header box directly: ffmpeg has no option for it that
    every supported version shares (``-display_rotation`` is new in 6.1, the ``rotate`` tag is
    ignored from 7.0 on).
    """
    data = bytearray(path.read_bytes())

    def child(start: int, end: int, kind: bytes) -> tuple[int, int] | None:
        return next(((a, b) for k, a, b in boxes(data, start, end) if k == kind), None)

    moov = child(0, len(data), b"moov")
    assert moov is not None, f"{path}: no moov box"
    for kind, a, b in boxes(data, *moov):
        mdia = child(a, b, b"mdia") if kind == b"trak" else None
        hdlr = child(*mdia, b"hdlr") if mdia else None
        if hdlr is None or data[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        tkhd = child(a, b, b"tkhd")
        assert tkhd is not None
        at = tkhd[0] + (52 if data[tkhd[0]] == 1 else 40)  # version 1 has 64-bit times
        width, height = (v >> 16 for v in struct.unpack(">II", data[at + 36 : at + 44]))
        # (a, b, c, d, tx, ty) as the mov muxer writes them, 16.16 fixed point; u, v, w in 2.30.
        a_, b_, c_, d_, tx, ty = {
            90: (0, 1, -1, 0, height, 0),
            180: (-1, 0, 0, -1, width, height),
            270: (0, -1, 1, 0, 0, width),
        }[degrees]
        matrix = [a_ << 16, b_ << 16, 0, c_ << 16, d_ << 16, 0, tx << 16, ty << 16, 1 << 30]
        data[at : at + 36] = struct.pack(">9i", *matrix)
        path.write_bytes(bytes(data))
        return path
    raise AssertionError(f"{path}: no video track")


def make_video(
    path: Path,
    durations: Sequence[float] = (3.0, 3.0, 3.0, 3.0),
    fps: float | str = 30,
    size: tuple[int, int] = (320, 240),
    audio: bool = True,
    vcodec: str = "libx264",
    acodec: str | None = None,
    extra: Sequence[str] = (),
) -> list[float]:
    """Write a video whose segment i shows SOURCES[i % len] for durations[i] seconds.

    Returns the cut times in seconds (the start of every segment after the first).
    """
    w, h = size
    inputs: list[str] = []
    for i, d in enumerate(durations):
        src = SOURCES[i % len(SOURCES)].format(w=w, h=h, r=fps, d=d)
        inputs += ["-f", "lavfi", "-i", src]
    n = len(durations)
    chain = "".join(f"[{i}:v]setsar=1,format=yuv420p[v{i}];" for i in range(n))
    chain += "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]"
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *inputs]
    maps = ["-map", "[v]"]
    if audio:
        total = float(sum(durations))
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={total}"]
        maps += ["-map", f"{n}:a"]
    cmd += ["-filter_complex", chain, *maps, "-c:v", vcodec]
    if vcodec == "libx264":
        cmd += ["-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    elif vcodec == "libx265":
        cmd += ["-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"]
    elif vcodec == "libvpx-vp9":
        cmd += ["-deadline", "realtime", "-cpu-used", "8"]
    if audio:
        cmd += ["-c:a", acodec or ("libvorbis" if str(path).endswith(".webm") else "aac")]
    cmd += [*extra, str(path)]
    subprocess.run(cmd, check=True)
    cuts, t = [], 0.0
    for d in durations[:-1]:
        t += d
        cuts.append(t)
    return cuts
