"""Weight files: a registry name -> (url, hash, size), and resolve / download / verify / import.

Lookup order for a registry file (STYLE.md): an explicit path > the project's ``weights/`` folder
> the user cache (``cache_dir()``) > a download, streamed to a temporary file in the cache,
hash-checked, then renamed into place (never a half-written file under the real name).
Offline, ``download`` raises a WeightsError that names the URL and how to place the file by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import logging
import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

from vidsum.errors import InputError, WeightsError
from vidsum.io import atomic_path
from vidsum.progress import ProgressFn, report

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20  # read/hash granularity
DOWNLOAD_TIMEOUT_S = 30.0  # seconds without data before a download is abandoned


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """One downloadable weight file.

    ``sha256`` is the full hex digest, or a prefix of it when only the prefix is published (then
    ``verify`` checks the prefix and says so). ``sha1``: for files whose publisher gives only a
    SHA-1 (the Caffe model zoo); then it is the hash checked and ``sha256`` is empty. ``size`` is
    in bytes, None when not published.
    """

    name: str
    url: str
    sha256: str
    size: int | None
    description: str
    sha1: str | None = None

    @property
    def algorithm(self) -> str:
        """The hash that is checked: "sha1" or "sha256"."""
        return "sha1" if self.sha1 else "sha256"

    @property
    def digest(self) -> str:
        """The published hex digest (or prefix) of ``algorithm``."""
        return self.sha1 or self.sha256

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def full_hash(self) -> bool:
        return len(self.digest) == (40 if self.sha1 else 64)


# torchvision names its files <arch>-<first 8 hex digits of the sha256>.pth and its loader checks
# only that prefix; the full digest of googlenet-1378be20.pth is not published in its source, so
# the prefix is what we check (docs/weights.md). ~49.7 MiB ("_file_size": 49.731 in torchvision).
REGISTRY: dict[str, WeightFile] = {
    "googlenet-imagenet": WeightFile(
        name="googlenet-imagenet",
        url="https://download.pytorch.org/models/googlenet-1378be20.pth",
        sha256="1378be20",
        size=None,
        description="GoogLeNet (Inception v1) ImageNet-1k weights from torchvision; pool5 = 1024-d features",
    ),
    # The Caffe model zoo publishes only a SHA-1 (models/bvlc_googlenet/readme.md in BVLC/caffe).
    # The caffemodel is converted to a torch file on import (vidsum.backbones.bvlc_googlenet).
    "bvlc-googlenet": WeightFile(
        name="bvlc-googlenet",
        url="http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
        sha256="",
        sha1="405fc5acd08a3bb12de8ee5e23a96bec22f08204",
        size=None,
        description="BVLC GoogLeNet (Caffe model zoo) ImageNet weights, ~53 MB; pool5 = the public eccv16 "
        "datasets' 1024-d features; converted to a torch state dict when downloaded or imported",
    ),
}
ALIASES = {"googlenet": "googlenet-imagenet", "bvlc_googlenet": "bvlc-googlenet"}


def spec(name: str) -> WeightFile:
    """The registry entry for ``name`` (aliases accepted); WeightsError listing the known names."""
    entry = REGISTRY.get(ALIASES.get(name, name))
    if entry is None:
        raise WeightsError(f"unknown weight file name {name!r}; known names: {', '.join(sorted(REGISTRY))}")
    return entry


def cache_dir() -> Path:
    """The user cache: $VIDSUM_CACHE, else $XDG_CACHE_HOME/vidsum, else ~/.cache/vidsum (not created)."""
    env = os.environ.get("VIDSUM_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "vidsum"
    return Path.home() / ".cache" / "vidsum"


def project_dir() -> Path:
    """The project's ``weights/`` folder (beside the package in a source checkout)."""
    return Path(__file__).resolve().parent.parent / "weights"


def candidates(name: str) -> list[tuple[str, Path]]:
    """Where ``name`` is looked for, in order: [("project", path), ("cache", path)]."""
    entry = spec(name)
    return [("project", project_dir() / entry.filename), ("cache", cache_dir() / entry.filename)]


