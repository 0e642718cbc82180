"""Cut the summary clip out of the source video with ffmpeg.

Two methods:

* exact (default): frame-accurate, re-encoded (H.264 + AAC, or VP9 + Opus for .webm). Each
  group of nearby segments is one ffmpeg input with an input-side seek (``-ss start -t span -i
  src``: decoded from the keyframe before ``start``, earlier frames dropped); within a group the
  segments are cut by timestamp (split + trim/atrim); all are joined with the concat filter.
  Only the selected parts (plus short gaps) are decoded, which beats select/trim over the whole
  source (bench/results/render.md). More than
  ``MAX_SEGMENTS_PER_COMMAND`` segments are rendered in batches and joined by stream copy, so
  the command line, open files and decoders per ffmpeg process stay bounded.
* fast: stream copy through the concat demuxer; no re-encoding, but each segment is moved back
  to start at the keyframe at or before its start (up to one GOP early). The keyframe times come
  from a scan that decodes keyframes only.

Outputs are written to a temporary file beside the destination and renamed at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any, Sequence

import numpy as np

from vidsum.config import X264_PRESET, X264_PRESETS
from vidsum.errors import InputError, OutputError, ToolError, UsageError
from vidsum.ffmpeg import ffmpeg_path, file_arg, frame_times, read_header
from vidsum.io import atomic_path, check_output
from vidsum.progress import ProgressFn, report

logger = logging.getLogger(__name__)

# At most this many segments per ffmpeg run (each group of nearby segments is one input with its
# own demuxer and decoder); more are rendered in batches and joined by stream copy, which keeps
# the command line, open files and decoder memory bounded.
MAX_SEGMENTS_PER_COMMAND = 32
# Segments closer than this share one input that is decoded straight through the gap: a seek
# decodes from the previous keyframe anyway (often 2-10 s earlier), so decoding a short gap
# costs less than a new seek (bench/results/render.md, exact-120).
MERGE_GAP_S = 5.0  # seconds
# Seek this far before a frame's timestamp so that rounding of the printed time can never skip
# the frame; far less than half a frame at any real frame rate.
SEEK_EPSILON_S = 0.001  # seconds
SILENCE = "anullsrc=r=48000:cl=stereo"  # lavfi source for clip audio past the end of the source track
X264_CRF = 20
AAC_BITRATE = "160k"
VP9_CRF = 32
OPUS_BITRATE = "128k"
# Output containers by file suffix: (ffmpeg muxer, video codec family).
CONTAINERS: dict[str, tuple[str, str]] = {
    ".mp4": ("mp4", "h264"),
    ".m4v": ("mp4", "h264"),
    ".mov": ("mov", "h264"),
    ".mkv": ("matroska", "h264"),
    ".webm": ("webm", "vp9"),
}
# ffmpeg demuxers whose files have no seek index: MPEG transport and program streams seek by
# bisecting timestamps and land after the wanted keyframe when GOPs are long.
UNSEEKABLE = frozenset({"mpegts", "mpeg"})
# Lines of ffmpeg's stderr that carry no cause (context lines printed around the real error).
_NOISE = re.compile(r"^(Conversion failed!|Exiting normally|Error while filtering|.*received signal)", re.I)
_PTS_TIME = re.compile(r"\bpts_time:\s*(-?\d+(?:\.\d+)?)")


@dataclasses.dataclass(frozen=True)
class RenderResult:
    """What was written. duration_s and has_audio are read back from the file's header; n_frames
    is the count of video frames ffmpeg wrote."""

    out: Path
    duration_s: float
    has_audio: bool
    n_frames: int
    fast: bool


def render_summary(
    src: Path,
    segments: Sequence[tuple[float, float]],
    out: Path,
    *,
    fps: float,
    has_audio: bool,
    fast: bool = False,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    preset: str = X264_PRESET,
    atomic: bool = True,
) -> RenderResult:
    """Write the segments of ``src`` one after another into ``out``.

    segments: sorted, non-overlapping (start_s, end_s) in source seconds, end exclusive. In exact
    mode each is snapped to whole frames of ``fps`` (frames round(start*fps) .. round(end*fps)-1)
    and segments that touch after snapping are joined. ``has_audio``: whether ``src`` has an audio
    stream (the first one is used). The container follows ``out``'s suffix (see CONTAINERS).
    ``preset``: the libx264 preset of an exact H.264 render (faster presets give larger files;
    ignored for VP9 and ``fast``). Progress: ``progress("render", seconds_written, total_seconds)``.
    ``atomic=False`` writes straight to ``out``: for a caller that passes its own temporary file
    (the pipeline renames all its outputs together).
    """
    src, out = Path(src), Path(out)
    if preset not in X264_PRESETS:
        raise UsageError(f"preset must be one of {', '.join(X264_PRESETS)}, not {preset!r}")
    container, vfamily = _check_paths(src, out, overwrite)
    if not fps > 0:
        raise UsageError(f"fps must be > 0 to cut {src}, got {fps}")
    spans = _check_segments(segments, src)
    exe = ffmpeg_path()
    job = _Job(out=out, progress=progress, total=0.0, preset=preset, src=src)
    with _atomic_output(out) if atomic else contextlib.nullcontext(out) as tmp:
        if fast:
            _render_copy(exe, src, spans, tmp, container, has_audio, job)
            expected = None
        else:
            frames = _snap_to_frames(spans, fps, src)
            expected = sum(n for _, n in frames)
            job.total = expected / fps
            _render_exact(exe, src, frames, tmp, fps, container, vfamily, has_audio, job)
        if job.frames == 0:
            raise InputError(
                f"{src}: no video frames in the selected segments (the last ends at {spans[-1][1]:.2f} s); "
                "they may lie past the end of the video or the file may be truncated"
            )
        duration, _, audio_out = probe_header(exe, tmp)
        if not np.isfinite(duration):  # a header without a duration: count the frames instead
            duration = job.frames / fps
    if expected is not None and job.frames < expected:
        logger.warning(
            "%s: only %d of %d selected frames could be read; the video ends early", src, job.frames, expected
        )
    report(progress, "render", job.total, job.total)
    logger.info("wrote %s: %.2f s, %d frames, from %d segment(s)", out, duration, job.frames, len(spans))
    return RenderResult(out=out, duration_s=duration, has_audio=audio_out, n_frames=job.frames, fast=fast)


def _audio_end_s(exe: str, src: Path) -> float | None:
    """Where the first audio track of ``src`` ends, in seconds (None if unknown). Its packets
    are stream-copied to nowhere: no decoding, about a second per hour of video."""
    proc = subprocess.run(
        [exe, "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", "-i", file_arg(src),
         "-map", "0:a:0", "-c", "copy", "-f", "null", "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
    )
    ends = re.findall(r"out_time_us=(\d+)", proc.stdout)
    return int(ends[-1]) / 1e6 if proc.returncode == 0 and ends else None


def _first_frame_s(exe: str, src: Path) -> float:
    """Seconds from the container's start to the first video frame (0.0 when it cannot be read).

    Frame i of the decoded video (what the segments count) is shown at this time + i / fps. It
    is not always 0: Matroska files from ffmpeg <= 6 with AAC audio start the video 23 ms (the
    encoder delay) after the audio, and any muxer may start one stream after another. Seeking
    and trimming by i / fps alone would then keep one frame fewer than asked (issue 8).
    """
    times = frame_times(src, 1, exe)
    return max(0.0, times[0]) if times else 0.0


def probe_header(exe: str, path: Path) -> tuple[float, float, bool]:
    """(duration s, NaN if unknown; container start time s; has an audio stream) of ``path``."""
    header = read_header(path, exe)
    if header is None or header.error is not None:
        raise ToolError(f"ffmpeg cannot read {path}: {header.error if header else 'ffmpeg did not run'}")
    duration = float("nan") if header.duration is None else header.duration
    return duration, header.start, header.has_audio


# ----------------------------------------------------------------------------- checks


def _check_paths(src: Path, out: Path, overwrite: bool) -> tuple[str, str]:
    if not src.is_file():
        raise InputError(f"{src}: no such file; check the path of the input video")
    suffix = out.suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputError(
            f"{out}: cannot write a '{out.suffix or '(no suffix)'}' clip; use one of "
            f"{', '.join(sorted(CONTAINERS))} (e.g. {out.with_suffix('.mp4').name})"
        )
    check_output(out, "summary clip", src, overwrite)
    return CONTAINERS[suffix]


def _check_segments(segments: Sequence[tuple[float, float]], src: Path) -> list[tuple[float, float]]:
    spans = [(float(s), float(e)) for s, e in segments]
    if not spans:
        raise UsageError(
            f"nothing to render from {src}: no segments were selected; raise --budget or --length "
            "so that at least one shot fits"
        )
    prev_end = 0.0
    for start, end in spans:
        if not (np.isfinite(start) and np.isfinite(end)) or start < 0 or end <= start:
            raise UsageError(f"invalid segment ({start}, {end}) for {src}: need 0 <= start < end")
        if start < prev_end - 1e-9:
            raise UsageError(f"segments for {src} must be sorted and non-overlapping; ({start}, {end}) is not")
        prev_end = end
    return spans


def _snap_to_frames(spans: list[tuple[float, float]], fps: float, src: Path) -> list[tuple[int, int]]:
    """(start_s, end_s) -> (first_frame, n_frames), joining spans that touch once on the frame grid."""
    frames: list[list[int]] = []
    for start, end in spans:
        first, stop = round(start * fps), round(end * fps)
        if stop <= first:
            logger.warning("segment %.3f-%.3f s of %s is shorter than a frame; skipped", start, end, src)
            continue
        if frames and first <= frames[-1][0] + frames[-1][1]:
            frames[-1][1] = max(frames[-1][1], stop - frames[-1][0])
        else:
            frames.append([first, stop - first])
    if not frames:
        raise UsageError(f"nothing to render from {src}: every segment is shorter than one frame")
    return [(first, n) for first, n in frames]


@contextlib.contextmanager
def _atomic_output(out: Path) -> Any:
    try:
        with atomic_path(out) as tmp:
            yield tmp
    except PermissionError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror}); choose a writable folder") from None


# ----------------------------------------------------------------------------- commands


def _encode_args(
    container: str, vfamily: str, has_audio: bool, audio_codec: bool = True, preset: str = X264_PRESET
) -> dict[str, Any]:
    """Output options for the re-encode; ``audio_codec=False`` leaves audio as PCM (batches)."""
    if vfamily == "vp9":
        args: dict[str, Any] = {
            "vcodec": "libvpx-vp9",
            "crf": VP9_CRF,
            "b:v": 0,
            "deadline": "realtime",
            "cpu-used": 8,
            "row-mt": 1,
        }
        audio = {"acodec": "libopus", "b:a": OPUS_BITRATE}
    else:
        args = {"vcodec": "libx264", "preset": preset, "crf": X264_CRF}
        audio = {"acodec": "aac", "b:a": AAC_BITRATE}
    args["pix_fmt"] = "yuv420p"
    if has_audio:
        args.update(audio if audio_codec else {"acodec": "pcm_s16le"})
    if container in ("mp4", "mov"):
        args["movflags"] = "+faststart"
    return args


def _clusters(spans: Sequence[tuple[int, int]], fps: float) -> list[list[tuple[int, int]]]:
    """Group (first_frame, n_frames) spans whose gaps are shorter than MERGE_GAP_S."""
    groups: list[list[tuple[int, int]]] = []
    for first, n in spans:
        if groups and (first - sum(groups[-1][-1])) / fps < MERGE_GAP_S:
            groups[-1].append((first, n))
        else:
            groups.append([(first, n)])
    return groups


def _exact_command(
    exe: str,
    src: Path,
    spans: Sequence[tuple[int, int]],
    dst: Path,
    fps: float,
    fmt: str,
    encode: dict[str, Any],
    has_audio: bool,
    audio_end_s: float | None = None,
    video_start_s: float = 0.0,
    seek: bool = True,
) -> list[str]:
    """``video_start_s``: where frame 0 lies on the file's timeline (see ``_first_frame_s``).

    ``seek=False`` is the fallback for files that cannot be seeked in (no index, long GOPs in
    MPEG-TS, broken timestamps): one input decoded from the start, and the pictures picked by
    frame number, as they were counted when the video was decoded for its features.
    """
    import ffmpeg

    def at(frame: int) -> float:  # seconds from the container start, the timeline -ss counts in
        return video_start_s + frame / fps

    def silent(first: int) -> bool:
        # A segment that starts after the source's audio track has ended gets generated silence:
        # its seeked input would deliver no audio frame at all, and ffmpeg cannot configure the
        # concat filter around a stream that never starts.
        return has_audio and audio_end_s is not None and at(first) >= audio_end_s - 0.5 / fps

    n_silent = sum(1 for first, _ in spans if silent(first))
    silences: Any = []
    if n_silent:
        source = ffmpeg.input(SILENCE, f="lavfi")["a"]
        silences = [source] if n_silent == 1 else source.filter_multi_output("asplit", n_silent)
    streams = []
    for group in _clusters(spans, fps) if seek else [list(spans)]:
        # One input per group of nearby segments, seeked (input side: ffmpeg decodes from the
        # keyframe before and drops earlier frames) to just before the group's first frame and
        # read to its last one; the epsilon keeps time rounding from skipping that first frame.
        if seek:
            origin = max(0.0, at(group[0][0]) - SEEK_EPSILON_S)
            span = at(sum(group[-1])) - origin + 0.5 / fps
            inp = ffmpeg.input(file_arg(src), ss=f"{origin:.6f}", t=f"{span:.6f}")
        else:
            origin, inp = 0.0, ffmpeg.input(file_arg(src))
        videos = [inp["v:0"]] if len(group) == 1 else inp["v:0"].filter_multi_output("split", len(group))
        audios: Any = []
        n_real = sum(1 for first, _ in group if not silent(first))
        if has_audio and n_real:
            audios = [inp["a:0"]] if n_real == 1 else inp["a:0"].filter_multi_output("asplit", n_real)
        k = 0
        for j, (first, n) in enumerate(group):
            start = at(first) - origin  # the segment's first frame, in the input's seeked timeline
            if seek:
                # Frames are kept by timestamp within half a frame, robust to any time-base rounding.
                video = videos[j].trim(start=f"{start - 0.5 / fps:.6f}", end=f"{start + (n - 0.5) / fps:.6f}")
                video = video.setpts("PTS-STARTPTS")
            else:
                video = videos[j].trim(start_frame=first, end_frame=first + n).setpts(f"N/({fps:.9f}*TB)")
            # The concat filter starts each segment where the longer stream of the previous one
            # ended, so both streams must start at 0 and last exactly n/fps: audio that starts a
            # few ms late (AAC priming) or ends early would otherwise shift every later picture.
            streams.append(video)
            if has_audio:
                duration = f"{n / fps:.6f}"
                if silent(first):
                    audio = silences[n_silent - 1]
                    n_silent -= 1
                else:
                    audio = audios[k].filter("atrim", start=f"{start:.6f}", duration=duration)
                    k += 1
                audio = audio.filter("asetpts", "PTS-STARTPTS").filter("apad", whole_dur=duration)
                streams.append(audio.filter("atrim", duration=duration))
    joined = ffmpeg.concat(*streams, v=1, a=int(has_audio)).node
    # libx264 with yuv420p needs even sizes; cropping one odd row/column avoids a resample.
    video_out = joined[0].filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
    outs = [video_out, joined[1]] if has_audio else [video_out]
    cmd = ffmpeg.output(*outs, file_arg(dst), format=fmt, **encode).compile(cmd=exe)
    return _with_globals(cmd)


def _copy_command(
    exe: str, listing: Path, dst: Path, fmt: str, has_audio: bool, extra: dict[str, Any]
) -> list[str]:
    import ffmpeg

    inp = ffmpeg.input(file_arg(listing), format="concat", safe=0)
    outs = [inp["v:0"], inp["a:0"]] if has_audio else [inp["v:0"]]
    cmd = ffmpeg.output(*outs, file_arg(dst), format=fmt, **extra).compile(cmd=exe)
    return _with_globals(cmd)


def _with_globals(cmd: list[str]) -> list[str]:
    # Global options go first: ffmpeg ignores (and warns about) options after the last output.
    quiet = ["-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y"]
    return [cmd[0], *quiet, *cmd[1:]]


def _concat_listing(path: Path, entries: Sequence[tuple[Path, float | None, float | None]]) -> None:
    lines = ["ffconcat version 1.0"]
    for file, inpoint, outpoint in entries:
        # The concat demuxer's quoting: inside '...', a quote is written as '\''.
        quoted = str(file.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if inpoint is not None:
            lines.append(f"inpoint {inpoint:.6f}")
        if outpoint is not None:
            lines.append(f"outpoint {outpoint:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclasses.dataclass
class _Job:
    """One render: where it goes (for messages), progress reporting, frames written so far."""

    out: Path
    progress: ProgressFn | None
    total: float
    offset: float = 0.0
    frames: int = 0
    preset: str = X264_PRESET
    src: Path | None = None  # named in messages (``out`` may be a caller's temporary file)


def _render_exact(
    exe: str,
    src: Path,
    spans: Sequence[tuple[int, int]],
    dst: Path,
    fps: float,
    container: str,
    vfamily: str,
    has_audio: bool,
    job: _Job,
) -> None:
    audio_end = _audio_end_s(exe, src) if has_audio else None
    t0 = _first_frame_s(exe, src)
    header = read_header(src, exe)
    seekable = header is None or header.container not in UNSEEKABLE

    def cut(batch: Sequence[tuple[int, int]], out: Path, fmt: str, encode: dict[str, Any]) -> None:
        wanted, before = sum(n for _, n in batch), job.frames
        if seekable:
            try:
                _run(_exact_command(exe, src, batch, out, fps, fmt, encode, has_audio, audio_end, t0), job)
                if job.frames - before >= wanted:
                    return
            except (InputError, ToolError) as exc:  # no packets, or ffmpeg <= 6 choking on the seek
                logger.debug("%s: the seeked cut failed (%s)", src, exc)
            logger.info("%s: seeking gave %d of %d frames; decoding from the start instead", src, job.frames - before, wanted)
            job.frames = before
        _run(_exact_command(exe, src, batch, out, fps, fmt, encode, has_audio, audio_end, t0, seek=False), job)

    if len(spans) <= MAX_SEGMENTS_PER_COMMAND:
        cut(spans, dst, container, _encode_args(container, vfamily, has_audio, preset=job.preset))
        return
    # Batches are encoded with the final video settings and PCM audio into Matroska, then joined
    # by stream copy; the audio is encoded once at the end so no AAC/Opus priming gaps appear
    # at batch joins.
    with tempfile.TemporaryDirectory(prefix=f".{job.out.stem}.", dir=dst.parent) as tmpdir:
        parts: list[Path] = []
        for b in range(0, len(spans), MAX_SEGMENTS_PER_COMMAND):
            batch = spans[b : b + MAX_SEGMENTS_PER_COMMAND]
            part = Path(tmpdir) / f"part{len(parts):05d}.mkv"
            cut(batch, part, "matroska", _encode_args("matroska", vfamily, has_audio, audio_codec=False, preset=job.preset))
            job.offset += sum(n for _, n in batch) / fps
            parts.append(part)
        listing = Path(tmpdir) / "parts.ffconcat"
        _concat_listing(listing, [(p, None, None) for p in parts])
        extra: dict[str, Any] = {"vcodec": "copy"}
        final = _encode_args(container, vfamily, has_audio, preset=job.preset)
        extra.update({k: v for k, v in final.items() if k in ("acodec", "b:a", "movflags")})
        frames, job.frames, job.progress = job.frames, 0, None
        _run(_copy_command(exe, listing, dst, container, has_audio, extra), job)
        job.frames = frames


def _render_copy(
    exe: str,
    src: Path,
    spans: Sequence[tuple[float, float]],
    dst: Path,
    container: str,
    has_audio: bool,
    job: _Job,
) -> None:
    """Stream-copy the spans, each moved back to the keyframe at or before its start."""
    _, origin, _ = probe_header(exe, src)
    t0 = _first_frame_s(exe, src)
    spans = [(t0 + start, t0 + end) for start, end in spans]
    keys = _keyframe_times(exe, src, until_s=spans[-1][0])
    # An in point that is not a keyframe makes the concat demuxer emit the frames before it with
    # squashed timestamps (they flash by); starting at the keyframe keeps normal timing.
    cuts: list[list[float]] = []
    for start, end in spans:
        key = max((k for k in keys if k <= start + SEEK_EPSILON_S), default=0.0)
        if cuts and key <= cuts[-1][1]:
            cuts[-1][1] = max(cuts[-1][1], end)
        else:
            cuts.append([key, end])
    job.total = float(sum(end - start for start, end in cuts))
    with tempfile.TemporaryDirectory(prefix=f".{job.out.stem}.", dir=dst.parent) as tmpdir:
        listing = Path(tmpdir) / "segments.ffconcat"
        # inpoint/outpoint are timestamps of the file itself, so the container start time is added.
        _concat_listing(listing, [(src, origin + start, origin + end) for start, end in cuts])
        extra: dict[str, Any] = {"c": "copy", "avoid_negative_ts": "make_zero"}
        if container in ("mp4", "mov"):
            extra["movflags"] = "+faststart"
        _run(_copy_command(exe, listing, dst, container, has_audio, extra), job)


def _keyframe_times(exe: str, src: Path, until_s: float) -> list[float]:
    """Times (s, from the first frame) of the video keyframes up to ``until_s``, decoding keyframes only."""
    cmd = [exe, "-hide_banner", "-nostdin", "-skip_frame", "nokey", "-to", f"{until_s + 1.0:.6f}", "-i", file_arg(src)]
    cmd += ["-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise ToolError(f"ffmpeg could not read the keyframes of {src}: {_last_error(proc.stderr)}")
    return sorted(float(t) for t in _PTS_TIME.findall(proc.stderr))


# ----------------------------------------------------------------------------- running ffmpeg


def _run(cmd: list[str], job: _Job) -> None:
    """Run ffmpeg, feeding its ``-progress`` report to ``job``; ToolError with its last error line."""
    logger.debug("running %s", subprocess.list2cmdline(cmd))
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        try:
            assert proc.stdout is not None
            frames = _follow(proc.stdout, job)
            code = proc.wait()
        except BaseException:
            # Ctrl-C or a failing callback: stop the child before the temp file is removed.
            _terminate(proc)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if code != 0:
            err.seek(0)
            text = err.read().decode("utf-8", errors="replace")
            if "No space left on device" in text or "Disk quota exceeded" in text:
                raise OutputError(
                    f"{job.out.parent}: no space left on the device for the summary clip; free some space "
                    "or write it elsewhere (-o)"
                )
            if "received no packets" in text:
                raise InputError(
                    f"{job.src}: the selected segments hold no video frames (they may lie "
                    "past the end of the input); check the segment times against the video's duration"
                )
            raise ToolError(
                f"{job.src}: ffmpeg failed cutting the summary (exit code {code}): {_last_error(text)}; check that "
                "the input plays (`ffmpeg -i INPUT -f null -`), VIDSUM_DEBUG=1 logs the full command"
            )
    job.frames += frames


def _follow(stdout: IO[bytes], job: _Job) -> int:
    """Read ``-progress`` key=value lines until ffmpeg closes them; returns the frames written."""
    frames = 0
    for raw in stdout:
        key, _, value = raw.decode("ascii", errors="replace").strip().partition("=")
        with contextlib.suppress(ValueError):  # "N/A" before the first frame
            if key == "frame":
                frames = int(value)
            elif key == "out_time_us" and job.progress is not None:
                done = job.offset + max(0, int(value)) / 1e6
                report(job.progress, "render", min(done, job.total), job.total)
    return frames


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _last_error(stderr: str) -> str:
    """The last stderr line that states a cause (ffmpeg ends with generic lines like 'Conversion failed!')."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not _NOISE.match(ln.strip())]
    return lines[-1][:400].rstrip(".") if lines else "no error message"
