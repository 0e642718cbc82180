"""`vidsum features` (placeholder until the pipeline lands)."""

from __future__ import annotations


def features_command() -> None:
    """Extract features."""
    raise SystemExit("not implemented yet")
