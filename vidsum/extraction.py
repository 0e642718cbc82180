"""Feature extraction: one video (``extract_one``) or a collection (``extract_batch``, `vidsum features`).

    extract_one(path, FeaturesConfig) -> Features
    Executor.run([(key, path), ...], cfg, progress) -> ExtractionResult per video, as each finishes
    extract_batch(videos, output, cfg, executor="local") -> BatchResult

An Executor decides where the frames are decoded and featurised; ``EXECUTORS`` maps names to
factories (``"local"``: decoder threads or processes feeding one batched model in this process).
Whatever the executor, the driver ``extract_batch`` writes each finished video the same way.

Resumability: every video is written completely to its own small HDF5 file in
a hidden parts folder beside the output (``.NAME.h5.parts/STEM.h5``), through a temporary file
and an atomic rename, so a part either exists whole or not at all. When the batch ends the parts
are merged into a copy of the output, which then replaces the output in one rename, and the parts
are removed. A kill at any moment (even kill -9) therefore leaves the previous output intact and
readable, never a half-written group; re-running the same command skips every video that is
already in the output or in a part, and finishes the merge.

Throughput of the local executor: ``workers`` decoders (threads or processes) stream sampled
frames of several videos at once into a bounded queue; the calling thread batches them through
the extractor, and KTS and the part write run in a background thread. OpenCV decodes outside the
GIL, so threads are the default (see bench/).
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import os
import queue
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Sequence

import numpy as np

from vidsum.config import FeaturesConfig
from vidsum.errors import InputError, OutputError, UsageError, VidsumError
from vidsum.executor import Executor, ExtractionResult, expected_steps
from vidsum.io import atomic_path
from vidsum.progress import ProgressFn, report

if TYPE_CHECKING:
    from vidsum.features import Extractor, Features

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".mts",
     ".m2ts", ".3gp", ".ogv", ".vob"}
)
QUEUE_CHUNKS_PER_WORKER = 4  # decoded chunks buffered per worker: bounds memory, keeps the model fed
Decoder = Literal["thread", "process"]


@dataclasses.dataclass
class BatchResult:
    """What `extract_batch` did. ``failed`` lists (path, reason) of videos that were skipped."""

    output: Path
    extracted: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    sampled_frames: int = 0
    seconds: float = 0.0


def parts_dir(output: str | os.PathLike[str]) -> Path:
    """The hidden folder holding the completed per-video files of an unfinished batch."""
    output = Path(output)
    return output.parent / f".{output.name}.parts"


def collect_videos(inputs: Sequence[str | os.PathLike[str]], list_file: str | os.PathLike[str] | None = None) -> list[Path]:
    """Expand files, folders (recursively, video extensions only), globs and a list file.

    List-file lines are paths relative to the list file's folder; blank lines and lines starting
    with '#' are ignored. Order is kept (folders and globs sorted); duplicates are dropped.
    Paths that do not exist are kept, so that the batch reports them as failed videos.
    """
    raw: list[Path] = []
    for item in inputs:
        s = str(item)
        p = Path(s)
        if p.is_dir():
            # Not only regular files: a FIFO or a broken link named like a video is reported, not skipped.
            raw += sorted(f for f in p.rglob("*") if not f.is_dir() and f.suffix.lower() in VIDEO_EXTENSIONS)
        elif p.exists() or not glob.has_magic(s):
            raw.append(p)
        else:
            hits = sorted(glob.glob(s, recursive=True))
            files = [Path(h) for h in hits if Path(h).is_file() and Path(h).suffix.lower() in VIDEO_EXTENSIONS]
            if not files:
                log.warning("%s: the pattern matches no video file", s)
            raw += files
    if list_file is not None:
        lf = Path(list_file)
        if not lf.is_file():
            raise InputError(f"{lf}: list file not found; give a text file with one video path per line")
        for line in lf.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                p = Path(line).expanduser()
                raw.append(p if p.is_absolute() else lf.parent / p)
    seen: set[Path] = set()
    out: list[Path] = []
    for p in raw:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def video_key(path: Path) -> str:
    """The group name of a video: its file stem (how TVSum/SumMe annotations name videos)."""
    return path.stem


def _check_unique(videos: Sequence[Path]) -> None:
    by_key: dict[str, Path] = {}
    for v in videos:
        k = video_key(v)
        if k in by_key:
            raise UsageError(
                f"{v} and {by_key[k]} have the same name {k!r}; groups and annotations are matched by "
                "file name, so rename one of them or extract them into separate files"
            )
        by_key[k] = v


def _describe(extractor: "Extractor", sample_fps: float) -> dict[str, Any]:
    desc = dict(extractor.describe(sample_fps))
    desc["sample_fps"] = float(sample_fps)
    return desc


def _same_extractor(a: dict[str, Any], b: dict[str, Any]) -> bool:
    from vidsum.features import same_features

    return same_features(a, b)


def _groups_of(path: Path) -> tuple[set[str], dict[str, Any] | None]:
    """(group names, extractor description) of a features file; raises OutputError if unreadable."""
    from vidsum.data import features_index

    try:
        return features_index(path)
    except OSError as exc:
        raise OutputError(
            f"{path}: exists but is not a readable HDF5 file ({exc}); move it away or choose another -o"
        ) from None


def _scan_parts(folder: Path, desc: dict[str, Any]) -> dict[str, Path]:
    """Complete part files by group name; stale temporaries and foreign parts are removed."""
    from vidsum.data import read_part

    parts: dict[str, Path] = {}
    if not folder.is_dir():
        return parts
    for f in sorted(folder.iterdir()):
        if f.name.startswith("."):  # a temporary of a killed run (atomic_path names them .STEM.*)
            with contextlib.suppress(OSError):
                f.unlink()
            continue
        if f.suffix != ".h5":
            continue
        pdesc = read_part(f)
        if pdesc is None:
            log.warning("%s: unreadable part of an earlier run; the video will be extracted again", f)
            f.unlink()
        elif not _same_extractor(pdesc, desc):
            log.warning("%s: made with a different extractor; the video will be extracted again", f)
            f.unlink()
        else:
            parts[f.stem] = f
    return parts


def merge_parts(output: Path, desc: dict[str, Any]) -> list[str]:
    """Merge the parts folder into ``output`` atomically; return the group names added.

    The output is copied, the parts appended to the copy, and the copy renamed over the output, so
    ``output`` is never seen half-merged. Parts are deleted only after the rename.
    """
    from vidsum.data import append_parts

    folder = parts_dir(output)
    parts = _scan_parts(folder, desc)
    if not parts:
        with contextlib.suppress(OSError):
            folder.rmdir()
        return []
    with atomic_path(output) as tmp:
        if output.exists():
            shutil.copyfile(output, tmp)
        added = append_parts(tmp, parts, desc, new=not output.exists())
    for part in parts.values():
        with contextlib.suppress(OSError):
            part.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()
    return added


# --- decoding workers -------------------------------------------------------------------------


def _decode_one(
    path: str, key: str, info: Any, frame_decoder: str, sample_fps: float, size: tuple[int, int], chunk: int,
    put: Any, stop: Any,
) -> None:
    """Stream one video as ("chunk", key, picks, frames) messages, then ("end", key, info, truncated).

    picks: (k,) int64 frame indices; frames: (k, H, W, 3) uint8 RGB, k <= chunk. The final
    ``info`` carries the frame count found by decoding (containers may declare more or fewer).
    """
    from vidsum.ffstream import open_frames

    stream = open_frames(path, frame_decoder, sample_fps=sample_fps, size=size, info=info)
    idx: list[int] = []
    frames: list[np.ndarray] = []
    try:
        for i, frame in stream:
            if stop.is_set():
                return
            idx.append(int(i))
            frames.append(frame)
            if len(frames) == chunk:
                put(("chunk", key, np.asarray(idx, dtype=np.int64), np.stack(frames)))
                idx, frames = [], []
    finally:
        stream.close()
    if frames:
        put(("chunk", key, np.asarray(idx, dtype=np.int64), np.stack(frames)))
    put(("end", key, stream.info, stream.truncated))


def _worker_loop(tasks: Any, results: Any, stop: Any, sample_fps: float, size: tuple[int, int], chunk: int) -> None:
    """Decode tasks (path, key, info, frame decoder) until a None task; errors become ("error", key, message)."""
    parent = os.getppid()

    def put(msg: tuple) -> None:
        # A bounded queue: block while the model is busy, but give up if the parent died (kill -9).
        while not stop.is_set():
            try:
                results.put(msg, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:
                    stop.set()
        raise _Stopped

    while not stop.is_set():
        try:
            task = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if task is None:
            return
        path, key, info, frame_decoder = task
        try:
            _decode_one(path, key, info, frame_decoder, sample_fps, size, chunk, put, stop)
        except _Stopped:
            return
        except VidsumError as exc:
            _try_put(results, ("error", key, str(exc)))
        except Exception as exc:  # a decoder failure on one bad file must not stop the batch
            _try_put(results, ("error", key, f"{type(exc).__name__}: {exc}"))


def _process_main(tasks: Any, results: Any, stop: Any, sample_fps: float, size: tuple[int, int], chunk: int) -> None:
    """Entry point of a decoder process: `_worker_loop` plus a watchdog for the parent's death.

    A process that exits normally waits until its queued frames are flushed into the pipe; with
    the parent killed (kill -9) nobody reads them any more, so the watchdog ends the process.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="vidsum-parent-watch", daemon=True).start()
    _worker_loop(tasks, results, stop, sample_fps, size, chunk)


