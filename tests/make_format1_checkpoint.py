"""Write tests/data/format1_dmasum.pt and .json: a format-1 checkpoint and the scores it gave.

Format 1 is the checkpoint layout vidsum wrote before model families existed (no "arch" key):

    {"format": 1, "config": ModelConfig fields, "state_dict": DMASum weights,
     "features": extractor description, "train": provenance}

The file is written by hand in that layout (not through ``save_checkpoint``, which now writes
format 2), from a tiny DMASum with seeded random weights; the scores are that model's forward
pass on seeded random features, computed by whatever vidsum this runs against. The committed
files were made against the last format-1 vidsum (commit 68508db):

    git worktree add /tmp/v1 68508db && PYTHONPATH=/tmp/v1 python tests/make_format1_checkpoint.py

tests/test_checkpoint.py loads the file with today's code and checks that it predicts the same.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent / "data"
CONFIG = dict(input_dim=12, d_model=16, layers_visual=2, layers_sequential=1, lstm_hidden=8, lstm_layers=2, head_hidden=16)
FEATURES = {"name": "googlenet-pool5", "backbone": "googlenet-random", "dim": 12, "sample_fps": 2.0, "fallback": False}
INPUT_SEED = 0
INPUT_SHAPE = (40, 12)  # (n_steps, input_dim)


def main() -> None:
    from vidsum import __version__
    from vidsum.config import ModelConfig

    try:
        from vidsum.model import DMASum  # the format-1 era module
    except ImportError:
        from vidsum.models.dmasum import DMASum

    torch.manual_seed(0)
    cfg = ModelConfig(**CONFIG)
    model = DMASum(cfg).eval()
    payload = {
        "format": 1,
        "config": dataclasses.asdict(cfg),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "features": FEATURES,
        "train": {"strategy": "meta", "note": "seeded random weights, not trained"},
    }
    x = np.random.default_rng(INPUT_SEED).normal(size=INPUT_SHAPE).astype(np.float32)
    with torch.inference_mode():
        scores = model(torch.from_numpy(x)).numpy().astype(np.float32)
    HERE.mkdir(exist_ok=True)
    torch.save(payload, HERE / "format1_dmasum.pt")
    (HERE / "format1_dmasum.json").write_text(
        json.dumps(
            {
                "made_by": f"tests/make_format1_checkpoint.py with vidsum {__version__}, torch {torch.__version__}",
                "input_seed": INPUT_SEED,
                "input_shape": list(INPUT_SHAPE),
                "scores": [float(s) for s in scores],  # float32 values, exact as float64
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {HERE / 'format1_dmasum.pt'} and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
