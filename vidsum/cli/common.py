"""Shared CLI plumbing: error handling, Rich console, progress bars.

Commands wrap their body in ``with guarded():`` so that a VidsumError becomes one red line and
its exit code, Ctrl-C becomes exit 130, and VIDSUM_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from typing import Iterator

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def debug_enabled() -> bool:
    return os.environ.get("VIDSUM_DEBUG", "") not in ("", "0")


def setup_logging(quiet: bool = False, verbose: bool = False) -> None:
    """Route library warnings to stderr through Rich (one line each)."""
    from rich.logging import RichHandler

    level = logging.DEBUG if (verbose or debug_enabled()) else (logging.ERROR if quiet else logging.WARNING)
    root = logging.getLogger("vidsum")
    root.handlers.clear()
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    # escaped: file names and hints such as `pip install 'vidsum[ray]'` hold brackets
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup path (temporary files, ffmpeg and decoder
    children) runs; Python's default for SIGTERM is to die at once and leave them behind."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (in-process test runners)
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_failed(failed: "list[tuple[object, str]]", verb: str) -> None:
    """The table of the videos a batch could not do, with the reason of each (nothing if none)."""
    if not failed:
        return
    from rich.table import Table

    table = Table(title=f"{len(failed)} video(s) {verb}", title_style="bold red", show_lines=False)
    table.add_column("video", overflow="fold")
    table.add_column("reason", overflow="fold")
    for path, reason in failed:
        table.add_row(str(path), reason)
    console.print(table)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Turn library errors into one clear line and a non-zero exit code."""
    from vidsum.errors import VidsumError

    try:
        with _sigterm_raises():
            yield
    except typer.Exit:
        raise
    except VidsumError as exc:
        if debug_enabled():
            raise
        fail(str(exc), exc.exit_code)
    except Terminated:
        if debug_enabled():
            raise
        console.print("[bold red]terminated:[/] stopped by SIGTERM; no half-written output file was left behind.")
        raise typer.Exit(143)
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        console.print("[bold red]interrupted:[/] stopped by Ctrl-C; no half-written output file was left behind.")
        raise typer.Exit(130)
    except OSError as exc:  # the machine said no: a full disk, a vanished folder, a permission
        if debug_enabled():
            raise
        where = exc.filename or "a file vidsum was writing"
        fix = (
            "free some space or write the outputs elsewhere"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "check the path and its permissions"
        )
        fail(f"{where}: {exc.strerror or exc}; {fix}")
    except Exception as exc:  # a bug: still one line, unless debugging
        if debug_enabled():
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc}. Re-run with VIDSUM_DEBUG=1 for the "
            "traceback and please report it."
        )


class RichProgress:
    """A ``ProgressFn`` that draws one Rich task per stage name."""

    def __init__(self, enabled: bool = True, unit: str = "") -> None:
        self.enabled = enabled and sys.stderr.isatty() or (enabled and os.environ.get("VIDSUM_FORCE_PROGRESS") == "1")
        self._tasks: dict[str, int] = {}
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=not self.enabled,
        )

    def __enter__(self) -> "RichProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, stage: str, done: float, total: float | None = None) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._progress.add_task(stage, total=total, rate="")
            self._tasks[stage] = task
        rate = ""
        t = self._progress.tasks[task]
        if t.elapsed and done:
            rate = f"{done / t.elapsed:.1f}/s"
        self._progress.update(task, completed=done, total=total, rate=rate)
