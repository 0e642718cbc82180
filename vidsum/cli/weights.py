"""`vidsum weights list|download|import|verify`: the backbone weight files and the user cache."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidsum.cli.common import RichProgress, guarded, out, setup_logging

app = typer.Typer(
    help="List, download, import (offline) and verify weight files (GoogLeNet backbone).",
    no_args_is_help=True,
)

DEFAULT_NAME = "googlenet-imagenet"
NAME_HELP = "Registry name (see `vidsum weights list`)."


@app.command("list")
def list_command() -> None:
    """Show the known weight files, where each is looked for, and whether it is there."""
    from rich.table import Table

    from vidsum import weights

    with guarded():
        table = Table(title=f"weight files (cache: {weights.cache_dir()})")
        for col in ("name", "status", "path", "sha256", "description"):
            table.add_column(col, overflow="fold", no_wrap=col in ("name", "status"))
        for name, entry in sorted(weights.REGISTRY.items()):
            found = weights.resolve(name)
            where = next((w for w, p in weights.candidates(name) if p == found), None)
            status = f"[green]{where}[/]" if found else "[yellow]missing[/]"
            sha = entry.sha256 if entry.full_hash else f"{entry.sha256}... (prefix)"
            table.add_row(name, status, str(found or weights.cache_dir() / entry.filename), sha, entry.description)
        out.print(table)


@app.command("download")
def download_command(
    name: str = typer.Argument(DEFAULT_NAME, help=NAME_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Download a weight file into the user cache, checking its SHA-256."""
    from vidsum import weights

    setup_logging(quiet)
    with guarded():
        entry = weights.spec(name)
        with RichProgress(enabled=not quiet) as progress:
            path = weights.download(entry.name, progress=progress)
        out.print(f"{entry.name}: {path}")


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A weight file downloaded by hand (e.g. googlenet-1378be20.pth)."),
    name: str = typer.Option(DEFAULT_NAME, "--name", "-n", help=NAME_HELP),
) -> None:
    """Copy a hand-downloaded weight file into the user cache after checking its SHA-256 (offline use)."""
    from vidsum import weights

    setup_logging()
    with guarded():
        path = weights.import_file(file, name)
        out.print(f"{weights.spec(name).name}: {path}")


@app.command("verify")
def verify_command(
    file: Optional[Path] = typer.Argument(None, help="File to check; default: the one vidsum would use."),
    name: str = typer.Option(DEFAULT_NAME, "--name", "-n", help=NAME_HELP),
) -> None:
    """Check a weight file's SHA-256 against the registry; exit code 1 when it does not match."""
    from vidsum import weights
    from vidsum.errors import WeightsError

    setup_logging()
    with guarded():
        entry = weights.spec(name)
        path = weights.resolve(entry.name, file)
        if path is None:
            raise WeightsError(f"{entry.name}: not found in the project weights/ or the cache; run `vidsum weights download {entry.name}`")
        digest = weights.sha256_file(path)
        if not weights.verify(path, entry.name):
            raise WeightsError(f"{path}: sha256 {digest} does not match {entry.name} ({entry.sha256}...); download it again")
        what = "sha256" if entry.full_hash else f"sha256 prefix {entry.sha256} (only the prefix is published)"
        out.print(f"[green]ok[/] {path}: {what} matches {entry.name}; sha256 {digest}")
