"""The summaries of real videos before and after a change of `summarize` settings (issue 15).

    python bench/summaries_bench.py --videos "$VIDSUM_TEST_VIDEOS" --write /tmp/summaries.md \
        --before "--frame-decoder opencv --precision fp32" --after ""

Runs `vidsum summarize` (a subprocess, like a user) on every video with the BEFORE flags and the
AFTER flags (default: the old decoder against today's defaults) and compares what was chosen:
the shots, the selected shots (as frame ranges), the summary duration, and the F1 overlap of
the selected frames. Nothing is timed, so it needs no quiet machine. Without weights (offline)
both sides use the weight-free feature and the training-free scorer, as a user without
downloads gets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = {".mp4", ".webm", ".mkv", ".mov", ".avi"}


def run(video: Path, flags: str, out: Path) -> dict:
    exe = Path(sys.executable).parent / "vidsum"
    cmd = [str(exe), "summarize", str(video), "-o", str(out), "--overwrite", "--quiet", *flags.split()]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return json.loads(out.with_suffix(".json").read_text())


def selected_mask(doc: dict) -> np.ndarray:
    mask = np.zeros(int(doc["input"]["n_frames"]), dtype=bool)
    for s in doc["shots"]:
        if s["selected"]:
            mask[s["start_frame"] : s["end_frame"] + 1] = True
    return mask


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=Path, default=Path(os.environ.get("VIDSUM_TEST_VIDEOS", "")))
    ap.add_argument("--before", default="--frame-decoder opencv --precision fp32")
    ap.add_argument("--after", default="")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    videos = sorted(p for p in args.videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if args.videos.is_dir() else []
    if not videos:
        raise SystemExit(f"no videos in {args.videos!s}; pass --videos FOLDER or set VIDSUM_TEST_VIDEOS")
    lines = [
        "# Summaries of real videos before and after (issue 15)",
        "",
        f"Command: `python {' '.join(sys.argv)}`. Before: `summarize {args.before}`; after: `summarize {args.after}`.",
        "",
        "| video | side | backbone | decoder | shots | selected shots (frame ranges) | summary s | selected-frame F1 vs before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for v in videos:
            docs = {side: run(v, flags, Path(tmp) / f"{v.stem}.{side}.mp4")
                    for side, flags in (("before", args.before), ("after", args.after))}
            a, b = selected_mask(docs["before"]), selected_mask(docs["after"])
            n = min(len(a), len(b))
            f1 = 2 * float((a[:n] & b[:n]).sum()) / max(1.0, float(a[:n].sum() + b[:n].sum()))
            for side, doc in docs.items():
                chosen = [f"{s['start_frame']}-{s['end_frame']}" for s in doc["shots"] if s["selected"]]
                lines.append(
                    f"| {v.name} | {side} | {doc['backbone']['name']} ({doc['backbone'].get('precision') or '-'}) | "
                    f"{doc['sampling'].get('frame_decoder', 'opencv')} | {len(doc['shots'])} | {', '.join(chosen)} | "
                    f"{doc['summary']['duration_s']:.2f} | "
                    f"{'' if side == 'before' else f'{f1:.3f}'} |"
                )
            print(lines[-2], lines[-1], sep="\n", flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
