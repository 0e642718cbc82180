"""Plain-data DMASum checkpoints: save, load, rebuild the model, predict.

A checkpoint is a dict of plain types and tensors only (never pickled classes), loadable with
``torch.load(path, weights_only=True)``::

    {"format": 1,
     "config": {...ModelConfig fields...},
     "state_dict": {name: tensor},
     "features": {"backbone": "googlenet-pool5", "dim": 1024, ...},   # how inputs were made
     "train": {...}}                                                   # provenance, free-form
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from vidsum.config import ModelConfig, from_dict, to_dict
from vidsum.errors import CheckpointError, OutputError, UsageError
from vidsum.io import atomic_path
from vidsum.model import DMASum

log = logging.getLogger(__name__)

FORMAT = 1
DATASET_FEATURES = {"backbone": "unknown (eccv16 dataset features)"}


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
    model: DMASum,
    cfg: ModelConfig,
    features_info: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights as a plain-data checkpoint, atomically; returns the path.

    ``features_info`` describes the feature extractor the model was trained on (backbone, dim,
    sampling); ``extra`` goes under ``"train"`` (strategy, fold, selected epoch, ...).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it or choose another path")
    state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "config": to_dict(cfg),
        "state_dict": state,
        "features": _plain(dict(features_info)),
        "train": _plain(dict(extra or {})),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a checkpoint; returns the plain dict (tensors on the CPU).

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
    if fmt != FORMAT:
        raise CheckpointError(
            f"{path}: checkpoint format {fmt!r} is not supported (this vidsum reads format {FORMAT}); "
            "upgrade vidsum or re-train"
        )
    return ckpt


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[DMASum, dict[str, Any]]:
    """Rebuild DMASum from a checkpoint, in eval mode on ``device``; returns (model, checkpoint dict)."""
    ckpt = load_checkpoint(path)
    try:
        cfg = from_dict(ModelConfig, dict(ckpt["config"]), where=str(path))
    except (UsageError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid model config in checkpoint: {exc}; re-train it") from exc
    model = DMASum(cfg)
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: weights do not match the model config ({str(exc).splitlines()[0][:200]}); "
            "the file was edited or written by another program: re-train it"
        ) from exc
    model.to(device).eval()
    return model, ckpt


def predict(model: DMASum, features: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
    """Importance scores for one video: features (n_steps, D) float -> (n_steps,) float32 in (0, 1).

    Runs in eval mode under ``torch.inference_mode`` (memory O(chunk * n_steps), see model.py);
    the model's training/eval mode is restored afterwards.
    """
    features = np.asarray(features)
    dim = model.cfg.input_dim
    if features.ndim != 2 or features.shape[1] != dim:
        raise CheckpointError(
            f"the model expects (n_steps, {dim}) features but got shape {features.shape}; "
            "use the checkpoint trained on the same feature extractor"
        )
    if features.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            x = torch.as_tensor(features, dtype=torch.float32, device=device)
            scores = model(x).float().cpu().numpy()
    finally:
        model.train(was_training)
    return scores.astype(np.float32, copy=False)
