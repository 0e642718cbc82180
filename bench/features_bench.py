"""Decode + GoogLeNet feature benchmark (issue 3, steps 1-2), one run, ratios measured within it.

    python bench/features_bench.py --write bench/results/features.md

On a generated 5-minute 1280x720 30 fps H.264 video (made once, same recipe as bench/e2e_bench.py):
1. decoding 9,000 frames keeping every 15th: `ffmpeg -i f -f null -`, OpenCV grab()+retrieve()
   (vidsum.video.iter_frames, with resize + RGB), OpenCV read() of every frame (+ the same
   resize + RGB of the sampled ones);
2. GoogLeNet images/s at 224x224 (random weights): the peer-style setting (fp32, batch 1, default
   layout) and what vidsum ships on the CPU (BN folded, channels_last, batch 8, inference_mode),
   in fp32 (the default) and bf16 (--precision bf16);
3. overlapped decode + features (Extractor.extract) vs decode alone + forward alone on the same
   600 frames: ratio = overlapped / (decode + forward).
Machines are shared and noisy: compare the ratios within one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.videogen import ffmpeg_exe, make_video  # noqa: E402

RATE_LIMIT = ("-b:v", "5M", "-maxrate", "5M", "-bufsize", "10M")  # as bench/e2e_bench.py
DEFAULT_VIDEO = Path("/tmp/vidsum-bench/five_min_720p.mp4")


def ensure_video(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.part.mp4")
        make_video(tmp, durations=(15.0,) * 20, fps=30, size=(1280, 720), audio=True, extra=RATE_LIMIT)
        os.replace(tmp, path)
    return path


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def decode_ffmpeg_null(path: Path) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-an", "-f", "null", "-"], check=True)


def decode_grab_retrieve(path: Path) -> np.ndarray:
    from vidsum.video import iter_frames

    return np.stack([f for _, f in iter_frames(path, sample_fps=2.0)])


def decode_read_all(path: Path) -> int:
    import cv2

    from vidsum.video import _resize_rgb

    cap = cv2.VideoCapture(str(path))
    i = kept = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % 15 == 0:
            _resize_rgb(frame, (224, 224))
            kept += 1
        i += 1
    cap.release()
    return kept


def googlenet_rates(n: int, warmup: int = 2) -> dict[str, float]:
    import torch

    from vidsum.backbones.googlenet import GoogLeNet
    from vidsum.features import GoogLeNetExtractor, to_input

    torch.manual_seed(0)
    net = GoogLeNet().eval()
    frames = np.random.default_rng(0).integers(0, 256, size=(n, 224, 224, 3), dtype=np.uint8)
    rates = {}
    with torch.inference_mode():
        x = to_input(frames).contiguous()  # default (NCHW-contiguous) layout, as peers have it
        for i in range(warmup):
            net.pool5(x[i : i + 1])
        t, _ = timed(lambda: [net.pool5(x[i : i + 1]) for i in range(n)])
        rates["fp32, batch 1, default layout, BN unfolded (peer style)"] = n / t
    for precision, bs in (("fp32", 8), ("fp32", 16), ("bf16", 8), ("bf16", 16)):
        ex = GoogLeNetExtractor(net, device="cpu", batch_size=bs, precision=precision)
        ex.extract_frames(frames[: bs * warmup])
        t, _ = timed(ex.extract_frames, frames)
        shipped = {("fp32", 8): " (default)", ("bf16", 8): " (--precision bf16)"}.get((precision, bs), "")
        rates[f"{precision}, batch {bs}, channels_last, BN folded, inference_mode{shipped}"] = n / t
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--frames", type=int, default=96, help="frames for the img/s measurements")
    ap.add_argument("--write", type=Path, help="write the markdown results here")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]

    import torch

    from vidsum.backbones.googlenet import GoogLeNet
    from vidsum.features import GoogLeNetExtractor
    from vidsum.video import probe

    torch.manual_seed(0)
    video = ensure_video(args.video)
    info = probe(video)
    print(f"video: {video} {info.width}x{info.height} {info.fps:g} fps {info.n_frames} frames", flush=True)
    ex = GoogLeNetExtractor(GoogLeNet().eval(), device="cpu")  # shipped CPU settings, random weights
    ex.extract_frames(np.zeros((16, 224, 224, 3), np.uint8))  # warm-up (oneDNN kernel creation)
    decode_ffmpeg_null(video)  # warm the page cache: the first read of a big file is slower

    rows: list[tuple[str, float]] = []
    t_null, _ = timed(decode_ffmpeg_null, video)
    rows.append(("`ffmpeg -i f -an -f null -` (decode every frame)", t_null))
    t_grab, frames = timed(decode_grab_retrieve, video)
    rows.append((f"OpenCV grab() all + retrieve() every 15th + resize/RGB ({len(frames)} kept; shipped)", t_grab))
    t_read, kept = timed(decode_read_all, video)
    rows.append((f"OpenCV read() all + resize/RGB every 15th ({kept} kept)", t_read))
    print(*(f"{a}: {b:.1f} s" for a, b in rows), sep="\n", flush=True)

    t_fwd, _ = timed(ex.extract_frames, frames)
    t_ext, feats = timed(ex.extract, video)
    assert feats.features.shape == (len(frames), 1024)
    ratio = t_ext / (t_grab + t_fwd)
    print(f"forward alone {t_fwd:.1f} s; overlapped extract {t_ext:.1f} s; ratio {ratio:.2f}", flush=True)

    rates = googlenet_rates(args.frames)
    print(*(f"{k}: {v:.1f} img/s" for k, v in rates.items()), sep="\n", flush=True)

    base = next(iter(rates.values()))
    lines = [
        "# Decode + GoogLeNet features benchmark",
        "",
        f"Command: `python {' '.join(sys.argv)}` "
        f"(video: {video.name}, {info.width}x{info.height}, {info.fps:g} fps, {info.n_frames} frames, H.264 ~5 Mbit/s, "
        "generated by the recipe in bench/e2e_bench.py).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1-minute load "
        f"average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (the run's own processes "
        "count in it). Compare ratios within this run only.",
        "",
        "## Decoding (600 of 9,000 frames kept at 2 fps)",
        "| method | time (s) | vs ffmpeg null |",
        "|---|---|---|",
        *[f"| {name} | {t:.1f} | {t / t_null:.2f} |" for name, t in rows],
        "",
        f"read() of every frame / grab+retrieve: **{t_read / t_grab:.2f}x** slower.",
        "",
        f"## GoogLeNet pool5, 224x224, random weights, {args.frames} frames",
        "| setting | img/s | vs peer style |",
        "|---|---|---|",
        *[f"| {k} | {v:.1f} | {v / base:.2f} |" for k, v in rates.items()],
        "",
        "bf16 is opt-in (`--precision bf16`): with random weights it moves pool5 by ~0.4 % (docs/features.md),",
        "and it cannot be validated against the real weights here (no network); fp32 stays the CPU default.",
        "",
        "## Overlapped decode + features on the whole video",
        "| part | time (s) |",
        "|---|---|",
        f"| decode alone (grab/retrieve, {len(frames)} frames kept) | {t_grab:.1f} |",
        f"| forward alone on those {len(frames)} frames (shipped settings) | {t_fwd:.1f} |",
        f"| decode + forward (sum) | {t_grab + t_fwd:.1f} |",
        f"| `Extractor.extract` (producer thread + bounded queue) | {t_ext:.1f} |",
        "",
        f"overlapped / (decode + forward) = **{ratio:.2f}** "
        f"({len(frames) / t_ext:.1f} sampled frames/s end to end). On 2 cores both stages are CPU-bound, so",
        "overlap can only hide idle time; its gain is bounded by the cores left over.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
