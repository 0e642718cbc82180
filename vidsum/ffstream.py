"""Sampled frames decoded by the ffmpeg binary through a pipe: only what is needed is decoded.

    path -> FFmpegFrameStream(path, info, skip_nonref=True) -> (frame_index, (224, 224, 3) uint8 RGB), ...

The OpenCV decoder (``vidsum.video.FrameStream``) decodes every frame, converts the sampled ones
to full-size BGR and resizes them in Python. Here ffmpeg does all of it: its ``select`` filter
keeps the sampled frames, ``scale`` shrinks them to 224x224 and converts them to RGB before they
cross the pipe (150 KB a frame instead of 2.7 MB at 720p; the pixels match OpenCV's within
rounding), and with ``skip_nonref`` the decoder
does not decode frames that no other frame references (``-skip_frame noref``: the non-reference
B-frames of an H.264/HEVC stream, ~40 % of the frames of a typical camera or streaming file;
nothing in a stream without B-frames).

Frame indices. Without skipping, every frame is decoded and the k-th sample is exactly frame
``sample_indices(...)[k]`` (frames counted in decode order, as the OpenCV decoder counts them).
With skipping, a sampled frame that was not decoded is replaced by the first decoded frame after
it (1 frame later in the usual B-frame patterns), and the index recorded is that frame's real
index, ``round((pts - start) * fps)``: a summary records the frames it really looked at. Datasets
need exact picks, so ``vidsum features`` does not skip unless asked (docs/features.md).

The frame timestamps come from ffmpeg's ``showinfo`` filter on stderr, read by a thread; the
frames from stdout. ffmpeg 4.4 to 9.x are supported (``-vsync`` became ``-fps_mode`` in 5.1).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vidsum.errors import InputError
from vidsum.ffmpeg import FFmpeg, find_ffmpeg
from vidsum.progress import ProgressFn, report
from vidsum.video import FRAME_SIZE, SAMPLE_FPS, VideoInfo, _sample_index, _sample_step, probe

if TYPE_CHECKING:
    from vidsum.avstream import AVFrameStream
    from vidsum.video import FrameStream

log = logging.getLogger(__name__)

STDERR_TAIL = 20  # ffmpeg stderr lines kept for error messages
COUNT_TIMEOUT_S = 120.0  # seconds for the packet count (demuxing only) once decoding has ended
PTS_WAIT_S = 30.0  # seconds to wait for a frame's timestamp line once its pixels have arrived
_SHOWINFO = re.compile(r"Parsed_showinfo.*?\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)\s+pts_time:\s*(\S+)")
_TIME_BASE = re.compile(r"Parsed_showinfo.*?config in time_base:\s*(\d+)/(\d+)")


def select_expression(fps: float, step: float, exact: bool) -> str:
    """The ``select`` filter expression that keeps sample k = frame ``floor(k * step + 0.5)``.

    A frame with index i is kept when a sample index falls in (i_prev, i], i_prev being the
    previous decoded frame's index: the number of sample indices <= i is ceil((i + 0.5) / step).
    ``exact``: i counts decoded frames (``n``; every frame is decoded, so this is the frame
    number). Otherwise i comes from the timestamp, so that skipped frames still count.
    """
    if exact:
        cur, prev = "n", "n-1"
    else:
        # (t is NAN for frames without a timestamp; they fall back to the decode count)
        # Times count from the first video frame (start_t): ffmpeg starts the clock at the
        # earliest stream, and video can start frames after the audio (B-frame delay).
        cur = f"if(isnan(t),n,floor((t-start_t)*{fps!r}+0.5))"
        prev = f"if(isnan(prev_t),-1,floor((prev_t-start_t)*{fps!r}+0.5))"
    return f"gt(ceil(({cur}+0.5)/{step!r}),ceil(({prev}+0.5)/{step!r}))"


def passthrough_flags(release: tuple[int, ...] | None) -> list[str]:
    """Output options that pass the selected frames through as they are (no duplication to a
    constant rate, which the rawvideo muxer would otherwise ask for): ``-fps_mode`` since ffmpeg
    5.1, ``-vsync`` before (9.x no longer has ``-vsync``). None = a build without a release
    number (a git snapshot): recent."""
    if release is not None and tuple(release[:2]) < (5, 1):
        return ["-vsync", "passthrough"]
    return ["-fps_mode", "passthrough"]


@dataclasses.dataclass
class _Stderr:
    """What the stderr reader thread collected: frame indices in output order, the last lines."""

    indices: "queue.Queue[int | None]"
    tail: list[str]


class FFmpegFrameStream(Iterator[tuple[int, np.ndarray]]):
    """Iterator of (frame_index, frame) like ``vidsum.video.FrameStream`` (same attributes:
    ``info``, ``n_sampled``, ``n_decoded``, ``truncated``, ``close()``), decoded by ffmpeg.

    ``skip_nonref``: decode only the frames other frames reference, and replace each sampled
    frame that was skipped by the first decoded frame after it (see the module docstring).
    ``n_decoded`` is then only known up to the frames ffmpeg skipped; it counts frames up to
    the last one kept.
    """

    def __init__(
        self,
        path: str | Path,
        sample_fps: float = SAMPLE_FPS,
        size: tuple[int, int] | None = FRAME_SIZE,
        progress: ProgressFn | None = None,
        info: VideoInfo | None = None,
        skip_nonref: bool = True,
        tool: FFmpeg | None = None,
    ) -> None:
        self.info = info if info is not None else probe(path)
        self.path = Path(path)
        self.size = tuple(size) if size is not None else (self.info.width, self.info.height)
        self.progress = progress
        self.skip_nonref = bool(skip_nonref)
        self.n_decoded = 0
        self.n_sampled = 0
        self.truncated = False
        self.done = False
        self._step = _sample_step(self.info.fps, sample_fps)
        self._last = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: _Stderr | None = None
        self._thread: threading.Thread | None = None
        self._counter: subprocess.Popen[str] | None = None
        self.tool = tool if tool is not None else find_ffmpeg()  # the policy of vidsum.ffmpeg; ToolError if none

    def command(self) -> list[str]:
        """The ffmpeg command line this stream runs."""
        w, h = self.size
        vf = (
            f"select='{select_expression(self.info.fps, self._step, exact=not self.skip_nonref)}',"
            # RGB at full size, then the area filter: this matches OpenCV's conversion + INTER_AREA
            # within rounding (mean 0.02 levels); scaling YUV directly differs by ~1-2 levels.
            f"format=rgb24,scale={w}:{h}:flags=area,showinfo"
        )
        skip = ["-skip_frame", "noref"] if self.skip_nonref else []
        return [
            self.tool.path, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            # (absolute: ffmpeg would read a relative "take:2.mp4" as the protocol "take:")
            *skip, "-i", os.path.abspath(self.path),
            "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", vf,
            *passthrough_flags(self.tool.release), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ]

    def __iter__(self) -> "FFmpegFrameStream":
        return self

    def _start(self) -> None:
        # The frames after the last sample pass no filter we read, and skipped frames are never
        # decoded: the frame count comes from counting the stream's packets (demuxing only, ~0.1 s
        # for 5 minutes of 720p), run beside the decoder.
        try:
            self._counter = subprocess.Popen(
                [self.tool.path, "-hide_banner", "-nostdin", "-i", os.path.abspath(self.path), "-map", "0:v:0", "-c", "copy",
                 "-f", "null", "-"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, errors="replace")
        except OSError:
            self._counter = None
        try:
            self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, bufsize=0)
        except OSError as exc:
            self.close()
            raise InputError(f"{self.path}: cannot run ffmpeg ({exc.strerror or exc}); check the ffmpeg install") from exc
        self._stderr = _Stderr(queue.Queue(), [])
        self._thread = threading.Thread(target=_read_stderr, args=(self._proc, self._stderr, self.info.fps),
                                        name="vidsum-ffmpeg-stderr", daemon=True)
        self._thread.start()

    def __next__(self) -> tuple[int, np.ndarray]:
        if self.done:
            raise StopIteration
        if self._proc is None:
            self._start()
        assert self._proc is not None and self._proc.stdout is not None and self._stderr is not None
        w, h = self.size
        frame = np.empty((h, w, 3), dtype=np.uint8)
        if not _read_exact(self._proc.stdout, memoryview(frame).cast("B")):
            self._finish()
            raise StopIteration
        try:
            index = self._stderr.indices.get(timeout=PTS_WAIT_S)
        except queue.Empty:
            index = None
        if index is None:  # a frame without its showinfo line: ffmpeg broke off
            self._finish()
            raise StopIteration
        if not self.skip_nonref:  # every frame was decoded: the k-th kept frame is the k-th sample
            index = _sample_index(self.n_sampled, self._step)
        # Timestamps can repeat or step back (broken files); picks stay strictly increasing.
        index = max(index, self._last + 1)
        self._last = index
        self.n_sampled += 1
        self.n_decoded = index + 1
        report(self.progress, "decode", self.n_decoded, self.info.n_frames)
        return index, frame

    def _finish(self) -> None:
        proc = self._proc
        code = proc.wait() if proc is not None else 0
        if self._thread is not None:
            self._thread.join()
        tail = self._stderr.tail if self._stderr is not None else []
        counted = self._count_packets()
        self.close()
        if self.n_sampled == 0:
            cause = _error_line(tail) or f"ffmpeg exited with status {code} without a frame"
            raise InputError(f"{self.path}: no frame could be decoded ({cause}); the file is damaged or uses an unsupported codec")
        declared, end = self.info.n_frames, self.n_decoded
        # Half a second of slack, as the OpenCV decoder allows (container counts of webm/mkv are
        # duration x fps estimates), plus the sample step: frames after the last sample are unseen.
        slack = max(2, int(round(self.info.fps / 2))) + int(math.ceil(self._step))
        if counted is not None and end >= counted - slack:
            n_frames = max(counted, end)  # the packets present, all decodable as far as the samples show
        elif counted is None and end >= declared - slack:
            n_frames = max(declared, end)  # no count: the container's, which the decode reached
        else:
            n_frames = end  # the decoder stopped early: only what it decoded counts
        if n_frames < declared - slack:
            self.truncated = True
            error = _error_line(tail)
            log.warning(
                "%s: decoding stopped near frame %d of the %d frames the file declares (%.1f of %.1f s)%s; "
                "the file is truncated or damaged, only the decodable part is used",
                self.path, n_frames, declared, n_frames / self.info.fps, declared / self.info.fps,
                f" ({error})" if error else "",
            )
        self.info = dataclasses.replace(self.info, n_frames=n_frames, duration=n_frames / self.info.fps,
                                        frames_counted=counted is not None or self.truncated)

    def _count_packets(self) -> int | None:
        """Video packets in the file (= frames), from the counting ffmpeg started with the decoder."""
        counter, self._counter = getattr(self, "_counter", None), None
        if counter is None:
            return None
        try:
            _, err = counter.communicate(timeout=COUNT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            counter.kill()
            counter.communicate()
            return None
        counts = re.findall(r"frame=\s*(\d+)", err)
        return int(counts[-1]) if counter.returncode == 0 and counts and int(counts[-1]) > 0 else None

    def close(self) -> None:
        """Stop ffmpeg (also done at exhaustion); safe to call twice."""
        self.done = True
        counter = getattr(self, "_counter", None)
        if counter is not None:
            if counter.poll() is None:
                counter.kill()
            counter.communicate()
            self._counter = None
        proc = getattr(self, "_proc", None)  # absent when __init__ failed (probe raised)
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join()
        if proc.stderr is not None:
            proc.stderr.close()
        self._proc = None

    def __del__(self) -> None:
        self.close()


def _read_exact(stream: "subprocess.IO[bytes]", buf: memoryview) -> bool:
    """Fill ``buf`` from ``stream``; False at the end of the stream (a partial frame is dropped)."""
    got = 0
    while got < len(buf):
        n = stream.readinto(buf[got:])
        if not n:
            return False
        got += n
    return True


def _read_stderr(proc: "subprocess.Popen[bytes]", out: _Stderr, fps: float) -> None:
    """Turn showinfo lines into frame indices (in output order) and keep the last other lines."""
    time_base: Fraction | None = None
    first: Fraction | None = None  # time of the first frame (always kept): frame 0
    assert proc.stderr is not None
    try:
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            m = _SHOWINFO.search(line)
            if m is None:
                tb = _TIME_BASE.search(line)
                if tb is not None and int(tb.group(2)) > 0:
                    time_base = Fraction(int(tb.group(1)), int(tb.group(2)))
                elif "Parsed_showinfo" not in line and line:
                    out.tail.append(line)
                    del out.tail[:-STDERR_TAIL]
                continue
            n, pts = int(m.group(1)), m.group(2)
            if pts == "NOPTS":
                out.indices.put(n)
                continue
            # The exact rational timestamp when the time base is known (pts_time has 6 digits).
            t = Fraction(int(pts)) * time_base if time_base is not None else Fraction(m.group(3))
            first = t if first is None else first
            out.indices.put(int(math.floor((t - first) * Fraction(fps) + Fraction(1, 2))))
    finally:
        out.indices.put(None)


def _error_line(tail: list[str]) -> str:
    """The last line ffmpeg printed that reads like an error."""
    for line in reversed(tail):
        low = line.lower()
        if any(word in low for word in ("error", "invalid", "no such", "could not", "failed", "corrupt")):
            return line.strip()
    return ""


def resolve_decoder(decoder: str, info: VideoInfo | None = None) -> str:
    """The decoder ``decoder`` names for this video: "auto" -> "pyav" where it has frames to
    skip (H.264/HEVC with B-frames, not rotated, PyAV installed; exact picks and OpenCV's pixels:
    docs/benchmarks.md#issue-15-decoding-and-precision), else "opencv".
    The others are checked and returned. "ffmpeg-noref" moves picks, which changed the selected
    shots of real footage (docs/features.md#decoding), so it is never chosen by itself.
    """
    from vidsum.config import FRAME_DECODERS
    from vidsum.errors import UsageError

    if decoder not in FRAME_DECODERS:
        raise UsageError(f"frame decoder must be one of {', '.join(FRAME_DECODERS)}, not {decoder!r}")
    if decoder == "auto":
        from vidsum import avstream

        return "pyav" if info is not None and avstream.can_skip(info) else "opencv"
    if decoder == "pyav":
        from vidsum import avstream

        if not avstream.available():
            raise UsageError("--frame-decoder pyav needs PyAV, which does not import here; pip install av")
    return decoder


def open_frames(
    path: str | Path,
    decoder: str,
    sample_fps: float = SAMPLE_FPS,
    size: tuple[int, int] | None = FRAME_SIZE,
    info: VideoInfo | None = None,
    progress: ProgressFn | None = None,
) -> "FFmpegFrameStream | FrameStream | AVFrameStream":
    """A stream of (frame_index, (H, W, 3) uint8 RGB) sampled frames from ``decoder`` (one of
    FRAME_DECODERS; "auto" is resolved for this file by ``resolve_decoder``); see
    ``vidsum.video.iter_frames`` for the contract."""
    from vidsum.video import iter_frames

    if decoder == "auto":
        info = info if info is not None else probe(path)
        decoder = resolve_decoder(decoder, info)
    if decoder == "opencv":
        return iter_frames(path, sample_fps=sample_fps, size=size, progress=progress, info=info)
    if decoder == "pyav":
        from vidsum.avstream import AVFrameStream

        return AVFrameStream(path, sample_fps=sample_fps, size=size, progress=progress, info=info)
    if decoder not in ("ffmpeg", "ffmpeg-noref"):
        from vidsum.errors import UsageError

        raise UsageError(f"frame decoder must be auto, opencv, pyav, ffmpeg or ffmpeg-noref, not {decoder!r}")
    return FFmpegFrameStream(path, sample_fps=sample_fps, size=size, progress=progress, info=info,
                             skip_nonref=decoder == "ffmpeg-noref")
