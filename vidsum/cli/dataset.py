"""`vidsum dataset` (placeholder)."""

from __future__ import annotations

import typer

app = typer.Typer(help="dataset commands", no_args_is_help=True)
