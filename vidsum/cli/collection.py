"""`vidsum summarize VIDEOS... -o OUTDIR/`: the collection mode of `vidsum summarize`."""

from __future__ import annotations

import contextlib
import glob
from pathlib import Path
from typing import Any, Optional, Sequence

import typer

from vidsum.cli.common import RichProgress, out, print_failed


def _names_clip(output: "str | Path | None") -> bool:
    from vidsum.render import CONTAINERS

    if output is None or str(output).endswith(("/", "\\")):
        return False
    return Path(output).suffix.lower() in CONTAINERS and not Path(output).is_dir()


def is_collection(inputs: Sequence[str], list_file: Optional[Path], output: "str | None") -> bool:
    """Several inputs, a folder, a glob, --list, or -o naming a folder (existing, or ending in /);
    one input with -o naming a clip (out.mp4) is always a single summary."""
    if list_file is not None or len(inputs) != 1:
        return True
    if _names_clip(output):
        return False
    only = inputs[0]
    if Path(only).is_dir() or (not Path(only).exists() and glob.has_magic(only)):
        return True
    return output is not None and (Path(output).is_dir() or str(output).endswith(("/", "\\")))


def run_collection(
    inputs: Sequence[str], list_file: Optional[Path], output: Optional[Path], cfg: Any, executor: Any, workers: int, quiet: bool
) -> None:
    from vidsum.collection import summarize_collection
    from vidsum.errors import UsageError
    from vidsum.extraction import collect_videos

    if output is None:
        raise UsageError("a collection needs -o OUTDIR: the folder for the summaries and index.json")
    if _names_clip(output):
        raise UsageError(f"{output}: names one clip, but several videos were given; -o takes a folder for a collection (e.g. -o summaries/)")
    paths = collect_videos(inputs, list_file)
    if not paths:
        raise UsageError("no videos found; pass video files, folders, globs or --list FILE")
    with RichProgress(enabled=not quiet) as progress, contextlib.ExitStack() as stack:
        if executor is not None:
            stack.enter_context(executor)
        result = summarize_collection(paths, output, cfg, executor=executor, workers=workers, progress=progress)
    print_failed(result.failed, "failed")
    if not quiet:
        out.print(
            f"[bold green]summaries:[/] {result.outdir}: {len(result.summarized)} summarized, "
            f"{len(result.skipped)} already done, {len(result.failed)} failed in {result.seconds:.1f} s; "
            f"index {result.index}",
            soft_wrap=True,
        )
    if result.failed:
        raise typer.Exit(1)
