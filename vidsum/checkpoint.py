"""Plain-data model checkpoints: the file format, written and read in one place.

A checkpoint is a dict of plain types and tensors only (never pickled classes), loadable with
``torch.load(path, weights_only=True)``::

    {"format": 2,
     "arch": "dmasum",                                                 # vidsum.models.MODELS key
     "config": {...the family's config fields...},
     "state_dict": {name: tensor},
     "features": {"backbone": "googlenet-pool5", "dim": 1024, ...},   # how inputs were made
     "train": {...}}                                                   # provenance, free-form

Format 1 (before model families) had no "arch": every such file is a DMASum, and
``load_checkpoint`` returns it with ``"arch": "dmasum"``. Rebuilding the model is
``vidsum.models.load_model``; this module knows no model class.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from vidsum.config import to_dict
from vidsum.errors import CheckpointError, OutputError
from vidsum.io import atomic_path

log = logging.getLogger(__name__)

FORMAT = 2
READABLE_FORMATS = (1, 2)
FORMAT_1_ARCH = "dmasum"  # format 1 files predate model families: all are DMASum
# What a model trained on HDF5 files without an "extractor" attribute records. The public eccv16
# files (SumMe, TVSum, OVP, YouTube) hold 1024-d pool5 of Caffe's BVLC GoogLeNet (docs/features.md),
# which is vidsum's "bvlc-googlenet" backbone: the feature name lets `summarize` pick it.
DATASET_FEATURES = {"backbone": "eccv16 (BVLC GoogLeNet pool5)", "name": "bvlc-googlenet-pool5"}
ECCV16_DIM = 1024  # a file without an extractor attribute and another size is not an eccv16 file
UNKNOWN_FEATURES = {"backbone": "unknown (dataset features without an extractor record)"}


def _plain(obj: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into types weights_only loading accepts."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def save_checkpoint(
    path: str | os.PathLike[str],
    model: "torch.nn.Module",
    cfg: Any,
    features_info: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    arch: str | None = None,
) -> Path:
    """Write ``model``'s weights as a plain-data checkpoint, atomically; returns the path.

    ``cfg`` is the family's config dataclass; ``arch`` its registry name (default: the model
    class's ``arch`` attribute). ``features_info`` describes the feature extractor the model was
    trained on (backbone, dim, sampling); ``extra`` goes under ``"train"`` (strategy, fold,
    selected epoch, ...).
    """
    arch = arch or getattr(model, "arch", None)
    if not arch:
        raise ValueError(f"{type(model).__name__} has no 'arch' attribute; pass arch= (a vidsum.models.MODELS name)")
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it or choose another path")
    state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "arch": str(arch),
        "config": to_dict(cfg),
        "state_dict": state,
        "features": _plain(dict(features_info)),
        "train": _plain(dict(extra or {})),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a checkpoint; returns the plain dict (tensors on the CPU), with "arch"
    filled in for format 1 files.

    Raises CheckpointError naming the file for a missing, corrupt, foreign or too-new file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: checkpoint not found; pass the fold_K.pt written by `vidsum train` "
            "(or see `vidsum weights --help`)"
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated/foreign files
        raise CheckpointError(
            f"{path}: not a readable vidsum checkpoint ({type(exc).__name__}: {str(exc)[:200]}); "
            "the file may be truncated or not a torch file: re-download or re-train it"
        ) from exc
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "config" not in ckpt:
        raise CheckpointError(
            f"{path}: not a vidsum checkpoint (expected a dict with 'format', 'config', 'state_dict', "
            "'features'); use a file written by `vidsum train`"
        )
    fmt = ckpt.get("format")
    if fmt not in READABLE_FORMATS:
        raise CheckpointError(
            f"{path}: checkpoint format {fmt!r} is not supported (this vidsum reads formats "
            f"{', '.join(map(str, READABLE_FORMATS))}); upgrade vidsum or re-train"
        )
    if fmt == 1:
        ckpt["arch"] = FORMAT_1_ARCH
    elif not isinstance(ckpt.get("arch"), str):
        raise CheckpointError(f"{path}: format 2 checkpoint without an 'arch' name; use a file written by `vidsum train`")
    return ckpt
