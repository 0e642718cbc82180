"""Output formats of a summary, by name; each is written from the summary JSON document.

    EXPORTS: dict[str, ExportSpec]      get_export(name) -> ExportSpec

Adding one: write ``exports/<name>.py`` (a name that does not shadow the standard library,
e.g. ``csv_table.py``) with ``write(doc, out, ctx)`` and ``SPEC = ExportSpec(...)`` (from
``vidsum.exports.base``), and add one line to ``EXPORTS`` below (docs/architecture.md).
"""

from __future__ import annotations

from vidsum.errors import UsageError
from vidsum.exports import (
    chapters, csv_table, edl, fcpxml, html_report, json_doc, otio_timeline, plot, storyboard, subtitles,
)
from vidsum.exports.base import ExportContext, ExportSpec

__all__ = ["EXPORTS", "ExportContext", "ExportSpec", "get_export"]

EXPORTS: dict[str, ExportSpec] = {
    json_doc.SPEC.name: json_doc.SPEC,
    plot.SPEC.name: plot.SPEC,
    csv_table.SPEC.name: csv_table.SPEC,
    edl.SPEC.name: edl.SPEC,
    otio_timeline.SPEC.name: otio_timeline.SPEC,
    fcpxml.SPEC.name: fcpxml.SPEC,
    chapters.SPEC.name: chapters.SPEC,
    subtitles.SPEC.name: subtitles.SPEC,
    storyboard.SPEC.name: storyboard.SPEC,
    html_report.SPEC.name: html_report.SPEC,
}


def get_export(name: str) -> ExportSpec:
    """The format registered as ``name``; UsageError listing the known names otherwise."""
    try:
        return EXPORTS[name]
    except KeyError:
        raise UsageError(f"unknown export format {name!r}; known formats: {', '.join(EXPORTS)}") from None