class _Stopped(Exception):
    pass


def _try_put(results: Any, msg: tuple) -> None:
    with contextlib.suppress(Exception):
        results.put(msg, timeout=5.0)


class _Pool:
    """``workers`` decoders (threads or spawned processes) sharing a task and a result queue."""

    def __init__(self, executor: Decoder, workers: int, sample_fps: float, size: tuple[int, int], chunk: int) -> None:
        maxsize = max(2, QUEUE_CHUNKS_PER_WORKER * workers)
        if executor == "process":
            import multiprocessing as mp

            # spawn, not fork: the parent holds torch threads that a fork would copy broken
            ctx = mp.get_context("spawn")
            self.tasks, self.results, self.stop = ctx.Queue(), ctx.Queue(maxsize), ctx.Event()
            self.procs: list[Any] = [
                ctx.Process(
                    target=_process_main,
                    args=(self.tasks, self.results, self.stop, sample_fps, size, chunk),
                    daemon=True,
                )
                for _ in range(workers)
            ]
        else:
            self.tasks, self.results, self.stop = queue.Queue(), queue.Queue(maxsize), threading.Event()
            self.procs = [
                threading.Thread(
                    target=_worker_loop,
                    args=(self.tasks, self.results, self.stop, sample_fps, size, chunk),
                    daemon=True,
                )
                for _ in range(workers)
            ]
        self.workers = workers

    def start(self, jobs: Iterable[tuple[str, str, Any, str]]) -> None:
        for job in jobs:
            self.tasks.put(job)
        for _ in range(self.workers):
            self.tasks.put(None)
        for p in self.procs:
            p.start()

    def get(self) -> tuple:
        while True:
            try:
                return self.results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in self.procs):
                    # every decoder exited (e.g. a process crashed inside a codec): no more messages
                    try:
                        return self.results.get(timeout=0.5)
                    except queue.Empty:
                        raise _Stopped from None

    def close(self) -> None:
        self.stop.set()
        # drain so that blocked producers see the stop flag
        with contextlib.suppress(Exception):
            while True:
                self.results.get_nowait()
        for p in self.procs:
            p.join(timeout=5.0)
            if p.is_alive() and hasattr(p, "terminate"):
                p.terminate()
                p.join(timeout=2.0)


