"""GoogLeNet (Inception v1) with torchvision's module names, so that torchvision's ImageNet state
dict (googlenet-1378be20.pth, with its aux1/aux2 heads) loads with strict=True.

Features are pool5: the 1024-d global average pool after inception5b (before dropout and fc).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from vidsum.backbones.base import BackboneSpec, read_state_dict
from vidsum.errors import WeightsError

WEIGHTS_NAME = "googlenet-imagenet"  # weights registry name (vidsum.weights.REGISTRY)
GOOGLENET_DIM = 1024  # pool5 channels
INPUT_SIZE = (224, 224)  # (width, height) in pixels
# The official torchvision weights were ported from the original (TF/Caffe) GoogLeNet, which read
# pixels scaled to [-1, 1]. torchvision feeds them ImageNet-normalised input and undoes that with
# transform_input=True: x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5, which is exactly 2 * (p / 255) - 1
# for every channel. We compute that directly from uint8 (tests/test_features.py checks both ways).
PREPROCESSING = (
    "RGB; whole frame resized to 224x224 (cv2 INTER_AREA, no crop); p / 127.5 - 1 "
    "(= ImageNet mean/std normalisation + torchvision GoogLeNet transform_input=True)"
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BasicConv2d(nn.Module):
    """Conv (no bias) + BatchNorm (eps 1e-3) + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(
        self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int
    ) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1), BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1)
        )
        # A 3x3 where the paper has 5x5: torchvision's port has it (pytorch/vision#906) and the
        # weights were trained with it, so it stays.
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1), BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True), BasicConv2d(in_channels, pool_proj, kernel_size=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: only in the state dict (training-time heads); unused for features."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(F.adaptive_avg_pool2d(x, (4, 4))), 1)
        x = F.dropout(F.relu(self.fc1(x), inplace=True), 0.7, training=self.training)
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1), state-dict compatible with torchvision's ImageNet checkpoint.

    ``pool5(x)``: (N, 3, 224, 224) float32 in the network's [-1, 1] input scale -> (N, 1024)
    float32, the global average pool after inception5b (before dropout and fc).
    ``forward(x)``: logits (N, num_classes); with ``transform_input=True`` x is ImageNet-normalised
    (as for torchvision), else already in [-1, 1]. Random init (for tests) is Kaiming-normal so
    activations keep their scale through the 22 layers.
    """

    def __init__(
        self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False, init_weights: bool = True
    ) -> None:
        super().__init__()
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1: InceptionAux | None = InceptionAux(512, num_classes) if aux_logits else None
        self.aux2: InceptionAux | None = InceptionAux(528, num_classes) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)
        if not init_weights:  # weights are about to be loaded
            return
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        if not self.transform_input:
            return x
        mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return x * (std / 0.5) + (mean - 0.5) / 0.5

    def pool5(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 1024) pool5 features (input scale as for ``forward``)."""
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4d(self.inception4c(self.inception4b(self.inception4a(x))))
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.pool5(x)))


def fold_batchnorm(model: GoogLeNet) -> GoogLeNet:
    """A copy of ``model`` for inference with each BatchNorm folded into the conv before it
    (conv weight * gamma / sqrt(var + eps), bias beta - mean * gamma / sqrt(var + eps)).

    Same outputs up to float rounding, ~10 % fewer CPU cycles; the copy's state dict no longer
    matches torchvision's, so it is only ever built from a loaded model. Aux heads are dropped.
    """
    src = model
    aux = src.aux1, src.aux2
    src.aux1 = src.aux2 = None  # not copied: unused for features, and half the parameters
    try:
        model = copy.deepcopy(src).eval()
    finally:
        src.aux1, src.aux2 = aux
    for block in model.modules():
        if not isinstance(block, BasicConv2d) or isinstance(block.bn, nn.Identity):
            continue
        conv, bn = block.conv, block.bn
        var, mean = torch.as_tensor(bn.running_var), torch.as_tensor(bn.running_mean)
        scale = bn.weight.detach() / torch.sqrt(var + bn.eps)
        fused = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True
        )
        with torch.no_grad():
            fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
            fused.bias.copy_(bn.bias.detach() - mean * scale)
        block.conv, block.bn = fused, nn.Identity()
    return model


def load_googlenet(path: str | Path) -> GoogLeNet:
    """Load a torchvision GoogLeNet ImageNet state dict (``weights_only``) into a ``GoogLeNet``.

    Raises WeightsError naming the file when it is not such a state dict.
    """
    path = Path(path)
    state, _ = read_state_dict(path, "get the official one with `vidsum weights download googlenet-imagenet`")
    model = GoogLeNet(num_classes=1000, aux_logits=True, init_weights=False)
    has_aux = any(k.startswith(("aux1.", "aux2.")) for k in state)
    if not has_aux:  # a state dict saved from googlenet(weights=..., aux_logits=False)
        model.aux1 = model.aux2 = None
    fc = state.get("fc.weight")
    if isinstance(fc, torch.Tensor) and fc.ndim == 2 and fc.shape[0] != 1000:
        model.fc = nn.Linear(1024, fc.shape[0])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        show = (missing + unexpected)[:4]
        raise WeightsError(
            f"{path}: not a torchvision GoogLeNet state dict ({len(missing)} missing, {len(unexpected)} "
            f"unexpected keys, e.g. {', '.join(show)}); get the official file with `vidsum weights download googlenet-imagenet`"
        )
    return model.eval()


class Pool5(nn.Module):
    """The inference network: (N, 3, H, W) in [-1, 1] -> (N, 1024) pool5 features."""

    def __init__(self, net: GoogLeNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.pool5(x)


def prepare(model: nn.Module) -> nn.Module:
    """A loaded GoogLeNet -> its pool5 inference network (BatchNorm folded, no fc, no aux heads)."""
    if not isinstance(model, GoogLeNet):
        raise TypeError(f"expected a GoogLeNet, got {type(model).__name__}")
    net = fold_batchnorm(model)
    net.fc = nn.Identity()  # type: ignore[assignment]
    return Pool5(net)


def matches(state: Mapping[str, Any]) -> bool:
    """Whether ``state`` has torchvision GoogLeNet's layout (inception blocks, BatchNorm'd convs)."""
    return "conv1.conv.weight" in state and "inception5b.branch1.conv.weight" in state


SPEC = BackboneSpec(
    name="googlenet",
    weights_name=WEIGHTS_NAME,
    dim=GOOGLENET_DIM,
    input_size=INPUT_SIZE,
    preprocessing={"channels": "RGB", "mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5), "text": PREPROCESSING},
    feature_name="googlenet-pool5",
    layer="pool5 (global average pool after inception5b)",
    description="GoogLeNet (Inception v1) pool5, torchvision layout and ImageNet weights",
    load=load_googlenet,
    prepare=prepare,
    matches=matches,
)
