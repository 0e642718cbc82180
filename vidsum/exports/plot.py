"""The ``--plot`` picture: scores over time, shot boundaries and the selected shots (PNG, PDF, SVG).

When the source video is at hand, a row of thumbnails of selected shots (at most
``PLOT_THUMBNAILS``, evenly spaced over the selection) sits above the time axis, each joined by a
line to the moment it shows, so the picture says *what* was chosen as well as when.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vidsum.errors import OutputError, ToolError
from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.io import atomic_path

logger = logging.getLogger(__name__)

PLOT_FORMATS = ("png", "pdf", "svg")
PLOT_SIZE_IN = (12.0, 4.0)  # inches; with PLOT_DPI a 1800 x 600 px PNG
PLOT_DPI = 150
TICK_STEPS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # seconds between time labels
PLOT_THUMBNAILS = 6  # thumbnails above the axis; more would be too small to see at 1800 px
THUMB_ROW_IN = 1.6  # inches added to the height for the thumbnail row
THUMB_W = 320  # px decoded per thumbnail


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
    thumbnails: Sequence[tuple[float, np.ndarray]] = (),
) -> None:
    """Draw scores over time, shot boundaries and the selected shots; write it atomically.

    step_times_s: (n_steps,) float, time of each sampled step. scores: (n_steps,) float.
    shots: (n_shots, 2) float, [start_s, end_s) of each shot in seconds (the JSON's start_s/end_s).
    selected: (n_shots,) bool. The format follows the suffix: .png, .pdf or .svg.
    thumbnails: [(time_s, (h, w, 3) uint8 RGB)] drawn in a row above the axis, in time order,
    each joined to ``time_s`` on it.
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

    thumbs = sorted(thumbnails, key=lambda t: t[0])
    size = (PLOT_SIZE_IN[0], PLOT_SIZE_IN[1] + (THUMB_ROW_IN if thumbs else 0.0))
    fig = Figure(figsize=size, dpi=PLOT_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    if thumbs:
        grid = fig.add_gridspec(2, len(thumbs), height_ratios=(THUMB_ROW_IN, PLOT_SIZE_IN[1]))
        ax = fig.add_subplot(grid[1, :])
        pics = [fig.add_subplot(grid[0, i]) for i in range(len(thumbs))]
    else:
        ax = fig.add_subplot()
        pics = []
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
    heading = f"{title}: {n_sel} of {len(spans)} shots selected, {kept_s:.1f} s of {end_s:.1f} s"
    # Above the thumbnails when there are some, so that their lines to the axis cross no text.
    if pics:
        fig.suptitle(heading)
    else:
        ax.set_title(heading)
    # Below the axes, so that it never hides scores.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    if pics:
        from matplotlib.patches import ConnectionPatch

        top = ax.get_ylim()[1]
        for pic, (at_s, image) in zip(pics, thumbs):
            pic.imshow(image)
            pic.set_xticks([])
            pic.set_yticks([])
            for spine in pic.spines.values():
                spine.set_edgecolor("tab:orange")
                spine.set_linewidth(2.0)
            pic.set_title(_clock(at_s) if end_s >= 120 else f"{at_s:.1f} s", fontsize="small")
            fig.add_artist(ConnectionPatch(
                xyA=(0.5, 0.0), coordsA=pic.transAxes, xyB=(at_s, top), coordsB=ax.transData,
                color="tab:orange", linewidth=0.8, alpha=0.8,
            ))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
    logger.info("wrote plot %s", path)


def _clock(seconds: float, _pos: Any = None) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def plot_thumbnails(doc: dict[str, Any], ctx: ExportContext | None) -> list[tuple[float, np.ndarray]]:
    """[(time_s, RGB image)] of up to PLOT_THUMBNAILS selected shots (their middle frames),
    evenly spaced over the selection; empty when the source video is not at hand."""
    from vidsum.exports.document import read_shots, source_video
    from vidsum.exports.storyboard import spread
    from vidsum.exports.thumbnails import grab_frames, thumbnail_frame

    source = source_video(doc, ctx)
    chosen = [s for s in read_shots(doc) if s.selected]
    if source is None or not chosen:
        return []
    chosen = [chosen[i] for i in spread(len(chosen), min(PLOT_THUMBNAILS, len(chosen)))]
    frames = grab_frames(source, [thumbnail_frame(s) for s in chosen], THUMB_W)
    fps = float(doc["input"]["fps"])
    return [(thumbnail_frame(s) / fps, frames[thumbnail_frame(s)]) for s in chosen if thumbnail_frame(s) in frames]


def write(doc: dict[str, Any], out: Path, ctx: ExportContext) -> None:
    """Draw the summary document ``doc``; the picture format follows ``out``'s suffix."""
    fps = float(doc["input"]["fps"])
    picks = np.asarray(doc["sampling"]["picks"], dtype=np.float64)
    shots = [[s["start_s"], s["end_s"]] for s in doc["shots"]]
    plot_summary(
        out,
        step_times_s=picks / fps,
        scores=doc["scores"],
        shots=np.asarray(shots, dtype=np.float64).reshape(-1, 2),
        selected=[s["selected"] for s in doc["shots"]],
        title=Path(str(doc["input"]["path"])).name,
        thumbnails=plot_thumbnails(doc, ctx),
    )


SPEC = ExportSpec(
    name="png", suffix=".png", write=write,
    description="scores over time, shots and the selection (.png, .pdf or .svg by suffix)",
)
