"""`vidsum weights list|download|import|verify`: the backbone weight files and the user cache."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidsum.cli.common import RichProgress, guarded, out, setup_logging

app = typer.Typer(
    help="List, download, import (offline) and verify weight files (the GoogLeNet backbones).",
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
        for col in ("name", "status", "path", "hash", "description"):
            table.add_column(col, overflow="fold", no_wrap=col in ("name", "status"))
        for name, entry in sorted(weights.REGISTRY.items()):
            found = weights.resolve(name)
            where = next((w for w, p in weights.candidates(name) if p == found), None)
            status = f"[green]{where}[/]" if found else "[yellow]missing[/]"
            sha = entry.digest if entry.full_hash else f"{entry.digest}... (prefix)"
            sha = f"{sha} ({entry.algorithm})" if entry.algorithm != "sha256" else sha
            table.add_row(name, status, str(found or weights.cache_dir() / entry.filename), sha, entry.description)
        out.print(table)


@app.command("download")
def download_command(
    name: str = typer.Argument(DEFAULT_NAME, help=NAME_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Download a weight file into the user cache, checking its hash.

    bvlc-googlenet (the network of the public datasets' features) is a Caffe model: it is
    converted to a torch file beside it, which is what vidsum loads.
    """
    from vidsum import weights

    setup_logging(quiet)
    with guarded():
        entry = weights.spec(name)
        with RichProgress(enabled=not quiet) as progress:
            path = weights.download(entry.name, progress=progress)
        out.print(f"{entry.name}: {path}")
        _convert(entry.name, path)


def _convert(name: str, path: Path) -> None:
    """Convert and check a backbone's weight file when its backbone needs that (a caffemodel)."""
    from vidsum.backbones import BACKBONES

    for spec in BACKBONES.values():
        if spec.weights_name == name and spec.open_weights is not None:
            opened = spec.open_weights(path, False)
            out.print(f"{name}: converted to {opened.path} (sha256 {opened.sha256})")


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., help="A weight file downloaded by hand (bvlc_googlenet.caffemodel or googlenet-1378be20.pth)."
    ),
    name: Optional[str] = typer.Option(
        None, "--name", "-n", help=f"{NAME_HELP} Default: bvlc-googlenet for a .caffemodel, else {DEFAULT_NAME}.",
        show_default=False,
    ),
) -> None:
    """Copy a hand-downloaded weight file into the user cache after checking its hash (offline use).

    A bvlc_googlenet.caffemodel is also converted to the torch file vidsum loads.
    """
    from vidsum import weights

    setup_logging()
    with guarded():
        if name is None:
            name = "bvlc-googlenet" if file.suffix.lower() == ".caffemodel" else DEFAULT_NAME
        path = weights.import_file(file, name)
        out.print(f"{weights.spec(name).name}: {path}")
        _convert(weights.spec(name).name, path)


@app.command("verify")
def verify_command(
    file: Optional[Path] = typer.Argument(None, help="File to check; default: the one vidsum would use."),
    name: str = typer.Option(DEFAULT_NAME, "--name", "-n", help=NAME_HELP),
) -> None:
    """Check a weight file's hash against the registry; exit code 1 when it does not match."""
    from vidsum import weights
    from vidsum.errors import WeightsError

    setup_logging()
    with guarded():
        entry = weights.spec(name)
        path = weights.resolve(entry.name, file)
        if path is None:
            raise WeightsError(f"{entry.name}: not found in the project weights/ or the cache; run `vidsum weights download {entry.name}`")
        digest = weights.file_digest(path, entry.algorithm)
        if not weights.verify(path, entry.name):
            raise WeightsError(
                f"{path}: {entry.algorithm} {digest} does not match {entry.name} ({entry.digest}...); download it again"
            )
        algo = entry.algorithm
        what = algo if entry.full_hash else f"{algo} prefix {entry.digest} (only the prefix is published)"
        out.print(f"[green]ok[/] {path}: {what} matches {entry.name}; {algo} {digest}")
