"""``html``: a self-contained report to open in any browser, offline.

One file: styles, script, data and thumbnails (JPEG, inlined as data: URIs) are all inside it;
the only things it loads are the summary clip and the source video, by their path relative to
the report (so keep them beside it, or move the three together). A Content-Security-Policy
forbids every network request. The page shows:

- the summary clip in a player, and the source video in a second one when it is reachable;
- the score of every analysed frame over time, the shots, and the selected shots on one timeline
  (a playhead follows either player; click the timeline to seek the source);
- a card per shot with its thumbnail, times and score; clicking it seeks the source to the shot
  and, for a selected shot, the summary clip to where the shot plays in it;
- the run's facts: backbone, model, fallback warnings, budget, timings, versions.

Thumbnails need the source video; without it the cards are drawn without pictures.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import urllib.parse
from pathlib import Path
from typing import Any, Mapping

from vidsum.exports.base import ExportContext, ExportSpec
from vidsum.exports.document import (
    check_document, clock, fps_of, read_shots, source_video, summary_clip, summary_events, title_of,
)

log = logging.getLogger(__name__)

THUMB_W = 192  # px, thumbnail width in the shot cards
MAX_THUMBS = 600  # shots beyond this get no picture (keeps the file under ~10 MB)
JPEG_QUALITY = 80
CSP = (
    "default-src 'none'; img-src data:; media-src 'self' file:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'"
)


def relative_url(target: Path, folder: Path) -> str:
    """``target`` as a URL relative to ``folder`` (a file: URL when no relative path exists)."""
    try:
        rel = os.path.relpath(target.resolve(), folder.resolve())
    except ValueError:  # another drive on Windows
        return target.resolve().as_uri()
    return urllib.parse.quote(Path(rel).as_posix())


def thumbnails(doc: Mapping[str, Any], source: Path | None) -> dict[int, str]:
    """{shot index: data: URI of its JPEG thumbnail}; empty without a source."""
    if source is None:
        return {}
    import cv2

    from vidsum.exports.storyboard import pick_tiles
    from vidsum.exports.thumbnails import grab_frames, thumbnail_frame

    shots = pick_tiles(read_shots(doc), MAX_THUMBS)
    frames = grab_frames(source, [thumbnail_frame(s) for s in shots], THUMB_W)
    out: dict[int, str] = {}
    for shot in shots:
        image = frames.get(thumbnail_frame(shot))
        if image is None:
            continue
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            out[shot.index] = "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")
    return out


def _facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    inp, bb, model, budget, summ = doc["input"], doc.get("backbone", {}), doc.get("model", {}), doc.get("budget", {}), doc["summary"]
    if budget.get("seconds") is not None:
        asked = f"--length {budget['seconds']:g} s"
    elif budget.get("fraction") is not None:
        asked = f"--budget {budget['fraction']:g} ({100 * budget['fraction']:g} % of the input)"
    else:
        asked = "not recorded"
    rows = [
        ("input", f"{inp.get('path')}: {clock(inp['duration_s'])}, {inp['fps']:.3f} fps, {inp['n_frames']} frames, "
                  f"{inp['width']}x{inp['height']}, {'with' if inp.get('has_audio') else 'no'} sound"),
        ("summary", f"{summ.get('path')}: {clock(summ['duration_s'])}, {summ['n_shots']} of {len(doc['shots'])} shots, "
                    f"{summ['n_frames']} frames" + (" (cut with --fast)" if summ.get("fast") else "")),
        ("budget", f"{asked}: {budget.get('frames')} frames"),
        ("backbone", f"{bb.get('name')}" + (" (FALLBACK: weight-free feature)" if bb.get("fallback") else "")
                     + (f", {bb['precision']}" if bb.get("precision") else "")),
        ("backbone weights", str(bb.get("weights_sha256") or "none")),
        ("preprocessing", str(bb.get("preprocessing") or "not recorded")),
        ("model", f"{model.get('scorer')}" + (" (FALLBACK: no trained checkpoint)" if model.get("fallback") else "")),
        ("checkpoint", f"{model.get('checkpoint')}" + (f" (sha256 {model['sha256']})" if model.get("sha256") else "")
                       if model.get("checkpoint") else "none"),
        ("sampling", f"{doc['sampling']['sample_fps']:g} frames/s, {doc['sampling']['n_steps']} analysed frames"),
        ("vidsum", f"{doc.get('vidsum_version')} (summary schema {doc.get('schema_version')})"),
    ]
    return rows


def render_html(doc: Mapping[str, Any], folder: Path, ctx: Any = None) -> str:
    """The report as one HTML string; ``folder`` is where it will be saved (for relative links)."""
    source = source_video(doc, ctx)
    clip = summary_clip(doc, ctx)
    thumbs = thumbnails(doc, source)
    fps = fps_of(doc)
    data = {
        "fps": fps,
        "duration": float(doc["input"]["duration_s"]),
        "times": [p / fps for p in doc["sampling"]["picks"]],
        "scores": doc["scores"],
        "shots": [
            {"n": s.number, "start": s.start_s, "end": s.end_s, "score": s.score, "sel": s.selected,
             "label": f"{clock(s.start_s)} - {clock(s.end_s)}", "thumb": thumbs.get(s.index)}
            for s in read_shots(doc)
        ],
        # where each selected shot starts in the summary clip, seconds
        "record": {str(e.shot.index): e.record_frame / fps for e in summary_events(doc)},
        "clip": relative_url(clip, folder) if clip is not None else None,
        "source": relative_url(source, folder) if source is not None else None,
    }
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    esc = html.escape
    title = f"{title_of(doc)}: vidsum summary"
    facts = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(doc))
    timings = "".join(
        f"<tr><th>{esc(k)}</th><td>{float(v):.2f} s</td></tr>" for k, v in doc.get("timings_s", {}).items()
    )
    warnings = "".join(f"<li>{esc(w)}</li>" for w in doc.get("warnings", []))
    warn_block = f'<ul class="warnings">{warnings}</ul>' if warnings else '<p class="ok">No warnings: no fallback was used.</p>'
    missing = []
    if clip is None:
        missing.append(f"the summary clip ({doc['summary'].get('path')}) was not found when this report was written")
    if source is None:
        missing.append(f"the source video ({doc['input'].get('path')}) was not found, so there is no source player and no thumbnails")
    fallbacks = [
        what for what, used in (
            ("the weight-free feature instead of GoogLeNet", doc.get("backbone", {}).get("fallback")),
            ("the training-free scorer instead of a trained model", doc.get("model", {}).get("fallback")),
        ) if used
    ]
    if doc["summary"].get("fast"):
        missing.append(
            "the clip was cut with --fast (from keyframes): its shots start up to a keyframe interval "
            "early, so seeking it by shot is approximate"
        )
    if fallbacks:
        missing.insert(0, f"fallbacks were used: {' and '.join(fallbacks)} (see the warnings below)")
    notes = "".join(f'<p class="note">{esc(m[0].upper() + m[1:])}.</p>' for m in missing)
    # Posters (the first selected shot's thumbnail, the first shot's) show a picture before playing.
    first_sel = next((thumbs.get(s.index) for s in read_shots(doc) if s.selected), None)
    players = "".join(
        f'<figure><figcaption>{caption}</figcaption><video id="{vid}" controls preload="metadata" '
        f'src="{esc(url, quote=True)}"' + (f' poster="{poster}"' if poster else "") + "></video></figure>"
        for vid, caption, url, poster in (
            ("clip", "Summary clip", data["clip"], first_sel), ("source", "Source video", data["source"], thumbs.get(0)),
        )
        if url is not None
    )
    n_sel = sum(s.selected for s in read_shots(doc))
    head_facts = (
        f"{clock(doc['input']['duration_s'])} of video became a {clock(doc['summary']['duration_s'])} summary: "
        f"{n_sel} of {len(doc['shots'])} shots."
    )
    return _PAGE.format(
        csp=esc(CSP, quote=True), title=esc(title), head_facts=esc(head_facts), notes=notes,
        players=players, facts=facts, timings=timings, warnings=warn_block, payload=payload, style=_STYLE, script=_SCRIPT,
        n_warn=len(doc.get("warnings", [])),
    )


def write_html(doc: Mapping[str, Any], out: Path, ctx: ExportContext | None = None) -> None:
    """Write the report of ``doc`` to ``out`` (UTF-8 HTML); links are relative to ``out``'s folder."""
    check_document(doc, getattr(ctx, "summary_json", None))
    out.write_text(render_html(doc, out.parent, ctx), encoding="utf-8")


