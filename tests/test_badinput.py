"""The bad-input corpus (tests/badinput.py) through `vidsum summarize` and `vidsum features`.

Every case ends, within a bounded time, either with a correct summary (exit 0, a clip with
exactly the selected frames that plays, and its JSON) or with one error line naming the file,
the cause and the fix, a non-zero exit, no traceback, no output left behind and the input
untouched. Then: SIGTERM during decode and render, two runs writing one output, a full disk.
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.badinput import CASES, OK, OK_OR
from tests.videogen import ffmpeg_exe, frame_count, make_video
from vidsum.cli import app

CASE_TIMEOUT_S = 120.0  # seconds; a case past this is a hang (the whole run stops with a traceback)
ENV = {"VIDSUM_MODEL": "", "VIDSUM_DEBUG": "", "VIDSUM_OFFLINE": "1", "COLUMNS": "400"}
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case's input, built once per session: name -> path (one folder per case)."""
    root = tmp_path_factory.mktemp("corpus")
    built = {}
    for name, (build, _) in CASES.items():
        folder = root / name
        folder.mkdir()
        built[name] = build(folder)
    yield built
    for path in built.values():  # pytest cannot remove a chmod 000 file's folder otherwise
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                path.chmod(0o644)


@contextlib.contextmanager
def bounded(seconds: float = CASE_TIMEOUT_S):
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("error:")]


def assert_playable(clip: Path) -> None:
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(clip), "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def run_summarize(src_arg: str, out: Path, *extra: str) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    with bounded():
        result = CliRunner().invoke(app, ["summarize", "-o", str(out), *extra, "--", src_arg], env=ENV)
    return result.exit_code, result.output, time.perf_counter() - t0


