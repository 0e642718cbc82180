"""Exports that need the videos: chapters, srt, storyboard and the HTML report.

A generated 10 s, 25 fps video of five 2 s segments (known shots, visually distinct), a summary
clip rendered from shots 1, 3 and 5 by the real renderer, and the summary JSON of that choice.
The HTML report is loaded in a real headless Chromium when one is installed.
"""

from __future__ import annotations

import dataclasses
import html
import http.server
import json
import logging
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.videogen import make_video
from vidsum import render
from vidsum.errors import InputError
from vidsum.exports import chapters, html_report, storyboard, subtitles
from vidsum.exports.json_doc import build_document as build_report
from vidsum.ffmpeg import ffmpeg_path, read_header
from vidsum.video import sample_indices

FPS = 25
SHOT_FRAMES = 50  # 2 s segments
N_SHOTS = 5
SELECTED = (True, False, True, False, True)


@dataclasses.dataclass
class Ctx:
    summary_json: Path | None = None
    source: Path | None = None
    clip: Path | None = None


def summary_doc(src: Path, clip: Path | None, selected: tuple[bool, ...], n_frames: int, fps: float = FPS,
                shots: np.ndarray | None = None) -> dict[str, Any]:
    if shots is None:
        shots = np.array([[i * SHOT_FRAMES, (i + 1) * SHOT_FRAMES - 1] for i in range(len(selected))])
    picks = sample_indices(n_frames, fps, 2.0)
    rng = np.random.default_rng(1)
    return build_report(
        input_path=src, duration_s=n_frames / fps, fps=fps, n_frames=n_frames, width=320, height=240, sample_fps=2.0,
        picks=picks, scores=rng.random(len(picks)), shots=shots, shot_scores=np.linspace(0.9, 0.1, len(shots)),
        selected=np.array(selected), backbone_name="fallback-colour-texture", backbone_weights_sha256=None,
        backbone_fallback=True, scorer="training-free", checkpoint_path=None, checkpoint_sha256=None,
        budget_fraction=0.6, budget_seconds=None, budget_frames=int(0.6 * n_frames), summary_path=clip,
        summary_duration_s=sum(selected) * SHOT_FRAMES / fps, timings_s={"features": 1.5, "render": 2.0},
        warnings=["no GoogLeNet weights: using the weight-free fallback feature"], has_audio=True, fast=False,
    )


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("exports")
    src = folder / "known.mp4"
    make_video(src, durations=(2.0,) * N_SHOTS, fps=FPS)
    clip = folder / "known.summary.mp4"
    shots = np.array([[i * SHOT_FRAMES, (i + 1) * SHOT_FRAMES - 1] for i in range(N_SHOTS)])
    segments = render.segments_from_shots(shots, np.array(SELECTED), FPS)
    render.render_summary(src, segments, clip, fps=FPS, has_audio=True)
    doc = summary_doc(src, clip, SELECTED, N_SHOTS * SHOT_FRAMES)
    json_path = folder / "known.summary.json"
    json_path.write_text(json.dumps(doc))
    return {"folder": folder, "src": src, "clip": clip, "doc": doc, "json": json_path}


