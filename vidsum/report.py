"""The summary JSON (schema version 1) and the ``--plot`` picture (issue 3, step 7).

``build_report`` is a pure function of plain values (numbers, arrays, dicts); the pipeline calls
it and writes the result with ``vidsum.io.write_json``. Every field is documented in
docs/output.md; change the schema only together with SCHEMA_VERSION and that page.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vidsum.errors import OutputError, ToolError
from vidsum.io import atomic_path

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PLOT_FORMATS = ("png", "pdf", "svg")
PLOT_SIZE_IN = (12.0, 4.0)  # inches; with PLOT_DPI a 1800 x 600 px PNG
PLOT_DPI = 150
TICK_STEPS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # seconds between time labels
# Digits kept in the JSON: scores to 1e-6, times to 1 microsecond; more is noise.
SCORE_DIGITS = 6
TIME_DIGITS = 6


def build_report(
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


def check_plot_available() -> None:
    """Raise ToolError now (before hours of work) when ``plot_summary`` could not run."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ToolError(
            'matplotlib is not installed, so --plot cannot draw; install it with `pip install "vidsum[plot]"` '
            "or leave out --plot"
        ) from None


def plot_summary(
    path: str | os.PathLike[str],
    step_times_s: np.ndarray | Sequence[float],
    scores: np.ndarray | Sequence[float],
    shots: np.ndarray | Sequence[Sequence[float]],
    selected: np.ndarray | Sequence[bool],
    title: str = "vidsum summary",
) -> None:
    """Draw scores over time, shot boundaries and the selected shots; write it atomically.

    step_times_s: (n_steps,) float, time of each sampled step. scores: (n_steps,) float.
    shots: (n_shots, 2) float, [start_s, end_s) of each shot in seconds (the JSON's start_s/end_s).
    selected: (n_shots,) bool. The format follows the suffix: .png, .pdf or .svg.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise OutputError(f"{path}: cannot draw a '{path.suffix}' picture; use .png, .pdf or .svg")
    check_plot_available()
    # The Agg canvas directly, not pyplot: no global backend switch and no GUI, safe in threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    times = np.asarray(step_times_s, dtype=np.float64).reshape(-1)
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    spans = np.asarray(shots, dtype=np.float64).reshape(-1, 2)
    chosen = np.asarray(selected, dtype=bool).reshape(-1)
    if len(times) != len(values):
        raise ValueError(f"step_times_s ({len(times)}) and scores ({len(values)}) differ in length")
    if len(spans) != len(chosen):
        raise ValueError(f"shots ({len(spans)}) and selected ({len(chosen)}) differ in length")

    fig = Figure(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    first = True
    for (start, end), keep in zip(spans, chosen):
        if keep:
            label = "selected shot" if first else None
            ax.axvspan(start, end, color="tab:orange", alpha=0.3, linewidth=0, label=label)
            first = False
    # One dashed line per shot boundary (the start of every shot but the first).
    for i, start in enumerate(spans[1:, 0]):
        ax.axvline(start, color="0.55", linestyle="--", linewidth=0.7, label="shot boundary" if i == 0 else None)
    marker = "." if len(times) <= 200 else None
    ax.plot(times, values, color="tab:blue", linewidth=1.2, marker=marker, label="score per sampled frame")
    end_s = float(max(spans[:, 1].max() if len(spans) else 0.0, times.max() if len(times) else 0.0))
    ax.set_xlim(0.0, end_s if end_s > 0 else 1.0)
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    pad = 0.05 * (high - low) if high > low else 0.05
    ax.set_ylim(min(0.0, low - pad), max(1.0, high + pad))
    ax.set_xlabel("time (mm:ss)" if end_s >= 120 else "time (s)")
    if end_s >= 120:
        from matplotlib.ticker import FuncFormatter, MultipleLocator

        # Round clock steps (10 s .. 30 min) giving at most ~12 labelled ticks.
        step = next((st for st in TICK_STEPS_S if end_s / st <= 12), TICK_STEPS_S[-1])
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(_clock))
    ax.set_ylabel("importance score")
    n_sel = int(chosen.sum())
    kept_s = float(sum(e - s for (s, e), k in zip(spans, chosen) if k))
    ax.set_title(f"{title}: {n_sel} of {len(spans)} shots selected, {kept_s:.1f} s of {end_s:.1f} s")
    # Below the axes, so that it never hides scores.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
    logger.info("wrote plot %s", path)


def _clock(seconds: float, _pos: Any = None) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


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