# --- one video, and the executors ----------------------------------------------------------------


def extract_one(
    path: str | os.PathLike[str],
    cfg: FeaturesConfig | None = None,
    extractor: "Extractor | None" = None,
    progress: ProgressFn | None = None,
) -> "Features":
    """Features of one video: decode at ``cfg.sample_fps`` and run the extractor ``cfg`` describes
    (or ``extractor``, when given). Raises InputError for files that are not decodable videos."""
    cfg = cfg or FeaturesConfig()
    if extractor is None:
        from vidsum.features import make_extractor

        extractor = make_extractor(cfg, progress=progress)
    return extractor.extract(path, sample_fps=cfg.sample_fps, progress=progress, frame_decoder=cfg.frame_decoder)


@dataclasses.dataclass
class _Pending:
    path: Path
    info: Any
    picks: list[np.ndarray] = dataclasses.field(default_factory=list)
    feats: list[np.ndarray] = dataclasses.field(default_factory=list)
    n_sampled: int = 0
    error: str | None = None


class LocalExecutor:
    """``workers`` decoders (threads or spawned processes) feeding one batched extractor here."""

    def __init__(self, extractor: "Extractor | None" = None, workers: int = 1, decoder: Decoder = "thread") -> None:
        if workers < 1:
            raise UsageError(f"--workers must be >= 1, got {workers}")
        if decoder not in ("thread", "process"):
            raise UsageError(f"the decoder must be 'thread' or 'process', not {decoder!r}")
        self.extractor = extractor
        self.workers = workers
        self.decoder = decoder

    def run(
        self,
        videos: Sequence[tuple[str, Path]],
        cfg: FeaturesConfig,
        progress: ProgressFn | None = None,
        infos: dict[str, Any] | None = None,
    ) -> Iterator[ExtractionResult]:
        from vidsum.features import Features
        from vidsum.video import probe

        if not videos:
            return
        extractor = self.extractor
        if extractor is None:
            from vidsum.features import make_extractor

            extractor = self.extractor = make_extractor(cfg)
        infos = dict(infos or {})
        pending: dict[str, _Pending] = {}
        for key, path in videos:
            if key not in infos:
                try:
                    infos[key] = probe(path)
                except VidsumError as exc:
                    yield ExtractionResult(key, Path(path), None, str(exc))
                    continue
            pending[key] = _Pending(Path(path), infos[key])
        if not pending:
            return
        expected = sum(expected_steps(v.info, cfg.sample_fps) for v in pending.values())
        sampled = 0
        size = tuple(getattr(extractor, "input_size", (224, 224)))
        chunk = int(cfg.batch_size or getattr(extractor, "batch_size", 16) or 16)
        pool = _Pool(self.decoder, min(self.workers, len(pending)), cfg.sample_fps, size, chunk)  # type: ignore[arg-type]
        pool.start((str(v.path), k, v.info, cfg.frame_decoder) for k, v in pending.items())
        left = set(pending)
        try:
            while left:
                try:
                    msg = pool.get()
                except _Stopped:
                    for k in sorted(left):
                        yield ExtractionResult(k, pending[k].path, None, "the decoder process stopped unexpectedly")
                    return
                kind, key = msg[0], msg[1]
                job = pending[key]
                if kind == "chunk":
                    if job.error is not None:
                        continue
                    try:
                        job.feats.append(np.asarray(extractor.extract_frames(msg[3]), dtype=np.float32))
                        job.picks.append(msg[2])
                    except VidsumError as exc:
                        job.error = str(exc)
                    job.n_sampled += len(msg[2])
                    sampled += len(msg[2])
                    report(progress, "frames", sampled, expected)
                    continue
                left.discard(key)
                if kind == "error" and job.error is None:
                    job.error = msg[2]
                elif kind == "end" and job.error is None and not job.feats:
                    job.error = "no frame could be decoded"
                if job.error is not None:
                    job.feats, job.picks = [], []
                    yield ExtractionResult(key, job.path, None, job.error, job.n_sampled)
                    continue
                feats = Features(
                    features=np.concatenate(job.feats).astype(np.float32, copy=False),
                    picks=np.concatenate(job.picks).astype(np.int64, copy=False),
                    info=msg[2],
                    truncated=bool(msg[3]),
                    extractor=_describe(extractor, cfg.sample_fps),
                )
                job.feats, job.picks = [], []
                yield ExtractionResult(key, job.path, feats, None, job.n_sampled)
        finally:
            pool.close()


