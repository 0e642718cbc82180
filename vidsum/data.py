"""The eccv16 HDF5 schema (SumMe / TVSum / OVP / YouTube), read and written in one place.

One group per video (``video_1`` ...), holding:

    features         (n_steps, D) float32     one feature vector per sampled frame ("step")
    picks            (n_steps,) int           frame index of each step, strictly increasing
    n_frames         scalar int               frames in the original video
    n_steps          scalar int               == len(picks)
    change_points    (n_shots, 2) int         inclusive (first, last) frame of each shot; they
                                              tile [0, n_frames - 1] without gaps or overlaps
    n_frame_per_seg  (n_shots,) int           frames per shot
    gtscore          (n_steps,) float         mean user importance per step (training target)
    user_summary     (n_users, n_frames) 0/1  each user's keyshot summary
    user_scores      (n_users, n_frames)      optional: per-frame importance (TVSum's 1-5 scores)
    gtsummary        (n_frames,)              optional
    video_name       bytes                    optional
    fps, duration    scalars                  optional: written by ``vidsum features``

Files written by ``vidsum features`` also hold, per group, ``source_path`` (the video file), and
a root attribute ``extractor``: the JSON ``Extractor.describe()`` of what made the features.
While a batch runs, each finished video is a one-group "part" file of the same layout; the parts
are merged into the output at the end (``vidsum.extraction``).

Videos are named ``FILE_STEM/video_k`` so that several files can be used at once. Every problem
is a DatasetError that names the file, the video group and the key. This is the only module that
opens HDF5 files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from vidsum.errors import DatasetError

if TYPE_CHECKING:
    import h5py

log = logging.getLogger(__name__)

EXTRACTOR_ATTR = "extractor"  # root attribute: JSON description of the feature extractor
SOURCE_PATH = "source_path"  # per group: the video file the features came from
# Keys every video group must hold; the annotation keys only when annotations are required.
REQUIRED_KEYS = ("features", "picks", "n_frames", "change_points", "n_frame_per_seg")
ANNOTATION_KEYS = ("gtscore", "user_summary")
_FIX_SCHEMA = "Fix: rebuild the file with `vidsum features` / `vidsum dataset build`, or use an unmodified eccv16 file"
_FIX_ANNOTATIONS = (
    "Fix: use a complete eccv16 file (this command needs annotations; feature-only files from "
    "`vidsum features` cannot be used here)"
)
SCHEMA_KEYS = (
    "features",
    "picks",
    "n_frames",
    "n_steps",
    "change_points",
    "n_frame_per_seg",
    "gtscore",
    "user_summary",
    "user_scores",
    "gtsummary",
    "video_name",
)


@dataclass
class VideoRecord:
    """One video of an eccv16-schema file, validated.

    features: (n_steps, D) float32; picks: (n_steps,) int64; change_points: (n_shots, 2) int64
    inclusive; n_frame_per_seg: (n_shots,) int64; gtscore: (n_steps,) float32;
    user_summary: (n_users, n_frames) float32 0/1; user_scores: (n_users, n_frames) float32;
    gtsummary: (n_frames,) float32. Annotation fields are None when the file has none.
    """

    key: str
    source: Path
    features: np.ndarray
    picks: np.ndarray
    n_frames: int
    change_points: np.ndarray
    n_frame_per_seg: np.ndarray
    gtscore: np.ndarray | None = None
    user_summary: np.ndarray | None = None
    user_scores: np.ndarray | None = None
    gtsummary: np.ndarray | None = None
    video_name: str | None = None
    fps: float | None = None
    duration: float | None = None

    @property
    def n_steps(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_shots(self) -> int:
        return int(self.change_points.shape[0])

    @property
    def group(self) -> str:
        """The HDF5 group name inside its file ("video_3")."""
        return self.key.split("/", 1)[-1]


def _natural_key(name: str) -> list[Any]:
    # video_2 before video_10 (h5py lists groups alphabetically).
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _fail(path: Path | str, group: str, key: str | None, cause: str, fix: str) -> DatasetError:
    where = f"{path}: video {group!r}" + (f", key {key!r}" if key else "")
    return DatasetError(f"{where}: {cause}. {fix}")


def _to_scalar_int(value: np.ndarray, path: Path | str, group: str, key: str) -> int:
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number):
        raise _fail(path, group, key, f"expected one number, got shape {arr.shape} {arr.dtype}", _FIX_SCHEMA)
    v = float(arr.reshape(()))
    if not np.isfinite(v) or v != int(v):
        raise _fail(path, group, key, f"expected an integer, got {v}", _FIX_SCHEMA)
    return int(v)


def _to_scalar_float(value: np.ndarray, path: Path | str, group: str, key: str) -> float:
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number):
        raise _fail(path, group, key, f"expected one number, got shape {arr.shape} {arr.dtype}", _FIX_SCHEMA)
    v = float(arr.reshape(()))
    if not np.isfinite(v):
        raise _fail(path, group, key, f"value is {v}", _FIX_SCHEMA)
    return v


def _numeric(value: Any, path: Path | str, group: str, key: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise _fail(path, group, key, f"expected numbers, got dtype {arr.dtype}", _FIX_SCHEMA)
    if arr.ndim != ndim:
        raise _fail(path, group, key, f"expected {ndim}-D array, got shape {arr.shape}", _FIX_SCHEMA)
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise _fail(path, group, key, f"{bad} value(s) are NaN or inf", _FIX_SCHEMA)
    return arr


def _integral(arr: np.ndarray, path: Path | str, group: str, key: str) -> np.ndarray:
    if np.issubdtype(arr.dtype, np.floating) and not np.all(arr == np.round(arr)):
        raise _fail(path, group, key, "expected integer frame indices, found fractions", _FIX_SCHEMA)
    return arr.astype(np.int64)


def validate_video(
    arrays: Mapping[str, Any], path: Path | str, group: str, require_annotations: bool = True
) -> dict[str, Any]:
    """Check one video's arrays against the schema; return them converted to canonical dtypes.

    ``arrays`` maps schema keys to numpy arrays (missing optional keys may be absent). Raises
    DatasetError naming ``path``, ``group`` and the offending key.
    """
    need = REQUIRED_KEYS + (ANNOTATION_KEYS if require_annotations else ())
    for key in need:
        if key not in arrays:
            raise _fail(path, group, key, "missing", _FIX_ANNOTATIONS if key in ANNOTATION_KEYS else _FIX_SCHEMA)

    out: dict[str, Any] = {}
    features = _numeric(arrays["features"], path, group, "features", 2)
    n_steps = features.shape[0]
    if n_steps < 1 or features.shape[1] < 1:
        raise _fail(path, group, "features", f"empty array of shape {features.shape}", _FIX_SCHEMA)
    out["features"] = features.astype(np.float32, copy=False)

    n_frames = _to_scalar_int(arrays["n_frames"], path, group, "n_frames")
    if n_frames < 1:
        raise _fail(path, group, "n_frames", f"must be >= 1, got {n_frames}", _FIX_SCHEMA)
    out["n_frames"] = n_frames

    if "n_steps" in arrays:
        declared = _to_scalar_int(arrays["n_steps"], path, group, "n_steps")
        if declared != n_steps:
            raise _fail(path, group, "n_steps", f"says {declared} but features has {n_steps} rows", _FIX_SCHEMA)

    picks = _integral(_numeric(arrays["picks"], path, group, "picks", 1), path, group, "picks")
    if picks.shape != (n_steps,):
        raise _fail(path, group, "picks", f"shape {picks.shape}, expected ({n_steps},) to match features", _FIX_SCHEMA)
    if picks.min() < 0 or picks.max() >= n_frames:
        raise _fail(
            path, group, "picks", f"frame indices {picks.min()}..{picks.max()} out of range [0, {n_frames - 1}]", _FIX_SCHEMA
        )
    if n_steps > 1 and np.any(np.diff(picks) <= 0):
        raise _fail(path, group, "picks", "frame indices are not strictly increasing", _FIX_SCHEMA)
    out["picks"] = picks

    cps = _integral(_numeric(arrays["change_points"], path, group, "change_points", 2), path, group, "change_points")
    if cps.shape[0] < 1 or cps.shape[1] != 2:
        raise _fail(path, group, "change_points", f"shape {cps.shape}, expected (n_shots, 2)", _FIX_SCHEMA)
    if cps[0, 0] != 0 or cps[-1, 1] != n_frames - 1:
        raise _fail(
            path,
            group,
            "change_points",
            f"shots span frames {cps[0, 0]}..{cps[-1, 1]} but the video has frames 0..{n_frames - 1}",
            _FIX_SCHEMA,
        )
    if np.any(cps[:, 1] < cps[:, 0]) or np.any(cps[1:, 0] != cps[:-1, 1] + 1):
        raise _fail(
            path, group, "change_points", "shots do not tile the video (gap, overlap or reversed shot)", _FIX_SCHEMA
        )
    out["change_points"] = cps

    nfps = _integral(_numeric(arrays["n_frame_per_seg"], path, group, "n_frame_per_seg", 1), path, group, "n_frame_per_seg")
    if nfps.shape != (cps.shape[0],):
        raise _fail(
            path, group, "n_frame_per_seg", f"shape {nfps.shape}, expected ({cps.shape[0]},) to match change_points", _FIX_SCHEMA
        )
    if np.any(nfps != cps[:, 1] - cps[:, 0] + 1):
        # Selection uses change_points; only note the inconsistency.
        log.debug("%s/%s: n_frame_per_seg disagrees with change_points; change_points are used", path, group)
    out["n_frame_per_seg"] = nfps

    if "gtscore" in arrays:
        gt = _numeric(arrays["gtscore"], path, group, "gtscore", 1)
        if gt.shape != (n_steps,):
            raise _fail(path, group, "gtscore", f"shape {gt.shape}, expected ({n_steps},) to match features", _FIX_SCHEMA)
        out["gtscore"] = gt.astype(np.float32)

    for key in ("user_summary", "user_scores"):
        if key not in arrays:
            continue
        arr = _numeric(arrays[key], path, group, key, 2)
        if arr.shape[0] < 1 or arr.shape[1] != n_frames:
            raise _fail(path, group, key, f"shape {arr.shape}, expected (n_users, {n_frames})", _FIX_SCHEMA)
        if key == "user_summary" and not np.all((arr == 0) | (arr == 1)):
            raise _fail(path, group, key, "values other than 0 and 1", _FIX_SCHEMA)
        out[key] = arr.astype(np.float32)

    if "gtsummary" in arrays:
        gs = _numeric(arrays["gtsummary"], path, group, "gtsummary", 1)
        if gs.shape != (n_frames,):
            raise _fail(path, group, "gtsummary", f"shape {gs.shape}, expected ({n_frames},)", _FIX_SCHEMA)
        out["gtsummary"] = gs.astype(np.float32)

    if "video_name" in arrays and arrays["video_name"] is not None:
        name = arrays["video_name"]
        name = np.asarray(name).reshape(-1)[0] if np.asarray(name).size == 1 else name
        out["video_name"] = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)

    for key in ("fps", "duration"):
        if key in arrays:
            out[key] = _to_scalar_float(arrays[key], path, group, key)
    return out


def _open_h5(path: Path) -> "h5py.File":
    import h5py

    if not path.exists():
        raise DatasetError(f"{path}: file not found. Fix: check the path given to --data")
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder, not an HDF5 file. Fix: pass the .h5 file itself")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(
            f"{path}: not a readable HDF5 file ({exc}). Fix: pass an eccv16 .h5 dataset or a file "
            "written by `vidsum features`; re-download it if it is truncated"
        ) from None


def _read_group(group: "h5py.Group", path: Path, name: str) -> dict[str, Any]:
    import h5py

    arrays: dict[str, Any] = {}
    for key in SCHEMA_KEYS + ("fps", "duration"):
        if key not in group:
            continue
        item = group[key]
        if not isinstance(item, h5py.Dataset):
            raise _fail(path, name, key, "is a group, expected a dataset", _FIX_SCHEMA)
        try:
            arrays[key] = item[()]
        except (OSError, ValueError, TypeError) as exc:
            raise _fail(path, name, key, f"cannot be read ({exc})", "Fix: the file is corrupt; re-create it") from None
    return arrays


def load_datasets(paths: Sequence[str | Path], require_annotations: bool = True) -> dict[str, VideoRecord]:
    """Read and validate eccv16-schema files; return records keyed "FILE_STEM/video_k", in order.

    Files keep the order given; videos inside a file are in natural order (video_2 before
    video_10). Two files with the same stem, a missing key, a wrong shape, NaN/inf, picks out of
    range, shots not tiling the video, or a file that is not HDF5 raise DatasetError.
    ``require_annotations=False`` also accepts feature-only files (no gtscore / user_summary).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise DatasetError("no dataset file given. Fix: pass at least one --data FILE.h5")
    records: dict[str, VideoRecord] = {}
    stems: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        stem = path.stem
        if stem in stems:
            raise DatasetError(
                f"{path}: has the same name stem {stem!r} as {stems[stem]}, so their videos would share "
                f"keys '{stem}/video_k'. Fix: rename one of the files"
            )
        stems[stem] = path
        with _open_h5(path) as f:
            import h5py

            names = sorted((n for n in f.keys() if isinstance(f[n], h5py.Group)), key=_natural_key)
            if not names:
                raise DatasetError(
                    f"{path}: holds no video groups. Fix: pass an eccv16 dataset (groups video_1, video_2, ...)"
                )
            for name in names:
                arrays = _read_group(f[name], path, name)
                clean = validate_video(arrays, path, name, require_annotations)
                records[f"{stem}/{name}"] = VideoRecord(key=f"{stem}/{name}", source=path, **clean)
        log.debug("read %d videos from %s", len(names), path)
    return records


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
        return value
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.dtype.kind in "SO" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_file_attrs(path: str | Path) -> dict[str, Any]:
    """The root attributes of an HDF5 file as plain Python values ({} when there are none).

    Strings holding JSON objects or lists (e.g. the "extractor" description written by
    ``vidsum features``) are decoded; bytes become str; numpy values become Python values.
    """
    path = Path(path)
    with _open_h5(path) as f:
        return {str(k): _plain(v) for k, v in f.attrs.items()}


