"""Probing and fps-aware streaming decode of video files (OpenCV, with ``ffmpeg -i`` for metadata).

    path -> probe(path) -> VideoInfo
    path -> iter_frames(path, sample_fps=2.0) -> (frame_index, (224, 224, 3) uint8 RGB), ...

Decoding reads the file once, front to back: every frame is ``grab()``-ed (decoded, not
converted) and only the sampled ones are ``retrieve()``-d, resized and converted to RGB. Seeking
per sampled frame is ~9x slower (100 s against 10.9 s for a 5-minute 720p file), so it is never done. Memory is flat
in the video's length. Frame indices count decoded frames in decode order, so variable-frame-rate
files are sampled by frame order at their average rate (as the public datasets were).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import stat
import queue
import threading
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from vidsum.config import SAMPLE_FPS
from vidsum.errors import InputError
from vidsum.ffmpeg import frame_times, frames_differ, read_header
from vidsum.progress import ProgressFn, report

if TYPE_CHECKING:
    import cv2

log = logging.getLogger(__name__)

FRAME_SIZE = (224, 224)  # (width, height) the backbone reads
MIN_SIDE = 16  # pixels; smaller pictures hold nothing to summarize (and libx264 needs >= 2x2)
# ffmpeg demuxers of files that hold one picture, or a codec's bare bitstream (no container: no
# frame rate, no index to seek in); neither can be cut into a summary as it is.
_PICTURE_DEMUXERS = ("image2", "_pipe")
_BARE_DEMUXERS = {"h264": "H.264", "hevc": "HEVC", "m4v": "MPEG-4", "mpegvideo": "MPEG video", "vvc": "VVC", "av1": "AV1", "obu": "AV1", "rawvideo": "raw video"}
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid")
MAX_FPS = 1000.0  # frames per second; above this a container's rate is garbage, not video


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as far as can be known before decoding it all.

    ``n_frames`` is the container's count (or duration x fps when it has none) until the file has
    been decoded; ``frames_counted`` says whether it was counted by decoding. ``width`` and
    ``height`` are after rotation (as frames come out of ``iter_frames``); ``rotation`` is the
    clockwise rotation in degrees the player applies (0, 90, 180, 270).
    """

    path: Path
    fps: float  # average frames per second
    n_frames: int
    width: int
    height: int
    duration: float  # seconds of video (n_frames / fps)
    rotation: int = 0
    has_audio: bool = False
    codec: str = ""
    frames_counted: bool = False


def _open_capture(path: Path) -> "cv2.VideoCapture":
    import cv2

    # Absolute: FFmpeg would read a relative name like "take:2.mp4" as the protocol "take:".
    cap = cv2.VideoCapture(os.path.abspath(path), cv2.CAP_FFMPEG)
    return cap


def check_file(path: Path) -> None:
    """Cheap checks that need no decoder: exists, is a regular file, is readable, is not empty."""
    if not path.exists():
        if path.is_symlink():
            raise InputError(
                f"{path}: is a broken symbolic link (to {os.readlink(path)}, which does not exist); "
                "point it at the video again or pass the video itself"
            )
        raise InputError(f"{path}: no such file; check the path (relative paths start at {Path.cwd()})")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a video file; pass one video file")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        # Opening a FIFO blocks until something writes to it; a device may never end.
        what = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise InputError(f"{path}: is {what}, not a video file; save the stream to a file first and pass that")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from exc
    if size == 0:
        raise InputError(f"{path}: is an empty file (0 bytes); re-copy or re-download the video")