def _ray_executor(**options: Any) -> Executor:
    """The Ray executor (vidsum.extraction_ray), imported only when asked for: Ray is optional."""
    from vidsum.extraction_ray import RayExecutor

    return RayExecutor(**options)


# name -> factory(extractor=None, workers=1, decoder="thread", ...) -> Executor. An executor may
# also have describe(cfg) -> the extractor description (when its extractor lives elsewhere, as
# Ray's actors) and close() (called by extract_batch for executors it made).
EXECUTORS: dict[str, Callable[..., Executor]] = {
    "local": LocalExecutor,
    "ray": _ray_executor,
}


def make_executor(name: str, **options: Any) -> Executor:
    """The executor registered as ``name``, built with ``options``; UsageError for unknown names."""
    factory = EXECUTORS.get(name)
    if factory is None:
        raise UsageError(f"unknown executor {name!r}; known executors: {', '.join(EXECUTORS)}")
    return factory(**options)


# --- the batch driver -----------------------------------------------------------------------------


def _write_part(folder: Path, key: str, path: Path, feats: "Features", desc: dict[str, Any]) -> int:
    """Segment one video and write its part file atomically; returns n_steps."""
    from vidsum.data import SOURCE_PATH, write_part
    from vidsum.segmentation import segment_shots
    from vidsum.selection import budget_frames

    info = feats.info
    features = np.asarray(feats.features, dtype=np.float32)
    picks = np.asarray(feats.picks, dtype=np.int64)
    n_frames = int(info.n_frames)
    if picks.size and picks[-1] >= n_frames:
        # the container's frame count was an underestimate; the decoded frames are the truth
        n_frames = int(picks[-1]) + 1
    # no shot longer than the 15 % summary budget, so a knapsack over these shots (the TVSum user
    # summaries of `vidsum dataset build`, evaluation) can always fill the budget
    cps = segment_shots(features, picks, n_frames, float(info.fps), max_shot_frames=max(1, budget_frames(n_frames)))
    with atomic_path(folder / f"{key}.h5") as tmp:
        write_part(
            tmp,
            key,
            desc,
            features=features,
            picks=picks,
            n_frames=n_frames,
            change_points=cps,
            video_name=key,
            extra={"fps": float(info.fps), "duration": float(info.duration), SOURCE_PATH: str(path.resolve())},
        )
    return int(features.shape[0])


