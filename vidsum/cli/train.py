"""`vidsum train` (placeholder until the pipeline lands)."""

from __future__ import annotations


def train_command() -> None:
    """Train DMASum."""
    raise SystemExit("not implemented yet")