def probe(path: str | Path) -> VideoInfo:
    """Check that ``path`` is a decodable video and describe it (no full decode).

    Raises InputError naming the file, the cause and the fix for: a missing file, a directory, an
    empty file, a file that is not a video (e.g. text named .mp4), an audio-only file, and a video
    whose first frame cannot be decoded.
    """
    import cv2

    path = Path(path)
    check_file(path)
    streams = read_header(path)
    if streams is not None:
        if streams.error is not None:
            cause = streams.error
            if "moov atom not found" in cause:
                with open(path, "rb") as f:
                    head = f.read(8)
                cause = (
                    "the mp4 index (moov atom) is missing: the file is truncated or still being written"
                    if head[4:8] in _MP4_BOXES
                    else "its contents are no video format ffmpeg knows"
                )
            raise InputError(f"{path}: not a readable video ({cause}); check that the file is a complete video")
        if streams.video_codec is None or streams.attached_pic_only:
            what = "an audio-only file" if streams.has_audio else "a file without a video stream"
            raise InputError(f"{path}: is {what}; vidsum needs a video track to summarize")
        demuxer = streams.container or ""
        if any(d in demuxer for d in _PICTURE_DEMUXERS):
            raise InputError(f"{path}: is a still picture ({streams.video_codec}), not a video; pass a video file")
        if demuxer in _BARE_DEMUXERS:
            raise InputError(
                f"{path}: is a bare {_BARE_DEMUXERS[demuxer]} bitstream without a container (no frame rate, "
                "no index); wrap it first: `ffmpeg -r FPS -i INPUT -c copy OUTPUT.mp4` with its real FPS"
            )

    cap = _open_capture(path)
    try:
        if not cap.isOpened():
            raise InputError(
                f"{path}: OpenCV cannot open it as a video (unknown container or codec, or a damaged "
                "file); convert it with `ffmpeg -i INPUT -c:v libx264 OUTPUT.mp4`"
            )
        if not cap.grab():
            raise InputError(f"{path}: no frame could be decoded; the file is damaged or uses an unsupported codec")
        if streams is not None and streams.interlaced:
            _check_interlaced_decode(cap, path)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not (math.isfinite(fps) and 0.0 < fps <= MAX_FPS):
            fps = streams.fps if streams is not None and streams.fps else 0.0
        if not (math.isfinite(fps) and 0.0 < fps <= MAX_FPS):
            raise InputError(f"{path}: the container gives no usable frame rate; remux it with ffmpeg (-r 30)")
        n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if n_frames <= 0 and streams is not None and streams.duration:
            n_frames = max(1, round(streams.duration * fps))
        n_frames = max(n_frames, 1)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if min(width, height) < MIN_SIDE:
            raise InputError(
                f"{path}: the picture is {width}x{height} pixels, too small to summarize (vidsum needs at "
                f"least {MIN_SIDE}x{MIN_SIDE}); check that this is the intended file"
            )
        times = frame_times(path, 3)
        if len(times) >= 2 and len(set(times)) == 1:
            raise InputError(
                f"{path}: its frames all carry the same timestamp ({times[0]:g} s), so they cannot be "
                "placed in time; re-time it: `ffmpeg -i INPUT -vf setpts=N/FPS/TB -r FPS OUTPUT.mp4`"
            )
        # OpenCV reports the clockwise angle (like the legacy `rotate` tag) and auto-rotates
        # frames, swapping width and height for 90/270 (tests/test_video.py checks both).
        rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0.0)) % 360
        if rotation == 0 and streams is not None and streams.rotation_ccw:
            rotation = int(round(-streams.rotation_ccw)) % 360
        codec = streams.video_codec if streams is not None and streams.video_codec else _fourcc(cap)
    finally:
        cap.release()
    return VideoInfo(
        path=path,
        fps=fps,
        n_frames=n_frames,
        width=width,
        height=height,
        duration=n_frames / fps,
        rotation=rotation,
        has_audio=bool(streams.has_audio) if streams is not None else False,
        codec=codec,
    )


INTERLACE_CHECK_FRAMES = 10  # frames apart: the two pictures compared by _check_interlaced_decode


