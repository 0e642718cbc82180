"""Summaries of a whole collection: `vidsum summarize VIDEOS... -o OUTDIR/`.

    videos -> names that cannot collide -> features (local pool or Ray) -> per video: shots,
    scores, selection, clip + JSON in OUTDIR -> OUTDIR/index.json, rewritten atomically

Resumable: a video whose clip and JSON are both in OUTDIR (each written through a temporary file
and a rename) is finished and skipped by the next run; the names given to videos are kept in the
index, so a later run that adds a video with the same file name does not rename earlier outputs.
A video that fails is recorded with its reason and the others go on; it is tried again next run.
The backbone and the scorer are loaded once for the whole collection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from vidsum.errors import InputError, OutputError, UsageError
from vidsum.io import write_json
from vidsum.progress import ProgressFn, report

if TYPE_CHECKING:
    from vidsum.config import SummarizeConfig

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
INDEX_FORMAT = 1
CLIP_SUFFIX = ".summary.mp4"
JSON_SUFFIX = ".summary.json"
INDEX_EVERY_S = 5.0  # seconds between index rewrites while a run goes on (and one at the end)
NAME_HASH_CHARS = 8  # hex digits of sha1(absolute input path) that tell same-named videos apart


@dataclasses.dataclass
class Entry:
    """One row of the index: where a video's summary is and how it went."""

    input: str
    name: str
    output: str
    json: str
    status: str = "pending"  # pending | ok | failed
    duration_s: float | None = None
    summary_duration_s: float | None = None
    error: str | None = None


@dataclasses.dataclass
class CollectionResult:
    """What ``summarize_collection`` did: inputs summarized now, finished before, and failed."""

    outdir: Path
    index: Path
    summarized: list[Path] = dataclasses.field(default_factory=list)
    skipped: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def _key(path: Path) -> str:
    return str(path.expanduser().resolve())


def assign_names(videos: Sequence[Path], known: dict[str, str] | None = None) -> dict[str, str]:
    """Output base names, absolute input path -> name, that cannot collide.

    A video keeps the name ``known`` (an earlier run's index) gave it. Otherwise its file stem,
    unless another input has the same stem (compared case-insensitively: macOS and Windows file
    systems would merge them), or the stem is taken: then stem-HASH, HASH = the first hex digits
    of sha1 of its absolute path, the same in every run.
    """
    known = dict(known or {})
    names: dict[str, str] = {}
    used = {n.casefold() for n in known.values()}
    stems: dict[str, int] = {}
    fresh = [_key(v) for v in videos if _key(v) not in known]
    for k in fresh:
        stems[Path(k).stem.casefold()] = stems.get(Path(k).stem.casefold(), 0) + 1
    for v in videos:
        k = _key(v)
        if k in known:
            names[k] = known[k]
            continue
        stem = Path(k).stem
        name = stem
        if stems[stem.casefold()] > 1 or name.casefold() in used:
            name = f"{stem}-{hashlib.sha1(k.encode('utf-8')).hexdigest()[:NAME_HASH_CHARS]}"
        used.add(name.casefold())
        names[k] = name
    return names


