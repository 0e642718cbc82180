"""Human annotations of the public benchmarks, attached to extracted features (`vidsum dataset build`).

Two formats, as the users download them:

- TVSum ``ydata-tvsum50-anno.tsv``: one line per (video, annotator),
  ``VIDEO_ID<TAB>CATEGORY<TAB>s1,s2,...`` with one integer importance score 1-5 per frame.
- SumMe ``GT/*.mat`` (MATLAB v5), one file per video named after it, with ``user_score``
  (n_frames x n_users, nonzero = the frame is in that user's summary), ``gt_score``,
  ``nFrames`` and ``FPS``.

From either, per video (the eccv16 schema): ``user_scores`` (n_users, n_frames), ``user_summary``
(n_users, n_frames) 0/1, ``gtscore`` (n_steps,) in [0, 1] and ``gtsummary`` (n_frames,) 0/1.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from vidsum.config import DEFAULT_BUDGET
from vidsum.errors import DatasetError, InputError, OutputError
from vidsum.progress import ProgressFn, report

if TYPE_CHECKING:
    from vidsum.data import VideoRecord

log = logging.getLogger(__name__)

AnnotationFormat = Literal["tvsum", "summe"]
FORMATS: tuple[str, ...] = ("tvsum", "summe")
MAX_FRAME_MISMATCH = 5  # frames; decoders disagree by a frame or two at the end of a file


@dataclasses.dataclass(frozen=True)
class Annotation:
    """The human annotation of one video.

    user_scores: (n_users, n_frames) float32; TVSum 1-5 importance, SumMe the raw ``user_score``.
    user_summary: (n_users, n_frames) float32 0/1 for SumMe (the users' own selections); None for
    TVSum, where it is derived from the scores and the video's shots.
    """

    video_id: str
    user_scores: np.ndarray
    user_summary: np.ndarray | None
    fps: float | None
    source: str

    @property
    def n_frames(self) -> int:
        return int(self.user_scores.shape[1])


@dataclasses.dataclass
class BuildReport:
    """What `build_dataset` did; the CLI prints it."""

    output: Path
    written: list[str] = dataclasses.field(default_factory=list)
    # group names in the features file that had no annotation (not written)
    unannotated: list[str] = dataclasses.field(default_factory=list)
    # annotated video ids with no features (not written)
    missing_features: list[str] = dataclasses.field(default_factory=list)
    # (video id, annotated frames, video frames) for small mismatches that were padded/trimmed
    adjusted: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)


def read_tvsum(path: str | os.PathLike[str]) -> dict[str, Annotation]:
    """Read ``ydata-tvsum50-anno.tsv``: video id -> Annotation with (n_users, n_frames) scores."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: TVSum annotation file not found; pass the path of ydata-tvsum50-anno.tsv "
            "(from the TVSum download, folder data/)"
        )
    rows: dict[str, list[np.ndarray]] = {}
    first_line: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the TVSum annotation file ({exc}); is it the .tsv file?") from exc
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 3:
            raise DatasetError(
                f"{path}:{lineno}: expected 3 tab-separated fields VIDEO_ID, CATEGORY, SCORES, got "
                f"{len(parts)}; is this ydata-tvsum50-anno.tsv?"
            )
        video_id = parts[0].strip()
        try:
            scores = np.array([int(s) for s in parts[2].split(",") if s.strip()], dtype=np.float32)
        except ValueError as exc:
            raise DatasetError(
                f"{path}:{lineno}: video {video_id}: scores must be comma-separated integers ({exc})"
            ) from exc
        if scores.size == 0:
            raise DatasetError(f"{path}:{lineno}: video {video_id} has no scores")
        if scores.min() < 1 or scores.max() > 5:
            raise DatasetError(
                f"{path}:{lineno}: video {video_id}: TVSum scores must be 1-5, found "
                f"{scores.min():g}..{scores.max():g}"
            )
        prev = rows.setdefault(video_id, [])
        if prev and prev[0].size != scores.size:
            raise DatasetError(
                f"{path}:{lineno}: video {video_id}: this annotator scored {scores.size} frames but "
                f"line {first_line[video_id]} scored {prev[0].size}; the file is damaged"
            )
        first_line.setdefault(video_id, lineno)
        prev.append(scores)
    if not rows:
        raise DatasetError(f"{path}: no annotations found; is this ydata-tvsum50-anno.tsv?")
    return {
        vid: Annotation(vid, np.stack(r), None, None, f"{path}:{first_line[vid]}") for vid, r in rows.items()
    }


