"""Benchmark: cutting 10 segments of 4.5 s out of a 5-minute 1280x720 30 fps H.264 + AAC file.

Methods, timed in one run (the machine is shared: compare ratios, not absolute seconds):
  exact      vidsum.render.render_summary (per-segment input seeking + concat filter, re-encode)
  trim       select/trim over the whole source (one input, split + trim/atrim + concat, re-encode)
  copy       vidsum.render.render_summary(fast=True) (concat demuxer, stream copy from keyframes)
  exact-120  120 segments of 0.5 s, 1.9 s apart: batched (32 per ffmpeg run), nearby
             segments share one input decoded through the gaps (MERGE_GAP_S)
  exact-120-seek  the same with MERGE_GAP_S = 0: one input (seek) per segment
  trim-120   the same 120 segments by select/trim over the whole source
  exact-32   32 segments of 1 s, 8.2 s apart: one ffmpeg run with 32 inputs (peak memory)

Frame accuracy: every clip frame is matched to a source frame by a 64x36 grey fingerprint.
The content (testsrc2) repeats every 360 frames, so each segment's first frame is searched in
[requested start - 300, requested start + 30] and later frames are followed one by one; a
segment ends where the next clip frame is not the next source frame.

    python bench/render_bench.py [--repeat 2] [--out bench/results/render.md]

The source is generated once into /tmp/vidsum_render_bench/ (about a minute) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.videogen import make_video  # noqa: E402
from vidsum import render  # noqa: E402

WORKDIR = Path("/tmp/vidsum_render_bench")
SOURCE = WORKDIR / "src_5min_720p.mp4"
FPS = 30
DURATION_S = 300.0
SIZE = (1280, 720)
SEGMENT_S = 4.5
N_SEGMENTS = 10
FP_SIZE = (64, 36)  # fingerprint width, height
SEARCH_BEFORE = 300  # frames; < the 360-frame period of testsrc2
SEARCH_AFTER = 30
MATCH_MSE = 10.0  # fingerprint MSE below which two frames are the same picture


def make_source() -> Path:
    if not SOURCE.exists():
        WORKDIR.mkdir(parents=True, exist_ok=True)
        tmp = WORKDIR / "tmp_src.mp4"
        print(f"generating {SOURCE} (5 min, 1280x720, 30 fps, H.264 + AAC sine)...", flush=True)
        make_video(tmp, durations=(DURATION_S,), fps=FPS, size=SIZE, audio=True)
        os.replace(tmp, SOURCE)
    return SOURCE


def fingerprints(path: Path) -> np.ndarray:
    """(n_frames, 64*36) float32 grey thumbnails of every frame."""
    w, h = FP_SIZE
    cmd = [render.ffmpeg_path(), "-v", "error", "-i", str(path), "-map", "0:v:0"]
    cmd += ["-vf", f"scale={w}:{h}:flags=area,format=gray", "-f", "rawvideo", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, w * h).astype(np.float32)


def source_fingerprints() -> np.ndarray:
    cache = WORKDIR / f"fp_{SOURCE.stat().st_size}.npy"
    if not cache.exists():
        np.save(cache, fingerprints(SOURCE))
    return np.load(cache)


def match_segments(src: np.ndarray, clip: np.ndarray, requested: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Map the clip back onto the source: (first, last) source frame of each run of consecutive frames."""
    runs: list[tuple[int, int]] = []
    k = 0
    for first, _ in requested:
        if k >= len(clip):
            break
        lo, hi = max(0, first - SEARCH_BEFORE), min(len(src), first + SEARCH_AFTER + 1)
        j = lo + int(((src[lo:hi] - clip[k]) ** 2).mean(1).argmin())
        start = j
        k += 1
        # Follow while the next clip frame is the next source frame: the best match nearby and a
        # close one (re-encoding leaves MSE < 1; neighbouring testsrc2 frames differ by > 40).
        while k < len(clip) and j + 1 < len(src):
            near = np.arange(max(0, j - 2), min(len(src), j + 5))
            err = ((src[near] - clip[k]) ** 2).mean(1)
            if near[err.argmin()] != j + 1 or err.min() > MATCH_MSE:
                break
            j += 1
            k += 1
        runs.append((start, j))
    return runs


