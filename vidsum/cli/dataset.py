"""`vidsum dataset build`: attach TVSum / SumMe human annotations to extracted features.

Heavy libraries are imported inside the command so that `vidsum --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

import typer

from vidsum.cli.common import RichProgress, console, guarded, out, setup_logging

app = typer.Typer(
    help="Build trainable datasets (eccv16 HDF5) from `vidsum features` output and human annotations.",
    no_args_is_help=True,
)


@app.command("build")
def build_command(
    features: Path = typer.Option(..., "--features", "-f", help="HDF5 file written by `vidsum features`.", show_default=False),
    annotations: Tuple[str, Path] = typer.Option(
        ..., "--annotations", "-a", metavar="FORMAT PATH",
        help="'tvsum PATH/ydata-tvsum50-anno.tsv' or 'summe PATH/GT' (the folder of .mat files).", show_default=False,
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Dataset file to write (eccv16 schema with annotations).", show_default=False),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file (refused otherwise)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No closing summary; errors only."),
) -> None:
    """Add TVSum or SumMe annotations to extracted features; the result is what `vidsum train` reads.

    Videos are matched by file name (TVSum: the YouTube id; SumMe: the .mat file's name).

    Examples:

      vidsum features tvsum/video/ -o tvsum_features.h5

      vidsum dataset build -f tvsum_features.h5 --annotations tvsum tvsum/data/ydata-tvsum50-anno.tsv -o tvsum.h5

      vidsum dataset build -f summe_features.h5 --annotations summe SumMe/GT -o summe.h5
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.annotations import FORMATS, build_dataset
        from vidsum.errors import UsageError

        fmt, path = annotations
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise UsageError(f"--annotations: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        with RichProgress(enabled=not quiet) as progress:
            built = build_dataset(features, fmt, path, output, overwrite=overwrite, progress=progress)  # type: ignore[arg-type]
        if built.adjusted:
            console.print(
                f"[yellow]{len(built.adjusted)} video(s) differ from their annotation by a few frames "
                "(trimmed/padded):[/] "
                + ", ".join(f"{v} ({a} vs {n})" for v, a, n in built.adjusted),
                soft_wrap=True,
            )
        if built.unannotated:
            console.print(
                f"[yellow]{len(built.unannotated)} video(s) have no annotation and were left out:[/] "
                + ", ".join(built.unannotated),
                soft_wrap=True,
            )
        if built.missing_features and not quiet:
            console.print(
                f"{len(built.missing_features)} annotated video(s) are not in {features}: "
                + ", ".join(built.missing_features),
                soft_wrap=True,
            )
        if not quiet:
            out.print(f"[bold green]dataset:[/] {built.output}: {len(built.written)} annotated video(s) ({fmt})", soft_wrap=True)
