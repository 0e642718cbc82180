"""``storyboard``: the whole video on one PNG contact sheet (``pip install "vidsum[plot]"``).

Top: the title, a line of facts, and a strip with every shot as a bar along the time axis, its
height the shot's score, orange when selected. Below: a thumbnail per shot in time order (its
middle frame), wrapped into rows, each labelled with the shot number, its start time and length,
and its score; selected shots have an orange frame and an "IN SUMMARY" tag.

Readable from 10 shots to 400 and more: thumbnails keep one size (240 px wide) whatever the
number of shots, so text stays legible, and the sheet grows in rows. Up to ``MAX_TILES`` (120)
shots every shot gets a thumbnail. Beyond that the sheet shows representative shots: every
selected shot (evenly spaced ones if there are more than ``MAX_TILES``) and evenly spaced
unselected shots to fill ``MAX_TILES`` tiles, in time order, each still labelled with its own
shot number; the header says how many of how many are shown, and the strip on top still draws
every shot.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vidsum.errors import InputError, ToolError
from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import Shot, check_document, clock, read_shots, source_video, title_of
from vidsum.exports.thumbnails import grab_frames, thumbnail_frame

log = logging.getLogger(__name__)

MAX_TILES = 120  # thumbnails on one sheet; more shots are represented by a subset (module docstring)
TILE_W = 240  # px, thumbnail width
MAX_COLUMNS = 10
MARGIN = 24  # px around the sheet
GAP = 14  # px between tiles
LABEL_H = 44  # px of text under each thumbnail
STRIP_H = 70  # px, the all-shots strip
BORDER = 5  # px, the frame of a selected tile
SELECTED = (236, 122, 28)  # orange, as in the --plot picture
UNSELECTED = (150, 150, 150)
BACKGROUND = (250, 250, 250)
INK = (30, 30, 30)
MUTED = (100, 100, 100)


def check_available() -> None:
    """Raise ToolError now when Pillow (the sheet's drawing library) is missing."""
    try:
        from PIL import Image, ImageFont  # noqa: F401
    except ImportError:
        raise ToolError(
            'Pillow is not installed, so the storyboard cannot be drawn; install it with `pip install "vidsum[plot]"`'
        ) from None


def pick_tiles(shots: Sequence[Shot], limit: int = MAX_TILES) -> list[Shot]:
    """The shots that get a thumbnail (module docstring), in time order."""
    if len(shots) <= limit:
        return list(shots)
    chosen = [s for s in shots if s.selected]
    others = [s for s in shots if not s.selected]
    if len(chosen) >= limit:
        return [chosen[i] for i in spread(len(chosen), limit)]
    picked = chosen + [others[i] for i in spread(len(others), limit - len(chosen))]
    return sorted(picked, key=lambda s: s.index)


def spread(n: int, k: int) -> list[int]:
    """k distinct indices of range(n) spread evenly, first and last included (k <= n)."""
    if k <= 0:
        return []
    if k == 1:
        return [0]
    return sorted(set(int(round(i * (n - 1) / (k - 1))) for i in range(k)))


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 or without FreeType: the small bitmap font
        return ImageFont.load_default()


@dataclasses.dataclass
class Storyboard:
    """The drawn sheet: ``image`` a PIL RGB image; ``tiles`` each shown shot with the box
    (x0, y0, x1, y1), exclusive ends, of its thumbnail on the sheet."""

    image: Any
    tiles: list[tuple[Shot, tuple[int, int, int, int]]]


def draw_storyboard(doc: Mapping[str, Any], source: Path | None) -> Storyboard:
    """Draw the sheet. Without a ``source`` the thumbnails are grey placeholders."""
    check_available()
    from PIL import Image, ImageDraw

    shots = read_shots(doc)
    tiles = pick_tiles(shots)
    width_px, height_px = int(doc["input"]["width"]), int(doc["input"]["height"])
    aspect = height_px / width_px if width_px > 0 and height_px > 0 else 9 / 16
    thumb_h = int(round(TILE_W * min(max(aspect, 9 / 16), 4 / 3)))  # tall (portrait) frames are cropped to 3:4
    frames = grab_frames(source, [thumbnail_frame(s) for s in tiles], TILE_W) if source is not None else {}

    columns = max(1, min(MAX_COLUMNS, len(tiles), math.ceil(math.sqrt(len(tiles) * 1.6))))
    rows = max(1, math.ceil(len(tiles) / columns))
    cell_w, cell_h = TILE_W + 2 * BORDER, thumb_h + 2 * BORDER + LABEL_H
    sheet_w = max(2 * MARGIN + columns * cell_w + (columns - 1) * GAP, 900)
    header_h = 90 + STRIP_H + 30
    sheet_h = MARGIN + header_h + rows * cell_h + (rows - 1) * GAP + MARGIN
    sheet = Image.new("RGB", (sheet_w, sheet_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    big, small, tiny = _font(26), _font(16), _font(13)

    duration = float(doc["input"]["duration_s"]) or max((s.end_s for s in shots), default=1.0)
    chosen = [s for s in shots if s.selected]
    kept_s = sum(s.end_s - s.start_s for s in chosen)
    draw.text((MARGIN, MARGIN), f"{title_of(doc)}: storyboard", fill=INK, font=big)
    facts = (
        f"{len(shots)} shots, {len(chosen)} selected ({clock(kept_s)} of {clock(duration)}); "
        f"scorer: {doc.get('model', {}).get('scorer', '?')}"
    )
    draw.text((MARGIN, MARGIN + 36), facts, fill=MUTED, font=small)
    shown = (
        f"every shot is shown; orange = in the summary"
        if len(tiles) == len(shots)
        else f"showing {len(tiles)} of {len(shots)} shots: {sum(t.selected for t in tiles)} selected and "
        f"{sum(not t.selected for t in tiles)} evenly spaced others; orange = in the summary"
    )
    draw.text((MARGIN, MARGIN + 58), shown, fill=MUTED, font=small)

    # the all-shots strip: one bar per shot, height = score, on a time axis
    top = MARGIN + 90
    left, right = MARGIN, sheet_w - MARGIN
    draw.rectangle((left, top, right, top + STRIP_H), outline=(210, 210, 210), fill=(255, 255, 255))
    scale = (right - left) / duration if duration > 0 else 0.0
    for s in shots:
        x0 = left + s.start_s * scale
        x1 = max(x0 + 1, left + s.end_s * scale - 1)
        h = max(2.0, (STRIP_H - 4) * min(max(s.score, 0.0), 1.0))
        draw.rectangle((x0, top + STRIP_H - 2 - h, x1, top + STRIP_H - 2), fill=SELECTED if s.selected else UNSELECTED)
    draw.text((left, top + STRIP_H + 6), "0:00", fill=MUTED, font=tiny)
    end_label = clock(duration, 0)
    draw.text((right - draw.textlength(end_label, font=tiny), top + STRIP_H + 6), end_label, fill=MUTED, font=tiny)
    draw.text((left + 60, top + STRIP_H + 6), "shots over time (bar height = score)", fill=MUTED, font=tiny)

    y0 = MARGIN + header_h
    boxes: list[tuple[Shot, tuple[int, int, int, int]]] = []
    for k, shot in enumerate(tiles):
        row, col = divmod(k, columns)
        x = MARGIN + col * (cell_w + GAP)
        y = y0 + row * (cell_h + GAP)
        if shot.selected:
            draw.rectangle((x, y, x + cell_w - 1, y + thumb_h + 2 * BORDER - 1), fill=SELECTED)
        else:
            draw.rectangle((x + BORDER - 1, y + BORDER - 1, x + BORDER + TILE_W, y + BORDER + thumb_h), outline=(200, 200, 200))
        image = frames.get(thumbnail_frame(shot))
        box = (x + BORDER, y + BORDER)
        boxes.append((shot, (box[0], box[1], box[0] + TILE_W, box[1] + thumb_h)))
        if image is None:
            draw.rectangle((box[0], box[1], box[0] + TILE_W - 1, box[1] + thumb_h - 1), fill=(215, 215, 215))
        else:
            tile = Image.fromarray(_fit(image, TILE_W, thumb_h))
            sheet.paste(tile, box)
        if shot.selected:
            tag = "IN SUMMARY"
            tw = draw.textlength(tag, font=tiny)
            draw.rectangle((box[0], box[1], box[0] + tw + 10, box[1] + 18), fill=SELECTED)
            draw.text((box[0] + 5, box[1] + 2), tag, fill=(255, 255, 255), font=tiny)
        ty = y + thumb_h + 2 * BORDER + 4
        draw.text((x + 2, ty), f"#{shot.number}  {clock(shot.start_s)}  ({shot.end_s - shot.start_s:.1f} s)", fill=INK, font=small)
        draw.text((x + 2, ty + 20), f"score {shot.score:.2f}", fill=SELECTED if shot.selected else MUTED, font=small)
    return Storyboard(sheet, boxes)


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Crop or pad (grey) an (h, width, 3) thumbnail to exactly (height, width, 3)."""
    h = image.shape[0]
    if h >= height:
        top = (h - height) // 2
        return np.ascontiguousarray(image[top : top + height])
    out = np.full((height, width, 3), 215, dtype=np.uint8)
    top = (height - h) // 2
    out[top : top + h] = image
    return out


def write_storyboard(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Draw ``doc``'s storyboard from its source video and write it to ``out`` as PNG."""
    check_document(doc, getattr(ctx, "summary_json", None))
    check_available()
    source = source_video(doc, ctx)
    if source is None:
        raise InputError(
            f"{doc['input'].get('path')}: the source video was not found (as recorded, or beside the summary JSON), "
            "and the storyboard is made of its frames; pass its path (--source PATH)"
        )
    draw_storyboard(doc, source).image.save(out, format="PNG", optimize=True)


SPEC = ExportSpec(
    name="storyboard", suffix=".storyboard.png", write=write_storyboard,
    description="PNG contact sheet of the whole video, selected shots marked",
)
