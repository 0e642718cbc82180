"""`vidsum summarize` (placeholder until the pipeline lands)."""

from __future__ import annotations


def summarize_command() -> None:
    """Summarize a video into a short clip."""
    raise SystemExit("not implemented yet")
