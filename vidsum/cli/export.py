"""`vidsum export`: other formats from an existing summary JSON, recomputing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidsum.cli.common import guarded, out, setup_logging


def _format_help() -> str:
    # Written out here (not read from the registry) so that `--help` imports nothing heavy.
    return (
        "Format(s), comma-separated: csv (shot table), edl (CMX 3600), otio (OpenTimelineIO), "
        "fcpxml (Final Cut Pro / Resolve), chapters (into the clip + WebVTT), srt (source times "
        "as subtitles), storyboard (PNG contact sheet), html (offline report), png (the score plot), "
        "or all."
    )


def export_command(
    summary_json: Path = typer.Argument(..., metavar="SUMMARY.json", help="The JSON that `vidsum summarize` wrote.", show_default=False),
    formats: str = typer.Option(..., "--format", "-f", help=_format_help(), show_default=False),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="File to write (one format only). Default: beside the JSON, e.g. "
        "talk.summary.edl, talk.summary.storyboard.png.", show_default=False,
    ),
    source: Optional[Path] = typer.Option(
        None, "--source", help="The source video, when it is no longer at the path the JSON records "
        "(storyboard, html, and the EDL/OTIO/FCPXML start timecode read it).", show_default=False,
    ),
    clip: Optional[Path] = typer.Option(
        None, "--clip", help="The summary clip, when it is no longer at the path the JSON records "
        "(chapters are added to it; html plays it).", show_default=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files (refused otherwise)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Write a summary in other formats: an editor timeline, a storyboard, a report, ...

    Reads the JSON (and the videos it names, for pictures and chapters): nothing is recomputed.

    Examples:

      vidsum export talk.summary.json --format edl

      vidsum export talk.summary.json --format otio,fcpxml,csv

      vidsum export talk.summary.json -f html -o report/talk.html

      vidsum export talk.summary.json -f storyboard --source /media/talk.mp4
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.exports import ExportContext
        from vidsum.exports.outputs import load_summary, parse_formats, plan_exports, write_exports

        names = parse_formats(formats)
        doc = load_summary(summary_json)
        protect = [p for p in (source, clip) if p is not None]
        plan = plan_exports(names, summary_json, output, overwrite=overwrite, protect=protect)
        ctx = ExportContext(summary_json=summary_json, source=source, clip=clip)
        written = write_exports(doc, plan, ctx)
        if not quiet:
            for (name, _), path in zip(plan, written):
                out.print(f"  {name:<10} {path}", soft_wrap=True)
