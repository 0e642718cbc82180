"""A decode task that crashes its Ray worker process, for the retry tests (imported by the workers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator


def crashing_decode(path: str, *args: Any) -> Iterator[Any]:
    """Kill the worker (as a segfaulting codec or an OOM kill would): every time for a video
    named crash*, the first time only for one named flaky*; decode the others normally. Each
    attempt is counted in a file beside the video."""
    from vidsum.extraction_ray import decode_video

    p = Path(path)
    attempts = Path(f"{path}.attempts")
    with open(attempts, "a") as fh:
        fh.write("1")
    if p.name.startswith("crash") or (p.name.startswith("flaky") and attempts.read_text() == "1"):
        os._exit(1)
    yield from decode_video(path, *args)
