"""Sampled frames decoded by PyAV, skipping only the frames nothing needs: exact picks, same pixels.

    path -> AVFrameStream(path, info) -> (frame_index, (224, 224, 3) uint8 RGB), ...

An H.264 or HEVC stream of a camera or streaming file has non-reference frames (the B-frames
no other frame predicts from; ~40-50 % of the frames). A decoder told to skip them
(``skip_frame = NONREF``) never decodes them, and nothing else changes, since no other frame
needs their pixels. The OpenCV decoder cannot be told that, and ``ffmpeg -skip_frame noref``
(``vidsum.ffstream``) skips all of them, sampled or not, so its picks move. Here the setting is
made per packet, before the packet goes to the decoder: a packet whose frame is sampled is
decoded, any other non-reference one is skipped. The sampled frames are then exactly those
of the OpenCV decoder (every 15th at 30 fps), converted the same way (libswscale, bicubic,
YUV -> BGR at full size, then ``cv2.resize`` INTER_AREA and BGR -> RGB as in
``vidsum.video``), so the pixels are the same: bit for bit where both wheels carry the same
libswscale (tests/test_avstream.py compares them on every run).

Frame numbers. OpenCV counts the frames it decodes. A skipped frame is not decoded, so here a
frame's number comes from its timestamp, ``round((pts - start) * fps)``, which is the same number
when the timestamps step by exactly one frame and every packet holds one frame. That is
checked on every packet (a timestamp off the 1/fps grid, a repeated one, one missing, or a
packet without one); when it fails, as in variable-frame-rate phone files, the stream starts
again from the beginning without skipping, counts frames as OpenCV does, and passes over the
frames it has already handed out. Codecs other than H.264/HEVC, and rotated videos, are not
skipped either, and ``auto`` uses OpenCV for them and for streams without B-frames (the gain is
the skipping; without it this decoder is a little slower than OpenCV's). A packet that does not
decode ends the stream, as it ends OpenCV's (the file is then reported truncated).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidsum.errors import InputError
from vidsum.progress import ProgressFn, report
from vidsum.video import FRAME_SIZE, SAMPLE_FPS, VideoInfo, _resize_rgb, _sample_index, _sample_step, counted, probe

log = logging.getLogger(__name__)

SKIP_CODECS = ("h264", "hevc")  # decoders that honour skip_frame=NONREF frame by frame
GRID_TOLERANCE = 0.25  # frames: how far a timestamp may sit from the 1/fps grid
MAX_THREADS = 16  # decoder threads (FFmpeg's H.264 frame threading gains little beyond)


class _NotOnGrid(Exception):
    """The timestamps do not number the frames as counting them would (see the module docstring)."""


def available() -> bool:
    """True when PyAV imports (it is a dependency; a platform without its wheel falls back)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def can_skip(info: VideoInfo) -> bool:
    """Whether there is anything to skip in this video (the ``auto`` decoder's choice of this
    module): H.264/HEVC with B-frames, not rotated. Without B-frames every frame is a reference
    one, and this decoder is ~7 % slower than OpenCV's (docs/benchmarks.md)."""
    if info.codec not in SKIP_CODECS or info.rotation != 0 or info.fps <= 0 or not available():
        return False
    import av

    try:
        with av.open(os.path.abspath(info.path), mode="r") as container:
            return bool(container.streams.video[0].codec_context.has_b_frames)
    except (av.FFmpegError, IndexError, OSError):
        return False


