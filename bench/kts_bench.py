"""KTS benchmark: vidsum.segmentation.kts against a straightforward peer-style DP.

    python bench/kts_bench.py [--sizes 500,2000,3600,5000,14400] [--peer-max 2000] [--out FILE]

Features: (n, 1024) float32 with piecewise structure (shots of 2-30 s at 2 steps/s, non-negative
GoogLeNet-like centres) plus per-step noise (within-shot cosine ~0.8). Every configuration uses
the same cap on change points as the public datasets' generator (m = ceil(n / 4): one per two
seconds at 2 steps/s), except "vidsum default", which is what `segment_shots` runs by default
(lmax = 60 s = 120 steps, lmin = 1 s = 2 steps, cap n / 2 - 1), and "as `summarize` runs it"
(SummarizeConfig: max_shot_s = 30 s -> lmax = 60 steps, lmin = 2 steps, cap n / 2 - 1).

Each configuration runs once, in a fresh process: wall and CPU time of the call, and the
process's RSS high-water mark before (python + numpy + the features) and after the call.
The machine is shared: CPU time is the steadier figure when the load average exceeds the
number of cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidsum.segmentation import kts  # noqa: E402

DIM = 1024
STEPS_PER_S = 2.0


def make_features(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 1024) float32 piecewise features and their true change points."""
    rng = np.random.default_rng(seed)
    lengths: list[int] = []
    while sum(lengths) < n:
        lengths.append(int(rng.integers(4, 61)))
    centres = np.abs(rng.normal(size=(len(lengths), DIM))).astype(np.float32)
    labels = np.repeat(np.arange(len(lengths)), lengths)[:n]
    x = centres[labels]
    x += 0.6 * np.abs(rng.normal(size=(n, DIM))).astype(np.float32)
    return x, np.cumsum(lengths)[:-1]


def peer_kts(x: np.ndarray, max_cp: int, penalty: float = 1.0) -> np.ndarray:
    """The straightforward way (as in the KTS reference code and its ports): full Gram matrix,
    2-D cumulative sums, a Python loop over every (m, t) with the inner min over s vectorised,
    every m up to the cap tried, then the penalised criterion."""
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    k = z @ z.T
    n = len(k)
    cum = np.zeros((n + 1, n + 1))
    cum[1:, 1:] = np.cumsum(np.cumsum(k, 0), 1)
    diag = np.zeros(n + 1)
    diag[1:] = np.cumsum(np.diag(k))
    s = np.arange(n + 1)

    def scatter(t: int) -> np.ndarray:  # v(s, t) for s = 0 .. t - 1
        ss = s[:t]
        block = cum[t, t] - cum[ss, t] - cum[t, ss] + cum[ss, ss]
        return (diag[t] - diag[ss]) - block / (t - ss)

    cost = np.full((max_cp + 1, n + 1), np.inf)
    back = np.zeros((max_cp + 1, n + 1), dtype=np.int64)
    for t in range(1, n + 1):
        cost[0, t] = scatter(t)[0]
    for m in range(1, max_cp + 1):
        for t in range(m + 1, n + 1):
            c = cost[m - 1, :t] + scatter(t)
            back[m, t] = int(np.argmin(c))
            cost[m, t] = c[back[m, t]]
    ms = np.arange(max_cp + 1)
    pen = np.where(ms > 0, penalty * ms / (2 * n) * (np.log(n / np.maximum(ms, 1)) + 1), 0.0)
    m = int(np.argmin(cost[:, n] / n + pen))
    cps, t = [], n
    for j in range(m, 0, -1):
        t = int(back[j, t])
        cps.append(t)
    return np.array(sorted(cps), dtype=np.int64)


CONFIGS = ("peer", "unbounded", "lmax", "default", "summarize")
LABELS = {
    "peer": "peer-style DP",
    "unbounded": "vidsum kts, unbounded",
    "lmax": "vidsum kts, lmax 60 s",
    "default": "vidsum default (segment_shots)",
    "summarize": "vidsum as `summarize` runs it",
}


def run_one(n: int, config: str) -> dict[str, object]:
    """Run one configuration in this (fresh) process; peak memory from the RSS high-water mark."""
    x, truth = make_features(n)
    cap = math.ceil(n / 4)
    lmax, lmin = {
        "peer": (None, 1), "unbounded": (None, 1), "lmax": (120, 1), "default": (120, 2), "summarize": (60, 2)
    }[config]
    if config in ("default", "summarize"):
        cap = n // 2 - 1
    if config == "peer":
        fn: Callable[[], np.ndarray] = lambda: peer_kts(x, cap)
    else:
        fn = lambda: kts(x, cap, lmax=lmax, lmin=lmin)
    kts(x[:50], 5)  # warm up numpy/BLAS code paths outside the timing
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    cps = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = sum(bool(np.any(np.abs(cps - c) <= 1)) for c in truth)
    return {
        "n": n, "config": config, "lmax": lmax, "lmin": lmin, "cap": cap, "wall": wall, "cpu": cpu,
        "rss_before": rss0, "rss_peak": rss1, "cps": cps.tolist(), "found": found, "truth": len(truth),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="500,2000,3600,5000,14400")
    ap.add_argument("--peer-max", type=int, default=2000, help="largest n the peer DP runs at")
    ap.add_argument("--exact-max", type=int, default=2000, help="largest n the unbounded (lmax = n) search runs at")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table to this file")
    ap.add_argument("--child", nargs=2, metavar=("N", "CONFIG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(int(args.child[0]), args.child[1])))
        return
    sizes = [int(s) for s in args.sizes.split(",")]

    lines = [
        f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"load average at start {' / '.join(f'{v:.1f}' for v in os.getloadavg())}",
        "",
        "| n steps | method | lmax | lmin | cap m | wall s | cpu s | RSS before -> peak MB | change points | true cuts found (±1 step) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    notes = []
    for n in sizes:
        configs = [c for c in CONFIGS if (c != "peer" or n <= args.peer_max) and (c != "unbounded" or n <= args.exact_max)]
        results = {}
        for config in configs:
            # A fresh process per run: its RSS high-water mark is this run's peak memory.
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), config], check=True, capture_output=True, text=True
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[config] = r["cps"]
            row = (
                f"| {n} | {LABELS[config]} | {r['lmax'] or 'n'} | {r['lmin']} | {r['cap']} | {r['wall']:.2f} | "
                f"{r['cpu']:.2f} | {r['rss_before']:.0f} -> {r['rss_peak']:.0f} | {len(r['cps'])} | {r['found']} / {r['truth']} |"
            )
            lines.append(row)
            print(row, flush=True)
        if "peer" in results and "unbounded" in results:
            notes.append(
                f"- n = {n}: vidsum kts (unbounded) and the peer DP return identical change points: "
                f"{results['peer'] == results['unbounded']}"
            )
            print(notes[-1], flush=True)
    lines += ["", *notes, "", f"load average at end {' / '.join(f'{v:.1f}' for v in os.getloadavg())}"]
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
