"""PNG figures of ``vidsum.experiments`` (Figures 3, 5, 6 and 7 of the paper).

Each function takes the plain data that results.json holds and writes one PNG atomically. The
Agg canvas is used directly (no pyplot): no global backend switch, no GUI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vidsum.errors import ToolError
from vidsum.io import atomic_path

FIGURE_DPI = 120
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
# Figure 5's systems: magenta first (the paper's), never red (the annotators' colour).
CURVE_COLORS = ("magenta", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:gray")


def check_figures_available() -> None:
    """Raise ToolError before any training when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ToolError(
            'matplotlib is not installed, so the experiment cannot draw its figures; install it with '
            '`pip install "vidsum[plot]"`'
        ) from None


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=FIGURE_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png")


def plot_rank(
    path: str | os.PathLike[str], buckets: Mapping[str, Any], systems: Sequence[str], labels: Sequence[str], title: str
) -> None:
    """Figure 3: per channel, mean F1 (top) and number of videos (bottom) per bucket of D.

    buckets[system]["buckets"][channel] = [{"bucket", "videos", "mean_f1"}, ...] (results.json).
    """
    channels = [ch for ch in ("visual", "sequential") if any(ch in buckets[s]["buckets"] for s in systems)]
    fig = _figure(5.0 * max(1, len(channels)), 6.5)
    axes = fig.subplots(2, max(1, len(channels)), squeeze=False)
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(systems))
    for c, ch in enumerate(channels):
        for i, s in enumerate(systems):
            rows = buckets[s]["buckets"].get(ch)
            if rows is None:
                continue
            f1 = [100 * r["mean_f1"] if r["mean_f1"] is not None else 0.0 for r in rows]
            n = [r["videos"] for r in rows]
            offset = (i - (len(systems) - 1) / 2) * width
            label = buckets[s]["label"]
            axes[0, c].bar(x + offset, f1, width, color=COLORS[i % len(COLORS)], label=label)
            axes[1, c].bar(x + offset, n, width, color=COLORS[i % len(COLORS)], label=label)
        letter = "abcd"
        axes[0, c].set_title(f"({letter[c]}) {ch} channel: mean F1")
        axes[1, c].set_title(f"({letter[c + len(channels)]}) {ch} channel: videos")
        axes[0, c].set_ylabel("F1 (%)")
        axes[1, c].set_ylabel("number of videos")
        for r in range(2):
            axes[r, c].set_xticks(x, labels)
            axes[r, c].set_xlabel("D = T - rank(A)")
            axes[r, c].legend(fontsize="small")
            axes[r, c].grid(axis="y", alpha=0.3)
    fig.suptitle(f"Rank deficit of the attention matrices ({title})")
    _save(fig, path)


def plot_curves(path: str | os.PathLike[str], videos: Mapping[str, Any]) -> None:
    """Figure 5: one panel per video; annotators (red), random (black dashed), bounds, systems."""
    n = max(1, len(videos))
    fig = _figure(5.0 * n, 4.5)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (key, v) in zip(axes, videos.items()):
        (ux, uy), (lx, ly) = v["upper"], v["lower"]
        ax.fill_between(ux, uy, np.interp(ux, lx, ly), color="lightblue", alpha=0.5, label="attainable range")
        for i, a in enumerate(v["annotators"]):
            ax.plot(a["x"], a["y"], color="red", linewidth=0.6, alpha=0.7, label="annotators" if i == 0 else None)
        ax.plot([0, 1], [0, 1], "k--", linewidth=1.2, label="random (expectation)")
        for i, (name, s) in enumerate(v["systems"].items()):
            color = CURVE_COLORS[i % len(CURVE_COLORS)]
            ax.plot(s["x"], s["y"], color=color, linewidth=2.0, label=f"{s['label']} (τ {s['kendall']:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("share of frames, ranked by score")
        ax.set_ylabel("share of reference importance")
        ax.set_title(key if not v.get("video_name") else f"{key}\n{v['video_name']}", fontsize="medium")
        ax.legend(fontsize="x-small", loc="lower right")
    _save(fig, path)


def plot_learners(path: str | os.PathLike[str], curves: Mapping[str, Sequence[Mapping[str, Any]]], meta: Mapping[str, tuple]) -> None:
    """Figure 6: F1 (mean ± std over folds) against m, one panel per dataset; the paper's m dashed.

    meta[dataset] = (title, f1 key, paper's m or None).
    """
    n = max(1, len(curves))
    fig = _figure(4.5 * n, 3.8)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for i, (ax, (stem, points)) in enumerate(zip(axes, curves.items())):
        title, key, paper_m = meta[stem]
        pts = sorted(points, key=lambda p: p["inner_steps"])
        m = [p["inner_steps"] for p in pts]
        mean = [100 * p["mean"][key] for p in pts]
        std = [100 * p["std"][key] for p in pts]
        ax.errorbar(m, mean, yerr=std, marker="o", capsize=3, color=COLORS[i % len(COLORS)])
        if paper_m is not None:
            ax.axvline(paper_m, color="0.5", linestyle="--", label=f"paper's m = {paper_m}")
            ax.legend(fontsize="small")
        ax.set_xticks(m)
        ax.set_xlabel("inner steps m (recurrent Learner number)")
        ax.set_ylabel(f"F1 (%), {'max' if key == 'f1_max' else 'mean'} over annotators")
        ax.set_title(f"({'abcdefgh'[i % 8]}) {title}")
        ax.grid(alpha=0.3)
    _save(fig, path)


def plot_qualitative(path: str | os.PathLike[str], entry: Mapping[str, Any]) -> None:
    """Figure 7: one panel per system; grey bars = gtscore per step, coloured = selected steps."""
    systems = list(entry["systems"].items())
    fig = _figure(10.0, 1.8 * max(1, len(systems)) + 0.6)
    axes = fig.subplots(max(1, len(systems)), 1, squeeze=False, sharex=True)[:, 0]
    gt = np.asarray(entry["gtscore"], dtype=np.float64)
    x = np.arange(gt.size)
    for i, (ax, (name, s)) in enumerate(zip(axes, systems)):
        chosen = np.asarray(s["selected_steps"], dtype=bool)
        ax.bar(x, gt, width=1.0, color="0.8", label="ground truth (gtscore)")
        ax.bar(x[chosen], gt[chosen], width=1.0, color=COLORS[i % len(COLORS)], label="selected")
        ax.set_ylabel("score")
        ax.set_title(f"({'bcdefghij'[i % 9]}) {s['label']}: F1 max {100 * s['f1_max']:.1f} %, "
                     f"avg {100 * s['f1_avg']:.1f} %", fontsize="medium", loc="left")
        ax.set_xlim(-0.5, gt.size - 0.5)
        ax.legend(fontsize="x-small", loc="upper right")
    axes[-1].set_xlabel("step (sampled frame)")
    fig.suptitle(f"{entry['video']}" + (f" ({entry['video_name']})" if entry.get("video_name") else ""))
    _save(fig, path)
