"""Attention benchmark: torch's fused scaled_dot_product_attention against the attention written
out (softmax of q k^T), as DMASum runs them; one run, ratios measured within it.

    python bench/attention_bench.py [--sizes 1024,4096] [--dim 1024] [--long 14000] [--repeat 3] [--out FILE]

Both compute softmax(q k^T / sqrt(d)) v for 1,024 queries at a time (vidsum.models.dmasum.QUERY_CHUNK),
so neither holds a full T x T matrix. vidsum runs the fused kernel on a GPU and the written-out
one on the CPU, where this benchmark found the fused kernel slower. Timed, interleaved and repeated (median): one attention
call in inference mode (what `summarize` runs, twice per MoA layer), and one forward + backward
(what training runs), float32, batch 1. Memory: a fresh process per implementation runs one
MoA layer in inference mode on --long steps of 64-d features (a 2-hour video has ~14,000 steps)
while a thread samples its resident memory; the growth over the RSS just before is what the
attention costs.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from vidsum.models import dmasum  # noqa: E402


def chunked(attend):  # type: ignore[no-untyped-def]
    """``attend`` applied QUERY_CHUNK queries at a time, as vidsum.models.dmasum._attend does."""

    def run(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, chunk: int) -> torch.Tensor:
        parts = [attend(q[:, s : s + chunk], k, v, scale) for s in range(0, q.shape[1], chunk)]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    return run


IMPLS = {"fused sdpa": chunked(dmasum.attend_fused), "written out": chunked(dmasum.attend_matmul)}

MEMORY_PROBE = """
import sys, threading, time, torch
sys.path.insert(0, sys.argv[3])
torch.set_num_threads(int(sys.argv[4]))
from bench.attention_bench import IMPLS
from vidsum.models import dmasum
dmasum._attend = IMPLS[sys.argv[1]]
layer = dmasum.MixtureOfAttention(64).eval()
x = torch.randn(1, int(sys.argv[2]), 64)
page = 4096
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page / 2**20
peak = before = rss()
done = False
def watch():
    global peak
    while not done:
        peak = max(peak, rss())
        time.sleep(0.001)
t = threading.Thread(target=watch); t.start()
with torch.inference_mode():
    layer(x)
done = True; t.join()
print(before, max(peak, rss()))
"""


def _time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (allocations, kernel selection)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1024,4096", help="sequence lengths (steps) to time")
    ap.add_argument("--dim", type=int, default=1024, help="attention size d (the paper's D_a: 1024)")
    ap.add_argument("--long", type=int, default=14000, help="steps of the memory probe")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    ap.add_argument("--memory-only", action="store_true", help="only the memory probe")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d = args.dim
    scale = 1.0 / math.sqrt(d)
    chunk = dmasum.QUERY_CHUNK
    lines = [
        f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.threads} threads; load average at start {' / '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "",
        "| steps T | d | what | fused sdpa s | written out s | written out / fused | max abs difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in ([] if args.memory_only else (int(s) for s in args.sizes.split(","))):
        q, k, v = (torch.randn(1, n, d) for _ in range(3))
        with torch.inference_mode():
            ref = IMPLS["written out"](q, k, v, scale, chunk)
            diff = float((IMPLS["fused sdpa"](q, k, v, scale, chunk) - ref).abs().max())
        results = {}
        for name, impl in IMPLS.items():
            def infer(impl=impl) -> None:  # type: ignore[no-untyped-def]
                with torch.inference_mode():
                    impl(q, k, v, scale, chunk)

            qg, kg, vg = (t.clone().requires_grad_(True) for t in (q, k, v))

            def train(impl=impl) -> None:  # type: ignore[no-untyped-def]
                impl(qg, kg, vg, scale, chunk).sum().backward()

            results[name] = (_time(infer, args.repeat), _time(train, args.repeat))
        for i, what in enumerate(("inference", "forward + backward")):
            a, b = results["fused sdpa"][i], results["written out"][i]
            lines.append(f"| {n} | {d} | {what} | {a:.3f} | {b:.3f} | {b / a:.2f} | {diff:.1e} |")
    lines += ["", f"Memory, one MoA layer (d = 64) on {args.long} steps, inference, fresh process each:", "",
              "| attention | RSS before MB | RSS peak MB | growth MB |", "|---|---|---|---|"]
    for name in IMPLS:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, name, str(args.long), str(ROOT), str(args.threads)],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        before, after = float(out[0]), float(out[1])
        lines.append(f"| {name} | {before:.0f} | {after:.0f} | {after - before:.0f} |")
    full_mb = args.long * args.long * 4 / 2**20
    lines += ["", f"(one full {args.long} x {args.long} float32 matrix would be {full_mb:.0f} MB)"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
