"""`vidsum weights list|download|import|verify`, in-process (CliRunner) and once as a subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_weights import PAYLOAD, server  # noqa: F401 (the local HTTP server fixture)
from vidsum import weights
from vidsum.cli import app

runner = CliRunner()
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights, "project_dir", lambda: tmp_path / "project")
    return tmp_path / "cache"


def _register(monkeypatch: pytest.MonkeyPatch, url: str, sha256: str = DIGEST) -> None:
    monkeypatch.setitem(weights.REGISTRY, "test-net", weights.WeightFile("test-net", url, sha256, None, "a test file"))


def test_list_shows_registry_and_status(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "http://x/test-net-9.pth")
    res = runner.invoke(app, ["weights", "list"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "googlenet-imagenet" in res.output and "test-net" in res.output and "missing" in res.output
    env.mkdir()
    (env / "test-net-9.pth").write_bytes(PAYLOAD)
    res = runner.invoke(app, ["weights", "list"], terminal_width=200)
    assert "cache" in res.output.split("test-net")[1].splitlines()[0]


def test_download_then_verify(server: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _register(monkeypatch, f"{server}/ok/test-net-cli.pth")
    res = runner.invoke(app, ["weights", "download", "test-net", "-q"])
    assert res.exit_code == 0, res.output
    assert (env / "test-net-cli.pth").read_bytes() == PAYLOAD
    res = runner.invoke(app, ["weights", "verify", "--name", "test-net"])
    assert res.exit_code == 0 and "ok" in res.output and DIGEST in res.output


def test_download_offline_is_one_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "http://127.0.0.1:9/test-net.pth")
    res = runner.invoke(app, ["weights", "download", "test-net", "-q"])
    assert res.exit_code == 1
    assert "error:" in res.output and "127.0.0.1:9" in res.output and "vidsum weights import" in res.output
    assert "Traceback" not in res.output


def test_import_and_verify_bad_file(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "http://x/test-net-imp.pth")
    good, bad = tmp_path / "good.pth", tmp_path / "bad.pth"
    good.write_bytes(PAYLOAD)
    bad.write_bytes(b"not the weights")
    res = runner.invoke(app, ["weights", "import", str(good), "--name", "test-net"])
    assert res.exit_code == 0, res.output
    assert (env / "test-net-imp.pth").read_bytes() == PAYLOAD
    res = runner.invoke(app, ["weights", "import", str(bad), "--name", "test-net"])
    assert res.exit_code == 1 and "does not match" in res.output
    res = runner.invoke(app, ["weights", "verify", str(bad), "--name", "test-net"])
    assert res.exit_code == 1 and "does not match" in res.output
    res = runner.invoke(app, ["weights", "verify", str(tmp_path / "none.pth"), "--name", "test-net"])
    assert res.exit_code == 1 and "not found" in res.output
    res = runner.invoke(app, ["weights", "download", "no-such-net", "-q"])
    assert res.exit_code == 1 and "known names" in res.output


LIST_WITHOUT_TORCH = """
import sys
from vidsum.cli import main
sys.argv = ["vidsum", "weights", "list"]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
assert "torch" not in sys.modules and "cv2" not in sys.modules, "heavy import"
sys.exit(code)
"""


def test_subprocess_weights_list_without_torch(tmp_path: Path) -> None:
    env = dict(os.environ, VIDSUM_CACHE=str(tmp_path / "cache"), COLUMNS="200")
    proc = subprocess.run([sys.executable, "-c", LIST_WITHOUT_TORCH], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "googlenet-imagenet" in proc.stdout and "missing" in proc.stdout
    # The installed console script, as a user runs it.
    exe = Path(sys.executable).with_name("vidsum")
    if not exe.exists():
        pytest.skip("the vidsum console script is not installed beside this python")
    proc = subprocess.run([str(exe), "weights", "verify", str(tmp_path / "nope.pth")], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "error:" in proc.stderr and "nope.pth" in proc.stderr and "not found" in proc.stderr
