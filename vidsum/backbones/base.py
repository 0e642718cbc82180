"""``BackboneSpec``: the description of one image network (registered in ``vidsum.backbones``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from vidsum.errors import UsageError
from vidsum.video import FRAME_SIZE

if TYPE_CHECKING:
    from torch import nn


def _never(state: Mapping[str, Any]) -> bool:
    return False


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
    weight-free alternative to load/prepare.
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

    @property
    def weight_free(self) -> bool:
        return self.frame_features is not None


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
