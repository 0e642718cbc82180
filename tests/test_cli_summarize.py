"""`vidsum summarize`: the bad-input matrix (one clear line, non-zero exit, no file left behind)
and one real subprocess run of the console command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.videogen import ffmpeg_exe, make_video
from vidsum.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["summarize", *args], env={"VIDSUM_MODEL": "", "VIDSUM_DEBUG": "", "VIDSUM_OFFLINE": "1", "VIDSUM_CACHE": "/nonexistent/vidsum-test-cache"})
    text = result.output
    if getattr(result, "stderr_bytes", None) is not None:
        try:
            text = result.stdout + result.stderr
        except ValueError:
            pass
    return result.exit_code, text


def _error_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return tmp_path


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_missing_file(folder: Path) -> None:
    code, text = _run(str(folder / "nope.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1 and "no such file" in _error_line(text)
    assert _listing(folder) == []


def test_directory(folder: Path) -> None:
    (folder / "d.mp4").mkdir()
    code, text = _run(str(folder / "d.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1 and "directory" in _error_line(text)
    assert _listing(folder) == ["d.mp4"]


def test_zero_bytes(folder: Path) -> None:
    (folder / "empty.mp4").write_bytes(b"")
    code, text = _run(str(folder / "empty.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1 and "empty" in _error_line(text)
    assert _listing(folder) == ["empty.mp4"]


def test_text_named_mp4(folder: Path) -> None:
    (folder / "notes.mp4").write_text("this is not a video\n" * 50)
    code, text = _run(str(folder / "notes.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1 and "notes.mp4" in _error_line(text)
    assert _listing(folder) == ["notes.mp4"]


def test_audio_only(folder: Path) -> None:
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(folder / "tone.mp4"))
    code, text = _run(str(folder / "tone.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1 and "tone.mp4" in _error_line(text)
    assert _listing(folder) == ["tone.mp4"]


@pytest.mark.parametrize("duration", [1 / 30, 0.5])
def test_one_frame_and_sub_second(folder: Path, duration: float) -> None:
    make_video(folder / "short.mp4", durations=(duration,), size=(64, 48), audio=False)
    code, text = _run(str(folder / "short.mp4"), "-o", str(folder / "out.mp4"))
    assert code == 1, text
    line = _error_line(text)
    assert "short.mp4" in line and ("short" in line or "frame" in line)
    assert _listing(folder) == ["short.mp4"]


def test_output_folder_missing(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    code, text = _run(str(src), "-o", str(folder / "nowhere" / "out.mp4"))
    assert code == 1 and "does not exist" in _error_line(text)
    assert _listing(folder) == []


def test_output_parent_is_a_file(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    (folder / "file").write_text("x")
    code, text = _run(str(src), "-o", str(folder / "file" / "out.mp4"))
    assert code == 1 and "not a folder" in _error_line(text)
    assert _listing(folder) == ["file"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_output_folder_not_writable(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, text = _run(str(src), "-o", str(locked / "out.mp4"))
        assert code == 1 and "not writable" in _error_line(text)
        assert _listing(locked) == []
    finally:
        locked.chmod(0o700)


def test_output_equals_input(folder: Path) -> None:
    src = folder / "in.mp4"
    make_video(src, durations=(2.0,), size=(64, 48), audio=False)
    before = src.read_bytes()
    code, text = _run(str(src), "-o", str(src))
    assert code == 1 and "is the input" in _error_line(text)
    # also when spelled differently
    code, text = _run(str(src), "-o", str(folder / "." / "in.mp4"), "--overwrite")
    assert code == 1 and "is the input" in _error_line(text)
    assert src.read_bytes() == before and _listing(folder) == ["in.mp4"]


def test_json_equals_input_refused(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    code, text = _run(str(src), "-o", str(folder / "out.mp4"), "--json", str(src), "--overwrite")
    assert code == 1 and "is the input" in _error_line(text)
    assert _listing(folder) == []


@pytest.mark.parametrize("existing", ["out.mp4", "out.json", "plot.png"])
def test_existing_output_refused(cut_video: tuple[Path, list[float]], folder: Path, existing: str) -> None:
    src, _ = cut_video
    (folder / existing).write_text("keep me")
    code, text = _run(str(src), "-o", str(folder / "out.mp4"), "--plot", str(folder / "plot.png"))
    assert code == 1 and "already exists" in _error_line(text) and "--overwrite" in text
    assert _listing(folder) == [existing]
    assert (folder / existing).read_text() == "keep me"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--budget", "0.2", "--length", "5s"], "not both"),
        (["--length", "ten seconds"], "cannot read the length"),
        (["--budget", "1.5"], "budget"),
        (["--device", "tpu"], "device"),
        (["--precision", "int8"], "precision"),
        (["--precision", "fp16", "--device", "cpu"], "needs a CUDA GPU"),
        (["--preset", "turbo"], "preset"),
        (["-o", "{folder}/out.avi"], ".mp4"),
        (["--plot", "{folder}/plot.jpg"], ".png"),
    ],
)
def test_usage_errors_exit_2(cut_video: tuple[Path, list[float]], folder: Path, args: list[str], needle: str) -> None:
    src, _ = cut_video
    args = [a.format(folder=folder) for a in args]
    if "-o" not in args:
        args += ["-o", str(folder / "out.mp4")]
    code, text = _run(str(src), *args)
    assert code == 2 and needle in _error_line(text)
    assert _listing(folder) == []


def test_strict_without_weights_fails_before_work(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    code, text = _run(str(src), "-o", str(folder / "out.mp4"), "--strict")
    assert code == 1 and "--strict" in _error_line(text)
    assert _listing(folder) == []


def test_missing_model_file(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    code, text = _run(str(src), "-o", str(folder / "out.mp4"), "--model", str(folder / "none.pt"))
    assert code == 1 and "none.pt" in _error_line(text)
    assert _listing(folder) == []


def test_corrupt_model_file(cut_video: tuple[Path, list[float]], folder: Path) -> None:
    src, _ = cut_video
    (folder / "bad.pt").write_bytes(b"\x00garbage" * 100)
    code, text = _run(str(src), "-o", str(folder / "out.mp4"), "--model", str(folder / "bad.pt"))
    assert code == 1 and "bad.pt" in _error_line(text)
    assert _listing(folder) == ["bad.pt"]


def test_help_lists_every_flag() -> None:
    result = runner.invoke(app, ["summarize", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--budget", "--length", "--sample-fps", "--model", "--backbone-weights", "--device", "--fast",
                 "--json", "--plot", "--overwrite", "--strict", "--quiet", "--output"):
        assert flag in result.output, flag


def test_real_subprocess_run(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    """The console command as a user runs it: exit 0, the clip and the JSON exist and agree."""
    src, _ = cut_video
    out = tmp_path / "summary.mp4"
    env = dict(os.environ, VIDSUM_MODEL="", VIDSUM_DEBUG="", VIDSUM_OFFLINE="1", VIDSUM_CACHE=str(tmp_path / "cache"), COLUMNS="200")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "vidsum"), "summarize", str(src), "-o", str(out), "--length", "3s"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "summary:" in proc.stdout and str(out) in proc.stdout
    assert "training-free" in proc.stderr  # the fallback is never silent
    doc = json.loads(out.with_suffix(".json").read_text())
    assert 0 < doc["summary"]["n_frames"] <= 90  # 3 s at 30 fps
    # the container's duration (one AAC frame, 23 ms, of slack for the audio track)
    assert doc["summary"]["duration_s"] == pytest.approx(doc["summary"]["n_frames"] / 30.0, abs=0.03)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json", "summary.mp4"]