_STYLE = """
:root { --sel: #ec7a1c; --ink: #1e1e1e; --muted: #666; --line: #ddd; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: var(--bg); }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { margin: 28px 0 10px; font-size: 18px; }
.lead { margin: 0 0 16px; color: var(--muted); }
.note { margin: 6px 0; padding: 8px 12px; background: #fff4e5; border-left: 4px solid var(--sel); }
#players { display: flex; flex-wrap: wrap; gap: 16px; }
#players figure { margin: 0; flex: 1 1 420px; max-width: 720px; }
#players figcaption { font-weight: 600; margin-bottom: 4px; }
#players video { width: 100%; max-height: 405px; background: #000; border-radius: 4px; }
#axis { position: relative; height: 18px; font-size: 12px; color: var(--muted); }
#axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
#timeline { width: 100%; height: 190px; background: #fff; border: 1px solid var(--line); border-radius: 4px;
            cursor: pointer; display: block; }
.legend { color: var(--muted); font-size: 13px; margin-top: 4px; }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin: 0 4px 0 12px; }
#status { min-height: 1.4em; color: var(--muted); font-size: 13px; }
#shots { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.shot { background: #fff; border: 2px solid var(--line); border-radius: 6px; padding: 6px; cursor: pointer;
        font-size: 13px; position: relative; }
.shot:hover { border-color: #999; }
.shot.selected { border-color: var(--sel); }
.shot.current { box-shadow: 0 0 0 3px #3b82f6; }
.shot img, .shot .noimg { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; display: block; border-radius: 3px;
                         background: #ddd; }
.shot .tag { position: absolute; top: 10px; left: 10px; background: var(--sel); color: #fff; font-size: 11px;
             padding: 1px 6px; border-radius: 3px; font-weight: 600; }
.shot .meta { display: flex; justify-content: space-between; margin-top: 4px; }
.shot .score { color: var(--muted); }
.shot.selected .score { color: var(--sel); font-weight: 600; }
table { border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 4px 12px 4px 0; vertical-align: top; border-bottom: 1px solid #eee; }
th { font-weight: 600; white-space: nowrap; }
td { word-break: break-all; }
.cols { display: flex; flex-wrap: wrap; gap: 32px; }
.warnings li { background: #fff4e5; padding: 6px 10px; margin: 4px 0; list-style: none; border-left: 4px solid var(--sel); }
.warnings { padding: 0; max-width: 900px; }
.ok { color: #2e7d32; }
"""

