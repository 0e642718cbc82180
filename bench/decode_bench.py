"""Decoders of the sampled frames (issue 15), one run, medians of interleaved rounds.

    python bench/decode_bench.py --repeat 3 --write /tmp/decode.md \
        /tmp/vidsum-bench/five_min_720p_bframes.mp4 /tmp/vidsum-bench/five_min_720p.mp4 /path/to/real/*.mp4

For each video, every round times in turn:
- `ffmpeg -i f -an -f null -` and the same with `-skip_frame noref` (decode alone, the floors);
- the OpenCV decoder (`--frame-decoder opencv`: grab() every frame, retrieve() + INTER_AREA resize +
  RGB of the sampled ones; what `vidsum features` uses);
- the PyAV decoder (`--frame-decoder pyav`, `summarize`'s default for H.264/HEVC: the non-reference
  frames that are not sampled are skipped; exact picks, OpenCV's conversion and resize);
- the ffmpeg pipe decoder without skipping (`--frame-decoder ffmpeg`: exact picks, scaling in ffmpeg);
- the ffmpeg pipe decoder with `-skip_frame noref` (`--frame-decoder ffmpeg-noref`).
It also reports how many frames each decoder decoded, how far the picks of `ffmpeg-noref` moved
from the exact ones, and how far the 224x224 pixels of the other decoders are from OpenCV's.
Make the 5-minute files with bench/e2e_bench.py (it writes both). Machines are shared and noisy:
compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.videogen import ffmpeg_exe  # noqa: E402


def null_decode(path: Path, skip: bool) -> int:
    """Frames ffmpeg decoded (its last `frame=` count) with or without -skip_frame noref."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *(["-skip_frame", "noref"] if skip else []),
           "-i", str(path), "-map", "0:v:0", "-an", "-f", "null", "-"]
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    counts = re.findall(r"frame=\s*(\d+)", err)
    return int(counts[-1]) if counts else -1


def decode(path: Path, decoder: str) -> tuple[np.ndarray, np.ndarray, object]:
    """(picks (n,) int64, frames (n, 224, 224, 3) uint8, the exhausted stream) from one of the
    vidsum decoders (``vidsum.ffstream.open_frames``)."""
    from vidsum.ffstream import open_frames
    from vidsum.video import probe

    stream = open_frames(path, decoder, info=probe(path))
    picks, frames = [], []
    for i, f in stream:
        picks.append(i)
        frames.append(f)
    return np.asarray(picks, dtype=np.int64), np.stack(frames), stream


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    from vidsum.video import probe, sample_indices

    rows = []
    for video in args.videos:
        info = probe(video)
        exact = sample_indices(info.n_frames, info.fps)
        t: dict[str, list[float]] = {k: [] for k in ("null", "null-noref", "opencv", "pyav", "ffmpeg", "ffmpeg-noref")}
        decoded = {"null": null_decode(video, False), "null-noref": null_decode(video, True)}  # also warms the cache
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for r in range(args.repeat):
            for name in t:
                t0 = time.perf_counter()
                if name.startswith("null"):
                    null_decode(video, name == "null-noref")
                else:
                    picks, frames, stream = decode(video, name)
                    out[name] = (picks, frames)
                    if name == "pyav":  # frames really decoded: the frames minus those it skipped
                        decoded["pyav"] = stream.n_decoded - stream.skipped  # type: ignore[attr-defined]
                t[name].append(time.perf_counter() - t0)
            print(f"{video.name} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in t.items()), flush=True)
        med = {k: float(np.median(v)) for k, v in t.items()}
        ref_picks, ref = out["opencv"]
        row = {"video": video.name, "size": f"{info.width}x{info.height}", "fps": round(info.fps, 3),
               "n_frames": info.n_frames, "n_sampled": len(exact), "decoded": decoded, "median_s": med,
               "rounds_s": {k: [round(x, 2) for x in v] for k, v in t.items()}}
        row["opencv_picks_exact"] = bool(len(ref_picks) == len(exact) and (ref_picks == exact).all())
        for name in ("pyav", "ffmpeg", "ffmpeg-noref"):
            picks, frames = out[name]
            n = min(len(picks), len(exact))
            row[f"{name}_picks_exact"] = bool(len(picks) == len(exact) and (picks == exact).all())
            row[f"{name}_pick_shift"] = {"mean": float(np.abs(picks[:n] - exact[:n]).mean()),
                                         "max": int(np.abs(picks[:n] - exact[:n]).max()), "n": len(picks)}
            if name != "ffmpeg-noref" and len(frames) == len(ref):
                d = np.abs(frames.astype(np.int16) - ref.astype(np.int16))
                row[f"{name}_pixel_diff"] = {"mean": float(d.mean()), "p99": float(np.percentile(d, 99)), "max": int(d.max())}
        rows.append(row)
        print(json.dumps(row), flush=True)

    lines = [
        "# Decoders of the sampled frames (issue 15)",
        "",
        f"Command: `python {' '.join(sys.argv)}`; {os.cpu_count()} CPUs, shared machine (1-minute load "
        f"{os.getloadavg()[0]:.1f} at the end). Medians of {args.repeat} interleaved rounds.",
        "",
        "| video | frames decoded (all / pyav / noref) | ffmpeg null | null noref | opencv | pyav | ffmpeg | ffmpeg-noref | pyav / opencv | noref / opencv | noref picks moved (mean / max frames) | pyav vs opencv pixels (max) | ffmpeg vs opencv pixels (mean / p99 / max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        m = r["median_s"]
        px = r.get("ffmpeg_pixel_diff", {})
        pa = r.get("pyav_pixel_diff", {})
        sh = r["ffmpeg-noref_pick_shift"]
        lines.append(
            f"| {r['video']} ({r['size']}, {r['fps']:g} fps, {r['n_sampled']} sampled) | {r['decoded']['null']} / "
            f"{r['decoded']['pyav']} / {r['decoded']['null-noref']} | {m['null']:.2f} | {m['null-noref']:.2f} | "
            f"{m['opencv']:.2f} | {m['pyav']:.2f} | {m['ffmpeg']:.2f} | {m['ffmpeg-noref']:.2f} | "
            f"**{m['pyav'] / m['opencv']:.2f}** | {m['ffmpeg-noref'] / m['opencv']:.2f} | "
            f"{sh['mean']:.2f} / {sh['max']} | {pa.get('max', -1)} | "
            f"{px.get('mean', float('nan')):.2f} / {px.get('p99', float('nan')):.0f} / "
            f"{px.get('max', -1)} |"
        )
    lines += ["", "Exact picks (every sample where `sample_indices` puts it): "
              + ", ".join(f"{r['video']}: opencv {r['opencv_picks_exact']}, pyav {r['pyav_picks_exact']}, "
                          f"ffmpeg {r['ffmpeg_picks_exact']}, "
                          f"ffmpeg-noref {r['ffmpeg-noref_picks_exact']}" for r in rows),
              "", "Every round (s): `" + json.dumps({r["video"]: r["rounds_s"] for r in rows}) + "`"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