def extract_batch(
    videos: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    cfg: FeaturesConfig | None = None,
    *,
    extractor: "Extractor | None" = None,
    backbone_weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    sample_fps: float | None = None,
    precision: str | None = None,
    workers: int = 1,
    executor: str | Executor = "local",
    decoder: Decoder = "thread",
    progress: ProgressFn | None = None,
) -> BatchResult:
    """Extract features of ``videos`` into ``output`` (eccv16 schema, one group per video stem).

    ``cfg`` (or the keyword overrides of its fields) says how; ``extractor`` an already built
    one. ``executor``: a name of EXECUTORS (built with ``extractor``, ``workers`` and ``decoder``),
    an Executor, or "thread"/"process" (short for "local" with that ``decoder``).

    Each group holds features (n_steps, dim) float32, picks (n_steps,) int64, n_frames,
    n_steps, change_points (n_shots, 2) int64, n_frame_per_seg, fps, duration, video_name and
    source_path; the root attribute "extractor" is the JSON extractor description. Videos already
    in ``output`` (or finished by a killed run) are skipped. A video that cannot be read is listed
    in ``result.failed`` and the batch goes on. Progress stages: "videos" and "frames" (sampled).
    """
    t0 = time.perf_counter()
    overrides = {
        k: v
        for k, v in dict(
            backbone_weights=None if backbone_weights is None else str(backbone_weights),
            device=device, batch_size=batch_size, sample_fps=sample_fps, precision=precision,
        ).items()
        if v is not None
    }
    cfg = dataclasses.replace(cfg or FeaturesConfig(), **overrides)
    output = Path(output)
    paths = [Path(v) for v in videos]
    if not paths:
        raise InputError("no videos given; pass video files, folders, globs or --list FILE")
    if workers < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if isinstance(executor, str) and executor not in EXECUTORS and executor not in ("thread", "process"):
        raise UsageError(f"executor must be 'thread' or 'process' or one of {', '.join(EXECUTORS)}, not {executor!r}")
    if not output.parent.is_dir():
        raise OutputError(f"{output}: folder {output.parent} does not exist; create it first")
    if output.is_dir():
        raise OutputError(f"{output}: is a folder; -o takes the name of an .h5 file")
    if any(p.exists() and p.resolve() == output.resolve() for p in paths):
        raise OutputError(f"{output}: is also one of the input videos; choose another -o")
    _check_unique(paths)

    runner: Executor | None = None if isinstance(executor, str) else executor
    owned = False
    if isinstance(executor, str) and executor not in ("local", "thread", "process"):
        runner, owned = make_executor(executor, extractor=extractor, workers=workers, decoder=decoder), True
    try:
        return _extract_batch(
            paths, output, cfg, extractor=extractor, workers=workers, executor=executor, runner=runner,
            decoder=decoder, progress=progress, t0=t0,
        )
    finally:
        if owned:
            getattr(runner, "close", lambda: None)()


