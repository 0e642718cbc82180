"""Frame features: GoogLeNet pool5 (1024-d, torchvision-compatible weights) or a weight-free fallback.

    path -> iter_frames (224x224 RGB uint8) -> batches -> (n_steps, dim) float32 features + picks

Decoding runs in a producer thread that fills batches into a bounded queue while the model works
on the previous batch (OpenCV and torch both release the GIL), so neither waits for one frame at
a time. What was used (backbone, weights hash, preprocessing, sample rate) is returned by
``Extractor.describe()`` and stored with features and checkpoints, so that features made for
training and for inference can be compared.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidsum import weights as weights_mod
from vidsum.config import PRECISIONS
from vidsum.device import resolve_device
from vidsum.errors import UsageError, WeightsError
from vidsum.progress import ProgressFn, report
from vidsum.video import (
    FRAME_SIZE,
    SAMPLE_FPS,
    Prefetcher,
    VideoInfo,
    iter_frames,
    probe,
    sample_indices,
)

log = logging.getLogger(__name__)

BACKBONE = "googlenet-imagenet"  # weights registry name (vidsum.weights.REGISTRY)
GOOGLENET_DIM = 1024  # pool5 channels
CPU_BATCH = 8  # frames per forward pass on the CPU (fastest with channels_last, MEASUREMENTS.md)
CUDA_BATCH = 128  # frames per forward pass on a GPU
FALLBACK_BATCH = 32
PREFETCH_BATCHES = 2  # decoded batches waiting in the queue; bounds memory
# The official torchvision weights were ported from the original (TF/Caffe) GoogLeNet, which read
# pixels scaled to [-1, 1]. torchvision feeds them ImageNet-normalised input and undoes that with
# transform_input=True: x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5, which is exactly 2 * (p / 255) - 1
# for every channel. We compute that directly from uint8 (tests/test_features.py checks both ways).
PREPROCESSING = (
    "RGB; whole frame resized to 224x224 (cv2 INTER_AREA, no crop); p / 127.5 - 1 "
    "(= ImageNet mean/std normalisation + torchvision GoogLeNet transform_input=True)"
)
# Inference precision. "auto": fp16 on a GPU, fp32 on the CPU. bf16 on the CPU is ~1.9x faster
# where the CPU has native bf16 (AVX-512 BF16 / AMX) and moved pool5 features by ~0.4 % (relative
# L2) with random weights (docs/features.md); it is opt-in until checked with the real weights.
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# describe() keys that say how the features were computed but not which features they are: two
# descriptions that differ only in these still describe the same features (batch resume, checkpoints).
RUNTIME_KEYS = frozenset({"device", "batch_size", "precision"})
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------
# The network: module names and shapes follow torchvision.models.googlenet, so the official
# state dict (googlenet-1378be20.pth, with its aux1/aux2 heads) loads with strict=True.


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


def googlenet_state_dict_keys(model: GoogLeNet | None = None) -> list[str]:
    """The state-dict keys a torchvision-compatible GoogLeNet (with aux heads) has."""
    return list((model or GoogLeNet(aux_logits=True, init_weights=False)).state_dict().keys())


def load_googlenet(path: str | Path) -> GoogLeNet:
    """Load a torchvision GoogLeNet ImageNet state dict (``weights_only``) into a ``GoogLeNet``.

    Raises WeightsError naming the file when it is not such a state dict.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged or non-torch file
        raise WeightsError(
            f"{path}: not a readable torch weight file ({type(exc).__name__}); get the official one with "
            "`vidsum weights download googlenet-imagenet`"
        ) from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds a {type(state).__name__}, not a state dict; pass torchvision's googlenet-1378be20.pth")
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


# --------------------------------------------------------------------------------------------
# Extractors


@dataclasses.dataclass
class Features:
    """Features of one video.

    features (n_steps, dim) float32; picks (n_steps,) int64 frame indices of the sampled frames;
    info the VideoInfo with the frame count as decoded; truncated True when the file ended early
    (only the decodable frames were used); extractor = ``Extractor.describe()`` at this sample rate.
    """

    features: np.ndarray
    picks: np.ndarray
    info: VideoInfo
    truncated: bool
    extractor: dict[str, Any]


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