def resolve(name: str, explicit: str | Path | None = None) -> Path | None:
    """The file to use for ``name``: ``explicit`` if given (must exist), else the first of the
    project ``weights/`` folder and the user cache holding it, else None (nothing downloaded)."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise InputError(f"{path}: weight file not found; check the path or run `vidsum weights download {name}`")
        return path
    for _where, path in candidates(name):
        if path.is_file():
            return path
    return None


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    return file_digest(path, "sha256")


def file_digest(path: str | Path, algorithm: str) -> str:
    """Hex digest (``algorithm`` "sha1" or "sha256") of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _matches(digest: str, entry: WeightFile) -> bool:
    return bool(entry.digest) and digest.lower().startswith(entry.digest.lower())


def verify(path: str | Path, name: str) -> bool:
    """True when the file's hash (SHA-256, or SHA-1 where only that is published) matches the
    registry's (the published prefix when only that is known) and its size, when the registry has one."""
    entry = spec(name)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: weight file not found; check the path")
    if entry.size is not None and path.stat().st_size != entry.size:
        return False
    ok = _matches(file_digest(path, entry.algorithm), entry)
    if ok and not entry.full_hash:
        log.debug("%s: matches the published %s prefix %s of %s", path, entry.algorithm, entry.digest, name)
    return ok


def _manual_hint(entry: WeightFile) -> str:
    return (
        f"download {entry.url} on a machine with network access, then run "
        f"`vidsum weights import FILE` here (or copy it to {cache_dir() / entry.filename}, "
        "or pass it with --backbone-weights FILE)"
    )


def download(name: str, progress: ProgressFn | None = None, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download ``name`` into the user cache and return its path; an already valid file is kept.

    The body is streamed into a temporary file beside the target while being hashed; only a file
    whose hash matches is renamed into place. ``progress("download", bytes_done, bytes_total)``.
    Raises WeightsError when offline, on an HTTP error or on a hash mismatch.
    """
    entry = spec(name)
    target = cache_dir() / entry.filename
    if target.is_file() and verify(target, entry.name):
        log.info("%s: already in the cache, hash verified", target)
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(
            f"{target.parent}: cannot create the weight cache ({exc.strerror or exc}); set VIDSUM_CACHE to a writable folder"
        ) from exc
    digest = hashlib.new(entry.algorithm)
    request = urllib.request.Request(entry.url, headers={"User-Agent": "vidsum"})
    try:
        with atomic_path(target) as tmp:
            with urllib.request.urlopen(request, timeout=timeout) as resp, open(tmp, "wb") as out:
                total = resp.headers.get("Content-Length")
                total_bytes = int(total) if total and total.isdigit() else entry.size
                done = 0
                report(progress, "download", 0, total_bytes)
                for chunk in iter(lambda: resp.read(CHUNK_BYTES), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    report(progress, "download", done, total_bytes)
            if total_bytes is not None and done != total_bytes:
                raise WeightsError(
                    f"{entry.url}: the download stopped after {done} of {total_bytes} bytes; run "
                    f"`vidsum weights download {entry.name}` again"
                )
            got = digest.hexdigest()
            if not _matches(got, entry):
                raise WeightsError(
                    f"{entry.url}: the downloaded file's {entry.algorithm} is {got}, expected {entry.digest}"
                    f"{'' if entry.full_hash else '...'}; nothing was saved. The server or a proxy sent "
                    f"a different file: retry later, or {_manual_hint(entry)}"
                )
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WeightsError(f"cannot download {entry.url} ({reason}); offline? {_manual_hint(entry)}") from exc
    except OSError as exc:
        raise WeightsError(f"{target}: cannot write the downloaded weights ({exc.strerror or exc}); check free disk space") from exc
    log.info("downloaded %s to %s (%s %s)", entry.url, target, entry.algorithm, digest.hexdigest())
    return target


def import_file(path: str | Path, name: str) -> Path:
    """Copy a hand-downloaded file into the user cache after checking its hash; returns the copy.

    Raises WeightsError when the hash does not match (nothing is copied).
    """
    entry = spec(name)
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass the downloaded {entry.filename}")
    got = file_digest(path, entry.algorithm)
    if not _matches(got, entry) or (entry.size is not None and path.stat().st_size != entry.size):
        raise WeightsError(
            f"{path}: {entry.algorithm} {got} does not match {entry.name} (expected {entry.digest}"
            f"{'' if entry.full_hash else '...'}); it is a different or damaged file. Download {entry.url} again"
        )
    target = cache_dir() / entry.filename
    if target.exists() and target.resolve() == path.resolve():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(path, tmp)
    except OSError as exc:
        raise WeightsError(f"{target}: cannot copy the weights into the cache ({exc.strerror or exc}); set VIDSUM_CACHE to a writable folder") from exc
    return target

