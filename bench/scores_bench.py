"""Time of the importance scores of a paper-sized DMASum (39.9 M parameters, random weights) on
the CPU, by video length: the per-video cost `summarize` adds after the features (attention is
quadratic in the steps, computed in chunks). One process, lengths in turn, medians of rounds.

    python bench/scores_bench.py [--steps 600,7200,14400] [--repeat 2]

600 steps = 5 minutes at 2 sampled frames/s, 7,200 = one hour, 14,400 = two hours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", default="600,7200,14400")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from vidsum.config import ModelConfig
    from vidsum.models import predict
    from vidsum.models.dmasum import DMASum

    torch.manual_seed(0)
    model = DMASum(ModelConfig()).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    rng = np.random.default_rng(0)
    print(f"paper-sized DMASum ({params:.1f} M parameters), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print(f"| steps | s (median of {args.repeat}) | rounds |\n|---|---|---|")
    for n in (int(s) for s in args.steps.split(",")):
        x = rng.random((n, 1024), dtype=np.float32)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            scores = predict(model, x, "cpu")
            times.append(time.perf_counter() - t0)
        assert scores.shape == (n,)
        print(f"| {n} | {statistics.median(times):.2f} | {', '.join(f'{t:.2f}' for t in times)} |", flush=True)


if __name__ == "__main__":
    main()
