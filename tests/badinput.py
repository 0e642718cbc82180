"""The bad-input corpus: small generated files that are broken, odd or lying (issue 8).

Each builder writes one input into a folder and returns its path. ``CASES`` maps a case name to
(builder, expectation): ``OK`` when a correct summary is possible, else a regular expression
the one error line must match (``OK_OR`` + expression: either, depending on the decoder). tests/test_badinput.py runs every case through the CLI;
docs/reliability.md lists them with their messages.
"""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path
from typing import Callable

from tests.videogen import boxes, ffmpeg_exe, has_encoder, make_video

OK = "ok"
OK_OR = "ok or: "  # prefix: a correct result, or (where the decoder cannot) this error
SIZE = (96, 64)


def ff(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


def good(folder: Path, name: str = "good.mp4", **kw) -> Path:
    path = folder / name
    make_video(path, **{"durations": (1.5, 1.5), "size": SIZE, **kw})
    return path


def find_box(data: bytes | bytearray, path: list[bytes], start: int = 0, end: int | None = None) -> tuple[int, int]:
    """(payload_start, end) of the first box along ``path`` (e.g. [b"moov", b"trak", b"mdia", b"mdhd"])."""
    end = len(data) if end is None else end
    for kind, a, b in boxes(data, start, end):
        if kind == path[0]:
            return (a, b) if len(path) == 1 else find_box(data, path[1:], a, b)
    raise KeyError(path)


# ---- builders --------------------------------------------------------------------------------


def corrupt_middle(d: Path) -> Path:
    src = good(d, "src.mp4", extra=["-movflags", "+faststart"])
    data = bytearray(src.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 4096] = bytes((i * 73 + 11) % 256 for i in range(4096))
    src.unlink()
    out = d / "corrupt_middle.mp4"
    out.write_bytes(bytes(data))
    return out


def garbage_appended(d: Path) -> Path:
    path = good(d, "garbage_appended.mp4")
    with open(path, "ab") as f:
        f.write(bytes((i * 131 + 7) % 256 for i in range(64 * 1024)))
    return path


def mkv_named_mp4(d: Path) -> Path:
    src = good(d, "src.mkv")
    return src.rename(d / "matroska_named.mp4")


def png_named_mp4(d: Path) -> Path:
    path = d / "picture.mp4"
    ff("-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(path))
    return path


def mp3_named_mp4(d: Path) -> Path:
    path = d / "song.mp4"
    codec = "libmp3lame" if has_encoder("libmp3lame") else "mp2"
    ff("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", codec, "-f", "mp3" if codec == "libmp3lame" else "mp2", str(path))
    return path


def odd_size(d: Path) -> Path:
    # yuv420p cannot hold 321x241 unscaled: encode it 4:4:4 (what screen recorders do)
    path = d / "odd_321x241.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=s=321x241:r=30:d=3", "-f", "lavfi", "-i", "sine=duration=3",
       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-c:a", "aac", str(path))
    return path


def one_pixel(d: Path) -> Path:
    path = d / "one_pixel.mkv"
    ff("-f", "lavfi", "-i", "color=c=0x808080:s=16x16:r=30:d=3", "-vf", "scale=1:1,format=gray", "-c:v", "ffv1", str(path))
    return path


def tiny_16(d: Path) -> Path:
    path = d / "tiny_16x16.mp4"
    make_video(path, durations=(1.5, 1.5), size=(16, 16))
    return path


def huge_8k(d: Path) -> Path:
    # 7680x4320, 4 s at 2 fps of flat colour: a few KB on disk
    path = d / "huge_8k.mp4"
    ff("-f", "lavfi", "-i", "color=c=0x336699:s=7680x4320:r=2:d=2", "-f", "lavfi", "-i", "color=c=0xCC3311:s=7680x4320:r=2:d=2",
       "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast",
       "-pix_fmt", "yuv420p", str(path))
    return path


def hevc_10bit(d: Path) -> Path:
    path = d / "hevc_10bit.mkv"
    ff("-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=25:d=3", "-f", "lavfi", "-i", "sine=duration=3",
       "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error",
       "-c:a", "aac", str(path))
    return path


def vp9_alpha(d: Path) -> Path:
    path = d / "vp9_alpha.webm"
    ff("-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=30:d=3,format=yuva420p,colorchannelmixer=aa=0.5",
       "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", str(path))
    return path


def mpeg2_interlaced(d: Path) -> Path:
    path = d / "interlaced.mpg"
    ff("-f", "lavfi", "-i", "testsrc2=s=160x128:r=25:d=3", "-f", "lavfi", "-i", "sine=duration=3",
       "-vf", "setfield=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-b:v", "800k",
       "-c:a", "mp2", "-f", "mpeg", str(path))
    return path


def two_video_streams(d: Path) -> Path:
    a = good(d, "a.mp4")
    b = good(d, "b.mp4", audio=False, size=(64, 48))
    path = d / "two_video.mkv"
    ff("-i", str(a), "-i", str(b), "-map", "0:v", "-map", "1:v", "-map", "0:a", "-c", "copy", str(path))
    a.unlink()
    b.unlink()
    return path


def cover_art(d: Path) -> Path:
    src = good(d, "src.mp4")
    art = d / "cover.png"
    ff("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(art))
    path = d / "with_cover.mp4"
    # the cover goes FIRST, so that "the first video stream" is the picture
    ff("-i", str(art), "-i", str(src), "-map", "0:v", "-map", "1:v", "-map", "1:a", "-c", "copy",
       "-disposition:v:0", "attached_pic", str(path))
    src.unlink()
    art.unlink()
    return path


def long_audio(d: Path) -> Path:
    v = good(d, "v.mp4", audio=False)
    path = d / "long_audio.mp4"
    ff("-i", str(v), "-f", "lavfi", "-i", "sine=frequency=300:duration=30", "-map", "0:v", "-map", "1:a",
       "-c:v", "copy", "-c:a", "aac", str(path))
    v.unlink()
    return path


def late_audio(d: Path) -> Path:
    v = good(d, "v.mp4", audio=False)
    path = d / "late_audio.mp4"
    ff("-i", str(v), "-f", "lavfi", "-itsoffset", "1.2", "-i", "sine=frequency=300:duration=2",
       "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(path))
    v.unlink()
    return path


def shifted_timestamps(d: Path) -> Path:
    # MPEG-TS starting at 100 s (as recordings cut from broadcasts do)
    path = d / "shifted.ts"
    make_video(path, durations=(1.5, 1.5), size=SIZE, extra=["-output_ts_offset", "100"])
    return path


def negative_timestamps(d: Path) -> Path:
    v = good(d, "v.mkv", audio=False)
    path = d / "negative_start.mkv"
    ff("-f", "lavfi", "-i", "sine=frequency=300:duration=3.5", "-itsoffset", "-0.5", "-i", str(v),
       "-map", "1:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", "-avoid_negative_ts", "disabled", str(path))
    v.unlink()
    return path


def _patch_mp4_rate(d: Path, name: str, scale: float) -> Path:
    """An mp4 whose video timescale is multiplied by ``scale`` (0: every frame lasts 0 ticks)."""
    path = good(d, name, audio=False)
    data = bytearray(path.read_bytes())
    trak = find_box(data, [b"moov", b"trak"])
    a, _ = find_box(data, [b"mdia", b"minf", b"stbl", b"stts"], *trak)
    count = struct.unpack(">I", data[a + 4 : a + 8])[0]
    for i in range(count):
        at = a + 8 + 8 * i + 4
        delta = struct.unpack(">I", data[at : at + 4])[0]
        data[at : at + 4] = struct.pack(">I", int(delta * scale) if scale else 0)
    path.write_bytes(bytes(data))
    return path


def fps_zero(d: Path) -> Path:
    return _patch_mp4_rate(d, "fps_zero.mp4", 0)


def fps_absurd(d: Path) -> Path:
    return _patch_mp4_rate(d, "fps_absurd.mp4", 1 / 200)  # 30 fps claimed as 6000 fps


def raw_h264(d: Path) -> Path:
    path = d / "elementary.h264"
    ff("-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=30:d=3", "-c:v", "libx264", "-preset", "ultrafast",
       "-pix_fmt", "yuv420p", "-f", "h264", str(path))
    return path


def zero_frames(d: Path) -> Path:
    # a valid mp4 header whose video track has no samples
    path = d / "no_frames.mp4"
    ff("-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=30:d=1", "-vf", "select=0", "-c:v", "libx264",
       "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path


def truncated_header(d: Path) -> Path:
    src = good(d, "src.mp4", extra=["-movflags", "+faststart"])
    path = d / "header_only.mp4"
    path.write_bytes(src.read_bytes()[:2000])
    src.unlink()
    return path


def random_bytes(d: Path) -> Path:
    path = d / "random.mp4"
    path.write_bytes(bytes((i * 2654435761 >> 7) % 256 for i in range(50_000)))
    return path


def named(name: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        return good(d, name)

    build.__name__ = f"named_{name}"
    return build


def symlink(d: Path) -> Path:
    target = good(d, "target.mp4")
    link = d / "link.mp4"
    link.symlink_to(target)
    return link


def broken_symlink(d: Path) -> Path:
    link = d / "dangling.mp4"
    link.symlink_to(d / "gone.mp4")
    return link


def unreadable(d: Path) -> Path:
    path = good(d, "locked.mp4")
    path.chmod(0)
    return path


def fifo(d: Path) -> Path:
    path = d / "pipe.mp4"
    os.mkfifo(path)
    return path


def gif_named_mp4(d: Path) -> Path:
    path = d / "animation.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=3", "-f", "gif", str(path))
    return path


# name -> (builder, OK or a regular expression for the one error line)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "corrupt_middle": (corrupt_middle, OK),
    "garbage_appended": (garbage_appended, OK),
    "mkv_named_mp4": (mkv_named_mp4, OK),
    "png_named_mp4": (png_named_mp4, r"still picture"),
    "mp3_named_mp4": (mp3_named_mp4, r"audio-only"),
    "gif_named_mp4": (gif_named_mp4, OK),
    "odd_size_321x241": (odd_size, OK),
    "one_pixel_1x1": (one_pixel, r"too small"),
    "tiny_16x16": (tiny_16, OK),
    "huge_8k": (huge_8k, OK),
    "hevc_10bit": (hevc_10bit, OK),
    "vp9_alpha": (vp9_alpha, OK),
    # OpenCV 5.0's FFmpeg returns the first interlaced picture for every frame: vidsum notices
    "mpeg2_interlaced": (mpeg2_interlaced, OK_OR + r"is interlaced, and this OpenCV"),
    "two_video_streams": (two_video_streams, OK),
    "cover_art_first": (cover_art, OK),
    "audio_longer_than_video": (long_audio, OK),
    "audio_starts_late": (late_audio, OK),
    "shifted_timestamps_ts": (shifted_timestamps, OK),
    "negative_timestamps": (negative_timestamps, OK),
    "fps_zero": (fps_zero, r"same timestamp"),
    "fps_absurd": (fps_absurd, r"no usable frame rate"),
    "raw_h264_stream": (raw_h264, r"bare H\.264 bitstream"),
    "zero_frames": (zero_frames, r"no audio or video stream"),
    "truncated_header": (truncated_header, r"not a readable video"),
    "random_bytes": (random_bytes, r"no video format"),
    "path_with_spaces": (named("my holiday video.mp4"), OK),
    "path_unicode": (named("vidéo ünïcode 動画.mp4"), OK),
    "path_leading_dash": (named("-dash.mp4"), OK),
    "path_with_colon": (named("take:2.mp4"), OK),
    "path_with_percent": (named("clip%03d.mp4"), OK),
    "symlink": (symlink, OK),
    "broken_symlink": (broken_symlink, r"broken symbolic link"),
    "unreadable": (unreadable, r"cannot be read"),
    "fifo": (fifo, r"named pipe"),
}