def _mat_scalar(mat: dict, key: str, file: Path) -> float | None:
    if key not in mat:
        return None
    try:
        return float(np.asarray(mat[key]).ravel()[0])
    except (IndexError, TypeError, ValueError) as exc:
        raise DatasetError(f"{file}: field {key!r} is not a number ({exc})") from exc


def read_summe(folder: str | os.PathLike[str]) -> dict[str, Annotation]:
    """Read the SumMe ``GT`` folder (or its parent): video name (the .mat stem) -> Annotation."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{folder}: SumMe annotation folder not found; pass the GT folder of the SumMe download "
            "(it holds one .mat file per video)"
        )
    if not any(folder.glob("*.mat")) and (folder / "GT").is_dir():
        folder = folder / "GT"
    files = sorted(folder.glob("*.mat"))
    if not files:
        raise DatasetError(f"{folder}: no .mat files; pass the GT folder of the SumMe download")
    out: dict[str, Annotation] = {}
    for file in files:
        try:
            mat = loadmat(str(file))
        except (MatReadError, ValueError, OSError) as exc:
            raise DatasetError(f"{file}: not a readable MATLAB v5 file ({exc})") from exc
        if "user_score" not in mat:
            raise DatasetError(f"{file}: no 'user_score' field; is this a SumMe GT file?")
        us = np.asarray(mat["user_score"], dtype=np.float32)
        if us.ndim == 1:
            us = us[:, None]
        if us.ndim != 2 or us.shape[0] == 0:
            raise DatasetError(f"{file}: 'user_score' must be n_frames x n_users, got shape {us.shape}")
        n_frames = _mat_scalar(mat, "nFrames", file)
        if n_frames is not None and int(n_frames) != us.shape[0]:
            raise DatasetError(
                f"{file}: nFrames is {int(n_frames)} but user_score has {us.shape[0]} rows; the file is damaged"
            )
        scores = np.ascontiguousarray(us.T)
        out[file.stem] = Annotation(
            file.stem, scores, (scores > 0).astype(np.float32), _mat_scalar(mat, "FPS", file), str(file)
        )
    return out


def read_annotations(fmt: AnnotationFormat, path: str | os.PathLike[str]) -> dict[str, Annotation]:
    """Dispatch on ``fmt`` ("tvsum" or "summe")."""
    from vidsum.errors import UsageError

    if fmt == "tvsum":
        return read_tvsum(path)
    if fmt == "summe":
        return read_summe(path)
    raise UsageError(f"unknown annotation format {fmt!r}; use one of {', '.join(FORMATS)}")


def fit_frames(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Trim or edge-pad the last axis of ``x`` (..., m) to (..., n_frames)."""
    m = x.shape[-1]
    if m >= n_frames:
        return x[..., :n_frames]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n_frames - m)]
    return np.pad(x, pad, mode="edge")


def knapsack_summary(frame_values: np.ndarray, change_points: np.ndarray, proportion: float) -> np.ndarray:
    """(n_frames,) float32 0/1 summary: shots of largest mean value within floor(proportion * n_frames).

    frame_values: (n_frames,) per-frame importance; change_points: (n_shots, 2) inclusive frame
    ranges. This is how the public TVSum user summaries were made (mean score per shot, 0/1
    knapsack), and the same `selection` code the evaluation uses for machine summaries.
    """
    from vidsum import selection

    n_frames = int(frame_values.shape[0])
    selected = selection.select_shots(frame_values, change_points, selection.budget_frames(n_frames, proportion))
    return selection.summary_from_selection(selected, change_points, n_frames).astype(np.float32)


def scale01(x: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] float32; a constant input gives zeros (no ranking information)."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-12:
        return np.zeros_like(x, dtype=np.float32)
    return ((x - lo) / (hi - lo)).astype(np.float32)


