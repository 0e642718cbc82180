"""`--executor local|ray` on the command line: one clear line without Ray, Ray flags refused
without `--executor ray`, and `vidsum features --executor ray` on the session's Ray cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.videogen import make_video
from vidsum.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_executor_videos")
    make_video(root / "one.mp4", durations=(1.5, 1.5), size=(128, 96))
    make_video(root / "two.mp4", durations=(2.0,), size=(128, 96))
    (root / "bad.mp4").write_text("not a video\n" * 40)
    return root


@pytest.mark.parametrize("command", ["features", "summarize"])
def test_executor_ray_without_ray_is_one_line(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when Ray is not installed
    out = tmp_path / ("f.h5" if command == "features" else "summaries")
    res = runner.invoke(app, [command, str(folder / "one.mp4"), str(folder / "two.mp4"), "-o", str(out), "--executor", "ray"])
    assert res.exit_code == 2
    assert res.output == "error: --executor ray needs Ray, which is not installed; install it with: pip install 'vidsum[ray]'\n"
    assert not out.exists()


def test_ray_flags_need_executor_ray(folder: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["features", str(folder), "-o", str(tmp_path / "f.h5"), "--ray-actors", "2", "--ray-address", "auto"])
    assert res.exit_code == 2
    assert "--ray-address, --ray-actors given without --executor ray" in res.output
    res = runner.invoke(app, ["features", str(folder), "-o", str(tmp_path / "f.h5"), "--executor", "spark"])
    assert res.exit_code == 2 and "--executor must be 'local' or 'ray', not 'spark'" in res.output


@pytest.mark.ray
@pytest.mark.slow  # one more actor start (~15 s on 2 busy cores); the API tests cover the executor
def test_features_executor_ray_through_the_cli(ray_address: str, folder: Path, tmp_path: Path) -> None:
    """The flags reach the executor (--ray-actors 1, --ray-retries 0), the bad video is listed
    (exit 1) and the file holds the two good ones."""
    from vidsum.data import load_datasets

    out = tmp_path / "f.h5"
    res = runner.invoke(app, ["features", str(folder), "-o", str(out), "--executor", "ray", "--ray-actors", "1", "--ray-retries", "0", "--allow-fallback"])
    assert res.exit_code == 1, res.output
    assert "2 extracted, 0 already done, 1 failed" in res.output and "bad.mp4" in res.output
    assert sorted(load_datasets([out], require_annotations=False)) == ["f/one", "f/two"]
