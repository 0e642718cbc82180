"""Which ffmpeg vidsum runs, and reading a file's stream list with it.

The policy (docs/reliability.md):

1. ``VIDSUM_FFMPEG`` (set by ``vidsum --ffmpeg PATH`` too): that binary, a path or a command
   name looked up on PATH (``VIDSUM_FFMPEG=ffmpeg`` means "the one on PATH").
2. Otherwise the binary pinned by the imageio-ffmpeg wheel (it honours ``IMAGEIO_FFMPEG_EXE``),
   so that clips and frame counts do not depend on what the machine happens to have installed.
3. Only where imageio-ffmpeg has no binary for the platform: ``ffmpeg`` on PATH.

Whatever binary is chosen must report version ``MIN_VERSION`` or newer; an older one is refused
with one line naming the fix. Builds that print no release number (git snapshots) are accepted.
The binary in use is recorded in the summary JSON (``ffmpeg``) and printed by ``vidsum --version``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from vidsum.errors import ToolError

log = logging.getLogger(__name__)

FFMPEG_ENV = "VIDSUM_FFMPEG"
MIN_VERSION = (4, 4)  # Ubuntu 22.04's ffmpeg; the oldest release the test suite runs against
VERSION_TIMEOUT_S = 30.0  # seconds for `ffmpeg -version`
PROBE_TIMEOUT_S = 60.0  # seconds for `ffmpeg -i` to print the stream list
_VERSION = re.compile(r"ffmpeg version n?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclasses.dataclass(frozen=True)
class FFmpeg:
    """The ffmpeg binary in use: where it is, what it says it is, and why it was chosen."""

    path: str
    version: str  # as printed by `ffmpeg -version`, e.g. "9.0.2" or "5.1.6-0+deb12u1"
    release: tuple[int, ...] | None  # (major, minor[, patch]); None for builds without a number
    source: str  # "VIDSUM_FFMPEG", "imageio-ffmpeg", "IMAGEIO_FFMPEG_EXE" or "PATH"

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "version": self.version, "source": self.source}

    def describe(self) -> str:
        """One line for ``vidsum --version``: "ffmpeg 9.0.2 (imageio-ffmpeg: /path/to/ffmpeg)"."""
        return f"ffmpeg {self.version} ({self.source}: {self.path})"


def find_ffmpeg() -> FFmpeg:
    """The ffmpeg vidsum uses (see the module docstring), version-checked.

    Raises ToolError naming the binary, the cause and the fix when ``VIDSUM_FFMPEG`` points at
    nothing runnable, when no ffmpeg exists at all, or when the binary is older than MIN_VERSION.
    """
    wanted = os.environ.get(FFMPEG_ENV, "").strip()
    if wanted:
        exe = wanted if os.sep in wanted else shutil.which(wanted)
        if exe is None or not os.path.isfile(exe):
            raise ToolError(
                f"{FFMPEG_ENV}={wanted}: no such ffmpeg binary; give the full path of an ffmpeg "
                f"executable, or unset {FFMPEG_ENV} to use the one bundled with vidsum (imageio-ffmpeg)"
            )
        return _checked(os.path.abspath(exe), FFMPEG_ENV)
    bundled, why = _bundled()
    if bundled is not None:
        return _checked(bundled, "IMAGEIO_FFMPEG_EXE" if os.environ.get("IMAGEIO_FFMPEG_EXE") else "imageio-ffmpeg")
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ToolError(
            f"ffmpeg was not found: imageio-ffmpeg gave none ({why}) and there is no ffmpeg on PATH; "
            "run `pip install imageio-ffmpeg`, or install ffmpeg >= "
            f"{_dotted(MIN_VERSION)} and set {FFMPEG_ENV}=/path/to/ffmpeg"
        )
    log.info("imageio-ffmpeg has no ffmpeg for this platform (%s); using %s from PATH", why, exe)
    return _checked(exe, "PATH")


def ffmpeg_path() -> str:
    """Path of the ffmpeg binary in use (``find_ffmpeg().path``); ToolError when there is none."""
    return find_ffmpeg().path


def _bundled() -> tuple[str | None, str]:
    """(imageio-ffmpeg's binary or None, why there is none)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except ImportError:
        return None, "imageio-ffmpeg is not installed"
    except RuntimeError as exc:  # no binary for this platform, and none on PATH either
        return None, str(exc).splitlines()[0] if str(exc) else "no binary for this platform"
    if not exe or not os.path.isfile(exe):
        return None, "no binary for this platform"
    return exe, ""


def _checked(exe: str, source: str) -> FFmpeg:
    st = _stat(exe, source)
    version, release = _version(exe, st.st_mtime_ns, st.st_size)
    if release is not None and release[:2] < MIN_VERSION:
        fix = (
            f"unset {FFMPEG_ENV} (or drop --ffmpeg) to use the ffmpeg bundled with vidsum"
            if source == FFMPEG_ENV
            else "run `pip install -U imageio-ffmpeg`"
        )
        raise ToolError(
            f"{exe}: ffmpeg {version} is too old (vidsum needs {_dotted(MIN_VERSION)} or newer); {fix}, "
            f"or set {FFMPEG_ENV} to an ffmpeg >= {_dotted(MIN_VERSION)}"
        )
    return FFmpeg(path=exe, version=version, release=release, source=source)


def _stat(exe: str, source: str) -> os.stat_result:
    try:
        return os.stat(exe)
    except OSError as exc:
        raise ToolError(f"{exe} ({source}): cannot be read ({exc.strerror}); check the ffmpeg path") from None


@functools.lru_cache(maxsize=16)
def _version(exe: str, mtime_ns: int, size: int) -> tuple[str, tuple[int, ...] | None]:
    """(version text, release numbers) of ``exe``; cached per binary (the stat keys a replaced file)."""
    try:
        proc = subprocess.run(
            [exe, "-hide_banner", "-version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=VERSION_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{exe}: `ffmpeg -version` did not answer in {VERSION_TIMEOUT_S:.0f} s; check the ffmpeg path") from None
    except OSError as exc:
        raise ToolError(f"{exe}: cannot run it ({exc.strerror or exc}); point {FFMPEG_ENV} at an ffmpeg executable") from None
    first = proc.stdout.splitlines()[0] if proc.stdout.strip() else ""
    if proc.returncode != 0 or not first.startswith("ffmpeg version"):
        raise ToolError(
            f"{exe}: does not answer like ffmpeg (`-version` printed {first[:80]!r}); "
            f"point {FFMPEG_ENV} at an ffmpeg executable"
        )
    text = first.split()[2] if len(first.split()) > 2 else "unknown"
    m = _VERSION.match(first)
    release = tuple(int(g) for g in m.groups() if g is not None) if m else None
    if release is None:
        log.debug("%s: version %r has no release number; assuming a recent build", exe, text)
    return text, release


def _dotted(release: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in release)


def _optional_ffmpeg() -> str | None:
    """The ffmpeg in use, or None when none exists and none was asked for (probing then relies on
    OpenCV alone). A ``VIDSUM_FFMPEG`` that is wrong, or a binary that is too old, still raises."""
    if not os.environ.get(FFMPEG_ENV, "").strip() and _bundled()[0] is None and shutil.which("ffmpeg") is None:
        return None
    return ffmpeg_path()


@dataclasses.dataclass(frozen=True)
class StreamList:
    """The parts of ``ffmpeg -i`` output that OpenCV does not expose."""

    video_codec: str | None
    has_audio: bool
    attached_pic_only: bool
    rotation_ccw: float | None  # display-matrix rotation, degrees counter-clockwise
    fps: float | None
    duration: float | None  # None when the container gives none ("N/A")
    start: float  # container start time, seconds
    error: str | None
    container: str | None = None  # ffmpeg's demuxer, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpegts"
    interlaced: bool = False  # the video stream declares a field order ("top first", ...)


def file_arg(path: str | os.PathLike[str]) -> str:
    """``path`` as an ffmpeg argument: absolute, so that a name like ``-clip.mp4`` is not read as
    an option and ``take:2.mp4`` not as a protocol (``take:``)."""
    return os.path.abspath(os.fspath(path))


_PTS_TIME = re.compile(r"\bpts_time:\s*(-?\d+(?:\.\d+)?)")


THUMB_SIDE = 64  # pixels; frames_differ compares grey thumbnails this size


def frames_differ(path: Path, a: int, b: int, exe: str | None = None) -> bool | None:
    """Whether frames ``a`` and ``b`` of the video differ visibly (some pixel of their grey
    thumbnails by more than 16 levels) as ffmpeg decodes them; None when ffmpeg cannot tell."""
    exe = exe or _optional_ffmpeg()
    if exe is None:
        return None
    n = THUMB_SIDE * THUMB_SIDE
    cmd = [exe, "-v", "error", "-nostdin", "-i", file_arg(path), "-map", "0:v:0", "-vf",
           # side by side in one picture: two output frames would be re-timed (and duplicated)
           f"select='eq(n\\,{a})+eq(n\\,{b})',scale={THUMB_SIDE}:{THUMB_SIDE},format=gray,tile=2x1",
           "-frames:v", "1", "-f", "rawvideo", "-"]
    try:
        raw = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT_S).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    if len(raw) != 2 * n:
        return None
    rows = [raw[r * 2 * THUMB_SIDE : (r + 1) * 2 * THUMB_SIDE] for r in range(THUMB_SIDE)]
    return max(abs(x - y) for row in rows for x, y in zip(row[:THUMB_SIDE], row[THUMB_SIDE:])) > 16


def frame_times(path: Path, n: int = 2, exe: str | None = None) -> list[float]:
    """Timestamps (s, from the container's start, as ffmpeg places them without seeking) of the
    first ``n`` video frames; [] when none decode or ffmpeg is absent."""
    exe = exe or _optional_ffmpeg()
    if exe is None:
        return []
    cmd = [exe, "-hide_banner", "-nostdin", "-i", file_arg(path), "-map", "0:v:0", "-frames:v", str(n)]
    cmd += ["-vf", "showinfo", "-f", "null", "-"]
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("reading the first frame times of %s failed: %s", path, exc)
        return []
    return [float(t) for t in _PTS_TIME.findall(proc.stderr)[:n]]


def read_header(path: Path, exe: str | None = None) -> StreamList | None:
    """Parse ``ffmpeg -hide_banner -i path`` (no ffprobe is needed); None without ffmpeg."""
    exe = exe or _optional_ffmpeg()
    if exe is None:
        return None
    try:
        # ffmpeg exits 1 ("At least one output file must be specified"); the listing is on stderr.
        proc = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", file_arg(path)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("ffmpeg -i %s failed: %s", path, exc)
        return None
    text = proc.stderr
    video_codec, has_audio, pic_only, rot, fps, interlaced = None, False, False, None, None, False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"Stream #\d+:\d+.*?: (Video|Audio): (\w+)", line)
        if not m:
            continue
        if m.group(1) == "Audio":
            has_audio = True
            continue
        if "(attached pic)" in line:  # cover art of an audio file, not a video
            pic_only = video_codec is None
            continue
        if video_codec is not None:
            continue
        video_codec, pic_only = m.group(2), False
        interlaced = re.search(r"\b(top|bottom) (coded )?first\b", line) is not None
        fm = re.search(r"([\d.]+)(k?) fps", line) or re.search(r"([\d.]+)(k?) tbr", line)
        if fm:
            fps = float(fm.group(1)) * (1000.0 if fm.group(2) else 1.0)
        # The display matrix appears in the stream's side data on the following lines.
        for follow in lines[i + 1 : i + 12]:
            if "Stream #" in follow:
                break
            rm = re.search(r"rotation of (-?[\d.]+) degrees", follow)
            if rm:
                rot = float(rm.group(1))
                break
    dm = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text)
    duration = int(dm.group(1)) * 3600 + int(dm.group(2)) * 60 + float(dm.group(3)) if dm else None
    sm = re.search(r"Duration: [^,\n]*, start: (-?[\d.]+)", text)
    start = float(sm.group(1)) if sm else 0.0
    cm = re.search(r"^Input #0, (.+?), from ", text, re.M)
    container = cm.group(1) if cm else None
    error = None
    if "Stream #" not in text:
        last = [ln.strip() for ln in lines if ln.strip() and "output file" not in ln and not ln.startswith("Error opening input file ")]
        error = last[-1] if last else "ffmpeg found no streams"
        # "Error opening input files: X" (ffmpeg >= 7) and "PATH: X" (older) say the same
        error = error.split(": ")[-1] if ": " in error else error
        if "moov atom not found" in text:
            error = "moov atom not found"
        elif container is not None:
            error = "the file holds no audio or video stream"
    return StreamList(video_codec, has_audio, pic_only, rot, fps, duration, start, error, container, interlaced)
