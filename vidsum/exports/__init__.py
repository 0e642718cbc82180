"""Output formats of a summary, by name; each is written from the summary JSON document.

    EXPORTS: dict[str, ExportSpec]      get_export(name) -> ExportSpec

Adding one: write ``exports/<name>.py`` (a name that does not shadow the standard library,
e.g. ``csv_table.py``) with ``write(doc, out, ctx)`` and ``SPEC = ExportSpec(...)`` (from
``vidsum.exports.base``), and add one line to ``EXPORTS`` below (docs/architecture.md).
"""

from __future__ import annotations

from vidsum.errors import UsageError
from vidsum.exports import json_doc, plot
from vidsum.exports.base import ExportContext, ExportSpec

__all__ = ["EXPORTS", "ExportContext", "ExportSpec", "get_export"]

EXPORTS: dict[str, ExportSpec] = {
    json_doc.SPEC.name: json_doc.SPEC,
    plot.SPEC.name: plot.SPEC,
}


def get_export(name: str) -> ExportSpec:
    """The format registered as ``name``; UsageError listing the known names otherwise."""
    try:
        return EXPORTS[name]
    except KeyError:
        raise UsageError(f"unknown export format {name!r}; known formats: {', '.join(EXPORTS)}") from None
