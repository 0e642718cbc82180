"""`vidsum export SUMMARY.json --format ...` and `vidsum summarize --export ...`.

Exports are made from a summary JSON alone (recomputing nothing); bad input gets one clear
line and a non-zero exit, and nothing half-written is left.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.videogen import make_video
from vidsum import render
from vidsum.cli import app
from vidsum.errors import OutputError
from vidsum.exports import EXPORTS, ExportContext
from vidsum.exports.json_doc import build_document
from vidsum.exports.outputs import plan_exports, write_exports
from vidsum.video import sample_indices

runner = CliRunner()
ENV = {"VIDSUM_MODEL": "", "VIDSUM_DEBUG": "", "VIDSUM_OFFLINE": "1", "VIDSUM_CACHE": "/nonexistent/vidsum-test-cache"}
FPS = 25
SELECTED = (True, False, True, False)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def _error_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A summary folder as `vidsum summarize` leaves it: source, clip and JSON (known shots)."""
    folder = tmp_path_factory.mktemp("summary")
    src = folder / "talk.mp4"
    make_video(src, durations=(2.0,) * len(SELECTED), fps=FPS)
    shots = np.array([[i * 2 * FPS, (i + 1) * 2 * FPS - 1] for i in range(len(SELECTED))])
    clip = folder / "talk.summary.mp4"
    render.render_summary(src, render.segments_from_shots(shots, np.array(SELECTED), FPS), clip, fps=FPS, has_audio=True)
    n = len(SELECTED) * 2 * FPS
    picks = sample_indices(n, FPS, 2.0)
    doc = build_document(
        input_path=src, duration_s=n / FPS, fps=FPS, n_frames=n, width=320, height=240, sample_fps=2.0,
        picks=picks, scores=np.linspace(0, 1, len(picks)), shots=shots, shot_scores=[0.9, 0.2, 0.8, 0.1],
        selected=np.array(SELECTED), backbone_name="fallback", backbone_weights_sha256=None, backbone_fallback=True,
        scorer="training-free", checkpoint_path=None, checkpoint_sha256=None, budget_fraction=0.5, budget_seconds=None,
        budget_frames=n // 2, summary_path=clip, summary_duration_s=4.0, timings_s={"features": 1.0}, has_audio=True,
    )
    (folder / "talk.summary.json").write_text(json.dumps(doc))
    return folder


def test_export_writes_beside_the_json(summary: Path, tmp_path: Path) -> None:
    folder = tmp_path / "s"
    shutil.copytree(summary, folder)
    code, text = _run("export", str(folder / "talk.summary.json"), "--format", "csv,edl")
    assert code == 0, text
    rows = list(csv.DictReader((folder / "talk.summary.csv").open()))
    assert [r["selected"] for r in rows] == ["1", "0", "1", "0"]
    assert (folder / "talk.summary.edl").read_text().count(" C        ") == 2
    assert "talk.summary.edl" in text
    # existing files are refused without --overwrite, and kept as they were
    before = (folder / "talk.summary.csv").read_bytes()
    code, text = _run("export", str(folder / "talk.summary.json"), "-f", "csv")
    assert code == 1 and "already exists" in _error_line(text) and "--overwrite" in text
    assert (folder / "talk.summary.csv").read_bytes() == before
    code, text = _run("export", str(folder / "talk.summary.json"), "-f", "csv", "--overwrite")
    assert code == 0, text


def test_export_all_formats_from_the_json_alone(summary: Path, tmp_path: Path) -> None:
    folder = tmp_path / "s"
    shutil.copytree(summary, folder)
    doc = json.loads((folder / "talk.summary.json").read_text())
    doc["input"]["path"] = "/gone/talk.mp4"  # moved since: found beside the JSON by its name
    doc["summary"]["path"] = "/gone/talk.summary.mp4"
    (folder / "talk.summary.json").write_text(json.dumps(doc))
    code, text = _run("export", str(folder / "talk.summary.json"), "-f", "all")
    assert code == 0, text
    made = sorted(p.name for p in folder.iterdir())
    for suffix in (".csv", ".edl", ".otio", ".fcpxml", ".chapters.vtt", ".srt", ".storyboard.png", ".html"):
        assert f"talk.summary{suffix}" in made
    assert not [m for m in made if ".part" in m]  # no temporary file left
    html = (folder / "talk.summary.html").read_text()
    assert 'src="talk.summary.mp4"' in html and 'src="talk.mp4"' in html