def _extract_batch(
    paths: list[Path], output: Path, cfg: FeaturesConfig, *, extractor: "Extractor | None", workers: int,
    executor: str | Executor, runner: Executor | None, decoder: Decoder, progress: ProgressFn | None, t0: float,
) -> BatchResult:
    # an executor whose extractor lives elsewhere (Ray's actors) says what it computes
    describe = getattr(runner, "describe", None)
    if extractor is None and describe is None:
        from vidsum.features import make_extractor

        extractor = make_extractor(cfg)
    desc = describe(cfg, progress) if describe is not None else _describe(extractor, cfg.sample_fps)  # type: ignore[arg-type]
    done_keys: set[str] = set()
    if output.exists():
        done_keys, old = _groups_of(output)
        if old is None:
            raise OutputError(
                f"{output}: exists but was not written by `vidsum features` (no extractor description); "
                "choose another -o so that it is not modified"
            )
        if not _same_extractor(old, desc):
            raise UsageError(
                f"{output}: was made with a different extractor ({old.get('backbone')}, weights "
                f"{str(old.get('weights_sha256'))[:12]}, {old.get('sample_fps')} fps) than this run "
                f"({desc.get('backbone')}, weights {str(desc.get('weights_sha256'))[:12]}, "
                f"{desc.get('sample_fps')} fps); features of one file must come from one extractor. "
                "Use another -o or the same options as before"
            )
    folder = parts_dir(output)
    folder.mkdir(exist_ok=True)
    done_keys |= set(_scan_parts(folder, desc))

    result = BatchResult(output=output)
    todo: list[tuple[Path, str]] = []
    for p in paths:
        k = video_key(p)
        if k in done_keys:
            result.skipped.append(k)
        else:
            todo.append((p, k))
    n_total = len(paths)
    n_done = len(result.skipped)
    report(progress, "videos", n_done, n_total)

    from vidsum.video import probe

    def check(p: Path) -> Any:
        """VideoInfo, or the reason the video cannot be used (a str)."""
        try:
            if not p.is_file():
                raise InputError(f"{p}: file not found")
            return probe(p)
        except VidsumError as exc:
            return str(exc)
        except Exception as exc:  # one odd file must not stop the batch
            return f"{type(exc).__name__}: {exc}"

    readable: list[tuple[str, Path]] = []
    infos: dict[str, Any] = {}
    # probing runs `ffmpeg -i` per file: a few in parallel so that thousands of files start quickly
    with ThreadPoolExecutor(max_workers=max(2, workers), thread_name_prefix="vidsum-probe") as probes:
        for (p, k), info in zip(todo, probes.map(check, [p for p, _ in todo])):
            if isinstance(info, str):
                result.failed.append((p, info))
                log.info("skipping %s: %s", p, info)
                continue
            readable.append((k, p))
            infos[k] = info
    n_done += len(result.failed)
    report(progress, "videos", n_done, n_total)
    report(progress, "frames", 0, sum(expected_steps(i, cfg.sample_fps) for i in infos.values()))

    if readable:
        if runner is None:
            if executor in ("thread", "process"):
                executor, decoder = "local", executor  # type: ignore[assignment]
            runner = make_executor(str(executor), extractor=extractor, workers=workers, decoder=decoder)
        # KTS and the part write run in one background thread, so the model keeps working meanwhile
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidsum-write")
        writing: dict[Future, tuple[str, Path]] = {}

        def harvest(wait: bool) -> None:
            nonlocal n_done
            for fut in [f for f in writing if wait or f.done()]:
                key, path = writing.pop(fut)
                try:
                    fut.result()
                    result.extracted.append(key)
                except VidsumError as exc:
                    result.failed.append((path, str(exc)))
                n_done += 1
                report(progress, "videos", n_done, n_total)

        try:
            for res in runner.run(readable, cfg, progress, infos=infos):
                harvest(wait=False)
                result.sampled_frames += res.n_sampled
                if res.features is not None:
                    writing[writer.submit(_write_part, folder, res.key, res.path, res.features, desc)] = (res.key, res.path)
                    continue
                result.failed.append((res.path, res.error or "unknown error"))
                log.info("skipping %s: %s", res.path, result.failed[-1][1])
                n_done += 1
                report(progress, "videos", n_done, n_total)
            harvest(wait=True)
        finally:
            writer.shutdown(wait=True, cancel_futures=True)

    merge_parts(output, desc)
    result.seconds = time.perf_counter() - t0
    return result