def list_chapters(path: Path) -> list[tuple[float, float, str]]:
    """[(start_s, end_s, title)] as ffprobe -show_chapters reports them (ffmpeg -i where no
    ffprobe is installed: the same libavformat reader)."""
    ffprobe = shutil.which("ffprobe") or next(
        (str(p) for p in [Path("/opt/debian-ffmpeg/bin/ffprobe")] if p.is_file()), None
    )
    if ffprobe:
        out = subprocess.run(
            [ffprobe, "-v", "error", "-show_chapters", "-of", "json", str(path)], capture_output=True, text=True, check=True
        ).stdout
        return [(float(c["start_time"]), float(c["end_time"]), c["tags"]["title"]) for c in json.loads(out)["chapters"]]
    text = subprocess.run([ffmpeg_path(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    found = re.findall(r"Chapter #\d+:\d+: start (\S+), end (\S+)\s+Metadata:\s+title\s+: (.*)", text)
    return [(float(a), float(b), t.strip()) for a, b, t in found]


def test_chapters_are_in_the_clip_and_the_webvtt(known: dict[str, Any], tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(known["clip"], clip)
    before = read_header(clip)
    vtt = tmp_path / "clip.chapters.vtt"
    for _ in range(2):  # a second export replaces the chapters instead of adding a second set
        chapters.write_chapters(known["doc"], vtt, Ctx(summary_json=known["json"], clip=clip))
    found = list_chapters(clip)
    assert [(round(a, 3), round(b, 3)) for a, b, _ in found] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    assert [t.split(" (")[0] for _, _, t in found] == ["Shot 1", "Shot 3", "Shot 5"]
    assert found[1][2] == "Shot 3 (source 0:04.0-0:06.0, score 0.50)"
    after = read_header(clip)
    assert after.video_codec == before.video_codec == "h264" and after.has_audio
    assert after.duration == pytest.approx(before.duration, abs=0.05)
    listing = subprocess.run([ffmpeg_path(), "-hide_banner", "-i", str(clip)], capture_output=True, text=True).stderr
    assert len(re.findall(r"Stream #0:\d+.*: Data:", listing)) <= 1  # at most the one chapter track
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.*)", vtt.read_text())
    assert vtt.read_text().startswith("WEBVTT\n")
    assert cues == [
        ("00:00:00.000", "00:00:02.000", found[0][2]),
        ("00:00:02.000", "00:00:04.000", found[1][2]),
        ("00:00:04.000", "00:00:06.000", found[2][2]),
    ]


def test_chapters_without_the_clip_write_the_webvtt_only(known: dict[str, Any], tmp_path: Path, caplog) -> None:
    doc = dict(known["doc"], summary=dict(known["doc"]["summary"], path=str(tmp_path / "gone.mp4")))
    vtt = tmp_path / "c.vtt"
    # The CLI's logging setup (earlier tests) stops propagation at "vidsum", and --quiet raises
    # its level: listen on the module's logger, at WARNING.
    logger = logging.getLogger("vidsum.exports.chapters")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="vidsum"):
            chapters.write_chapters(doc, vtt, Ctx())
    finally:
        logger.removeHandler(caplog.handler)
    assert vtt.read_text().count(" --> ") == 3
    assert "was not found" in caplog.text
    with pytest.raises(InputError, match="no such video file"):
        chapters.write_chapters(doc, vtt, Ctx(clip=tmp_path / "missing.mp4"))


def test_srt_gives_source_times_per_segment(known: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "s.srt"
    subtitles.write_srt(known["doc"], out, Ctx())
    blocks = out.read_text().strip().split("\n\n")
    assert blocks == [
        "1\n00:00:00,000 --> 00:00:02,000\nsource 0:00.000 - 0:02.000 (shot 1)",
        "2\n00:00:02,000 --> 00:00:04,000\nsource 0:04.000 - 0:06.000 (shot 3)",
        "3\n00:00:04,000 --> 00:00:06,000\nsource 0:08.000 - 0:10.000 (shot 5)",
    ]
    # adjacent selected shots play as one segment
    joined = summary_doc(known["src"], None, (True, True, False, False, True), N_SHOTS * SHOT_FRAMES)
    subtitles.write_srt(joined, out, Ctx())
    blocks = out.read_text().strip().split("\n\n")
    assert blocks[0] == "1\n00:00:00,000 --> 00:00:04,000\nsource 0:00.000 - 0:04.000 (shots 1-2)"
    assert len(blocks) == 2


# --- storyboard --------------------------------------------------------------------------------


def test_storyboard_shows_each_known_shot(known: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    board = storyboard.draw_storyboard(known["doc"], known["src"])
    image = np.asarray(board.image)
    assert [shot.number for shot, _ in board.tiles] == [1, 2, 3, 4, 5]
    means = []
    for shot, (x0, y0, x1, y1) in board.tiles:
        tile = image[y0:y1, x0:x1].reshape(-1, 3).astype(float)
        means.append(tile.mean(axis=0))
        # the frame around a selected thumbnail is orange, around the others it is not
        ring = image[y0 - 3, x0 : x1].reshape(-1, 3)
        is_orange = np.all(np.abs(ring.astype(int) - storyboard.SELECTED) < 20, axis=1).mean() > 0.9
        assert is_orange == shot.selected
    red, blue = means[1], means[3]  # segment 2: red noise; segment 4: blue with a white grid
    assert red[0] > 1.8 * red[1] and red[0] > 1.8 * red[2]
    assert blue[2] > 1.5 * blue[0]
    assert len({tuple(np.round(m)) for m in means}) == 5  # five different pictures

    out = tmp_path / "board.png"
    storyboard.write_storyboard(known["doc"], out, Ctx(summary_json=known["json"]))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_storyboard_with_400_shots_shows_representative_tiles() -> None:
    pytest.importorskip("PIL")
    n = 400
    shots = np.array([[i * 25, i * 25 + 24] for i in range(n)])
    selected = tuple(i % 7 == 0 for i in range(n))  # 58 selected
    doc = summary_doc(Path("nowhere.mp4"), None, selected, n * 25, shots=shots)
    board = storyboard.draw_storyboard(doc, None)
    shown = [shot for shot, _ in board.tiles]
    assert len(shown) == storyboard.MAX_TILES
    assert {s.number for s in shown if s.selected} == {i + 1 for i in range(n) if selected[i]}
    assert [s.index for s in shown] == sorted(s.index for s in shown)
    assert shown[0].number == 1 and shown[-1].number == n  # both ends of the video are shown
    width, height = board.image.size
    # tiles keep their size, so the labels stay readable: 10 columns, 12 rows
    assert width <= 10 * (storyboard.TILE_W + 2 * storyboard.BORDER + storyboard.GAP) + 2 * storyboard.MARGIN
    x0, y0, x1, y1 = board.tiles[0][1]
    assert x1 - x0 == storyboard.TILE_W and height < 14 * (y1 - y0 + storyboard.LABEL_H + 30)


def test_storyboard_needs_the_source(known: dict[str, Any], tmp_path: Path) -> None:
    doc = dict(known["doc"], input=dict(known["doc"]["input"], path=str(tmp_path / "moved.mp4")))
    with pytest.raises(InputError, match="source video was not found"):
        storyboard.write_storyboard(doc, tmp_path / "b.png", Ctx())


def test_pick_tiles_keeps_every_selected_shot() -> None:
    doc = summary_doc(Path("x.mp4"), None, tuple(i % 3 == 0 for i in range(300)), 300 * 25,
                      shots=np.array([[i * 25, i * 25 + 24] for i in range(300)]))
    from vidsum.exports.document import read_shots

    shots = read_shots(doc)
    picked = storyboard.pick_tiles(shots, 120)  # all 100 selected shots and 20 others
    assert len(picked) == 120 and sum(s.selected for s in picked) == 100
    assert [s.index for s in picked] == sorted(s.index for s in picked)
    picked = storyboard.pick_tiles(shots, 80)  # more selected shots than tiles: evenly spaced selected ones
    assert len(picked) == 80 and all(s.selected for s in picked)
    assert picked[0].index == 0 and picked[-1].index == 297
    assert storyboard.pick_tiles(shots[:10], 120) == shots[:10]


# --- html --------------------------------------------------------------------------------------


def test_html_is_self_contained(known: dict[str, Any]) -> None:
    out = known["folder"] / "known.html"
    html_report.write_html(known["doc"], out, Ctx(summary_json=known["json"]))
    text = out.read_text(encoding="utf-8")
    # the only URL is the SVG namespace name (an identifier, never fetched)
    assert set(re.findall(r"[a-z]+://[^\s\"'<>)]*", text)) == {"http://www.w3.org/2000/svg"}
    assert 'src="known.summary.mp4"' in text and 'src="known.mp4"' in text  # relative links
    assert text.count('"thumb":"data:image/jpeg;base64,') == N_SHOTS
    assert "Content-Security-Policy" in text and "default-src 'none'" in html.unescape(text)
    for fact in ("fallback-colour-texture", "training-free", "no GoogLeNet weights", "--budget 0.6", "render"):
        assert fact in text


def test_html_without_videos_still_renders(known: dict[str, Any], tmp_path: Path) -> None:
    doc = dict(known["doc"], input=dict(known["doc"]["input"], path="gone.mp4"),
               summary=dict(known["doc"]["summary"], path="gone.summary.mp4"))
    out = tmp_path / "r.html"
    html_report.write_html(doc, out, Ctx())
    text = out.read_text()
    assert "<video" not in text and "was not found" in text


def _browser() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def run_browser(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = _browser()
    assert exe is not None
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--window-size=1280,1400",
        *args, page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def console(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """Every console message and uncaught error of the page (Chromium logs them as CONSOLE)."""
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(_browser() is None, reason="no Chromium installed (apt-get install chromium)")
def test_html_in_headless_chromium(known: dict[str, Any], tmp_path: Path) -> None:
    page = known["folder"] / "browser.html"
    html_report.write_html(known["doc"], page, Ctx(summary_json=known["json"]))
    dom = run_browser(page, tmp_path / "p1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console(dom) == []
    assert 'data-ready="1"' in dom.stdout
    assert len(re.findall(r'<div class="shot( selected)?( current)?" data-shot="\d+"', dom.stdout)) == N_SHOTS
    assert len(re.findall(r'<div class="shot selected', dom.stdout)) == sum(SELECTED)
    # both players found their video through the relative links
    assert 'data-clip="playable"' in dom.stdout and 'data-source="playable"' in dom.stdout

    shot = tmp_path / "page.png"
    proc = run_browser(page, tmp_path / "p2", f"--screenshot={shot}")
    assert proc.returncode == 0 and console(proc) == []
    import cv2

    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (1400, 1280)
    colours = len(np.unique(image.reshape(-1, 3) // 16, axis=0))
    assert image.std() > 20 and colours > 50  # not a blank page: text, thumbnails, the curve
    orange = np.all(np.abs(image.astype(int) - (28, 122, 236)) < 30, axis=2).sum()  # BGR of the selection colour
    assert orange > 500


# Appended to a copy of the report: once both players know their video, click the card of shot 3
# (selected: the second piece of the clip, at 2 s) and then shot 2 (not selected), and record
# where the players are.
_CLICKS = """<script>
(function () {
  var clip = document.getElementById("clip"), source = document.getElementById("source"), n = 0;
  function go() {
    if (++n < 2) return;
    var cards = document.querySelectorAll(".shot");
    cards[2].click();
    document.body.dataset.after3 = clip.currentTime.toFixed(3) + " " + source.currentTime.toFixed(3);
    cards[1].click();
    document.body.dataset.after2 = clip.currentTime.toFixed(3) + " " + source.currentTime.toFixed(3);
    document.body.dataset.current = document.querySelector(".shot.current").dataset.shot;
  }
  clip.addEventListener("loadedmetadata", go);
  source.addEventListener("loadedmetadata", go);
})();
</script>"""


@pytest.mark.skipif(_browser() is None, reason="no Chromium installed (apt-get install chromium)")
def test_html_click_on_a_shot_seeks_the_players(known: dict[str, Any], tmp_path: Path) -> None:
    page = known["folder"] / "clicks.html"
    html_report.write_html(known["doc"], page, Ctx(summary_json=known["json"]))
    page.write_text(page.read_text().replace("</body>", _CLICKS + "</body>"))
    proc = run_browser(page, tmp_path / "p", "--dump-dom")
    assert console(proc) == []
    clip_t, source_t = map(float, re.search(r'data-after3="([\d.]+ [\d.]+)"', proc.stdout).group(1).split())
    assert clip_t == pytest.approx(2.0, abs=0.01) and source_t == pytest.approx(4.0, abs=0.01)
    clip_t, source_t = map(float, re.search(r'data-after2="([\d.]+ [\d.]+)"', proc.stdout).group(1).split())
    assert clip_t == pytest.approx(2.0, abs=0.01)  # shot 2 is not in the clip: the clip stays
    assert source_t == pytest.approx(2.0, abs=0.01)
    assert 'data-current="1"' in proc.stdout


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        _Hits.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.skipif(_browser() is None, reason="no Chromium installed (apt-get install chromium)")
def test_html_policy_blocks_network_requests(known: dict[str, Any], tmp_path: Path) -> None:
    """The control for the test above: a network image added to the report is blocked by its
    policy (the server sees nothing) and shows up as a console message."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = known["folder"] / "control.html"
        html_report.write_html(known["doc"], page, Ctx(summary_json=known["json"]))
        url = f"http://127.0.0.1:{server.server_port}/pixel.png"
        page.write_text(page.read_text().replace("<h2>Shots</h2>", f'<h2>Shots</h2><img src="{url}">'))
        proc = run_browser(page, tmp_path / "p", "--dump-dom")
    finally:
        server.shutdown()
    assert _Hits.hits == []
    assert any("Content Security Policy" in line for line in console(proc))


# --- the --plot picture ------------------------------------------------------------------------


def test_plot_gains_thumbnails_of_selected_shots(known: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import cv2

    from vidsum.exports import plot

    with_source, without = tmp_path / "with.png", tmp_path / "without.png"
    plot.write(known["doc"], with_source, Ctx(summary_json=known["json"], source=known["src"]))
    doc = dict(known["doc"], input=dict(known["doc"]["input"], path=str(tmp_path / "gone.mp4")))
    plot.write(doc, without, Ctx())
    a, b = cv2.imread(str(with_source)), cv2.imread(str(without))
    assert b.shape[:2] == (600, 1800)
    assert a.shape[:2] == (round((plot.PLOT_SIZE_IN[1] + plot.THUMB_ROW_IN) * plot.PLOT_DPI), 1800)
    row = a[: round(plot.THUMB_ROW_IN * plot.PLOT_DPI)]
    # three thumbnails: testsrc2, SMPTE bars and the Mandelbrot set are colourful; a plot is not
    saturation = cv2.cvtColor(row, cv2.COLOR_BGR2HSV)[..., 1]
    assert (saturation > 120).mean() > 0.15
    assert len(plot.plot_thumbnails(known["doc"], Ctx(source=known["src"]))) == sum(SELECTED)


# --- real footage ------------------------------------------------------------------------------


def _real_videos() -> list[Path]:
    import os

    folder = os.environ.get("VIDSUM_TEST_VIDEOS")
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in {".mp4", ".mkv", ".webm", ".mov"})


@pytest.mark.realvideo
@pytest.mark.parametrize("video", _real_videos() or [None], ids=lambda p: p.name if p else "none")
def test_real_footage_thumbnails_and_editor_times(real_videos: Path, video: Path | None, tmp_path: Path) -> None:
    """Six equal shots of each real video (VP8, 12.5 and 179/6 fps among them): every thumbnail
    decodes to a picture, and the EDL still equals the selection to the frame."""
    if video is None:
        pytest.skip(f"no video files in {real_videos}")
    pytest.importorskip("PIL")
    from tests.test_exports_editors import strict_parse_edl
    from vidsum.exports import edl
    from vidsum.video import probe

    info = probe(video)
    n = info.n_frames - 2 * max(1, round(info.fps))  # leave the container's count estimate some slack
    edges = np.linspace(0, n, 7).astype(int)
    shots = np.stack([edges[:-1], edges[1:] - 1], axis=1)
    selected = (True, False, False, True, False, True)
    doc = summary_doc(video, None, selected, info.n_frames, fps=info.fps, shots=shots)
    board = storyboard.draw_storyboard(doc, video)
    image = np.asarray(board.image)
    for shot, (x0, y0, x1, y1) in board.tiles:
        assert image[y0:y1, x0:x1].std() > 5, f"shot {shot.number}: the thumbnail is blank"
    out = tmp_path / "cut.edl"
    edl.write_edl(doc, out, Ctx())
    events = strict_parse_edl(out.read_text(), info.fps)
    assert [(e["start"], e["frames"]) for e in events] == [(int(a), int(b - a + 1)) for (a, b), k in zip(shots, selected) if k]
