"""Image networks that turn one frame into one feature vector, by name.

    BACKBONES: dict[str, BackboneSpec]      get_backbone(name) -> BackboneSpec

A backbone is either a network (``load(path) -> nn.Module`` reads a weight file; ``prepare``
turns it into the inference network whose ``forward`` maps a preprocessed (N, 3, H, W) batch to
(N, dim) features) or weight-free (``frame_features`` maps (N, H, W, 3) uint8 RGB frames to
(N, dim) float32 directly). ``vidsum.features`` wraps either in an Extractor.

Adding one: write ``backbones/<name>.py`` defining ``SPEC = BackboneSpec(...)`` (from
``vidsum.backbones.base``) and add one line to ``BACKBONES`` below (docs/architecture.md).
"""

from __future__ import annotations

from vidsum.backbones import fallback, googlenet
from vidsum.backbones.base import BackboneSpec
from vidsum.errors import UsageError

__all__ = ["BACKBONES", "BackboneSpec", "get_backbone"]

BACKBONES: dict[str, BackboneSpec] = {
    googlenet.SPEC.name: googlenet.SPEC,
    fallback.SPEC.name: fallback.SPEC,
}


def get_backbone(name: str) -> BackboneSpec:
    """The spec registered as ``name``; UsageError listing the known names otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise UsageError(f"unknown backbone {name!r}; known backbones: {', '.join(BACKBONES)}") from None