def read_index(path: Path) -> dict[str, Entry]:
    """Entries of an earlier run by absolute input path ({} when there is no index)."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = doc["videos"]
        return {r["input"]: Entry(**{f.name: r.get(f.name) for f in dataclasses.fields(Entry) if f.name in r}) for r in rows}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{path}: not an index written by `vidsum summarize` ({type(exc).__name__}: {exc}); "
            "move it away or choose another output folder"
        ) from None


def write_index(path: Path, entries: dict[str, Entry]) -> None:
    """Rewrite the index atomically: inputs in order, each with output, JSON, durations, status, error."""
    rows = [dataclasses.asdict(e) for e in entries.values()]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("ok", "failed", "pending")}
    write_json(path, {"format": INDEX_FORMAT, "counts": counts, "videos": rows})


def finished(entry: Entry) -> bool:
    """Both the clip and the JSON of a video are in place (each was renamed there complete)."""
    return Path(entry.output).is_file() and Path(entry.json).is_file()


def summarize_collection(
    videos: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    cfg: "SummarizeConfig | None" = None,
    *,
    executor: Any = None,
    workers: int = 2,
    progress: ProgressFn | None = None,
) -> CollectionResult:
    """Summarize every video into ``outdir`` (NAME.summary.mp4 + NAME.summary.json each) and keep
    ``outdir/index.json`` up to date.

    ``cfg``: the summary options shared by all videos (its output paths are ignored;
    ``cfg.overwrite`` redoes finished videos). ``executor``: None for this machine (``workers``
    decoders feeding one batched backbone, as `vidsum features`), or an Executor with a
    ``describe(cfg)``, such as ``vidsum.extraction_ray.RayExecutor``. The scorer and the backbone
    are loaded once. Shots, scores, selection and the render of finished videos run in
    ``workers`` threads beside the extraction, or on the cluster when the executor has
    ``submit_summary`` (Ray: the output folder and a checkpoint must then be on storage that
    every node mounts at the same path). Progress: "videos" and "frames" across the
    collection. A bad video is recorded in the index and in ``result.failed``; the rest go on.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from vidsum import pipeline
    from vidsum.config import SummarizeConfig
    from vidsum.errors import VidsumError

    cfg = cfg or SummarizeConfig()
    if workers < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    outdir = Path(outdir).expanduser()
    paths = [Path(v).expanduser() for v in videos]
    if not paths:
        raise InputError("no videos given; pass video files, folders, globs or --list FILE")
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir}: is a file; with several videos -o names a folder (it is created)")
    if not outdir.parent.is_dir():
        raise OutputError(f"{outdir}: the folder {outdir.parent} does not exist; create it first (mkdir -p {outdir.parent})")
    outdir.mkdir(exist_ok=True)
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise OutputError(f"{outdir}: the folder is not writable; choose another -o or fix its permissions")
    index_path = outdir / INDEX_NAME
    old = read_index(index_path)
    names = assign_names(paths, {k: e.name for k, e in old.items()})
    entries: dict[str, Entry] = dict(old)
    for p in paths:
        k = _key(p)
        if k not in entries:
            n = names[k]
            entries[k] = Entry(input=k, name=n, output=str(outdir / f"{n}{CLIP_SUFFIX}"), json=str(outdir / f"{n}{JSON_SUFFIX}"))
    inputs = {_key(p) for p in paths}
    for e in entries.values():
        if e.output in inputs or e.json in inputs:
            raise UsageError(f"{e.output}: is both an input and an output; put the summaries in another folder")

    result = CollectionResult(outdir=outdir, index=index_path)
    todo: list[Path] = []
    for p in paths:
        e = entries[_key(p)]
        if finished(e) and not cfg.overwrite:
            e.status = "ok"
            result.skipped.append(p)
        else:
            e.status, e.error = "pending", None
            todo.append(p)
    write_index(index_path, entries)
    n_total, n_done = len(paths), len(result.skipped)
    report(progress, "videos", n_done, n_total)
    if not todo:
        result.seconds = time.perf_counter() - t0
        return result

    if executor is None:
        from vidsum.extraction import LocalExecutor

        models = pipeline.load_models(cfg)
        runner: Any = LocalExecutor(extractor=models.extractor, workers=workers)
    else:
        # (the executor's workers make the features with the backbone the checkpoint asks for)
        models = pipeline.load_models(cfg, describe=executor.describe)
        runner = executor
    fcfg = models.features_config
    assert fcfg is not None  # (load_models always sets it)

    def finish(src: Path, e: Entry, feats: Any) -> Any:
        one = dataclasses.replace(cfg, output=e.output, json_path=e.json, plot_path=None, overwrite=True)
        return pipeline.summarize(src, one, models=models, features=feats)

    # An executor that can also make the summaries (Ray: a task per video, on the cluster) gets
    # them; else they are made here, in `workers` threads.
    remote = getattr(runner, "submit_summary", None)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidsum-summary")

    def submit(src: Path, e: Entry, feats: Any) -> Future:
        if remote is not None:
            return remote(cfg, models, src, Path(e.output), Path(e.json), feats)  # type: ignore[no-any-return]
        return pool.submit(finish, src, e, feats)

    in_flight = 2 * workers if remote is None else max(2 * workers, runner.summaries_in_flight())

    last_write = time.monotonic()

    def record(e: Entry, p: Path, summary: Any, error: str | None) -> None:
        nonlocal n_done, last_write
        if error is None:
            e.status, e.error = "ok", None
            durations = summary if isinstance(summary, dict) else {
                "duration_s": summary.input_duration_s, "summary_duration_s": summary.summary_duration_s,
            }
            e.duration_s = round(float(durations["duration_s"]), 3)
            e.summary_duration_s = round(float(durations["summary_duration_s"]), 3)
            result.summarized.append(p)
        else:
            e.status, e.error = "failed", error
            result.failed.append((p, error))
            log.info("skipping %s: %s", p, error)
        n_done += 1
        report(progress, "videos", n_done, n_total)
        if time.monotonic() - last_write >= INDEX_EVERY_S:
            write_index(index_path, entries)
            last_write = time.monotonic()

    running: dict[Future, tuple[Entry, Path]] = {}

    def harvest(block: bool) -> None:
        done = [f for f in running if f.done()]
        if block and not done and running:
            done = list(wait(running, return_when=FIRST_COMPLETED).done)
        for fut in done:
            e, p = running.pop(fut)
            try:
                record(e, p, fut.result(), None)
            except Exception as exc:
                cause = getattr(exc, "cause", None) or exc  # a Ray task's error carries the original
                if isinstance(cause, UsageError):
                    raise cause from None
                if isinstance(cause, VidsumError):
                    record(e, p, None, str(cause))
                elif remote is not None or isinstance(cause, (OSError, RuntimeError, ValueError)):
                    # (on a cluster: also a worker that died more often than --ray-retries)
                    record(e, p, None, f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}")
                else:
                    raise

    by_key = {_key(p): p for p in todo}
    try:
        for res in runner.run([(k, p) for k, p in by_key.items()], fcfg, progress):
            harvest(block=False)
            e, p = entries[res.key], by_key[res.key]
            if res.features is None:
                record(e, p, None, res.error or "unknown error")
                continue
            while len(running) >= in_flight:  # bounds the features held for summaries
                harvest(block=True)
            running[submit(p, e, res.features)] = (e, p)
        while running:
            harvest(block=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        write_index(index_path, entries)
    result.seconds = time.perf_counter() - t0
    return result