class AVFrameStream(Iterator[tuple[int, np.ndarray]]):
    """Iterator of (frame_index, frame) like ``vidsum.video.FrameStream`` (same attributes:
    ``info``, ``n_sampled``, ``n_decoded``, ``truncated``, ``close()``), decoded by PyAV.

    ``skip``: skip the non-reference frames that are not sampled (H.264/HEVC only; otherwise
    every frame is decoded). ``skipped`` counts the frames not decoded; ``restarted`` says the
    timestamps did not allow skipping and the stream went on counting frames instead.
    """

    def __init__(
        self,
        path: str | Path,
        sample_fps: float = SAMPLE_FPS,
        size: tuple[int, int] | None = FRAME_SIZE,
        progress: ProgressFn | None = None,
        info: VideoInfo | None = None,
        skip: bool = True,
    ) -> None:
        self.info = info if info is not None else probe(path)
        self.path = Path(path)
        self.size = size
        self.progress = progress
        self.skip = bool(skip) and self.info.codec in SKIP_CODECS and self.info.rotation == 0
        self.n_decoded = 0
        self.n_sampled = 0
        self.skipped = 0
        self.truncated = False
        self.restarted = False
        self.done = False
        self._step = _sample_step(self.info.fps, sample_fps)
        self._container: Any = None
        self._frames: Iterator[tuple[int, np.ndarray]] | None = None

    def __iter__(self) -> "AVFrameStream":
        return self

    def __next__(self) -> tuple[int, np.ndarray]:
        if self.done:
            raise StopIteration
        if self._frames is None:
            self._frames = self._decode(self.skip)
        while True:
            try:
                index, frame = next(self._frames)
            except StopIteration:
                self._finish()
                raise
            except _NotOnGrid as exc:
                log.info("%s: %s; decoding every frame instead", self.path, exc)
                self._close_container()
                self.restarted = True
                self.n_decoded = 0  # counted anew (the timestamps' numbers may have run past the frames)
                self._frames = self._decode(False)
                continue
            if index < _sample_index(self.n_sampled, self._step):
                continue  # handed out before a restart
            self.n_sampled += 1
            report(self.progress, "decode", self.n_decoded, self.info.n_frames)
            return index, frame

    def _open(self) -> Any:
        import av

        try:
            # (absolute: FFmpeg would read a relative "take:2.mp4" as the protocol "take:")
            self._container = av.open(os.path.abspath(self.path), mode="r")
            stream = self._container.streams.video[0]
        except (av.FFmpegError, IndexError, OSError) as exc:
            self._close_container()
            raise InputError(f"{self.path}: PyAV cannot open it as a video ({exc}); it may have been moved or damaged") from None
        stream.thread_type = "AUTO"  # frame and slice threads
        # one per core: FFmpeg's own choice (cores + 1) was ~20 % slower on 2 cores
        stream.codec_context.thread_count = max(1, min(os.cpu_count() or 1, MAX_THREADS))
        return stream

    def _is_sample(self, n: int) -> bool:
        k = max(0, int(n / self._step) - 1)
        return any(_sample_index(j, self._step) == n for j in (k, k + 1, k + 2))

    def _decode(self, skip: bool) -> Iterator[tuple[int, np.ndarray]]:
        """(index, frame) of every sampled frame, in order; ``n_decoded`` counts the frames
        (decoded or skipped). With ``skip``, raises _NotOnGrid before handing out a frame whose
        number the timestamps cannot vouch for, or at the end if they left a frame out."""
        import av

        stream = self._open()
        codec = stream.codec_context
        base, start = stream.time_base, stream.start_time
        if skip and (base is None or start is None):
            raise _NotOnGrid("the stream has no start time")
        # frames per timestamp tick, as a float: Fractions cost ~3 s per 9,000 frames
        ticks = float(Fraction(base) * Fraction(self.info.fps).limit_denominator(1_000_000)) if skip else 0.0
        k = 0  # samples handed out by this pass
        seen: set[int] = set()  # frame numbers of the packets demuxed so far (skipping)
        first_missing = 0  # the lowest frame number no packet has had yet
        output = 0  # frames the decoder gave back (counting: their numbers)
        broken = False  # a packet did not decode: the stream ends there
        setting = "DEFAULT"

        def number(pts: int) -> int:
            exact = (pts - start) * ticks
            n = round(exact)
            if abs(exact - n) > GRID_TOLERANCE:
                raise _NotOnGrid(f"a timestamp is {exact - n:+.2f} frames off the 1/fps grid (variable frame rate?)")
            return n

        for packet in _packets(self._container, stream, self.path):
            if skip and packet is not None and packet.size:
                if packet.pts is None:
                    raise _NotOnGrid("a packet has no timestamp")
                n = number(packet.pts)
                if n >= 0:
                    if n in seen:
                        raise _NotOnGrid(f"two packets have the timestamp of frame {n}")
                    seen.add(n)
                # decode what is sampled, and what comes before the start (an edit list's lead-in)
                want = "DEFAULT" if n < 0 or self._is_sample(n) else "NONREF"
                if want != setting:
                    codec.skip_frame = setting = want
            try:
                frames = packet.decode() if packet is not None else codec.decode(None)
            except av.FFmpegError as exc:
                # A packet that does not decode ends the stream there, as it ends OpenCV's: the
                # frames after it are not trusted (the clip's cut would not find them either).
                log.debug("%s: a packet did not decode: %s", self.path, exc)
                broken = True
                break
            for frame in frames:
                if skip:
                    if frame.pts is None:
                        raise _NotOnGrid("a frame has no timestamp")
                    index = number(frame.pts)
                    if index < 0:
                        continue  # before the start: not shown, not counted
                    while first_missing in seen:
                        first_missing += 1
                    if first_missing <= index:
                        raise _NotOnGrid(f"no packet holds frame {first_missing}")
                else:
                    index = output
                output += 1
                self.n_decoded = max(self.n_decoded, index + 1)
                wanted = _sample_index(k, self._step)
                if index < wanted:
                    continue
                if index > wanted:  # (skipping: the sampled frame never came out)
                    raise _NotOnGrid(f"sampled frame {wanted} was not decoded")
                k += 1
                yield index, _resize_rgb(frame.to_ndarray(format="bgr24", interpolation="BICUBIC"), self.size)
        if skip and not broken:  # (broken: the frames handed out were checked; the rest do not count)
            while first_missing in seen:
                first_missing += 1
            if len(seen) != first_missing:
                raise _NotOnGrid(f"no packet holds frame {first_missing}")
            self.n_decoded = max(self.n_decoded, first_missing)
        self.skipped = self.n_decoded - output if skip else 0

    def _finish(self) -> None:
        self.close()
        self.info, self.truncated = counted(self.path, self.info, self.n_decoded if self.n_sampled else 0)

    def _close_container(self) -> None:
        container, self._container = getattr(self, "_container", None), None
        if container is not None:
            container.close()

    def close(self) -> None:
        """Release the decoder (also done at exhaustion); safe to call twice."""
        self.done = True
        frames, self._frames = getattr(self, "_frames", None), None
        if frames is not None:
            frames.close()  # type: ignore[attr-defined]
        self._close_container()

    def __del__(self) -> None:
        self.close()


def _packets(container: Any, stream: Any, path: Path) -> Iterator[Any]:
    """The stream's packets, then an empty one that flushes the decoder; after a read error
    (as a truncated file ends) None, which stands for it."""
    import av

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            log.debug("%s: reading stopped: %s", path, exc)
            yield None
            return
        yield packet
