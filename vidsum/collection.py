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
from typing import Any, Callable, Iterator, Sequence

from vidsum.errors import InputError, OutputError, UsageError
from vidsum.io import write_json
from vidsum.progress import ProgressFn, report

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


# summarize_one(src, clip, json, progress, features) -> Summary; features None: decode here
SummarizeOne = Callable[[Path, Path, Path, "ProgressFn | None", Any], Any]
# features_of([(key, path), ...]) -> iterator of (key, path, Features | None, error | None)
FeaturesOf = Callable[[list[tuple[str, Path]]], Iterator[tuple[str, Path, Any, "str | None"]]]


def summarize_collection(
    videos: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    summarize_one: SummarizeOne,
    *,
    features_of: FeaturesOf | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
) -> CollectionResult:
    """Summarize every video into ``outdir`` (NAME.summary.mp4 + NAME.summary.json each) and keep
    ``outdir/index.json`` up to date.

    ``summarize_one(src, clip, json, progress, features)`` does one video with models that are
    already loaded and returns its ``Summary``. ``features_of``: an executor run that yields the
    features of the videos as they finish (Ray); without it each video is decoded by
    ``summarize_one`` in turn. Finished videos are skipped unless ``overwrite``. Progress:
    "videos" (done of all) plus the stages of the current video.
    """
    t0 = time.perf_counter()
    outdir = Path(outdir).expanduser()
    paths = [Path(v).expanduser() for v in videos]
    if not paths:
        raise InputError("no videos given; pass video files, folders, globs or --list FILE")
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir}: is a file; with several videos -o names a folder (it is created)")
    outdir.mkdir(parents=True, exist_ok=True)
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise OutputError(f"{outdir}: the folder is not writable; choose another -o or fix its permissions")
    index_path = outdir / INDEX_NAME
    old = read_index(index_path)
    names = assign_names(paths, {k: e.name for k, e in old.items()})
    entries: dict[str, Entry] = dict(old)
    for p in paths:
        k = _key(p)
        if k in entries:
            continue
        n = names[k]
        entries[k] = Entry(input=k, name=n, output=str(outdir / f"{n}{CLIP_SUFFIX}"), json=str(outdir / f"{n}{JSON_SUFFIX}"))
    for p in paths:
        if any(Path(e.output) == p.resolve() or Path(e.json) == p.resolve() for e in entries.values()):
            raise UsageError(f"{p}: is both an input and an output in {outdir}; put the summaries in another folder")

    result = CollectionResult(outdir=outdir, index=index_path)
    todo: list[Path] = []
    for p in paths:
        e = entries[_key(p)]
        if finished(e) and not overwrite:
            e.status = "ok"
            result.skipped.append(p)
        else:
            e.status, e.error = "pending", None
            todo.append(p)
    write_index(index_path, entries)
    n_total, n_done = len(paths), len(result.skipped)
    report(progress, "videos", n_done, n_total)
    last_write = time.monotonic()
    if features_of is None:
        work: Iterator[tuple[str, Path, Any, str | None]] = ((_key(p), p, None, None) for p in todo)
    else:
        work = features_of([(_key(p), p) for p in todo])
    try:
        for k, p, feats, error in work:
            e = entries[k]
            try:
                if error is not None:
                    raise InputError(error)
                summary = summarize_one(p, Path(e.output), Path(e.json), progress, feats)
            except (OSError, RuntimeError, ValueError) as exc:  # one odd file must not stop the run
                e.status, e.error = "failed", f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                from vidsum.errors import VidsumError

                if not isinstance(exc, VidsumError) or isinstance(exc, UsageError):
                    raise
                e.status, e.error = "failed", str(exc)
            else:
                e.status = "ok"
                e.duration_s = round(float(summary.input_duration_s), 3)
                e.summary_duration_s = round(float(summary.summary_duration_s), 3)
                result.summarized.append(p)
            if e.status == "failed":
                result.failed.append((p, e.error or ""))
                log.info("skipping %s: %s", p, e.error)
            n_done += 1
            report(progress, "videos", n_done, n_total)
            if time.monotonic() - last_write >= INDEX_EVERY_S:
                write_index(index_path, entries)
                last_write = time.monotonic()
    finally:
        write_index(index_path, entries)
    result.seconds = time.perf_counter() - t0
    return result
