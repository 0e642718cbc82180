"""File output: atomic writes (a temporary file in the destination folder, then a rename) and
the one output-path policy (``check_output``, ``default_output``) every command applies."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

from vidsum.errors import OutputError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The temporary name keeps the extension (tools like ffmpeg pick the container from it).
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{suffix}", dir=path.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the result the permissions a plain open() would have.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def default_output(path: str | os.PathLike[str]) -> Path:
    """``talk.mkv`` -> ``talk.summary.mp4`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.summary.mp4")


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (resolved, or the same inode when both exist)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(
    path: str | os.PathLike[str],
    role: str,
    src: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    overwrite: bool = False,
    taken: Sequence[Path] = (),
) -> None:
    """Refuse an output that cannot be written or would destroy something; writes nothing.

    ``role`` names the output in messages ("summary clip", "features file"); ``src`` is the input
    (or inputs) it must not replace; ``taken`` the outputs already claimed by the same command.
    Raises OutputError naming the path, the cause and the fix.
    """
    path = Path(path)
    sources = [] if src is None else [Path(src)] if isinstance(src, (str, os.PathLike)) else [Path(s) for s in src]
    folder = path.parent
    for s in sources:
        if same_file(path, s):
            raise OutputError(
                f"{path}: the {role} path is the input video; choose another name (e.g. {default_output(s).name})"
            )
    for other in taken:
        if same_file(path, Path(other)):
            raise OutputError(f"{path}: used for two outputs; give the {role} its own path")
    if not folder.exists():
        raise OutputError(f"{path}: the folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise OutputError(f"{path}: {folder} is not a folder; choose an output inside a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: the folder {folder} is not writable; choose another folder or fix its permissions")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; the {role} must be a file path")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it, or choose another name")


@contextlib.contextmanager
def output_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the right to write ``path`` for the duration: a second process asking for the same
    path meanwhile gets an OutputError at once (two runs would otherwise each rename a whole,
    different clip and report into place, and the pair left behind could mix them).

    The lock is ``.<name>.lock`` beside ``path``, removed on exit. A no-op where there is no
    ``fcntl`` (Windows) or the folder does not exist (the caller's output checks report that).
    """
    path = Path(path)
    try:
        import fcntl
    except ImportError:
        yield
        return
    lock = path.parent / f".{path.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder before us may have removed the file between our open and our lock.
            if os.fstat(fd).st_ino != os.stat(lock).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            raise OutputError(
                f"{path}: another vidsum run is writing this output right now; wait for it to finish, "
                "or choose another output path"
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)
    finally:
        os.close(fd)