def _check_interlaced_decode(cap: "cv2.VideoCapture", path: Path) -> None:
    """Some OpenCV builds (5.0's FFmpeg) fail to convert interlaced frames and hand back the first
    picture again and again, silently. Compare two frames with what ffmpeg decodes."""
    ok, first = cap.retrieve()
    for _ in range(INTERLACE_CHECK_FRAMES):
        if not cap.grab():
            return
    ok2, later = cap.retrieve()
    if ok and ok2 and np.array_equal(first, later) and frames_differ(path, 0, INTERLACE_CHECK_FRAMES):
        import cv2

        raise InputError(
            f"{path}: is interlaced, and this OpenCV ({cv2.__version__}) decodes every such frame as the "
            "first one; deinterlace it first: `ffmpeg -i INPUT -vf bwdif -c:a copy OUTPUT.mp4`"
        )


def _fourcc(cap: "cv2.VideoCapture") -> str:
    import cv2

    code = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ").lower()


def _sample_step(fps: float, sample_fps: float) -> float:
    if not (math.isfinite(sample_fps) and sample_fps > 0):
        raise InputError(f"sample_fps must be a positive number of frames per second, got {sample_fps}")
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"the video frame rate must be positive, got {fps}")
    # Sampling at or above the source rate keeps every frame.
    return max(1.0, fps / sample_fps)


def _sample_index(k: int, step: float) -> int:
    """Frame index of the k-th sample: round half up (k * step). At 30 fps/2: 0, 15, 30, ..."""
    return int(math.floor(k * step + 0.5))


def sample_indices(n_frames: int, fps: float, sample_fps: float = SAMPLE_FPS) -> np.ndarray:
    """Indices of the frames kept when sampling ``sample_fps`` frames per second.

    (n_steps,) int64, strictly increasing, starting at 0, every index < n_frames. The spacing is
    fps / sample_fps frames, rounded per sample (23.976 fps -> 0, 12, 24, 36, 48, 60, 72, ...), so
    sampling never drifts from real time. ``iter_frames`` keeps exactly these frames.
    """
    step = _sample_step(fps, sample_fps)
    if n_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    k = np.arange(int(math.ceil(n_frames / step)) + 1, dtype=np.float64)
    idx = np.floor(k * step + 0.5).astype(np.int64)
    return idx[idx < n_frames]