def to_input(frames: np.ndarray, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(N, 224, 224, 3) uint8 RGB -> (N, 3, 224, 224) ``dtype`` in [-1, 1], channels_last.

    The uint8 array crosses to the device (4x fewer bytes than float; pinned on CUDA) and is scaled
    there. The NHWC buffer viewed as NCHW already is channels_last: no transpose copy.
    """
    t = torch.from_numpy(np.ascontiguousarray(frames))
    device = torch.device(device)
    if device.type == "cuda":
        t = t.pin_memory().to(device, non_blocking=True)
    x = t.permute(0, 3, 1, 2).to(dtype)
    return x.mul_(1.0 / 127.5).sub_(1.0).contiguous(memory_format=torch.channels_last)


class Extractor:
    """Base class: turns frames into features. Subclasses set ``name``/``dim`` and implement
    ``extract_frames``; ``extract`` streams a file through it with decoding overlapped."""

    name: str = "extractor"
    dim: int = 0
    input_size: tuple[int, int] = FRAME_SIZE
    batch_size: int = CPU_BATCH
    sample_fps: float = SAMPLE_FPS
    fallback: bool = False

    def describe(self, sample_fps: float | None = None) -> dict[str, Any]:
        """Identity of the features (recorded with them and in checkpoints): name, backbone, dim,
        layer, weights_sha256 (None without a weight file), preprocessing, sample_fps, fallback."""
        raise NotImplementedError

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (N, dim) float32, one row per frame (resized to 224x224 first)."""
        raise NotImplementedError

    def extract(
        self,
        path: str | Path,
        sample_fps: float | None = None,
        progress: ProgressFn | None = None,
        decoder: Prefetcher | None = None,
    ) -> Features:
        """Decode ``path`` at ``sample_fps`` (default: the extractor's, 2.0) and featurise the frames.

        ``decoder``: a Prefetcher of ``path`` started earlier (at that sample rate), so that decoding
        ran while the model loaded; it is consumed here and closed by its owner.
        ``progress("features", frames_done, frames_expected)`` after each batch. Raises InputError
        for files that are not decodable videos (see ``vidsum.video.probe``).
        """
        sample_fps = self.sample_fps if sample_fps is None else float(sample_fps)
        if decoder is not None:
            return self._extract(decoder, sample_fps, progress)
        stream = iter_frames(path, sample_fps=sample_fps, size=self.input_size, info=probe(path))
        with Prefetcher(stream, self.batch_size, PREFETCH_BATCHES) as decoder:
            return self._extract(decoder, sample_fps, progress)

    def _extract(self, decoder: Prefetcher, sample_fps: float, progress: ProgressFn | None) -> Features:
        stream, info = decoder.stream, decoder.stream.info
        expected = len(sample_indices(info.n_frames, info.fps, sample_fps))
        rows: list[np.ndarray] = []
        picks: list[int] = []
        report(progress, "features", 0, expected)
        for indices, batch in regroup(iter(decoder), self.batch_size):
            rows.append(self.extract_frames(batch))
            picks.extend(indices)
            report(progress, "features", len(picks), max(expected, len(picks)))
        report(progress, "features", len(picks), len(picks))  # the true total, known only now
        feats = np.concatenate(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)
        return Features(
            features=np.ascontiguousarray(feats, dtype=np.float32),
            picks=np.asarray(picks, dtype=np.int64),
            info=stream.info,
            truncated=stream.truncated,
            extractor=self.describe(sample_fps),
        )


def regroup(chunks: Iterator[tuple[list[int], np.ndarray]], size: int) -> Iterator[tuple[list[int], np.ndarray]]:
    """Re-cut a stream of (indices, frames) chunks into batches of ``size`` frames (the last may be short)."""
    indices: list[int] = []
    parts: list[np.ndarray] = []
    n = 0
    for idx, frames in chunks:
        indices.extend(idx)
        parts.append(frames)
        n += len(frames)
        while n >= size:
            batch = np.concatenate(parts) if len(parts) > 1 else parts[0]
            yield indices[:size], batch[:size]
            indices, parts, n = indices[size:], ([batch[size:]] if n > size else []), n - size
    if n:
        yield indices, np.concatenate(parts)


def _cpu_has_bf16() -> bool:
    """Whether oneDNN runs bf16 natively here (a private torch check: unknown counts as yes)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> fp16 on CUDA, fp32 on the CPU; "fp16" on the CPU is a UsageError (no fast CPU
    kernels); "bf16" on a CPU without native bf16 works but is slow, so it logs a warning."""
    if precision not in PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if device.type == "cpu" and precision == "fp16":
        raise UsageError("--precision fp16 needs a CUDA GPU; on the CPU use bf16 (fast where supported) or fp32")
    if device.type == "cpu" and precision == "bf16" and not _cpu_has_bf16():
        _warn_slow_bf16()
    return precision


@functools.lru_cache(maxsize=None)
def _warn_slow_bf16() -> None:
    """Logged once per process, however many extractors are made."""
    log.warning("this CPU has no native bf16 (AVX-512 BF16 or AMX): bf16 inference will be slow; use --precision fp32")


class GoogLeNetExtractor(Extractor):
    """GoogLeNet pool5 features (1024-d). CPU: fp32 (or bf16 on request), BatchNorm folded,
    channels_last, inference_mode, batches of 8. CUDA: fp16, batches of 128, pinned uint8 transfers."""

    name = "googlenet-pool5"
    dim = GOOGLENET_DIM

    def __init__(
        self,
        model: GoogLeNet,
        weights_sha256: str | None = None,
        weights_name: str | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        sample_fps: float = SAMPLE_FPS,
        precision: str = "auto",
    ) -> None:
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.batch_size = int(batch_size or (CUDA_BATCH if self.device.type == "cuda" else CPU_BATCH))
        if self.batch_size < 1:
            raise UsageError(f"batch size must be >= 1, got {self.batch_size}")
        self.sample_fps = float(sample_fps)
        self.weights_sha256 = weights_sha256
        self.weights_name = weights_name
        self.dtype = DTYPES[self.precision]
        net = fold_batchnorm(model)
        net.fc = nn.Identity()  # type: ignore[assignment]
        self.model = net.to(self.device, dtype=self.dtype, memory_format=torch.channels_last).eval()

    def describe(self, sample_fps: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "backbone": self.weights_name or "googlenet-random",
            "dim": self.dim,
            "layer": "pool5 (global average pool after inception5b)",
            "weights_sha256": self.weights_sha256,
            "preprocessing": PREPROCESSING,
            "precision": self.precision,
            "sample_fps": self.sample_fps if sample_fps is None else float(sample_fps),
            "fallback": False,
        }

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        frames = resize_frames(frames, self.input_size)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                x = to_input(frames[start : start + self.batch_size], self.device, self.dtype)
                out.append(self.model.pool5(x).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)


# Weight-free fallback: colour + layout + texture statistics, each block L2-normalised so that
# each weighs the same after the final normalisation (KTS compares L2-normalised features).
HSV_BINS = (8, 4, 4)  # hue, saturation, value bins of the joint colour histogram
GRID = 4  # cells per side for the layout and texture statistics
ORIENT_BINS = 8  # unsigned gradient orientations over [0, pi)
FALLBACK_SIZE = (112, 112)  # statistics are computed at this resolution
FALLBACK_DIM = int(np.prod(HSV_BINS)) + GRID * GRID * 6 + GRID * GRID * (ORIENT_BINS + 1)


def fallback_features(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, 368) float32 unit-norm colour/texture statistics.

    Blocks: HSV joint histogram 8x4x4 (128); per cell of a 4x4 grid RGB mean and std (96); per
    cell a magnitude-weighted histogram of 8 gradient orientations plus the mean gradient
    magnitude (144). Each block is L2-normalised, then the whole is scaled by 1/sqrt(3).
    """
    import cv2

    frames = resize_frames(frames, FALLBACK_SIZE)
    n, h, w, _ = frames.shape
    if n == 0:
        return np.zeros((0, FALLBACK_DIM), dtype=np.float32)
    hsv = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2HSV) for f in frames]).astype(np.int64)
    hb, sb, vb = HSV_BINS
    bins = (hsv[..., 0] * hb // 180) * (sb * vb) + (hsv[..., 1] * sb // 256) * vb + hsv[..., 2] * vb // 256
    n_bins = hb * sb * vb
    offsets = (np.arange(n) * n_bins)[:, None, None]
    colour = np.bincount((bins + offsets).ravel(), minlength=n * n_bins).reshape(n, n_bins) / float(h * w)

    rgb = frames.astype(np.float32) / 255.0
    cells = rgb.reshape(n, GRID, h // GRID, GRID, w // GRID, 3)
    layout = np.concatenate([cells.mean(axis=(2, 4)).reshape(n, -1), cells.std(axis=(2, 4)).reshape(n, -1)], axis=1)

    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :, 1:-1] = grey[:, :, 2:] - grey[:, :, :-2]
    gy[:, 1:-1, :] = grey[:, 2:, :] - grey[:, :-2, :]
    mag = np.hypot(gx, gy)
    theta = np.mod(np.arctan2(gy, gx), np.pi)
    obin = np.minimum((theta / np.pi * ORIENT_BINS).astype(np.int64), ORIENT_BINS - 1)
    cell_y = (np.arange(h) * GRID // h)[:, None]
    cell_x = (np.arange(w) * GRID // w)[None, :]
    cell = cell_y * GRID + cell_x  # (h, w) cell id
    slot = (np.arange(n)[:, None, None] * GRID * GRID + cell[None]) * ORIENT_BINS + obin
    hist = np.bincount(slot.ravel(), weights=mag.ravel(), minlength=n * GRID * GRID * ORIENT_BINS)
    pixels_per_cell = (h // GRID) * (w // GRID)
    hist = hist.reshape(n, GRID * GRID * ORIENT_BINS) / pixels_per_cell
    mean_mag = mag.reshape(n, GRID, h // GRID, GRID, w // GRID).mean(axis=(2, 4)).reshape(n, -1)
    texture = np.concatenate([hist, mean_mag], axis=1)

    blocks = []
    for block in (colour, layout, texture):
        norm = np.linalg.norm(block, axis=1, keepdims=True)
        blocks.append(block / np.maximum(norm, 1e-8))
    return (np.concatenate(blocks, axis=1) / math.sqrt(len(blocks))).astype(np.float32)


class FallbackExtractor(Extractor):
    """Weight-free features (colour + layout + texture statistics, 368-d) for when no GoogLeNet
    weights can be had. They separate shots well enough for KTS and the training-free scorer;
    they are not GoogLeNet features, so models trained on GoogLeNet features cannot read them."""

    name = "fallback-colour-texture"
    dim = FALLBACK_DIM
    fallback = True

    def __init__(self, batch_size: int | None = None, sample_fps: float = SAMPLE_FPS) -> None:
        self.batch_size = int(batch_size or FALLBACK_BATCH)
        self.sample_fps = float(sample_fps)

    def describe(self, sample_fps: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "backbone": None,
            "dim": self.dim,
            "layer": "hsv-hist-8x4x4 + grid4-rgb-mean-std + grid4-orient8-hist",
            "weights_sha256": None,
            "preprocessing": "RGB; whole frame resized to 112x112 (cv2 INTER_AREA); blocks L2-normalised",
            "sample_fps": self.sample_fps if sample_fps is None else float(sample_fps),
            "fallback": True,
        }

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        return fallback_features(frames)


def make_extractor(
    backbone_weights: Path | str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    allow_fallback: bool = True,
    sample_fps: float = SAMPLE_FPS,
    allow_download: bool | None = None,
    progress: ProgressFn | None = None,
    precision: str = "auto",
) -> Extractor:
    """The feature extractor to use.

    Weights: ``backbone_weights`` (must exist) > project ``weights/`` > user cache > download
    (skipped when ``allow_download`` is False, or None with VIDSUM_OFFLINE=1). Files found in the
    project or cache must match the registry hash (WeightsError otherwise); an explicit file that
    differs from the official one is used with a warning. With no weights: the FallbackExtractor
    and a logged warning, or, if not ``allow_fallback``, a WeightsError saying how to get them.
    """
    precision = resolve_precision(precision, resolve_device(device))  # before any fallback message
    entry = weights_mod.spec(BACKBONE)
    path = weights_mod.resolve(BACKBONE, backbone_weights)
    problem = None
    if path is None:
        if allow_download is None:
            allow_download = os.environ.get("VIDSUM_OFFLINE", "") in ("", "0")
        if allow_download:
            try:
                path = weights_mod.download(BACKBONE, progress=progress, timeout=10.0)
            except WeightsError as exc:
                problem = str(exc)
        else:
            problem = "downloads are off (VIDSUM_OFFLINE=1)"
    if path is None:
        where = ", ".join(str(p) for _, p in weights_mod.candidates(BACKBONE))
        msg = (
            f"no GoogLeNet weights (looked for {where}; {problem}); get them with "
            f"`vidsum weights download {BACKBONE}`, or offline `vidsum weights import FILE`, or pass "
            "--backbone-weights FILE"
        )
        if not allow_fallback:
            raise WeightsError(msg)
        log.debug("%s", msg)
        reason = "downloads are off" if not allow_download else "the download failed (offline?)"
        log.warning(
            "no GoogLeNet weights (none in weights/ or %s; %s): using the weight-free colour/texture "
            "feature (%s), which gives rougher summaries. Get the backbone with `vidsum weights download` "
            "(offline: `vidsum weights import FILE`)",
            weights_mod.cache_dir(),
            reason,
            FallbackExtractor.name,
        )
        return FallbackExtractor(batch_size=batch_size, sample_fps=sample_fps)
    digest = weights_mod.sha256_file(path)
    official = digest.startswith(entry.sha256)
    if not official:
        if backbone_weights is None:
            raise WeightsError(
                f"{path}: sha256 {digest} does not match {BACKBONE} ({entry.sha256}...): the file is damaged; "
                f"delete it and run `vidsum weights download {BACKBONE}`"
            )
        log.warning("%s: not the official %s file (sha256 %s); features will differ from the official ones", path, BACKBONE, digest[:12])
    model = load_googlenet(path)
    return GoogLeNetExtractor(
        model,
        weights_sha256=digest,
        weights_name=BACKBONE if official else f"googlenet-custom:{Path(path).name}",
        device=device,
        batch_size=batch_size,
        sample_fps=sample_fps,
        precision=precision,
    )
