"""The summary JSON document (schema version 1): built here, written as the "json" export.

``build_document`` is a pure function of plain values (numbers, arrays, dicts); the pipeline
calls it, and every export format (``vidsum.exports``) is written from the document it returns.
Every field is documented in docs/output.md; change the schema only together with
SCHEMA_VERSION and that page.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.io import write_json

SCHEMA_VERSION = 1
# Digits kept in the JSON: scores to 1e-6, times to 1 microsecond; more is noise.
SCORE_DIGITS = 6
TIME_DIGITS = 6


def build_document(
    *,
    input_path: str | os.PathLike[str],
    duration_s: float,
    fps: float,
    n_frames: int,
    width: int,
    height: int,
    sample_fps: float,
    picks: np.ndarray | Sequence[int],
    scores: np.ndarray | Sequence[float],
    shots: np.ndarray | Sequence[Sequence[int]],
    shot_scores: np.ndarray | Sequence[float],
    selected: np.ndarray | Sequence[bool],
    backbone_name: str,
    backbone_weights_sha256: str | None,
    backbone_fallback: bool,
    scorer: str,
    checkpoint_path: str | os.PathLike[str] | None,
    checkpoint_sha256: str | None,
    budget_fraction: float | None,
    budget_seconds: float | None,
    budget_frames: int,
    summary_path: str | os.PathLike[str] | None,
    summary_duration_s: float,
    timings_s: Mapping[str, float],
    warnings: Sequence[str] = (),
    has_audio: bool | None = None,
    backbone_precision: str | None = None,
    backbone_preprocessing: str | None = None,
    fast: bool | None = None,
    ffmpeg: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the summary JSON (schema version 1) as a plain dict, ready for ``json.dumps``.

    picks: (n_steps,) int, source frame index of each sampled step. scores: (n_steps,) float,
    importance of each step in [0, 1] (any finite float is accepted). shots: (n_shots, 2) int,
    [start_frame, end_frame] with the end frame INCLUDED (eccv16 change_points convention).
    shot_scores: (n_shots,) float. selected: (n_shots,) bool, the knapsack's choice.
    ``scorer`` names what produced the scores ("dmasum" or the fallback's name); a None
    ``checkpoint_path`` means the fallback scorer was used. Exactly one of ``budget_fraction``
    and ``budget_seconds`` is the user's request; ``budget_frames`` is the knapsack capacity.
    ``timings_s``: seconds per stage, e.g. {"decode_features": 10.2, "kts": 0.3, ...}; a "total"
    key is kept as given, otherwise the sum of the stages is added as "total".
    ``ffmpeg``: the binary that cut the clip ({"path", "version", "source"}; ``FFmpeg.to_dict``).
    Raises ValueError when the arrays disagree in length or hold NaN/inf (a bug upstream).
    """
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    picks_a = _int_array(picks, "picks").reshape(-1)
    scores_a = _finite(scores, "scores").reshape(-1)
    if len(picks_a) != len(scores_a):
        raise ValueError(f"picks ({len(picks_a)}) and scores ({len(scores_a)}) must have one entry per step")
    shots_a = _int_array(shots, "shots")
    if shots_a.size == 0:
        shots_a = shots_a.reshape(0, 2)
    if shots_a.ndim != 2 or shots_a.shape[1] != 2:
        raise ValueError(f"shots must be (n_shots, 2) [start_frame, end_frame], got shape {shots_a.shape}")
    if np.any(shots_a[:, 1] < shots_a[:, 0]) or np.any(shots_a < 0):
        raise ValueError("every shot needs 0 <= start_frame <= end_frame")
    shot_scores_a = _finite(shot_scores, "shot_scores").reshape(-1)
    selected_a = np.asarray(selected, dtype=bool).reshape(-1)
    if not len(shot_scores_a) == len(selected_a) == len(shots_a):
        raise ValueError(
            f"shots ({len(shots_a)}), shot_scores ({len(shot_scores_a)}) and selected ({len(selected_a)}) "
            "must have one entry per shot"
        )
    if (budget_fraction is None) == (budget_seconds is None):
        raise ValueError("give exactly one of budget_fraction and budget_seconds")
    timings = {str(k): _time(v, f"timings_s[{k!r}]") for k, v in timings_s.items()}
    # A caller's own "total" (wall clock, including what no stage covers) wins over the sum.
    total = timings.pop("total", round(sum(timings.values()), TIME_DIGITS))

    return {
        "schema_version": SCHEMA_VERSION,
        "vidsum_version": _version(),
        "ffmpeg": dict(ffmpeg) if ffmpeg is not None else None,
        "input": {
            "path": str(input_path),
            "duration_s": _time(duration_s, "duration_s"),
            "fps": float(fps),
            "n_frames": int(n_frames),
            "width": int(width),
            "height": int(height),
            "has_audio": has_audio,
        },
        "sampling": {
            "sample_fps": float(sample_fps),
            "n_steps": len(picks_a),
            "picks": picks_a.tolist(),
        },
        "backbone": {
            "name": backbone_name,
            "weights_sha256": backbone_weights_sha256,
            "precision": backbone_precision,
            "preprocessing": backbone_preprocessing,
            "fallback": bool(backbone_fallback),
        },
        "model": {
            "scorer": scorer,
            "checkpoint": None if checkpoint_path is None else str(checkpoint_path),
            "sha256": checkpoint_sha256,
            "fallback": checkpoint_path is None,
        },
        "scores": [round(float(s), SCORE_DIGITS) for s in scores_a],
        "shots": [
            {
                "start_frame": int(start),
                "end_frame": int(end),
                "start_s": round(start / fps, TIME_DIGITS),
                "end_s": round((end + 1) / fps, TIME_DIGITS),
                "score": round(float(score), SCORE_DIGITS),
                "selected": bool(keep),
            }
            for (start, end), score, keep in zip(shots_a.tolist(), shot_scores_a, selected_a)
        ],
        "budget": {
            "fraction": None if budget_fraction is None else float(budget_fraction),
            "seconds": None if budget_seconds is None else float(budget_seconds),
            "frames": int(budget_frames),
        },
        "summary": {
            "path": None if summary_path is None else str(summary_path),
            "duration_s": _time(summary_duration_s, "summary_duration_s"),
            "n_shots": int(selected_a.sum()),
            "n_frames": int(sum(e - s + 1 for (s, e), keep in zip(shots_a.tolist(), selected_a) if keep)),
            "fast": fast,
        },
        "timings_s": {**timings, "total": total},
        "warnings": [str(w) for w in warnings],
    }


def _int_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr.astype(np.float64))) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold whole numbers")
    return arr.astype(np.int64)


def _finite(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; JSON cannot store them")
    return arr


def _time(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return round(value, TIME_DIGITS)


def _version() -> str:
    from vidsum import __version__

    return __version__


def write(doc: dict[str, Any], out: Path, ctx: ExportContext) -> None:
    """The document itself, as indented JSON."""
    write_json(out, doc)


SPEC = ExportSpec(name="json", suffix=".json", write=write, description="the summary JSON document (docs/output.md)")
