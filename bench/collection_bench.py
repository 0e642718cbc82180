"""Collection throughput: `vidsum features` (or collection `vidsum summarize`, `--task summarize`)
with the local executor (1 and 2 decoders) and the Ray executor (a local Ray cluster on this
machine), in one run.

Generates N one-minute 320x240 30 fps H.264 videos (cached between runs, shared with
bench/batch_bench.py), builds GoogLeNet with random weights from an explicit file (the real
backbone code path) or the weight-free feature, then extracts all videos once per setting into a
fresh file. Local settings reuse one extractor built beforehand; the Ray setting's start-up
(cluster, actors loading the weights) is timed separately and not in its wall time. Prints a
Markdown table of videos per minute and sampled frames per second, with ratios to the first row.
`--task summarize` runs `summarize_collection` into a fresh folder per setting instead (training-free
scorer; its wall time includes loading the scorer and, locally, the backbone, and the clips: for
Ray those are made by tasks on the cluster).

    python bench/collection_bench.py                          # 6 videos, GoogLeNet, local 1/2 + ray + local 1
    python bench/collection_bench.py --extractor fallback --videos 20
    python bench/collection_bench.py --task summarize
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.batch_bench import make_videos  # noqa: E402


def build_weights(kind: str, tmp: Path) -> Path | None:
    """A random GoogLeNet state dict (None: the weight-free feature)."""
    if kind == "fallback":
        return None
    import torch

    from vidsum.backbones.googlenet import GoogLeNet

    torch.manual_seed(0)
    weights = tmp / "random-googlenet.pth"
    torch.save(GoogLeNet(aux_logits=True).state_dict(), weights)
    return weights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--task", choices=("features", "summarize"), default="features")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per generated video")
    ap.add_argument("--extractor", choices=("fallback", "googlenet"), default="googlenet")
    ap.add_argument("--settings", default="local:1,local:2,ray,local:1", help="comma-separated local:WORKERS or ray")
    ap.add_argument("--ray-cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray cluster")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vidsum-bench-videos")
    ap.add_argument("--out", type=Path, default=None, help="also append the table to this Markdown file")
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.ERROR)
    from vidsum.collection import summarize_collection
    from vidsum.config import SummarizeConfig
    from vidsum.extraction import extract_batch
    from vidsum.extraction_ray import RayExecutor, RayOptions
    from vidsum.config import FeaturesConfig
    from vidsum.features import make_extractor

    t0 = time.perf_counter()
    videos = make_videos(args.cache, args.videos, args.duration)
    gen_s = time.perf_counter() - t0
    rows = []
    ray_start_s = None
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        weights = build_weights(args.extractor, tmp)
        cfg = FeaturesConfig(backbone_weights=None if weights is None else str(weights), device="cpu", allow_download=False)
        scfg = SummarizeConfig(backbone_weights=cfg.backbone_weights, device="cpu")
        extractor = make_extractor(cfg) if args.task == "features" else None

        def run(out: Path, **how: object) -> tuple[int, int]:
            """(videos done, sampled frames) of one setting."""
            if args.task == "features":
                res = extract_batch(videos, out, cfg, extractor=extractor, **how)
                assert not res.failed, res.failed
                return len(res.extracted), res.sampled_frames
            col = summarize_collection(videos, out.with_suffix(""), scfg, **how)
            assert not col.failed, col.failed
            index = json.loads(col.index.read_text())["videos"]
            steps = sum(json.loads(Path(r["json"]).read_text())["sampling"]["n_steps"] for r in index)
            return len(col.summarized), steps
        ray_executor = None
        for setting in args.settings.split(","):
            out = tmp / f"run{len(rows)}_{setting.replace(':', '')}.h5"  # a fresh file: a repeat must not resume
            if setting == "ray":
                if ray_executor is None:
                    t = time.perf_counter()
                    ray_executor = RayExecutor(RayOptions(num_cpus=args.ray_cpus))
                    ray_executor.describe(cfg)  # the cluster and the actors (loading the weights) start here
                    ray_start_s = time.perf_counter() - t
                t = time.perf_counter()
                n, frames = run(out, executor=ray_executor)
                label = f"ray ({ray_executor.plan.actors} actor(s) x {ray_executor.plan.cpus:g} CPU, {ray_executor.plan.inflight} decoding)"
            else:
                workers = int(setting.split(":")[1])
                t = time.perf_counter()
                n, frames = run(out, workers=workers)
                label = f"local, {workers} decoder thread(s)"
            wall = time.perf_counter() - t
            rows.append((label, wall, n, frames))
        if ray_executor is not None:
            ray_executor.close()
    load1 = os.getloadavg()[0]
    base = rows[0][1]
    import torch

    lines = [
        f"### {args.task}: {args.videos} x {args.duration:.0f} s videos, 320x240 30 fps H.264, extractor: {args.extractor}",
        "",
        f"`python bench/collection_bench.py --task {args.task} --videos {args.videos} --duration {args.duration:g} "
        f"--extractor {args.extractor} --settings {args.settings} --ray-cpus {args.ray_cpus}`  ",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs (shared: load "
        f"{load0:.1f} at the start, {load1:.1f} at the end), torch {torch.__version__}, python "
        f"{platform.python_version()}; videos generated/cached in {gen_s:.0f} s (not timed); local runs share "
        "one extractor built before them"
        + (f"; Ray start-up (local cluster + actors loading the weights) {ray_start_s:.1f} s, not in its wall time." if ray_start_s else "."),
        "",
        "| executor | wall (s) | videos / min | sampled frames / s | speed vs first row |",
        "|---|---|---|---|---|",
    ]
    for label, wall, n, frames in rows:
        lines.append(f"| {label} | {wall:.1f} | {60 * n / wall:.1f} | {frames / wall:.1f} | {base / wall:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