@pytest.mark.parametrize("name", list(CASES))
def test_case(corpus: dict[str, Path], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expect = CASES[name][1]
    src = corpus[name]
    if name == "unreadable" and ROOT:
        pytest.skip("root reads a chmod 000 file")
    arg = str(src)
    if name in ("path_leading_dash", "path_with_colon"):  # as typed in the video's folder
        monkeypatch.chdir(src.parent)
        arg = src.name
    before = digest(src)
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, text, seconds = run_summarize(arg, outdir / "s.mp4")
    assert "Traceback" not in text
    assert digest(src) == before, "the input was changed"
    if expect.startswith(OK_OR) and code != 0:
        expect = expect[len(OK_OR) :]
    if expect == OK or expect.startswith(OK_OR):
        assert code == 0, text
        assert sorted(p.name for p in outdir.iterdir()) == ["s.json", "s.mp4"]
        doc = json.loads((outdir / "s.json").read_text())
        assert frame_count(outdir / "s.mp4") == doc["summary"]["n_frames"] > 0
        assert_playable(outdir / "s.mp4")
    else:
        assert code not in (0, None), text
        lines = error_lines(text)
        assert len(lines) == 1, text
        assert src.name in lines[0] and re.search(expect, lines[0]), lines[0]
        assert list(outdir.iterdir()) == []


def test_cover_art_is_not_summarized(corpus: dict[str, Path], tmp_path: Path) -> None:
    """The attached picture comes first in the file; the clip is cut from the real video."""
    import cv2

    out = tmp_path / "s.mp4"
    code, text, _ = run_summarize(str(corpus["cover_art_first"]), out)
    assert code == 0, text
    cap = cv2.VideoCapture(str(out))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape[:2] == (64, 96)  # the video's size, not the 64x64 cover


def test_features_on_a_folder_of_the_corpus(corpus: dict[str, Path], tmp_path: Path) -> None:
    """Every bad file is listed at the end, every good one extracted."""
    import h5py

    folder = next(iter(corpus.values())).parent.parent
    out = tmp_path / "feats.h5"
    with bounded(4 * CASE_TIMEOUT_S):
        result = CliRunner().invoke(app, ["features", str(folder), "-o", str(out), "-j", "2", "--allow-fallback"], env=ENV)
    text = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in text
    with h5py.File(out, "r") as f:
        keys = set(f.keys())
    from vidsum.extraction import VIDEO_EXTENSIONS

    for name, path in corpus.items():
        if path.suffix.lower() not in VIDEO_EXTENSIONS or (name == "unreadable" and ROOT):
            continue
        stems = {path.stem, path.resolve().stem}  # a link and its target are one video
        if CASES[name][1] == OK or (CASES[name][1].startswith(OK_OR) and stems & keys):
            assert stems & keys, (name, sorted(keys))
        else:
            assert not stems & keys and path.name in text, (name, text[-3000:])


# ---- signals, races, a full disk ---------------------------------------------------------------

# Runs the real console command in a child; the named stage writes a marker and is slowed down, so
# that the test's SIGTERM lands inside it.
_STALLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    marker, stage = Path(sys.argv[1]), sys.argv[2]
    from vidsum import ffstream, render, video
    if stage == "decode":
        resize = video._resize_rgb
        def slow(frame, size):
            marker.touch()
            time.sleep(0.05)
            return resize(frame, size)
        video._resize_rgb = slow
    elif stage == "decode-ffmpeg":
        read = ffstream._read_exact
        def slow_read(stream, buf):
            marker.touch()
            time.sleep(0.05)
            return read(stream, buf)
        ffstream._read_exact = slow_read
    else:
        popen = render.subprocess.Popen
        def started(cmd, *a, **k):
            cmd = [cmd[0], "-re", *cmd[1:]]  # read at the speed of the clip: a render that lasts
            proc = popen(cmd, *a, **k)
            marker.touch()
            return proc
        render.subprocess.Popen = started
    from vidsum.cli import main
    sys.argv = ["vidsum", *sys.argv[3:]]
    main()
    """
)


@pytest.mark.parametrize("stage", ["decode", "decode-ffmpeg", "render"])
def test_sigterm_leaves_nothing(tmp_path: Path, stage: str) -> None:
    src = tmp_path / "in.mp4"
    make_video(src, durations=(4.0, 4.0), size=(96, 64))
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "s.mp4").write_bytes(b"old summary")
    marker = tmp_path / "marker"
    env = dict(os.environ, **ENV)
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED, str(marker), stage, "summarize", str(src), "-o", str(outdir / "s.mp4"),
         "--overwrite", "--length", "4s", "--frame-decoder", "opencv" if stage == "decode" else "ffmpeg"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + CASE_TIMEOUT_S
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "SIGTERM" in err
    assert sorted(p.name for p in outdir.iterdir()) == ["s.mp4"]
    assert (outdir / "s.mp4").read_bytes() == b"old summary"


def test_two_runs_writing_one_output(tmp_path: Path) -> None:
    """Started together: one writes the clip and JSON whole, the other fails with one line."""
    src = tmp_path / "in.mp4"
    make_video(src, durations=(3.0, 3.0), size=(96, 64))
    out = tmp_path / "out" / "s.mp4"
    out.parent.mkdir()
    env = dict(os.environ, **ENV)
    cmd = [str(Path(sys.executable).parent / "vidsum"), "summarize", str(src), "-o", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(timeout=CASE_TIMEOUT_S), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    err = next(e for code, e in results if code == 1)
    lines = error_lines(err)
    assert len(lines) == 1 and ("another vidsum run" in lines[0] or "already exists" in lines[0]), err
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.json", "s.mp4"]
    doc = json.loads(out.with_suffix(".json").read_text())
    assert frame_count(out) == doc["summary"]["n_frames"]


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 64 KiB tmpfs (root only), unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if not ROOT or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                                  capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_keeps_the_old_output(tmp_path: Path, tiny_disk: Path) -> None:
    src = tmp_path / "noisy.mp4"
    make_video(src, durations=(3.0, 3.0), size=(320, 240))  # far more than 64 KiB of clip
    (tiny_disk / "s.mp4").write_bytes(b"old summary")
    (tiny_disk / "s.json").write_text("{}")
    code, text, _ = run_summarize(str(src), tiny_disk / "s.mp4", "--overwrite", "--length", "5s")
    assert code == 1, text
    lines = error_lines(text)
    assert len(lines) == 1 and "space" in lines[0].lower(), text
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["s.json", "s.mp4"]
    assert (tiny_disk / "s.mp4").read_bytes() == b"old summary"
    assert (tiny_disk / "s.json").read_text() == "{}"

