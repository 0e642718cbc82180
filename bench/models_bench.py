"""Training time per epoch of every model family, at paper size and a small size (not a test).
Results: bench/results/models.md, summarised in docs/benchmarks.md.

    python bench/models_bench.py [--threads 2] [--tasks 2] [--sizes small,paper] [--archs dmasum,vslstm,...] [--device cuda]
    python bench/models_bench.py length-weight [--epochs 30] [--lr 3e-4]   # DR-DSN's beta, paper vs default

Data: the generated TVSum-sized set of bench/train_bench.py (50 videos, 200-700 steps, 1024-d
features, tests/h5gen.py). Each (family, size) runs in its own subprocess (its own peak RSS):
one warm-up training step on one video, then ``--tasks`` training steps with the family's
default strategy (``plain`` for the compared systems, and also ``meta`` for DMASum), each step
one video of a 40-video TVSum training fold. The epoch time is EXTRAPOLATED by feature steps:
s/epoch = (seconds per feature step of the timed videos) x (feature steps of the 40 videos);
attention is quadratic in T, so for dmasum and vasnet this is approximate. Unsupervised
families (dr-dsn, sum-gan) train without labels, as they would on real data. No GPU here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_bench import SIZES as DMASUM_SIZES  # noqa: E402  (bench scripts are run from the repo root)
from train_bench import TVSUM_TRAIN_VIDEOS, _rss_mb, _tvsum_like  # noqa: E402

# Small sizes: every hidden size 64-128 (paper size: each family's config defaults).
SMALL = {
    "dmasum": DMASUM_SIZES["small"],
    "vslstm": {"lstm_hidden": 64, "mlp_hidden": 64},
    "dpp-lstm": {"lstm_hidden": 64, "mlp_hidden": 64, "phi_dim": 64},
    "dr-dsn": {"hidden": 64},
    "dr-dsn-sup": {"hidden": 64},
    "sum-gan": {"hidden": 128},
    "sum-gan-sup": {"hidden": 128},
    "vasnet": {"attention_dim": 128, "head_hidden": 128},
}
RUNS = [(arch, "plain") for arch in SMALL] + [("dmasum", "meta")]


def time_one(data: Path, arch: str, strategy: str, size: str, n_tasks: int, threads: int, device: str = "cpu") -> dict:
    """Runs inside a subprocess: one warm-up step, then ``n_tasks`` one-video training steps."""
    import torch

    from vidsum.config import TrainConfig
    from vidsum.train import _to_videos, meta_step, model_config, plain_step, trainable_spec

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    spec = trainable_spec(arch, strategy)
    records = _tvsum_like(data)
    dev = torch.device(device)
    cfg = TrainConfig(strategy=strategy, inner_steps=5)  # type: ignore[arg-type]
    model_cfg = model_config(arch, SMALL[arch] if size == "small" else {})
    model = spec.build(model_cfg).to(dev)  # type: ignore[misc]
    optimizer = (
        spec.make_optimizer(model, cfg.meta_lr)
        if spec.make_optimizer is not None
        else torch.optim.Adam(model.parameters(), lr=cfg.meta_lr)
    )
    rng = np.random.default_rng(1)
    train = [records[i] for i in rng.permutation(len(records))[:TVSUM_TRAIN_VIDEOS]]
    videos = _to_videos(train, dev)
    if not spec.needs_labels:
        videos = [(x, None) for x, _ in videos]
    base_rss = _rss_mb()

    def step(video) -> None:
        if spec.train_step is not None:
            spec.train_step(model, optimizer, [video])
        elif strategy == "plain":
            plain_step(model, optimizer, [video], spec.objective)  # type: ignore[arg-type]
        else:
            meta_step(model, optimizer, [video], cfg.inner_steps, cfg.inner_lr, spec.objective)  # type: ignore[arg-type]

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    model.train()
    step(videos[0])  # warm-up: allocator, kernels, optimizer state
    timed = videos[1 : 1 + n_tasks]
    sync()
    start, cpu_start = time.perf_counter(), time.process_time()
    for video in timed:
        step(video)
    sync()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    timed_steps = sum(len(x) for x, _ in timed)
    epoch_steps = sum(len(x) for x, _ in videos)
    return {
        "arch": arch,
        "device": device,
        "strategy": strategy,
        "size": size,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "videos_timed": len(timed),
        "feature_steps_timed": timed_steps,
        "s_per_video": seconds / len(timed),
        "cpu_s_per_video": cpu_seconds / len(timed),
        "s_per_epoch_est": seconds / timed_steps * epoch_steps,
        "cpu_s_per_epoch_est": cpu_seconds / timed_steps * epoch_steps,
        "load_avg_1min": os.getloadavg()[0],
        "peak_rss_mb": _rss_mb(),
        "rss_before_training_mb": base_rss,
    }


def length_weight(args: argparse.Namespace) -> None:
    """DR-DSN at the paper's beta = 0.01 and vidsum's 0.1: one fold of generated scene videos
    (tests/scenegen.py, 12 training / 4 test videos, 32-d), BiLSTM 64, no labels, last epoch kept."""
    import torch

    from tests.scenegen import make_scene_dataset
    from vidsum.config import TrainConfig
    from vidsum.data import load_datasets
    from vidsum.evaluation import evaluate, random_baseline
    from vidsum.models import predict
    from vidsum.train import model_config, train_fold

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        records = load_datasets([make_scene_dataset(Path(tmp) / "scenes.h5", n_videos=16, dim=32)])
    keys = list(records)
    train, test = [records[k] for k in keys[:12]], {k: records[k] for k in keys[12:]}
    rand = random_baseline(test)
    print(f"random scores: f1_avg {rand['f1_avg']:.3f}, kendall {rand['kendall']:.3f}")
    print("\n| beta (length_weight) | mean p on test videos | f1_avg | kendall | s |")
    print("|---|---|---|---|---|")
    for beta in (0.01, 0.1):
        cfg = TrainConfig(strategy="plain", epochs=args.epochs, meta_lr=args.lr, val_fraction=0.0, device="cpu")
        start = time.perf_counter()
        model_cfg = dataclasses.replace(model_config("dr-dsn", {"hidden": 64, "length_weight": beta}), input_dim=32)
        res = train_fold(train, [], model_cfg, cfg, arch="dr-dsn")
        preds = {k: predict(res.model, r.features) for k, r in test.items()}
        m = evaluate(preds, test)["mean"]
        mean_p = float(np.mean([p.mean() for p in preds.values()]))
        print(f"| {beta} | {mean_p:.3f} | {m['f1_avg']:.3f} | {m['kendall']:.3f} | {time.perf_counter() - start:.0f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    one = sub.add_parser("_one")
    for name in ("data", "arch", "strategy", "size"):
        one.add_argument(name)
    one.add_argument("tasks", type=int)
    one.add_argument("threads", type=int)
    one.add_argument("device")
    lw = sub.add_parser("length-weight", help="DR-DSN's length regulariser: paper beta 0.01 vs 0.1")
    lw.add_argument("--epochs", type=int, default=30)
    lw.add_argument("--lr", type=float, default=3e-4)
    lw.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tasks", type=int, default=2, help="timed one-video steps per (family, size)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="small,paper")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (CUDA times are synchronised)")
    ap.add_argument("--archs", default=",".join(SMALL), help="comma-separated families (default: all trained ones)")
    args = ap.parse_args(argv)
    if args.cmd == "_one":
        print(json.dumps(time_one(Path(args.data), args.arch, args.strategy, args.size, args.tasks, args.threads, args.device)))
        return
    if args.cmd == "length-weight":
        length_weight(args)
        return
    wanted = args.archs.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "tvsum_like.h5"
        _tvsum_like(data)
        for size in args.sizes.split(","):
            for arch, strategy in RUNS:
                if arch not in wanted:
                    continue
                cmd = [sys.executable, __file__, "_one", str(data), arch, strategy, size, str(args.tasks), str(args.threads),
                       args.device]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(res.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(
        "\n| size | family | strategy | params (M) | videos timed | wall s/video | CPU s/video | "
        "wall s/epoch (est.) | CPU s/epoch (est.) | CPU s/epoch vs dmasum plain | peak RSS (MB) | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = next(
            (q for q in rows if q["size"] == r["size"] and q["arch"] == "dmasum" and q["strategy"] == "plain"), None
        )
        ratio = f"{r['cpu_s_per_epoch_est'] / ref['cpu_s_per_epoch_est']:.2f}" if ref else "-"
        print(
            f"| {r['size']} | {r['arch']} | {r['strategy']} | {r['params_m']:.2f} | {r['videos_timed']} | "
            f"{r['s_per_video']:.2f} | {r['cpu_s_per_video']:.2f} | {r['s_per_epoch_est']:.0f} | "
            f"{r['cpu_s_per_epoch_est']:.0f} | {ratio} | {r['peak_rss_mb']:.0f} | {r['load_avg_1min']:.1f} |"
        )


if __name__ == "__main__":
    main()
