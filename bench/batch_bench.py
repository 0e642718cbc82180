"""Batch extraction throughput: `--workers 1` vs `--workers 2` (threads, and processes), in one run.

Generates N one-minute 320x240 30 fps H.264 videos (cached between runs), then runs
``vidsum.batch.extract_batch`` over all of them once per setting, each into a fresh output file,
with one extractor built beforehand (model loading is not timed). Prints a Markdown table of
videos per minute and sampled frames per second, with each setting's speed-up over workers=1.

    python bench/batch_bench.py                       # 20 videos, weight-free fallback extractor
    python bench/batch_bench.py --extractor googlenet # random-weights GoogLeNet (model-bound on a CPU)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.videogen import make_video  # noqa: E402

SEGMENT_S = 10.0  # seconds per visually distinct segment of a generated video


def make_videos(folder: Path, n: int, duration_s: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"bench_{i:02d}_{int(duration_s)}s.mp4"
        if not path.exists():
            n_seg = max(1, int(round(duration_s / SEGMENT_S)))
            durations = [duration_s / n_seg] * n_seg
            tmp = path.with_suffix(".part.mp4")  # renamed when complete: a cache hit is a whole file
            make_video(tmp, durations=durations, size=(320, 240), audio=True, extra=["-g", "60"])
            tmp.rename(path)
        paths.append(path)
    return paths


def build_extractor(kind: str, tmp: Path):  # type: ignore[no-untyped-def]
    import torch

    from vidsum.backbones.googlenet import GoogLeNet
    from vidsum.features import make_extractor

    if kind == "fallback":
        return make_extractor(allow_download=False, device="cpu")
    torch.manual_seed(0)
    weights = tmp / "random-googlenet.pth"
    torch.save(GoogLeNet(aux_logits=True).state_dict(), weights)
    return make_extractor(backbone_weights=weights, device="cpu")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per generated video")
    ap.add_argument("--extractor", choices=("fallback", "googlenet"), default="fallback")
    ap.add_argument("--settings", default="1:thread,2:thread,2:process", help="comma-separated WORKERS:EXECUTOR")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vidsum-bench-videos")
    ap.add_argument("--out", type=Path, default=None, help="also append the table to this Markdown file")
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.ERROR)
    from vidsum.extraction import extract_batch

    t0 = time.perf_counter()
    videos = make_videos(args.cache, args.videos, args.duration)
    gen_s = time.perf_counter() - t0
    settings = [(int(w), e) for w, e in (s.split(":") for s in args.settings.split(","))]
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        extractor = build_extractor(args.extractor, tmp)
        for workers, executor in settings:
            out = tmp / f"run{len(rows)}_w{workers}_{executor}.h5"  # a fresh file: a repeat must not resume
            t = time.perf_counter()
            res = extract_batch(videos, out, extractor=extractor, workers=workers, executor=executor)  # type: ignore[arg-type]
            wall = time.perf_counter() - t
            assert not res.failed, res.failed
            rows.append((workers, executor, wall, len(res.extracted), res.sampled_frames))
    base = rows[0][2]
    import torch

    lines = [
        f"### {args.videos} x {args.duration:.0f} s videos, 320x240 30 fps H.264, extractor: {args.extractor}",
        "",
        f"`python bench/batch_bench.py --videos {args.videos} --duration {args.duration:g} --extractor {args.extractor} "
        f"--settings {args.settings}`  ",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), python {platform.python_version()}; videos generated/cached in "
        f"{gen_s:.0f} s (not timed); one extractor built before the runs (model loading not timed).",
        "",
        "| workers | decoders | wall (s) | videos / min | sampled frames / s | speed-up vs first row |",
        "|---|---|---|---|---|---|",
    ]
    for workers, executor, wall, n, frames in rows:
        lines.append(
            f"| {workers} | {executor} | {wall:.1f} | {60 * n / wall:.1f} | {frames / wall:.1f} | {base / wall:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
