"""vidsum: video summarization with DMASum.

Public API (the heavy modules are imported on first call, so that `import vidsum` stays cheap)::

    from vidsum import summarize, SummarizeConfig
    result = summarize("talk.mp4", SummarizeConfig(output="talk.summary.mp4", length_s=90))

    from vidsum import extract_features, FeaturesConfig, load_scorer
    feats = extract_features("talk.mp4", FeaturesConfig(device="cpu"))   # (n_steps, dim) + picks
    scorer = load_scorer("runs/tvsum/fold_0.pt")   # any family's checkpoint; None: training-free
    # scorer.score(feats.features, shots, feats.picks, feats.info.n_frames) -> (n_steps,) scores,
    # shots (n_shots, 2) from vidsum.segmentation.segment_shots
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from vidsum.config import FeaturesConfig, SummarizeConfig

if TYPE_CHECKING:
    import torch

    from vidsum.features import Extractor, Features
    from vidsum.models.base import Scorer
    from vidsum.pipeline import Models, Summary
    from vidsum.progress import ProgressFn

__version__ = "0.1.0"

__all__ = [
    "FeaturesConfig",
    "SummarizeConfig",
    "__version__",
    "extract_features",
    "load_model",
    "load_scorer",
    "summarize",
]


def summarize(
    path: str | os.PathLike[str],
    cfg: SummarizeConfig | None = None,
    progress: ProgressFn | None = None,
    *,
    models: Models | None = None,
    features: Features | None = None,
) -> Summary:
    """Summarize one video file into a clip + JSON; see ``vidsum.pipeline.summarize`` (``models``:
    from ``vidsum.pipeline.load_models``, to load them once for many videos)."""
    from vidsum.pipeline import summarize as _summarize

    return _summarize(path, cfg, progress, models=models, features=features)


def extract_features(
    path: str | os.PathLike[str],
    cfg: FeaturesConfig | None = None,
    extractor: Extractor | None = None,
    progress: ProgressFn | None = None,
) -> Features:
    """(n_steps, dim) float32 features of one video; see ``vidsum.extraction.extract_one``."""
    from vidsum.extraction import extract_one

    return extract_one(path, cfg, extractor, progress)


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a checkpoint's model (any family) in eval mode; see ``vidsum.models.load_model``."""
    from vidsum.models import load_model as _load_model

    return _load_model(path, device)


def load_scorer(checkpoint: str | os.PathLike[str] | None, device: str | torch.device = "cpu") -> Scorer:
    """A checkpoint's Scorer, or with None the training-free one; see ``vidsum.models.load_scorer``."""
    from vidsum.models import load_scorer as _load_scorer

    return _load_scorer(checkpoint, device)
