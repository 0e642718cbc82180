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

from pathlib import Path
from typing import Any, Mapping

from vidsum.backbones import bvlc_googlenet, fallback, googlenet
from vidsum.backbones.base import BackboneSpec
from vidsum.errors import UsageError

__all__ = ["AUTO_ORDER", "BACKBONES", "BackboneSpec", "backbone_for_features", "detect_backbone", "get_backbone"]

BACKBONES: dict[str, BackboneSpec] = {
    googlenet.SPEC.name: googlenet.SPEC,
    bvlc_googlenet.SPEC.name: bvlc_googlenet.SPEC,
    fallback.SPEC.name: fallback.SPEC,
}
# "auto": the first of these whose weights are found (the BVLC network first: its features are the
# public datasets'), else the download of the first, else the weight-free fallback.
AUTO_ORDER = (bvlc_googlenet.SPEC.name, googlenet.SPEC.name)


def get_backbone(name: str) -> BackboneSpec:
    """The spec registered as ``name``; UsageError listing the known names otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise UsageError(f"unknown backbone {name!r}; known backbones: {', '.join(BACKBONES)}") from None


def detect_backbone(path: str | Path) -> str | None:
    """The name of the backbone whose weights ``path`` holds (a caffemodel is the BVLC network's;
    a torch file is recognised by its state-dict keys), None when none matches.

    Raises WeightsError for a torch file that cannot be read.
    """
    path = Path(path)
    if bvlc_googlenet.is_caffemodel(path):
        return bvlc_googlenet.SPEC.name
    state, _ = bvlc_googlenet.read_state_dict(path)
    for spec in BACKBONES.values():
        if spec.matches(state):
            return spec.name
    return None


def backbone_for_features(described: Mapping[str, Any] | None) -> str | None:
    """The backbone whose features ``described`` (an extractor description, as checkpoints and
    feature files record it) are, by its feature name; None when unrecorded or unknown."""
    name = (described or {}).get("name")
    return next((spec.name for spec in BACKBONES.values() if spec.feature_name == name), None)
