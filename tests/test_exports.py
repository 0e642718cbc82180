"""exports/: the summary JSON's fields (hand-computed), its JSON round trip, and the plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidsum.exports import json_doc, plot
from vidsum.errors import OutputError, ToolError
from vidsum.io import write_json


def example(**overrides: Any) -> dict[str, Any]:
    """A 4 s, 30 fps video sampled at 2 fps: 8 steps, 3 shots, the middle one selected."""
    args: dict[str, Any] = dict(
        input_path=Path("/videos/in.mp4"),
        duration_s=4.0,
        fps=30.0,
        n_frames=120,
        width=320,
        height=240,
        sample_fps=2.0,
        picks=np.arange(0, 120, 15),
        scores=np.array([0.1, 0.2, 0.9, 0.8, 0.7, 0.3, 0.2, 0.1], dtype=np.float32),
        shots=np.array([[0, 29], [30, 89], [90, 119]]),
        shot_scores=np.array([0.15, 0.8, 0.15]),
        selected=np.array([False, True, False]),
        backbone_name="googlenet-pool5",
        backbone_weights_sha256="ab" * 32,
        backbone_fallback=False,
        scorer="dmasum",
        checkpoint_path=Path("weights/dmasum-tvsum.pt"),
        checkpoint_sha256="cd" * 32,
        budget_fraction=0.5,
        budget_seconds=None,
        budget_frames=60,
        summary_path=Path("/videos/in.summary.mp4"),
        summary_duration_s=2.0,
        timings_s={"decode_features": 1.25, "kts": 0.5, "render": 0.25},
        warnings=["no GoogLeNet weights"],
        has_audio=True,
        fast=False,
        backbone_precision="bf16",
        backbone_preprocessing="p / 127.5 - 1",
    )
    args.update(overrides)
    return args


def test_report_fields() -> None:
    rep = json_doc.build_document(**example())
    assert rep["schema_version"] == 1 and isinstance(rep["vidsum_version"], str)
    assert rep["input"] == {
        "path": "/videos/in.mp4",
        "duration_s": 4.0,
        "fps": 30.0,
        "n_frames": 120,
        "width": 320,
        "height": 240,
        "has_audio": True,
    }
    assert rep["sampling"] == {"sample_fps": 2.0, "n_steps": 8, "picks": [0, 15, 30, 45, 60, 75, 90, 105]}
    assert rep["backbone"] == {
        "name": "googlenet-pool5",
        "weights_sha256": "ab" * 32,
        "precision": "bf16",
        "preprocessing": "p / 127.5 - 1",
        "fallback": False,
    }
    assert rep["model"] == {
        "scorer": "dmasum",
        "checkpoint": "weights/dmasum-tvsum.pt",
        "sha256": "cd" * 32,
        "fallback": False,
    }
    # float32 0.1 is 0.10000000149...: stored rounded to 6 digits.
    assert rep["scores"] == [0.1, 0.2, 0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    # end_s is just after the last frame: (end_frame + 1) / fps.
    assert rep["shots"] == [
        {"start_frame": 0, "end_frame": 29, "start_s": 0.0, "end_s": 1.0, "score": 0.15, "selected": False},
        {"start_frame": 30, "end_frame": 89, "start_s": 1.0, "end_s": 3.0, "score": 0.8, "selected": True},
        {"start_frame": 90, "end_frame": 119, "start_s": 3.0, "end_s": 4.0, "score": 0.15, "selected": False},
    ]
    assert rep["budget"] == {"fraction": 0.5, "seconds": None, "frames": 60}
    assert rep["summary"] == {
        "path": "/videos/in.summary.mp4",
        "duration_s": 2.0,
        "n_shots": 1,
        "n_frames": 60,
        "fast": False,
    }
    assert rep["timings_s"] == {"decode_features": 1.25, "kts": 0.5, "render": 0.25, "total": 2.0}
    given = json_doc.build_document(**example(timings_s={"kts": 0.5, "total": 3.5}))
    assert given["timings_s"] == {"kts": 0.5, "total": 3.5}
    assert rep["warnings"] == ["no GoogLeNet weights"]


def test_fallback_scorer_and_length_budget() -> None:
    rep = json_doc.build_document(
        **example(
            scorer="unsupervised-repr-div",
            checkpoint_path=None,
            checkpoint_sha256=None,
            backbone_name="colour-texture",
            backbone_weights_sha256=None,
            backbone_fallback=True,
            budget_fraction=None,
            budget_seconds=90.0,
        )
    )
    assert rep["model"] == {"scorer": "unsupervised-repr-div", "checkpoint": None, "sha256": None, "fallback": True}
    assert rep["backbone"]["fallback"] is True and rep["backbone"]["weights_sha256"] is None
    assert rep["budget"] == {"fraction": None, "seconds": 90.0, "frames": 60}


def test_json_round_trip(tmp_path: Path) -> None:
    rep = json_doc.build_document(**example(fps=30000 / 1001))
    path = tmp_path / "out.json"
    write_json(path, rep)
    assert json.loads(path.read_text()) == rep
    # 29.97 fps: frame 30 starts at 30 * 1001 / 30000 = 1.001 s.
    assert rep["shots"][1]["start_s"] == 1.001 and rep["shots"][1]["end_s"] == 3.003


def test_empty_selection_and_no_shots() -> None:
    rep = json_doc.build_document(
        **example(shots=np.zeros((0, 2), int), shot_scores=[], selected=[], summary_duration_s=0.0, summary_path=None)
    )
    assert rep["shots"] == [] and rep["summary"]["n_shots"] == 0 and rep["summary"]["n_frames"] == 0


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(scores=np.ones(7)), "one entry per step"),
        (dict(scores=np.array([0.1, np.nan, 0, 0, 0, 0, 0, 0])), "NaN"),
        (dict(selected=[True, False]), "one entry per shot"),
        (dict(shots=np.array([[0, 29], [40, 30], [90, 119]])), "start_frame <= end_frame"),
        (dict(shots=np.array([0, 29, 30])), r"\(n_shots, 2\)"),
        (dict(budget_seconds=10.0), "exactly one"),
        (dict(picks=np.arange(8) * 15.5), "whole numbers"),
        (dict(timings_s={"kts": float("inf")}), "finite"),
    ],
)
def test_inconsistent_inputs_are_refused(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        json_doc.build_document(**example(**overrides))


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    times = np.arange(0, 120, 15) / 30.0
    scores = [0.1, 0.2, 0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    shots = [[0.0, 1.0], [1.0, 3.0], [3.0, 4.0]]
    path = tmp_path / "plot.png"
    plot.plot_summary(path, times, scores, shots, [False, True, False], title="in.mp4")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1800, 600)
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_plot_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"\.png"):
        plot.plot_summary(tmp_path / "plot.gif", [0.0], [0.5], [[0.0, 1.0]], [True])


def test_missing_matplotlib_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import matplotlib` raise ImportError.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ToolError, match=r'pip install "vidsum\[plot\]"'):
        plot.plot_summary(tmp_path / "plot.png", [0.0], [0.5], [[0.0, 1.0]], [True])
    assert list(tmp_path.iterdir()) == []