def test_output_path_and_source_option(summary: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.png"
    json_copy = tmp_path / "only.json"
    doc = json.loads((summary / "talk.summary.json").read_text())
    doc["input"]["path"] = "elsewhere.mp4"
    json_copy.write_text(json.dumps(doc))
    code, text = _run("export", str(json_copy), "-f", "storyboard", "-o", str(out))
    assert code == 1 and "source video was not found" in _error_line(text) and "--source" in text
    assert not out.exists()
    code, text = _run("export", str(json_copy), "-f", "storyboard", "-o", str(out), "--source", str(summary / "talk.mp4"))
    assert code == 0, text
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (["-f", "mp3"], 2, "unknown export format 'mp3'"),
        (["-f", "csv,edl", "-o", "x.csv"], 2, "-o names one file"),
        (["-f", ""], 2, "no export format"),
    ],
)
def test_usage_errors(summary: Path, args: list[str], code: int, needle: str) -> None:
    got, text = _run("export", str(summary / "talk.summary.json"), *args)
    assert got == code and needle in _error_line(text)


def test_bad_summary_files(tmp_path: Path) -> None:
    code, text = _run("export", str(tmp_path / "none.json"), "-f", "csv")
    assert code == 1 and "no such file" in _error_line(text)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, text = _run("export", str(bad), "-f", "csv")
    assert code == 1 and "not a readable JSON" in _error_line(text)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema_version": 1, "fold": 3}))
    code, text = _run("export", str(other), "-f", "csv")
    assert code == 1 and "not a complete vidsum summary" in _error_line(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "other.json"]


def test_a_failing_format_leaves_no_file_and_names_itself(summary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((summary / "talk.summary.json").read_text())

    def broken(doc: dict[str, Any], out: Path, ctx: Any) -> None:
        out.write_text("half")
        raise OutputError("disk full")

    monkeypatch.setitem(EXPORTS, "srt", EXPORTS["srt"].__class__("srt", ".srt", broken, "broken"))
    plan = plan_exports(["csv", "srt"], tmp_path / "talk.summary.json")
    with pytest.raises(OutputError, match="srt export: disk full"):
        write_exports(doc, plan, ExportContext())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.summary.csv"]


def test_summarize_with_exports(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, _ = cut_video
    out = tmp_path / "cut.summary.mp4"
    code, text = _run("summarize", str(src), "-o", str(out), "--export", "csv,chapters,srt")
    assert code == 0, text
    doc = json.loads((tmp_path / "cut.summary.json").read_text())
    rows = list(csv.DictReader((tmp_path / "cut.summary.csv").open()))
    assert [int(r["start_frame"]) for r in rows] == [s["start_frame"] for s in doc["shots"]]
    cues = (tmp_path / "cut.summary.chapters.vtt").read_text().count(" --> ")
    assert cues == doc["summary"]["n_shots"]
    assert (tmp_path / "cut.summary.srt").is_file()
    for name in ("csv", "chapters", "srt"):
        assert name in text
    from tests.test_exports_media import list_chapters

    assert len(list_chapters(out)) == doc["summary"]["n_shots"]  # the chapters are in the clip itself


def test_summarize_refuses_unknown_or_existing_exports_before_work(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, _ = cut_video
    code, text = _run("summarize", str(src), "-o", str(tmp_path / "a.mp4"), "--export", "edl,wav")
    assert code == 2 and "unknown export format 'wav'" in _error_line(text)
    (tmp_path / "a.edl").write_text("mine")
    code, text = _run("summarize", str(src), "-o", str(tmp_path / "a.mp4"), "--export", "edl")
    assert code == 1 and "a.edl: already exists" in _error_line(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.edl"]  # nothing was made
