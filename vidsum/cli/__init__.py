"""The `vidsum` command line. Only this package prints, parses argv and exits.

Each subcommand lives in its own module and imports heavy libraries (torch, cv2) inside the
command function, so `vidsum --help` stays fast.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from vidsum.cli import dataset, evaluate, experiment, export, features, summarize, train, weights

app = typer.Typer(
    name="vidsum",
    help=(
        "Turn a long video into a short summary clip (DMASum: dual mixture attention with "
        "single-video meta learning), and train / evaluate summarizers on the public "
        "SumMe / TVSum / OVP / YouTube HDF5 datasets.\n\n"
        "Quick start:  vidsum summarize input.mp4 -o summary.mp4"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("summarize")(summarize.summarize_command)
app.command("export")(export.export_command)
app.command("train")(train.train_command)
app.command("eval")(evaluate.eval_command)
app.command("features")(features.features_command)
app.command("experiment")(experiment.experiment_command)
app.add_typer(dataset.app, name="dataset")
app.add_typer(weights.app, name="weights")


def _print_version(value: bool) -> None:
    if value:
        from vidsum import __version__
        from vidsum.cli.common import guarded
        from vidsum.ffmpeg import find_ffmpeg

        typer.echo(f"vidsum {__version__}")
        with guarded():
            typer.echo(find_ffmpeg().describe())
        raise typer.Exit(0)


def _use_ffmpeg(value: str | None) -> None:
    # Through the environment, so that worker processes (vidsum features --jobs) use it too.
    if value:
        from vidsum.ffmpeg import FFMPEG_ENV

        os.environ[FFMPEG_ENV] = value


@app.callback()
def _root(
    ffmpeg: Optional[str] = typer.Option(
        None,
        "--ffmpeg",
        metavar="PATH",
        help=(
            "The ffmpeg binary to run (a path, or a name on PATH), instead of the one bundled with "
            "vidsum (imageio-ffmpeg); same as VIDSUM_FFMPEG. Goes before the command: "
            "vidsum --ffmpeg /usr/bin/ffmpeg summarize ..."
        ),
        is_eager=True,
        callback=_use_ffmpeg,
    ),
    version: bool = typer.Option(
        # Not eager, so that it runs after --ffmpeg wherever that is written.
        False, "--version", help="Print the versions of vidsum and of the ffmpeg in use, and exit.",
        callback=_print_version,
    ),
) -> None:
    """Summarize videos; train and evaluate DMASum."""


def main() -> None:
    """Console-script entry point."""
    app()
