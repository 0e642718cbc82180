"""vidsum.weights: registry, cache, resolve order, download over a local HTTP server, hashes."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from vidsum import weights
from vidsum.errors import InputError, WeightsError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, several read chunks
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        _Handler.hits[self.path] = _Handler.hits.get(self.path, 0) + 1
        if self.path == "/missing.pth":
            self.send_error(404)
            return
        body = PAYLOAD
        length = len(body)
        if self.path == "/short.pth":  # the connection drops halfway through
            length, body = len(body), body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and project folder; returns the cache folder."""
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights, "project_dir", lambda: tmp_path / "project")
    return tmp_path / "cache"


def _register(monkeypatch: pytest.MonkeyPatch, url: str, sha256: str = DIGEST, size: int | None = None) -> weights.WeightFile:
    entry = weights.WeightFile("test-net", url, sha256, size, "test file")
    monkeypatch.setitem(weights.REGISTRY, "test-net", entry)
    return entry


def test_registry_googlenet_entry() -> None:
    entry = weights.spec("googlenet-imagenet")
    assert entry.url == "https://download.pytorch.org/models/googlenet-1378be20.pth"
    assert entry.filename == "googlenet-1378be20.pth"
    # torchvision's file names carry the first 8 hex digits of the file's sha256.
    assert entry.filename.split("-")[1].split(".")[0] == entry.sha256[:8]
    assert weights.spec("googlenet") is entry  # alias
    with pytest.raises(WeightsError, match="googlenet-imagenet"):
        weights.spec("resnet")


def test_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "c"))
    assert weights.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VIDSUM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert weights.cache_dir() == tmp_path / "x" / "vidsum"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert weights.cache_dir() == tmp_path / "home" / ".cache" / "vidsum"


def test_download_verify_and_reuse(server: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, f"{server}/ok/test-net-abc.pth")
    calls: list[tuple[str, float, float | None]] = []
    path = weights.download("test-net", progress=lambda s, d, t: calls.append((s, d, t)))
    assert path == env / "test-net-abc.pth" and path.read_bytes() == PAYLOAD
    assert calls[0] == ("download", 0, len(PAYLOAD)) and calls[-1] == ("download", len(PAYLOAD), len(PAYLOAD))
    assert weights.verify(path, "test-net")
    assert list(env.iterdir()) == [path]  # no temporary file left
    # A second call finds the verified file and does not fetch again.
    hits = _Handler.hits["/ok/test-net-abc.pth"]
    assert weights.download("test-net") == path
    assert _Handler.hits["/ok/test-net-abc.pth"] == hits
    assert weights.resolve("test-net") == path


def test_download_bad_hash_keeps_nothing(server: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, f"{server}/bad/test-net.pth", sha256="0" * 64)
    with pytest.raises(WeightsError, match="sha256") as err:
        weights.download("test-net")
    assert DIGEST in str(err.value) and "vidsum weights import" in str(err.value)
    assert list(env.iterdir()) == []


def test_download_cut_short_keeps_nothing(server: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, f"{server}/short.pth")
    with pytest.raises(WeightsError):
        weights.download("test-net")
    assert list(env.iterdir()) == []


@pytest.mark.parametrize("path", ["http://127.0.0.1:9/x.pth", "/missing.pth"])
def test_download_unreachable_or_404(server: str, env: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    url = path if path.startswith("http") else f"{server}{path}"
    _register(monkeypatch, url)
    with pytest.raises(WeightsError) as err:
        weights.download("test-net", timeout=5)
    msg = str(err.value)
    assert url in msg and "vidsum weights import" in msg and str(env / Path(url).name) in msg
    assert not env.exists() or list(env.iterdir()) == []


def test_verify_prefix_full_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "w.pth"
    f.write_bytes(PAYLOAD)
    _register(monkeypatch, "http://x/w.pth", sha256=DIGEST[:8])
    assert weights.verify(f, "test-net")
    _register(monkeypatch, "http://x/w.pth", sha256=DIGEST[:7] + ("0" if DIGEST[7] != "0" else "1"))
    assert not weights.verify(f, "test-net")
    _register(monkeypatch, "http://x/w.pth", sha256=DIGEST, size=len(PAYLOAD) + 1)
    assert not weights.verify(f, "test-net")
    _register(monkeypatch, "http://x/w.pth", sha256=DIGEST, size=len(PAYLOAD))
    assert weights.verify(f, "test-net")
    with pytest.raises(InputError):
        weights.verify(tmp_path / "none.pth", "test-net")


def test_import_file(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "http://x/test-net-1.pth")
    good = tmp_path / "downloaded.pth"
    good.write_bytes(PAYLOAD)
    dest = weights.import_file(good, "test-net")
    assert dest == env / "test-net-1.pth" and dest.read_bytes() == PAYLOAD
    bad = tmp_path / "bad.pth"
    bad.write_bytes(PAYLOAD[:-1])
    dest.unlink()
    with pytest.raises(WeightsError, match="does not match"):
        weights.import_file(bad, "test-net")
    assert list(env.iterdir()) == []


def test_resolve_order(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "http://x/test-net-2.pth")
    assert weights.resolve("test-net") is None
    env.mkdir()
    (env / "test-net-2.pth").write_bytes(b"cache")
    assert weights.resolve("test-net") == env / "test-net-2.pth"
    project = tmp_path / "project"
    project.mkdir()
    (project / "test-net-2.pth").write_bytes(b"project")
    assert weights.resolve("test-net") == project / "test-net-2.pth"
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"mine")
    assert weights.resolve("test-net", explicit) == explicit
    with pytest.raises(InputError, match="not found"):
        weights.resolve("test-net", tmp_path / "nope.pth")