def _resize_rgb(frame_bgr: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (height, width, 3) uint8 RGB; area filter when shrinking."""
    import cv2

    if size is not None and (frame_bgr.shape[1], frame_bgr.shape[0]) != tuple(size):
        shrink = size[0] < frame_bgr.shape[1] and size[1] < frame_bgr.shape[0]
        # Resize before the colour conversion: converting 224x224 instead of a 4K frame.
        frame_bgr = cv2.resize(frame_bgr, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)


def counted(path: Path, info: VideoInfo, n_decoded: int) -> tuple[VideoInfo, bool]:
    """(info with the counted ``n_decoded`` frames, truncated) once a decoder has ended; warns
    when it ended clearly before the container's count. InputError when nothing decoded."""
    expected = info.n_frames
    # Container counts of webm/mkv are duration x fps estimates; half a second of slack.
    slack = max(2, int(round(info.fps / 2)))
    if n_decoded == 0:
        raise InputError(f"{path}: no frame could be decoded; the file is damaged or uses an unsupported codec")
    truncated = n_decoded < expected - slack
    if truncated:
        log.warning(
            "%s: decoding stopped after %d of the %d frames the file declares (%.1f of %.1f s); "
            "the file is truncated or damaged, only the decodable part is used",
            path, n_decoded, expected, n_decoded / info.fps, expected / info.fps,
        )
    return dataclasses.replace(info, n_frames=n_decoded, duration=n_decoded / info.fps, frames_counted=True), truncated


class FrameStream(Iterator[tuple[int, np.ndarray]]):
    """Iterator of (frame_index, frame) for the sampled frames; see ``iter_frames``.

    After exhaustion: ``n_decoded`` frames were decoded in all, and ``truncated`` says the file
    ended (or broke) clearly before the frame count its container declares.
    """

    def __init__(
        self,
        path: str | Path,
        sample_fps: float = SAMPLE_FPS,
        size: tuple[int, int] | None = FRAME_SIZE,
        progress: ProgressFn | None = None,
        info: VideoInfo | None = None,
    ) -> None:
        self.info = info if info is not None else probe(path)
        self.path = Path(path)
        self.size = size
        self.progress = progress
        self.n_decoded = 0
        self.n_sampled = 0
        self.truncated = False
        self.done = False
        self._step = _sample_step(self.info.fps, sample_fps)
        self._next = 0  # index of the next frame to keep
        self._cap: "cv2.VideoCapture | None" = None

    def __iter__(self) -> "FrameStream":
        return self

    def __next__(self) -> tuple[int, np.ndarray]:
        if self.done:
            raise StopIteration
        if self._cap is None:
            self._cap = _open_capture(self.path)
            if not self._cap.isOpened():
                self.close()
                raise InputError(f"{self.path}: OpenCV cannot open it as a video; it may have been moved or damaged")
        cap = self._cap
        while True:
            if not cap.grab():
                self._finish()
                raise StopIteration
            index = self.n_decoded
            self.n_decoded += 1
            if index != self._next:
                continue
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                self._finish()
                raise StopIteration
            self.n_sampled += 1
            self._next = _sample_index(self.n_sampled, self._step)
            report(self.progress, "decode", self.n_decoded, self.info.n_frames)
            return index, _resize_rgb(frame, self.size)

    def _finish(self) -> None:
        self.close()
        self.info, self.truncated = counted(self.path, self.info, self.n_decoded)

    def close(self) -> None:
        """Release the decoder (also done at exhaustion); safe to call twice."""
        self.done = True
        cap = getattr(self, "_cap", None)  # absent when __init__ failed (probe raised)
        if cap is not None:
            cap.release()
            self._cap = None

    def __del__(self) -> None:
        self.close()


def iter_frames(
    path: str | Path,
    sample_fps: float = SAMPLE_FPS,
    size: tuple[int, int] | None = FRAME_SIZE,
    progress: ProgressFn | None = None,
    info: VideoInfo | None = None,
) -> FrameStream:
    """Stream the sampled frames of ``path`` in order, decoding the file once.

    Yields (frame_index, frame): frame_index an int (the same indices as
    ``sample_indices(n_frames, fps, sample_fps)``), frame an (height, width, 3) uint8 RGB array
    resized to ``size`` = (width, height), or at source size (after rotation) when ``size`` is
    None. A truncated or corrupt tail ends the stream at the last decodable frame with a logged
    warning; the returned ``FrameStream`` then has ``truncated`` True, and ``info`` holds the
    counted frame number. ``progress("decode", frames_decoded, n_frames)`` is called per sample.
    Pass ``info`` from an earlier ``probe`` to skip probing again.
    """
    return FrameStream(path, sample_fps=sample_fps, size=size, progress=progress, info=info)


class Prefetcher:
    """Decodes ``stream`` in a background thread, ``chunk`` frames at a time, at most ``depth``
    chunks ahead of the consumer (memory stays bounded). Iterating yields
    ([frame_index, ...], (n, H, W, 3) uint8) chunks in order and re-raises a decoder error;
    ``close()`` (or leaving a ``with`` block) stops the thread and closes the stream.

    OpenCV releases the GIL while it decodes, so the consumer (a forward pass, or importing torch
    and loading models before the first one) runs at the same time.
    """

    def __init__(self, stream: FrameStream, chunk: int, depth: int) -> None:
        self.stream = stream
        self._chunk = max(1, int(chunk))
        self._q: queue.Queue[Any] = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._end = object()
        self._thread = threading.Thread(target=self._produce, name="vidsum-decode", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            indices: list[int] = []
            frames: list[np.ndarray] = []
            for index, frame in self.stream:
                indices.append(index)
                frames.append(frame)
                if len(frames) == self._chunk:
                    if not self._put((indices, np.stack(frames))):
                        return
                    indices, frames = [], []
            if frames and not self._put((indices, np.stack(frames))):
                return
            self._put(self._end)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(exc)
        finally:
            self.stream.close()

    def __iter__(self) -> Iterator[tuple[list[int], np.ndarray]]:
        while True:
            item = self._q.get()
            if item is self._end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
