"""Writing export formats from a summary JSON: for ``vidsum export`` and ``summarize --export``.

    formats = parse_formats("edl,otio")                       # names checked, order kept
    plan = plan_exports(formats, summary_json, overwrite=False) # paths checked, nothing written
    write_exports(doc, plan, ExportContext(summary_json, source, clip))

Each file is written to a temporary path beside its destination and renamed when complete
(``vidsum.io.atomic_path``); a format that fails leaves no file and names itself in the error.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from vidsum.errors import InputError, UsageError, VidsumError
from vidsum.io import atomic_path, check_output

log = logging.getLogger(__name__)


def _requirements() -> dict[str, Callable[[], None]]:
    """Checks that raise ToolError before any work when a format's library is missing."""
    from vidsum.exports import otio_timeline, plot, storyboard

    return {
        "otio": otio_timeline.check_available,
        "storyboard": storyboard.check_available,
        "png": plot.check_plot_available,
    }


def parse_formats(text: str | Sequence[str]) -> list[str]:
    """"edl, otio" or ["edl", "otio"] -> ["edl", "otio"]; UsageError for an unknown name, listing
    the known ones. Duplicates are dropped; "all" means every format but json and png."""
    from vidsum.exports import EXPORTS

    items = text.split(",") if isinstance(text, str) else [p for t in text for p in str(t).split(",")]
    names: list[str] = []
    for raw in items:
        name = raw.strip().lower()
        if not name:
            continue
        expanded = [n for n in EXPORTS if n not in ("json", "png")] if name == "all" else [name]
        for n in expanded:
            if n not in EXPORTS:
                raise UsageError(f"unknown export format {raw.strip()!r}; choose from {', '.join(EXPORTS)} (or all)")
            if n not in names:
                names.append(n)
    if not names:
        raise UsageError(f"no export format given; choose from {', '.join(EXPORTS)}")
    return names


def default_path(summary_json: Path, name: str) -> Path:
    """Where format ``name`` goes by default: beside the JSON, ``talk.summary.json`` ->
    ``talk.summary.edl`` (``.storyboard.png``, ``.chapters.vtt``, ...)."""
    from vidsum.exports import EXPORTS

    stem = summary_json.name[: -len(summary_json.suffix)] if summary_json.suffix else summary_json.name
    return summary_json.with_name(stem + EXPORTS[name].suffix)


def plan_exports(
    formats: Sequence[str],
    summary_json: Path,
    output: Path | None = None,
    *,
    overwrite: bool = False,
    protect: Sequence[Path] = (),
    taken: Sequence[Path] = (),
) -> list[tuple[str, Path]]:
    """[(format, path)] for ``formats``, every path checked (folder exists and is writable, not
    an existing file unless ``overwrite``, not one of ``protect`` (the input video, say), not
    used twice). ``output`` names the file of a single format. Raises before anything is
    written; also checks now that each format's library is installed."""
    if output is not None and len(formats) != 1:
        raise UsageError(f"-o names one file, but {len(formats)} formats were asked for; export them one at a time, or leave out -o")
    checks = _requirements()
    plan: list[tuple[str, Path]] = []
    used = list(taken)
    for name in formats:
        path = Path(output).expanduser() if output is not None else default_path(summary_json, name)
        for p in protect:
            check_output(path, f"{name} export", p, overwrite, used)
        check_output(path, f"{name} export", summary_json, overwrite, used)
        if name in checks:
            checks[name]()
        used.append(path)
        plan.append((name, path))
    return plan


def write_exports(doc: dict[str, Any], plan: Sequence[tuple[str, Path]], ctx: Any) -> list[Path]:
    """Write each planned format atomically; returns the paths written. A failing format raises
    its error with the format's name, after the formats before it were written."""
    from vidsum.exports import EXPORTS

    written: list[Path] = []
    for name, path in plan:
        try:
            with atomic_path(path) as tmp:
                EXPORTS[name].write(doc, tmp, ctx)
        except VidsumError as exc:
            raise type(exc)(f"{name} export: {exc}") from exc
        log.info("wrote %s %s", name, path)
        written.append(path)
    return written


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a summary JSON written by ``vidsum summarize``; InputError with the fix otherwise."""
    from vidsum.exports.document import check_document

    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"{p}: no such file; pass the summary JSON that `vidsum summarize` wrote (INPUT.summary.json)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a readable JSON file ({exc}); pass the summary JSON that `vidsum summarize` wrote") from None
    check_document(doc, p)
    return doc
