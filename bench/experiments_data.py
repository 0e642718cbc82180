"""Write generated, paper-shaped stand-ins for the four public datasets (for docs/experiments/).

    python bench/experiments_data.py --out data/generated --steps 40,80 --dim 1024

Counts follow the public eccv16 files: SumMe 25 videos (15 annotators, 0/1 summaries only),
TVSum 50 videos (20 annotators with 1-5 scores), OVP 50 and YouTube 39 (5 annotators). Videos
are shorter than the real ones (``--steps``; the real ones have ~100-700 steps) so that the
experiments run on 2 CPU cores. The data come from tests/h5gen.py: features are random walks
and the ground truth is a fixed function of them, so the numbers measured on them say how the
code behaves, nothing about the method.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.h5gen import make_dataset  # noqa: E402

# (file stem, videos, annotators, per-frame scores, seed)
DATASETS = (
    ("summe_generated", 25, 15, False, 11),
    ("tvsum_generated", 50, 20, True, 12),
    ("ovp_generated", 50, 5, False, 13),
    ("youtube_generated", 39, 5, False, 14),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the four .h5 files")
    parser.add_argument("--steps", default="40,80", help="min,max steps per video (2 steps per second)")
    parser.add_argument("--dim", type=int, default=1024, help="feature size (GoogLeNet pool5: 1024)")
    args = parser.parse_args()
    low, high = (int(v) for v in args.steps.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, n_videos, n_users, scores, seed in DATASETS:
        path = make_dataset(args.out / f"{stem}.h5", n_videos=n_videos, steps=(low, high), dim=args.dim,
                            n_users=n_users, seed=seed, user_scores=scores)
        print(f"wrote {path}: {n_videos} videos, {n_users} annotators, {low}-{high} steps, {args.dim}-d")


if __name__ == "__main__":
    main()
