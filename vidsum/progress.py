"""The progress-callback protocol shared by every long-running library function.

The library never prints. Long work takes ``progress: ProgressFn | None`` and calls
``progress(stage, done, total)``; ``total`` is None when unknown. Only the CLI draws bars.
"""

from __future__ import annotations

from typing import Callable, Optional

ProgressFn = Callable[[str, float, Optional[float]], None]


def report(progress: ProgressFn | None, stage: str, done: float, total: float | None = None) -> None:
    """Call ``progress`` if one was given."""
    if progress is not None:
        progress(stage, done, total)
