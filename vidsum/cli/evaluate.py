"""`vidsum eval` (placeholder until the pipeline lands)."""

from __future__ import annotations


def eval_command() -> None:
    """Evaluate."""
    raise SystemExit("not implemented yet")
