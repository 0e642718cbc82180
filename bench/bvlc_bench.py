"""BVLC (Caffe) GoogLeNet against torchvision's GoogLeNet: sampled frames per second, one run.

    flock /work/bench.lock python bench/bvlc_bench.py --write bench/results/bvlc.md

Both backbones with random weights, as vidsum ships them on the CPU (NetworkExtractor: batches
of 8, channels_last, inference_mode; torchvision's with BatchNorm folded), in fp32 and bf16:
1. the network alone on decoded 224x224 frames (``extract_frames``), repeats interleaved
   (BVLC, torchvision, BVLC, ...) and the median taken, so that a busy machine slows both alike;
2. the whole extraction of a generated 1-minute 720p video (``Extractor.extract``: decoding
   overlapped with the forward pass), in sampled frames per second (median of 2, interleaved).
On a GPU (``--device cuda``) the same in fp32 and fp16. Compare ratios within one run only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.videogen import make_video  # noqa: E402

DEFAULT_VIDEO = Path("/tmp/vidsum-bench/one_min_720p.mp4")
RATE_LIMIT = ("-b:v", "5M", "-maxrate", "5M", "-bufsize", "10M")  # as bench/e2e_bench.py


def ensure_video(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.part.mp4")
        make_video(tmp, durations=(15.0,) * 4, fps=30, size=(1280, 720), audio=False, extra=RATE_LIMIT)
        os.replace(tmp, path)
    return path


def extractors(device: str, precision: str) -> dict[str, object]:
    import torch

    from vidsum.backbones import bvlc_googlenet, googlenet
    from vidsum.features import NetworkExtractor

    torch.manual_seed(0)
    return {
        "bvlc-googlenet": NetworkExtractor(
            bvlc_googlenet.BVLCGoogLeNet().eval(), device=device, precision=precision, spec=bvlc_googlenet.SPEC
        ),
        "googlenet (torchvision)": NetworkExtractor(
            googlenet.GoogLeNet().eval(), device=device, precision=precision, spec=googlenet.SPEC
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--frames", type=int, default=64, help="frames per network-alone measurement")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats of each network-alone measurement")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--write", type=Path, help="write the markdown results here")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]

    import torch

    precisions = ("fp32", "bf16") if args.device == "cpu" else ("fp32", "fp16")
    video = ensure_video(args.video)
    frames = np.random.default_rng(0).integers(0, 256, size=(args.frames, 224, 224, 3), dtype=np.uint8)
    alone: dict[tuple[str, str], float] = {}
    whole: dict[tuple[str, str], tuple[float, int]] = {}
    for precision in precisions:
        exs = extractors(args.device, precision)
        for ex in exs.values():
            ex.extract_frames(frames[:16])  # warm-up: oneDNN / cuDNN kernel creation
        times: dict[str, list[float]] = {name: [] for name in exs}
        for _ in range(args.repeats):
            for name, ex in exs.items():
                t0 = time.perf_counter()
                ex.extract_frames(frames)
                times[name].append(time.perf_counter() - t0)
        for name in exs:
            alone[(name, precision)] = args.frames / statistics.median(times[name])
            print(f"{name} {precision}: {alone[(name, precision)]:.1f} frames/s (network alone)", flush=True)
        runs: dict[str, list[float]] = {name: [] for name in exs}
        n = 0
        for _ in range(2):  # interleaved as above
            for name, ex in exs.items():
                t0 = time.perf_counter()
                n = len(ex.extract(video).picks)
                runs[name].append(n / (time.perf_counter() - t0))
        for name in exs:
            whole[(name, precision)] = (statistics.median(runs[name]), n)
            print(f"{name} {precision}: {whole[(name, precision)][0]:.1f} sampled frames/s (extract)", flush=True)

    names = ["bvlc-googlenet", "googlenet (torchvision)"]
    n_sampled = next(iter(whole.values()))[1]
    lines = [
        "# BVLC GoogLeNet vs torchvision GoogLeNet",
        "",
        f"Command: `python {' '.join(sys.argv)}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, device {args.device}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1-minute load "
        f"average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (a shared machine; the "
        "run's own processes count in it). Random weights, batches of 8, channels_last, inference_mode. "
        "Compare the ratios within this run only.",
        "",
        f"## The network alone, {args.frames} frames of 224x224 (median of {args.repeats} interleaved repeats)",
        "| precision | bvlc-googlenet frames/s | torchvision frames/s | BVLC / torchvision |",
        "|---|---|---|---|",
        *[
            f"| {p} | {alone[(names[0], p)]:.1f} | {alone[(names[1], p)]:.1f} | {alone[(names[0], p)] / alone[(names[1], p)]:.2f} |"
            for p in precisions
        ],
        "",
        f"## Whole extraction of {video.name} ({n_sampled} sampled frames, 1280x720, decoding overlapped; median of 2)",
        "| precision | bvlc-googlenet sampled frames/s | torchvision sampled frames/s | BVLC / torchvision |",
        "|---|---|---|---|",
        *[
            f"| {p} | {whole[(names[0], p)][0]:.1f} | {whole[(names[1], p)][0]:.1f} | {whole[(names[0], p)][0] / whole[(names[1], p)][0]:.2f} |"
            for p in precisions
        ],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