# Plain script, no libraries. Every element it draws comes from the embedded data.
_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("vidsum-data").textContent);
  var clip = document.getElementById("clip"), source = document.getElementById("source");
  var svg = document.getElementById("timeline"), grid = document.getElementById("shots");
  var status = document.getElementById("status");
  var NS = "http://www.w3.org/2000/svg", W = 1000, H = 190, CURVE_H = 120, BAND_Y = 134, BAND_H = 20, SEL_Y = 160;
  var duration = data.duration > 0 ? data.duration : 1;
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function x(t) { return (t / duration) * W; }
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("preserveAspectRatio", "none");
  // score curve
  var lo = Math.min(0, Math.min.apply(null, data.scores.length ? data.scores : [0]));
  var hi = Math.max(1, Math.max.apply(null, data.scores.length ? data.scores : [1]));
  var pts = data.times.map(function (t, i) {
    return x(t).toFixed(2) + "," + (8 + (1 - (data.scores[i] - lo) / (hi - lo)) * (CURVE_H - 8)).toFixed(2);
  });
  data.shots.forEach(function (s) {
    if (s.sel) el("rect", {x: x(s.start), y: 0, width: Math.max(0.5, x(s.end) - x(s.start)), height: CURVE_H,
                          fill: "#ec7a1c", "fill-opacity": 0.18}, svg);
  });
  el("polyline", {points: pts.join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": 1.5,
                  "vector-effect": "non-scaling-stroke"}, svg);
  // shots band (alternating greys) and selection band
  data.shots.forEach(function (s, i) {
    var w = Math.max(0.5, x(s.end) - x(s.start));
    var r = el("rect", {x: x(s.start), y: BAND_Y, width: w, height: BAND_H, fill: i % 2 ? "#bbb" : "#999"}, svg);
    el("title", {}, r).textContent = "shot " + s.n + ": " + s.label + ", score " + s.score.toFixed(2);
    if (s.sel) el("rect", {x: x(s.start), y: SEL_Y, width: w, height: BAND_H, fill: "#ec7a1c"}, svg);
  });
  // time axis: round steps giving at most ~10 labels
  var axis = document.getElementById("axis"), steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  var step = steps.filter(function (st) { return duration / st <= 10; })[0] || 7200;
  function clock(t) {
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, sec = Math.floor(t % 60);
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }
  for (var t = 0; t <= duration + 1e-9; t += step) {
    var tick = document.createElement("span");
    tick.style.left = (100 * t / duration) + "%";
    tick.textContent = clock(t);
    axis.appendChild(tick);
  }
  var head = el("line", {x1: 0, x2: 0, y1: 0, y2: H, stroke: "#d62728", "stroke-width": 2,
                         "vector-effect": "non-scaling-stroke", visibility: "hidden"}, svg);
  // shot cards
  var cards = data.shots.map(function (s, i) {
    var card = document.createElement("div");
    card.className = "shot" + (s.sel ? " selected" : "");
    card.dataset.shot = String(i);
    var pic = document.createElement(s.thumb ? "img" : "div");
    if (s.thumb) { pic.src = s.thumb; pic.alt = "shot " + s.n; } else { pic.className = "noimg"; }
    card.appendChild(pic);
    if (s.sel) { var tag = document.createElement("span"); tag.className = "tag"; tag.textContent = "in summary"; card.appendChild(tag); }
    var meta = document.createElement("div"); meta.className = "meta";
    var a = document.createElement("span"); a.textContent = "#" + s.n + "  " + s.label;
    var b = document.createElement("span"); b.className = "score"; b.textContent = "score " + s.score.toFixed(2);
    meta.appendChild(a); meta.appendChild(b); card.appendChild(meta);
    card.addEventListener("click", function () { seekShot(i); });
    grid.appendChild(card);
    return card;
  });
  function seekShot(i) {
    var s = data.shots[i], did = [];
    if (source) { source.currentTime = s.start + 1e-3; did.push("source"); }
    if (clip && s.sel) { clip.currentTime = data.record[String(i)] + 1e-3; did.push("summary clip"); }
    status.textContent = did.length ? "Shot " + s.n + ": seeked the " + did.join(" and ") + "."
      : "Shot " + s.n + " is not in the summary, and the source video is not beside this report.";
    mark(s.start);
  }
  function shotAt(t) {
    for (var i = 0; i < data.shots.length; i++) if (t >= data.shots[i].start && t < data.shots[i].end) return i;
    return -1;
  }
  var current = -1;
  function mark(t) {
    head.setAttribute("x1", x(t)); head.setAttribute("x2", x(t)); head.setAttribute("visibility", "visible");
    var i = shotAt(t);
    if (i !== current) {
      if (current >= 0) cards[current].classList.remove("current");
      if (i >= 0) cards[i].classList.add("current");
      current = i;
    }
  }
  // summary clip time -> source time, through the selected shots' places in the clip
  var starts = Object.keys(data.record).map(function (k) { return [data.record[k], +k]; })
    .sort(function (p, q) { return p[0] - q[0]; });
  function clipToSource(t) {
    for (var j = starts.length - 1; j >= 0; j--) if (t >= starts[j][0]) return data.shots[starts[j][1]].start + (t - starts[j][0]);
    return 0;
  }
  if (source) source.addEventListener("timeupdate", function () { mark(source.currentTime); });
  if (clip) clip.addEventListener("timeupdate", function () { mark(clipToSource(clip.currentTime)); });
  svg.addEventListener("click", function (ev) {
    var box = svg.getBoundingClientRect(), t = ((ev.clientX - box.left) / box.width) * duration;
    var i = shotAt(t);
    if (source) { source.currentTime = t; mark(t); status.textContent = "Seeked the source to " + t.toFixed(1) + " s."; }
    else if (i >= 0) seekShot(i);
  });
  [clip, source].forEach(function (v) {
    if (v) v.addEventListener("loadedmetadata", function () { document.body.dataset[v.id] = "playable"; });
    if (v) v.addEventListener("error", function () {
      var note = document.createElement("p"); note.className = "note";
      note.textContent = "This browser cannot play " + v.getAttribute("src") + " (moved, or a codec it lacks).";
      v.parentNode.appendChild(note);
    });
  });
  document.body.dataset.ready = "1";
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p class="lead">{head_facts}</p>
{notes}
<section id="players">{players}</section>
<h2>Scores, shots and the selection over time</h2>
<svg id="timeline" role="img" aria-label="scores, shots and selected shots over time"></svg>
<div id="axis"></div>
<div class="legend"><span style="background:#1f77b4"></span>score of each analysed frame
<span style="background:#999"></span>shots <span style="background:#ec7a1c"></span>selected shots
(click to seek the source)</div>
<p id="status"></p>
<h2>Shots</h2>
<div id="shots"></div>
<h2>The run</h2>
<div class="cols">
<table>{facts}</table>
<table><tr><th colspan="2">timings</th></tr>{timings}</table>
</div>
<h2>Warnings ({n_warn})</h2>
{warnings}
<script type="application/json" id="vidsum-data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""


SPEC = ExportSpec(
    name="html", suffix=".html", write=write_html,
    description="self-contained offline report: players, timeline, shots, the run's facts",
)