def write_video_group(
    h5: "h5py.File",
    name: str,
    *,
    features: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    change_points: np.ndarray,
    gtscore: np.ndarray | None = None,
    user_summary: np.ndarray | None = None,
    user_scores: np.ndarray | None = None,
    gtsummary: np.ndarray | None = None,
    video_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write one video group in exactly the eccv16 schema (the only writer of the schema).

    features (n_steps, D) float; picks (n_steps,) int; change_points (n_shots, 2) inclusive
    int; gtscore (n_steps,); user_summary / user_scores (n_users, n_frames); gtsummary
    (n_frames,). ``n_steps`` and ``n_frame_per_seg`` are derived. ``extra`` holds additional
    scalars, strings or arrays (fps, duration, source_path); it may not shadow schema keys.
    An existing group ``name`` is replaced. Inputs are validated first (DatasetError).
    """
    path = h5.filename
    cps = np.asarray(change_points)
    arrays: dict[str, Any] = {
        "features": features,
        "picks": picks,
        "n_frames": np.asarray(n_frames),
        "change_points": cps,
        "n_frame_per_seg": (cps[:, 1] - cps[:, 0] + 1) if cps.ndim == 2 and cps.shape[-1] == 2 else cps,
    }
    for key, value in (
        ("gtscore", gtscore),
        ("user_summary", user_summary),
        ("user_scores", user_scores),
        ("gtsummary", gtsummary),
    ):
        if value is not None:
            arrays[key] = value
    extra = dict(extra or {})
    clash = sorted(set(extra) & set(SCHEMA_KEYS))
    if clash:
        raise DatasetError(f"{path}: video {name!r}: extra keys {clash} would shadow schema keys. Fix: rename them")
    for key in ("fps", "duration"):
        if key in extra and extra[key] is not None:
            arrays[key] = np.asarray(extra[key])
    clean = validate_video(arrays, path, name, require_annotations=False)

    if name in h5:
        del h5[name]
    g = h5.create_group(name)
    g.create_dataset("features", data=clean["features"].astype(np.float32))
    g.create_dataset("picks", data=clean["picks"].astype(np.int64))
    g.create_dataset("n_frames", data=np.int64(clean["n_frames"]))
    g.create_dataset("n_steps", data=np.int64(clean["features"].shape[0]))
    g.create_dataset("change_points", data=clean["change_points"].astype(np.int64))
    g.create_dataset("n_frame_per_seg", data=clean["n_frame_per_seg"].astype(np.int64))
    for key in ("gtscore", "user_summary", "user_scores", "gtsummary"):
        if key in clean:
            g.create_dataset(key, data=clean[key].astype(np.float32))
    if video_name is not None:
        g.create_dataset("video_name", data=np.bytes_(str(video_name).encode("utf-8")))
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, (str, Path)):
            g.create_dataset(key, data=np.bytes_(str(value).encode("utf-8")))
        else:
            g.create_dataset(key, data=np.asarray(value))


def resolve_key(key: str, records: Mapping[str, object]) -> str:
    """Map a user-given video name to a record key.

    Accepts the full key ("tvsum/video_3"), a path ending in a full key ("run/tvsum/video_3"),
    or the bare group name ("video_3") when exactly one loaded file holds it. Raises
    DatasetError when the name is unknown or ambiguous.
    """
    key = key.strip("/")
    if key in records:
        return key
    tail = key.split("/")[-1]
    if "/" in key:
        # "runs/x/tvsum/video_3": a full key that ends the given path.
        ends = [k for k in records if key.endswith("/" + k)]
        if len(ends) == 1:
            return ends[0]
    else:
        matches = [k for k in records if k.split("/", 1)[-1] == tail]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DatasetError(
                f"video {key!r} is ambiguous: it matches {', '.join(matches)}. "
                f"Fix: use the full key FILE_STEM/{tail}"
            )
    known = list(records)
    shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
    raise DatasetError(
        f"video {key!r} is not in the loaded datasets (known: {shown}). "
        "Fix: name videos FILE_STEM/video_k after the --data file, or just video_k"
    )


def load_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """Read a predictions file: every dataset named ``scores`` gives one video.

    The key is the path of its group ("tvsum/video_1" for /tvsum/video_1/scores, "video_1" for
    /video_1/scores); map it to a record with ``resolve_key``. Returns key -> (n,) float64
    scores (per step or per frame). Raises DatasetError for a non-HDF5 file, a file without
    ``scores`` datasets, or scores that are not a 1-D finite numeric vector.
    """
    import h5py

    path = Path(path)
    found: dict[str, np.ndarray] = {}
    problems: list[str] = []

    def visit(name: str, item: object) -> None:
        if not isinstance(item, h5py.Dataset) or name.rsplit("/", 1)[-1] != "scores":
            return
        key = name.rsplit("/", 1)[0] if "/" in name else ""
        try:
            arr = np.asarray(item[()])
        except (OSError, ValueError, TypeError) as exc:
            problems.append(f"{name}: cannot be read ({exc})")
            return
        if not np.issubdtype(arr.dtype, np.number) or arr.ndim != 1 or arr.size == 0:
            problems.append(f"{name}: expected a non-empty 1-D numeric vector, got shape {arr.shape} {arr.dtype}")
        elif not np.all(np.isfinite(arr)):
            problems.append(f"{name}: NaN or inf values")
        else:
            found[key] = arr.astype(np.float64)

    with _open_h5(path) as f:
        f.visititems(visit)
    if problems:
        raise DatasetError(f"{path}: bad predictions: {problems[0]}. Fix: write one finite score per step or frame")
    if not found or "" in found:
        raise DatasetError(
            f"{path}: no per-video 'scores' datasets (expected e.g. /video_1/scores or "
            "/tvsum/video_1/scores). Fix: write one group per video key holding a 'scores' vector"
        )
    return dict(sorted(found.items(), key=lambda kv: _natural_key(kv[0])))


def write_predictions(path: str | Path, predictions: Mapping[str, np.ndarray]) -> None:
    """Write key -> (n,) scores as /KEY/scores datasets, atomically (readable by load_predictions)."""
    import h5py

    from vidsum.io import atomic_path

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, scores in predictions.items():
                f.create_dataset(f"{key.strip('/')}/scores", data=np.asarray(scores, dtype=np.float32))


def read_extractor(path: str | Path) -> dict[str, Any] | None:
    """The extractor description a ``vidsum features`` file records (None when it has none)."""
    desc = read_file_attrs(path).get(EXTRACTOR_ATTR)
    return desc if isinstance(desc, dict) else None


def read_source_paths(path: str | Path) -> dict[str, str]:
    """Group name -> the video file it was extracted from (``source_path``; not eccv16 schema)."""
    import h5py

    out: dict[str, str] = {}
    with _open_h5(Path(path)) as h5:
        for name, group in h5.items():
            if isinstance(group, h5py.Group) and SOURCE_PATH in group:
                raw = group[SOURCE_PATH][()]
                out[name] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return out


def features_index(path: str | Path) -> tuple[set[str], dict[str, Any] | None]:
    """(group names, extractor description or None) of a features file. OSError when it is not
    a readable HDF5 file (the caller says what to do about it)."""
    import h5py

    with h5py.File(path, "r") as h5:
        groups = {k for k in h5.keys() if isinstance(h5[k], h5py.Group)}
        raw = h5.attrs.get(EXTRACTOR_ATTR)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return groups, (json.loads(raw) if raw else None)


def read_part(path: str | Path) -> dict[str, Any] | None:
    """The extractor description of a complete part file (one group named after the file's
    stem, with the extractor attribute); None for anything else, unreadable files included."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as h5:
            raw = h5.attrs.get(EXTRACTOR_ATTR)
            if path.stem not in h5 or raw is None:
                return None
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def create_file(path: str | Path, attrs: Mapping[str, Any]) -> Iterator["h5py.File"]:
    """A new HDF5 file at ``path`` (replaced if it exists) with root attributes ``attrs``
    (strings and numbers as they are, anything else as JSON); write groups with
    ``write_video_group``. Write to a temporary path (``vidsum.io.atomic_path``)."""
    import h5py

    with h5py.File(path, "w") as h5:
        for k, v in attrs.items():
            h5.attrs[k] = v if isinstance(v, (str, int, float)) else json.dumps(v, sort_keys=True)
        yield h5


def write_part(path: str | Path, key: str, extractor: Mapping[str, Any], **group: Any) -> None:
    """A one-video features file: the extractor attribute and group ``key``
    (``write_video_group`` keywords)."""
    with create_file(path, {EXTRACTOR_ATTR: dict(extractor)}) as h5:
        write_video_group(h5, key, **group)


def append_parts(path: str | Path, parts: Mapping[str, Path], extractor: Mapping[str, Any], new: bool) -> list[str]:
    """Copy the group of each part file into ``path`` (created when ``new``), unless a group of
    that name is there already, and set its extractor attribute; returns the names added."""
    import h5py

    added: list[str] = []
    with h5py.File(path, "w" if new else "a") as dst:
        dst.attrs[EXTRACTOR_ATTR] = json.dumps(dict(extractor), sort_keys=True)
        for key, part in parts.items():
            if key in dst:
                continue
            with h5py.File(part, "r") as src:
                src.copy(src[key], dst, name=key)
            added.append(key)
    return added
