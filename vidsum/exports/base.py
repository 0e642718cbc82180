"""``ExportSpec`` (one output format) and ``ExportContext`` (registered in ``vidsum.exports``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class ExportContext:
    """Files a writer may refer to: the summary JSON written (or read), the source video and the
    summary clip; None when there is none (``vidsum export SUMMARY.json`` without the video)."""

    summary_json: Path | None = None
    source: Path | None = None
    clip: Path | None = None


@dataclasses.dataclass(frozen=True)
class ExportSpec:
    """One output format.

    name: the ``--export`` key. suffix: the default file suffix (".csv"). write(doc, out, ctx):
    write the summary JSON document ``doc`` (exactly as docs/output.md describes it) to ``out``,
    a temporary path the caller renames when complete; raise OutputError/ToolError on failure.
    """

    name: str
    suffix: str
    write: Callable[[dict[str, Any], Path, ExportContext], None]
    description: str
