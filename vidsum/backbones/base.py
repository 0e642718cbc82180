"""``BackboneSpec``: the description of one image network (registered in ``vidsum.backbones``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from vidsum.errors import UsageError
from vidsum.video import FRAME_SIZE

if TYPE_CHECKING:
    from torch import nn


def _never(state: Mapping[str, Any]) -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class OpenedWeights:
    """A weight file checked by a backbone's ``open_weights``: the file ``load`` reads (for a
    caffemodel: its conversion), the SHA-256 recorded with the features, and whether the weights
    are the official ones."""

    path: Path
    sha256: str
    official: bool


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What ``vidsum.features`` needs to know about one image network.

    name: registry key (``--backbone``). weights_name: the ``vidsum.weights`` registry key of its
    official weight file, None when it needs none. dim: feature size. input_size: (width,
    height) frames are resized to. preprocessing: ``{"channels": "RGB"|"BGR", "mean": (3,),
    "std": (3,)}`` in pixel units (0-255): the network reads (p - mean) / std, plus ``"text"``,
    the human-readable description recorded with the features. feature_name / layer: recorded
    as the extractor's "name" and "layer". load(path) -> the network with its weights;
    prepare(net) -> the inference network ((N, 3, H, W) -> (N, dim)); matches(state_dict) ->
    whether a state dict is this network's (to recognise a weight file). frame_features: the
    weight-free alternative to load/prepare. open_weights(path, explicit): for weight files that
    are not checked against the registry's SHA-256 as they are (a caffemodel is converted first):
    opens and checks the file itself, raising WeightsError for a damaged file that was not named
    explicitly; None: the registry check and ``load``.
    """

    name: str
    weights_name: str | None
    dim: int
    input_size: tuple[int, int]
    preprocessing: Mapping[str, Any]
    feature_name: str
    layer: str
    description: str
    load: Callable[[Any], "nn.Module"] | None = None
    prepare: Callable[["nn.Module"], "nn.Module"] | None = None
    matches: Callable[[Mapping[str, Any]], bool] = _never
    frame_features: Callable[["np.ndarray"], "np.ndarray"] | None = None
    open_weights: Callable[[Path, bool], OpenedWeights] | None = None

    @property
    def weight_free(self) -> bool:
        return self.frame_features is not None


def read_state_dict(path: str | Path, fix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a torch weight file (``weights_only``): a state dict, or a dict holding one under
    "state_dict" (checkpoints, converted files) -> (state_dict, the other entries).

    Raises WeightsError naming the file, with ``fix`` (what to do) appended, when it is neither.
    """
    import torch

    from vidsum.errors import WeightsError

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged or non-torch file
        raise WeightsError(f"{path}: not a readable torch weight file ({type(exc).__name__}); {fix}") from exc
    meta: dict[str, Any] = {}
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        meta = {k: v for k, v in obj.items() if k != "state_dict"}
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: holds a {type(obj).__name__}, not a state dict; {fix}")
    return obj, meta


def resize_frames(frames: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, size[1], size[0], 3) uint8 (no copy when already that size)."""
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise UsageError(f"frames must be (N, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}")
    if (frames.shape[2], frames.shape[1]) == tuple(size):
        return frames
    shrink = size[0] < frames.shape[2] and size[1] < frames.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, tuple(size), interpolation=interp) for f in frames])