def trim_command(src: Path, segments: list[tuple[float, float]], out: Path) -> list[str]:
    """Select/trim over the whole source: every frame up to the last segment is decoded."""
    n = len(segments)
    parts = [f"[0:v:0]split={n}" + "".join(f"[v{i}]" for i in range(n)), f"[0:a:0]asplit={n}" + "".join(f"[a{i}]" for i in range(n))]
    for i, (s, e) in enumerate(segments):
        a, b = round(s * FPS), round(e * FPS)
        parts.append(f"[v{i}]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[tv{i}]")
        parts.append(f"[a{i}]atrim=start={s:.6f}:end={e:.6f},asetpts=PTS-STARTPTS[ta{i}]")
    parts.append("".join(f"[tv{i}][ta{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=1[v][a]")
    cmd = [render.ffmpeg_path(), "-nostdin", "-v", "error", "-y", "-i", str(src), "-filter_complex", ";".join(parts)]
    cmd += ["-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", render.X264_PRESET, "-crf", str(render.X264_CRF)]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", render.AAC_BITRATE, "-movflags", "+faststart", str(out)]
    return cmd


def measure(name: str, segments: list[tuple[float, float]], out: Path) -> dict[str, float]:
    """Run one method in this process; wall s, CPU s and peak RSS (MiB) of its ffmpeg children."""
    if out.exists():
        out.unlink()
    method = name.split("-")[0]
    if name.endswith("-seek"):
        render.MERGE_GAP_S = 0.0  # one seek per segment, however close
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    if method == "trim":
        subprocess.run(trim_command(SOURCE, segments, out), check=True)
    else:
        render.render_summary(SOURCE, segments, out, fps=FPS, has_audio=True, fast=(method == "copy"))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mib": after.ru_maxrss / 1024}


def run_method(name: str, segments: list[tuple[float, float]], out: Path) -> dict[str, float]:
    """``measure`` in a fresh worker process, so that each run's peak memory is its own.

    CPU time is reported besides wall time: it is far less sensitive to other jobs on a shared
    machine."""
    cmd = [sys.executable, __file__, "--worker", name, str(out), json.dumps(segments)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per method (median reported)")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "OUT", "SEGMENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, out, segs = args.worker
        print(json.dumps(measure(name, [tuple(s) for s in json.loads(segs)], Path(out))))
        return

    make_source()
    # Spread over the file, starts off the 250-frame GOP grid so that copy mode has to go back.
    starts = [7.3 + 29.0 * i for i in range(N_SEGMENTS)]
    segments = [(s, s + SEGMENT_S) for s in starts]
    many = [(1.0 + 2.4 * i, 1.5 + 2.4 * i) for i in range(120)]
    src_fp = source_fingerprints()

    spread = [(2.0 + 9.2 * i, 3.0 + 9.2 * i) for i in range(32)]  # 8.2 s gaps: 32 separate inputs
    methods = [
        ("exact", segments),
        ("trim", segments),
        ("copy", segments),
        ("exact-120", many),
        ("exact-120-seek", many),
        ("trim-120", many),
        ("exact-32", spread),
    ]
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(dir=WORKDIR) as tmp:
        # One untimed warm-up so that the first method does not pay for a cold page cache.
        run_method("copy", segments, Path(tmp) / "warm.mp4")
        # Interleaved repeats: a burst of load from other jobs hits every method alike.
        timings: dict[str, list[dict[str, float]]] = {name: [] for name, _ in methods}
        for _ in range(args.repeat):
            for name, segs in methods:
                timings[name].append(run_method(name, segs, Path(tmp) / f"{name}.mp4"))
                print(name, timings[name][-1], flush=True)
        for name, segs in methods:
            out = Path(tmp) / f"{name}.mp4"
            duration, _, has_audio = render.probe_header(render.ffmpeg_path(), out)
            clip_fp = fingerprints(out)
            requested = [(round(s * FPS), round(e * FPS) - 1) for s, e in segs]
            runs = match_segments(src_fp, clip_fp, requested)
            starts_off = [r[0] - q[0] for r, q in zip(runs, requested)]
            ends_off = [r[1] - q[1] for r, q in zip(runs, requested)]
            exact_segments = sum(1 for a, b in zip(starts_off, ends_off) if a == 0 and b == 0)
            rows.append(
                dict(
                    method=name,
                    wall=statistics.median(t["wall"] for t in timings[name]),
                    cpu=statistics.median(t["cpu"] for t in timings[name]),
                    rss=max(t["rss_mib"] for t in timings[name]),
                    frames=len(clip_fp),
                    expected=sum(b - a + 1 for a, b in requested),
                    duration=duration,
                    expected_s=sum(e - s for s, e in segs),
                    audio=has_audio,
                    exact=f"{exact_segments}/{len(requested)}",
                    start_off=(min(starts_off), max(starts_off)),
                    end_off=(min(ends_off), max(ends_off)),
                )
            )
            print(rows[-1], flush=True)
    load_after = os.getloadavg()

    base = next(r for r in rows if r["method"] == "exact")
    lines = [
        f"| method | wall s (median of {args.repeat}) | CPU s (median) | CPU vs exact | peak RSS MiB "
        "| frames (expected) | duration s (expected) | audio | segments exact | start offset, frames "
        "| end offset, frames |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['cpu'] / base['cpu']:.2f}x | {r['rss']:.0f} | "
            f"{r['frames']} ({r['expected']}) | {r['duration']:.2f} ({r['expected_s']:.2f}) | "
            f"{'yes' if r['audio'] else 'no'} | {r['exact']} | {r['start_off'][0]} .. {r['start_off'][1]} | "
            f"{r['end_off'][0]} .. {r['end_off'][1]} |"
        )
    lines.append("")
    lines.append(f"load average (1 min) before: {load_before[0]:.1f}, after: {load_after[0]:.1f}")
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}, "
            f"ffmpeg {render.ffmpeg_path()}\n"
        )
        args.out.write_text(header + "\n" + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