def annotate(
    ann: Annotation,
    picks: np.ndarray,
    change_points: np.ndarray,
    n_frames: int,
    fmt: AnnotationFormat,
    proportion: float = DEFAULT_BUDGET,
) -> dict[str, np.ndarray]:
    """The eccv16 annotation arrays of one video, fitted to its ``n_frames``.

    Returns user_scores (n_users, n_frames) float32, user_summary (n_users, n_frames) float32 0/1,
    gtscore (n_steps,) float32 in [0, 1] (mean user score at the picks, min-max scaled) and
    gtsummary (n_frames,) float32 0/1 (the mean user score through the same knapsack).
    """
    scores = fit_frames(ann.user_scores.astype(np.float32), n_frames)
    if ann.user_summary is not None:
        user_summary = fit_frames(ann.user_summary.astype(np.float32), n_frames)
    else:
        user_summary = np.stack([knapsack_summary(u, change_points, proportion) for u in scores])
    # SumMe scores are selections, so their mean is the fraction of users choosing the frame
    mean = (user_summary if fmt == "summe" else scores).mean(axis=0)
    gtscore = scale01(mean[np.clip(np.asarray(picks, dtype=np.int64), 0, n_frames - 1)])
    gtsummary = knapsack_summary(mean, change_points, proportion)
    return {
        "user_scores": scores,
        "user_summary": user_summary.astype(np.float32),
        "gtscore": gtscore,
        "gtsummary": gtsummary,
    }


def build_dataset(
    features_path: str | os.PathLike[str],
    fmt: AnnotationFormat,
    annotation_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    proportion: float = DEFAULT_BUDGET,
    max_mismatch: int = MAX_FRAME_MISMATCH,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Attach annotations to the groups of a ``vidsum features`` file and write ``output`` atomically.

    An existing ``output`` is refused (OutputError) unless ``overwrite``; it is never the
    features file itself.
    Videos are matched by name: the group's ``video_name`` (the video file's stem; for TVSum the
    YouTube id), else the group name. A frame-count difference above ``max_mismatch`` frames raises
    DatasetError naming the video; a smaller one is trimmed/padded and listed in the report.
    """
    from vidsum import data
    from vidsum.io import atomic_path, check_output, same_file

    features_path, output = Path(features_path), Path(output)
    if not features_path.is_file():
        raise InputError(f"{features_path}: features file not found; make it with `vidsum features VIDEOS -o FILE`")
    if same_file(output, features_path):
        raise OutputError(f"{output}: the output would overwrite the features file; choose another name")
    check_output(output, "dataset file", [features_path, annotation_path], overwrite)
    annotations = read_annotations(fmt, annotation_path)
    records = data.load_datasets([features_path], require_annotations=False)
    attrs = data.read_file_attrs(features_path)
    built = BuildReport(output=output)

    sources = data.read_source_paths(features_path)
    matched: list[tuple[str, VideoRecord, Annotation]] = []
    seen: set[str] = set()
    for rec in records.values():
        key = rec.group
        vid = rec.video_name if rec.video_name in annotations else key
        if vid not in annotations:
            built.unannotated.append(key)
            continue
        ann = annotations[vid]
        n_frames = rec.n_frames
        diff = ann.n_frames - n_frames
        if abs(diff) > max_mismatch:
            raise DatasetError(
                f"{features_path}: video {vid} has {n_frames} frames but its annotation ({ann.source}) "
                f"has {ann.n_frames}; these are different cuts of the video. Extract features from the "
                "original benchmark file"
            )
        if diff:
            log.info(
                "%s: annotation has %d frames, video %d; %s to match",
                vid, ann.n_frames, n_frames, "trimmed" if diff > 0 else "padded",
            )
            built.adjusted.append((vid, ann.n_frames, n_frames))
        matched.append((key, rec, ann))
        seen.add(vid)
    built.missing_features = sorted(set(annotations) - seen)
    if not matched:
        raise DatasetError(
            f"{features_path}: none of its {len(records)} videos matches an annotation in "
            f"{annotation_path} (videos are matched by file stem, e.g. the YouTube id for TVSum); "
            "extract features from the benchmark's video files without renaming them"
        )
    attrs["annotations"] = json.dumps({"format": fmt, "source": str(annotation_path)})
    with atomic_path(output) as tmp:
        with data.create_file(tmp, attrs) as h5:
            for i, (key, rec, ann) in enumerate(matched):
                arrays = annotate(ann, rec.picks, rec.change_points, rec.n_frames, fmt, proportion)
                data.write_video_group(
                    h5,
                    key,
                    features=rec.features,
                    picks=rec.picks,
                    n_frames=rec.n_frames,
                    change_points=rec.change_points,
                    gtscore=arrays["gtscore"],
                    user_summary=arrays["user_summary"],
                    user_scores=arrays["user_scores"],
                    gtsummary=arrays["gtsummary"],
                    video_name=ann.video_id,
                    extra={"fps": rec.fps, "duration": rec.duration, data.SOURCE_PATH: sources.get(key)},
                )
                built.written.append(key)
                report(progress, "videos", i + 1, len(matched))
    return built
