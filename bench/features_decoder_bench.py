"""`vidsum features` with the OpenCV decoder (the default) and `--frame-decoder auto` (PyAV where
it has frames to skip), interleaved rounds in one run, and whether the two files hold the same
picks and features.

    python bench/features_decoder_bench.py VIDEO --backbone-weights W.pth [--repeat 2]

Each round runs both as subprocesses (like a user), into fresh files. Make a 5-minute 720p file
with B-frames with bench/e2e_bench.py (five_min_720p_bframes.mp4) and random GoogLeNet weights
with bench/collection_bench.py's build_weights, or use real ones.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

DECODERS = ("opencv", "auto")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", type=Path)
    ap.add_argument("--backbone-weights", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    exe = Path(sys.executable).parent / "vidsum"
    times: dict[str, list[float]] = {d: [] for d in DECODERS}
    with tempfile.TemporaryDirectory() as tmp:
        out = {d: Path(tmp) / f"{d}.h5" for d in DECODERS}
        for r in range(args.repeat):
            for d in DECODERS:
                out[d].unlink(missing_ok=True)
                t0 = time.perf_counter()
                subprocess.run([str(exe), "features", str(args.video), "-o", str(out[d]), "--backbone-weights",
                                str(args.backbone_weights), "--frame-decoder", d, "-q"], check=True)
                times[d].append(time.perf_counter() - t0)
            print(f"round {r + 1}: " + ", ".join(f"{d} {t[-1]:.1f} s" for d, t in times.items()), flush=True)
        with h5py.File(out["opencv"]) as a, h5py.File(out["auto"]) as b:
            (ga,), (gb,) = a.values(), b.values()
            same_picks = ga["picks"][()].tolist() == gb["picks"][()].tolist()
            diff = float(np.abs(ga["features"][()] - gb["features"][()]).max())
    med = {d: statistics.median(t) for d, t in times.items()}
    print(f"\n| decoder | median s ({args.repeat} rounds) | vs opencv |\n|---|---|---|")
    for d in DECODERS:
        print(f"| `--frame-decoder {d}` | {med[d]:.1f} | {med[d] / med['opencv']:.2f} |")
    print(f"\nsame picks: {same_picks}; features max |difference|: {diff:g}")


if __name__ == "__main__":
    main()
