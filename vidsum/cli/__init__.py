"""The `vidsum` command line. Only this package prints, parses argv and exits.

Each subcommand lives in its own module and imports heavy libraries (torch, cv2) inside the
command function, so `vidsum --help` stays fast.
"""

from __future__ import annotations

import typer

from vidsum.cli import dataset, evaluate, experiment, features, summarize, train, weights

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
app.command("train")(train.train_command)
app.command("eval")(evaluate.eval_command)
app.command("features")(features.features_command)
app.command("experiment")(experiment.experiment_command)
app.add_typer(dataset.app, name="dataset")
app.add_typer(weights.app, name="weights")


def _print_version(value: bool) -> None:
    if value:
        from vidsum import __version__

        typer.echo(f"vidsum {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Summarize videos; train and evaluate DMASum."""


def main() -> None:
    """Console-script entry point."""
    app()
