"""Model families by name, and the one way to turn a checkpoint (or none) into a Scorer.

    MODELS: dict[str, ModelSpec]     get_model_spec(name)     register(spec)
    load_model(path, device) -> (nn.Module, checkpoint dict)
    load_scorer(checkpoint | None, device) -> Scorer          predict(model, features, device)

Adding a family: write ``models/<name>.py`` with its nn.Module, objective and
``SPEC = ModelSpec(...)`` (from ``vidsum.models.base``), and add one line to ``MODELS`` below
(docs/architecture.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidsum.checkpoint import load_checkpoint
from vidsum.config import from_dict
from vidsum.errors import CheckpointError, UsageError
from vidsum.models import dmasum, dr_dsn, sum_gan, training_free, vasnet, vslstm
from vidsum.models.base import ModelSpec, Scorer

__all__ = ["MODELS", "ModelSpec", "Scorer", "get_model_spec", "load_model", "load_scorer", "predict", "register"]

MODELS: dict[str, ModelSpec] = {
    dmasum.SPEC.name: dmasum.SPEC,
    training_free.SPEC.name: training_free.SPEC,
    vslstm.SPEC.name: vslstm.SPEC,
    vslstm.DPP_SPEC.name: vslstm.DPP_SPEC,
    dr_dsn.SPEC.name: dr_dsn.SPEC,
    dr_dsn.SUP_SPEC.name: dr_dsn.SUP_SPEC,
    sum_gan.SPEC.name: sum_gan.SPEC,
    sum_gan.SUP_SPEC.name: sum_gan.SUP_SPEC,
    vasnet.SPEC.name: vasnet.SPEC,
}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to MODELS (a name already taken by another family is an error); returns it."""
    old = MODELS.get(spec.name)
    if old is not None and old is not spec:
        raise ValueError(f"model family {spec.name!r} is registered twice ({old.module} and {spec.module})")
    MODELS[spec.name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    """The family registered as ``name``; UsageError listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the checkpoint's model (its "arch" through MODELS), in eval mode on ``device``;
    returns (model, checkpoint dict)."""
    ckpt = load_checkpoint(path)
    arch = ckpt["arch"]
    spec = MODELS.get(arch)
    if spec is None or spec.build is None or spec.config_cls is None:
        raise CheckpointError(
            f"{path}: checkpoint of model {arch!r}, which this vidsum cannot build (known: "
            f"{', '.join(n for n, s in MODELS.items() if s.build is not None)}); upgrade vidsum"
        )
    try:
        cfg = from_dict(spec.config_cls, dict(ckpt["config"]), where=str(path))
    except (UsageError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid model config in checkpoint: {exc}; re-train it") from exc
    model = spec.build(cfg)
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: weights do not match the model config ({str(exc).splitlines()[0][:200]}); "
            "the file was edited or written by another program: re-train it"
        ) from exc
    model.to(device).eval()
    return model, ckpt


def predict(model: torch.nn.Module, features: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
    """Importance scores for one video: features (n_steps, D) float -> (n_steps,) float32 in [0, 1].

    Runs in eval mode under ``torch.inference_mode``; the model's training/eval mode is restored
    afterwards. ``model.cfg.input_dim`` is the feature size it reads.
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


class ModelScorer:
    """A trained model as a Scorer: the scores of its forward pass (shots are not needed)."""

    def __init__(self, model: torch.nn.Module, ckpt: dict[str, Any], checkpoint: Path, device: str | torch.device) -> None:
        self.model = model
        self.ckpt = ckpt
        self.name = str(ckpt.get("arch", "unknown"))
        self.checkpoint = checkpoint
        self.features = ckpt.get("features") or None
        self.train_info = ckpt.get("train") or {}
        self.device = device

    def score(self, features: np.ndarray, shots: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
        return predict(self.model, features, self.device)


def load_scorer(checkpoint: str | os.PathLike[str] | None, device: str | torch.device = "cpu", name: str | None = None) -> Scorer:
    """The Scorer for ``checkpoint`` (any trained family), or, with None, the training-free family
    ``name`` (default "training-free")."""
    if checkpoint is None:
        spec = get_model_spec(name or training_free.SPEC.name)
        if spec.scorer is None:
            raise UsageError(f"model {spec.name!r} must be trained first; pass its checkpoint")
        return spec.scorer()
    model, ckpt = load_model(checkpoint, device=device)
    return ModelScorer(model, ckpt, Path(checkpoint), device)
