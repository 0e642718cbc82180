"""Training benchmarks on generated data (not a test). Results: bench/results/train.md.

    python bench/train_bench.py timing [--threads 2] [--tasks 2]   # s/epoch + peak memory per strategy
    python bench/train_bench.py sweep  [--threads 1] [--epochs 15]  # which learning rates train well

timing: a generated TVSum-sized set (50 videos, 200-700 steps, 1024-d features, tests/h5gen.py).
Each (strategy, size) runs in its own subprocess so its peak RSS is its own. A full epoch at paper
size takes many minutes on 2 shared CPU cores, so we time ``--tasks`` optimizer steps (tasks) on
training videos and EXTRAPOLATE to one epoch of a 5-fold TVSum fold (40 training videos) by the
number of feature steps: s/epoch = (seconds per step of the timed tasks) x (steps in the 40 videos).
Attention is quadratic in T, so the extrapolation is approximate (the timed videos are drawn from
the same length distribution). One forward/backward + Adam step before timing is a warm-up.

sweep: one fold of a small generated set (--size small: 20 videos, 256-d, a d_model=64 model;
--size paper: 10 videos of 100-200 steps, 1024-d, the paper-size model), each (strategy, alpha, beta) trained for
``--epochs`` epochs; prints the validation MSE curve and the test metrics next to the random row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {
    "paper": {},  # ModelConfig defaults = paper section 4.1
    "small": {"d_model": 128, "lstm_hidden": 64, "head_hidden": 128, "layers_visual": 2, "layers_sequential": 1},
}
STRATEGIES = ("plain", "meta", "batch-meta", "maml")
TVSUM_TRAIN_VIDEOS = 40  # 5-fold on 50 videos


def _tvsum_like(path: Path, seed: int = 0) -> list:
    """50 videos, 200-700 steps, 1024-d; generated once per run and shared by the subprocesses."""
    from tests.h5gen import make_dataset
    from vidsum.data import load_datasets

    if not path.exists():
        make_dataset(path, n_videos=50, steps=(200, 700), dim=1024, n_users=2, seed=seed)
    return list(load_datasets([path]).values())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def time_one(data: Path, strategy: str, size: str, n_tasks: int, threads: int) -> dict:
    """Runs inside a subprocess: warm up one task, then time ``n_tasks`` tasks."""
    import torch

    from vidsum.config import ModelConfig, TrainConfig
    from vidsum.models.dmasum import DMASum
    from vidsum.train import _tasks, _to_videos, maml_step, meta_step, plain_step

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    records = _tvsum_like(data)
    cfg = TrainConfig(strategy=strategy, inner_steps=5, device="cpu")  # m = 5: the paper's TVSum value
    model = DMASum(ModelConfig(**SIZES[size]))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.meta_lr)
    rng = np.random.default_rng(1)
    train = [records[i] for i in rng.permutation(len(records))[:TVSUM_TRAIN_VIDEOS]]
    videos = _to_videos(train, torch.device("cpu"))
    base_rss = _rss_mb()
    tasks = _tasks(list(range(len(videos))), strategy, cfg.task_videos)

    def step(task: list[int]) -> None:
        vids = [videos[i] for i in task]
        if strategy == "plain":
            plain_step(model, opt, vids)
        elif strategy == "maml":
            maml_step(model, opt, vids[:-1], vids[-1:], cfg.inner_steps, cfg.inner_lr)
        else:
            meta_step(model, opt, vids, cfg.inner_steps, cfg.inner_lr)

    # Warm-up: one forward/backward (allocator, kernels) and one Adam step (its state), not a whole
    # task: a batch-meta task at paper size costs minutes on 2 shared cores.
    x, y = videos[0]
    opt.zero_grad()
    torch.mean((model(x) - y) ** 2).backward()
    opt.step()
    timed = tasks[1 : 1 + n_tasks]
    start, cpu_start = time.perf_counter(), time.process_time()
    for task in timed:
        step(task)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    timed_steps = sum(len(videos[i][1]) for t in timed for i in t)
    epoch_steps = sum(len(v[1]) for v in videos)
    return {
        "strategy": strategy,
        "size": size,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "tasks_timed": len(timed),
        "videos_per_task": float(np.mean([len(t) for t in timed])),
        "seconds_timed": seconds,
        "s_per_task": seconds / len(timed),
        "s_per_epoch_est": seconds / timed_steps * epoch_steps,
        "cpu_s_per_task": cpu_seconds / len(timed),
        "cpu_s_per_epoch_est": cpu_seconds / timed_steps * epoch_steps,
        "load_avg_1min": os.getloadavg()[0],
        "tasks_per_epoch": len(tasks),
        "peak_rss_mb": _rss_mb(),
        "rss_before_training_mb": base_rss,
    }


def timing(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "tvsum_like.h5"
        _tvsum_like(data)
        rows = []
        for size in args.sizes.split(","):
            for strategy in args.strategies.split(","):
                cmd = [sys.executable, __file__, "_one", str(data), strategy, size, str(args.tasks), str(args.threads)]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(res.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(
        "\n| size | params (M) | strategy | videos/task | tasks timed | wall s/task | CPU s/task | "
        "wall s/epoch (est.) | CPU s/epoch (est.) | peak RSS (MB) | RSS before training (MB) | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['size']} | {r['params_m']:.1f} | {r['strategy']} | {r['videos_per_task']:.1f} | {r['tasks_timed']} | "
            f"{r['s_per_task']:.1f} | {r['cpu_s_per_task']:.1f} | {r['s_per_epoch_est']:.0f} | "
            f"{r['cpu_s_per_epoch_est']:.0f} | {r['peak_rss_mb']:.0f} | {r['rss_before_training_mb']:.0f} | "
            f"{r['load_avg_1min']:.1f} |"
        )


def sweep(args: argparse.Namespace) -> None:
    import torch

    from tests.h5gen import make_dataset
    from vidsum.models import predict
    from vidsum.config import ModelConfig, TrainConfig
    from vidsum.data import load_datasets
    from vidsum.evaluation import evaluate, random_baseline
    from vidsum.train import holdout, make_splits, train_fold

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.size == "paper":
            path = make_dataset(Path(tmp) / "sweep.h5", n_videos=10, steps=(100, 200), dim=1024, seed=5)
        else:
            path = make_dataset(Path(tmp) / "sweep.h5", n_videos=20, steps=(60, 150), dim=256, seed=5)
        records = load_datasets([path])
    split = make_splits(list(records), folds=5, seed=0)[0]
    fit, val = holdout(split["train_keys"], 0.15, seed=1)
    test = {k: records[k] for k in split["test_keys"]}
    model_cfg = (
        ModelConfig()
        if args.size == "paper"
        else ModelConfig(input_dim=256, d_model=64, lstm_hidden=32, head_hidden=64, layers_visual=2, layers_sequential=1)
    )
    rand = random_baseline(test, n_draws=10)
    print(f"fit {len(fit)}, val {len(val)}, test {len(test)} videos; model {model_cfg}")
    print("random: " + ", ".join(f"{k} {v:.3f}" for k, v in rand.items()))
    settings = [
        ("meta", 3e-5, 6e-5),  # the paper's values
        ("meta", 1e-3, 1e-4),
        ("meta", 1e-2, 1e-4),
        ("meta", 3e-5, 1e-3),
        ("meta", 1e-3, 1e-3),
        ("meta", 1e-2, 1e-3),
        ("plain", 0.0, 6e-5),
        ("plain", 0.0, 1e-4),
        ("plain", 0.0, 1e-3),
        ("meta", 1e-3, 3e-4),
        ("plain", 0.0, 3e-4),
    ]
    if args.only:
        settings = [settings[int(i)] for i in args.only.split(",")]
    print("\n| strategy | alpha | beta | val MSE after epoch 1 / 5 / 10 / last | best epoch | f1_max | f1_avg | kendall | spearman | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for strategy, alpha, beta in settings:
        cfg = TrainConfig(
            strategy=strategy, epochs=args.epochs, inner_steps=5, inner_lr=alpha or 1e-3, meta_lr=beta, device="cpu"
        )
        start = time.perf_counter()
        res = train_fold([records[k] for k in fit], [records[k] for k in val], model_cfg, cfg, seed=0)
        secs = time.perf_counter() - start
        m = evaluate({k: predict(res.model, r.features) for k, r in test.items()}, test)["mean"]
        curve = [h["val_loss"] for h in res.history]
        marks = [curve[i] for i in (0, 4, 9) if i < len(curve)] + [curve[-1]]
        print(
            f"| {strategy} | {alpha:g} | {beta:g} | {' / '.join(f'{c:.4f}' for c in marks)} | {res.best_epoch} | "
            f"{m['f1_max']:.3f} | {m['f1_avg']:.3f} | {m['kendall']:.3f} | {m['spearman']:.3f} | {secs:.0f} |",
            flush=True,
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_one":
        _, _, data, strategy, size, n_tasks, threads = sys.argv
        print(json.dumps(time_one(Path(data), strategy, size, int(n_tasks), int(threads))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("timing")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--tasks", type=int, default=2, help="timed tasks per strategy (after one warm-up)")
    t.add_argument("--sizes", default="small,paper")
    t.add_argument("--strategies", default=",".join(STRATEGIES))
    s = sub.add_parser("sweep")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--epochs", type=int, default=15)
    s.add_argument("--only", default="", help="comma-separated indices of the settings to run")
    s.add_argument("--size", default="small", choices=("small", "paper"), help="paper: ModelConfig defaults, 10 videos of 100-200 steps")
    args = parser.parse_args()
    timing(args) if args.mode == "timing" else sweep(args)


if __name__ == "__main__":
    main()
