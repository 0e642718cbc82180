"""The ffmpeg policy: the bundled binary by default, another only when asked, a minimum version."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidsum import ffmpeg
from vidsum.cli import app
from vidsum.errors import ToolError


def fake_ffmpeg(folder: Path, first_line: str, name: str = "ffmpeg") -> Path:
    """A script that answers `-version` like an ffmpeg build printing ``first_line``."""
    exe = folder / name
    exe.write_text(f"#!/bin/sh\necho '{first_line}'\necho 'configuration: --fake'\n")
    exe.chmod(0o755)
    return exe


@pytest.fixture
def no_choice(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(ffmpeg.FFMPEG_ENV, raising=False)
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    return monkeypatch


def test_default_is_the_bundled_binary_even_with_another_on_path(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    fake_ffmpeg(tmp_path, "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024")
    no_choice.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    found = ffmpeg.find_ffmpeg()
    assert found.source == "imageio-ffmpeg"
    assert found.path == imageio_ffmpeg.get_ffmpeg_exe()
    assert found.release is not None and found.release[:2] >= ffmpeg.MIN_VERSION
    assert ffmpeg.ffmpeg_path() == found.path


def test_asked_for_binary_is_used_and_its_version_parsed(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    exe = fake_ffmpeg(tmp_path, "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers")
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(exe))
    found = ffmpeg.find_ffmpeg()
    assert (found.path, found.version, found.release, found.source) == (str(exe), "5.1.6-0+deb12u1", (5, 1, 6), "VIDSUM_FFMPEG")
    assert found.to_dict() == {"path": str(exe), "version": "5.1.6-0+deb12u1", "source": "VIDSUM_FFMPEG"}


def test_a_command_name_is_looked_up_on_path(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    exe = fake_ffmpeg(tmp_path, "ffmpeg version n7.1 Copyright (c) 2000-2024")
    no_choice.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    no_choice.setenv(ffmpeg.FFMPEG_ENV, "ffmpeg")
    found = ffmpeg.find_ffmpeg()
    assert found.path == str(exe) and found.release == (7, 1)


@pytest.mark.parametrize("line", ["ffmpeg version 4.2.7-0ubuntu0.1 Copyright", "ffmpeg version 3.4.11 Copyright"])
def test_too_old_is_refused_with_the_fix(tmp_path: Path, no_choice: pytest.MonkeyPatch, line: str) -> None:
    exe = fake_ffmpeg(tmp_path, line)
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(exe))
    with pytest.raises(ToolError) as err:
        ffmpeg.find_ffmpeg()
    msg = str(err.value)
    assert str(exe) in msg and "too old" in msg and "4.4 or newer" in msg and "unset VIDSUM_FFMPEG" in msg


def test_oldest_supported_and_git_builds_are_accepted(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    old = fake_ffmpeg(tmp_path, "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright", name="ff44")
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(old))
    assert ffmpeg.find_ffmpeg().release == (4, 4, 2)
    git = fake_ffmpeg(tmp_path, "ffmpeg version N-113407-g4a134eb14a Copyright", name="ffgit")
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(git))
    found = ffmpeg.find_ffmpeg()
    assert found.release is None and found.version == "N-113407-g4a134eb14a"


def test_a_wrong_path_or_a_non_ffmpeg_is_one_clear_error(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(tmp_path / "nope" / "ffmpeg"))
    with pytest.raises(ToolError, match="no such ffmpeg binary.*unset VIDSUM_FFMPEG"):
        ffmpeg.find_ffmpeg()
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\necho hello\n")
    other.chmod(0o755)
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(other))
    with pytest.raises(ToolError, match="does not answer like ffmpeg"):
        ffmpeg.find_ffmpeg()
    text = tmp_path / "text"
    text.write_text("not a program\n")
    no_choice.setenv(ffmpeg.FFMPEG_ENV, str(text))
    with pytest.raises(ToolError, match="cannot run it"):
        ffmpeg.find_ffmpeg()


def test_missing_everywhere(no_choice: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    def no_binary() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    no_choice.setattr(ffmpeg.shutil, "which", lambda name: None)
    no_choice.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_binary)
    with pytest.raises(ToolError, match="pip install imageio-ffmpeg"):
        ffmpeg.ffmpeg_path()
    assert ffmpeg.read_header(Path("any.mp4")) is None  # probing then relies on OpenCV alone


def test_path_is_the_fallback_when_imageio_has_no_binary(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    def no_binary() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    exe = fake_ffmpeg(tmp_path, "ffmpeg version 6.1.1-3ubuntu5 Copyright")
    no_choice.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_binary)
    no_choice.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    found = ffmpeg.find_ffmpeg()
    assert (found.path, found.source) == (str(exe), "PATH")


def test_cli_version_names_the_ffmpeg_in_use(tmp_path: Path, no_choice: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("vidsum ") and lines[1].startswith("ffmpeg ") and "(imageio-ffmpeg: " in lines[1]

    exe = fake_ffmpeg(tmp_path, "ffmpeg version 6.0 Copyright")
    # --ffmpeg goes through the environment (worker processes inherit it): monkeypatch restores it.
    no_choice.setenv(ffmpeg.FFMPEG_ENV, "")
    for argv in (["--ffmpeg", str(exe), "--version"], ["--version", "--ffmpeg", str(exe)]):
        res = runner.invoke(app, argv)
        assert res.exit_code == 0, res.output
        assert f"ffmpeg 6.0 (VIDSUM_FFMPEG: {exe})" in res.output

    old = fake_ffmpeg(tmp_path, "ffmpeg version 4.1 Copyright", name="old")
    res = runner.invoke(app, ["--ffmpeg", str(old), "--version"])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "too old" in errors[0]
