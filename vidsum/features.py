"""Frame features: an Extractor wraps one backbone (``vidsum.backbones``) and streams a video
through it.

    path -> sampled frames (224x224 RGB uint8) -> batches -> (n_steps, dim) float32 features + picks

Decoding runs in a producer thread that fills batches into a bounded queue while the model works
on the previous batch (OpenCV and torch both release the GIL), so neither waits for one frame at
a time. What was used (backbone, weights hash, preprocessing, sample rate) is returned by
``Extractor.describe()`` and stored with features and checkpoints, so that features made for
training and for inference can be compared (``same_features``).

``make_extractor(FeaturesConfig)`` picks the backbone and its weights (the policy: explicit file
> project weights/ > user cache > download > the weight-free fallback).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import numpy as np
import torch
from torch import nn

from vidsum import weights as weights_mod
from vidsum.backbones import AUTO_ORDER, BackboneSpec, detect_backbone, get_backbone
from vidsum.backbones import fallback as fallback_mod
from vidsum.backbones import googlenet as googlenet_mod
from vidsum.backbones.base import resize_frames
from vidsum.config import PRECISIONS, SAMPLE_FPS, FeaturesConfig
from vidsum.device import resolve_device
from vidsum.errors import CheckpointError, InputError, MissingWeightsError, UsageError, WeightsError
from vidsum.progress import ProgressFn, report
from vidsum.video import FRAME_SIZE, Prefetcher, VideoInfo, probe, sample_indices

log = logging.getLogger(__name__)

CPU_BATCH = 8  # frames per forward pass on the CPU (fastest with channels_last; docs/features.md)
CUDA_BATCH = 128  # frames per forward pass on a GPU
FALLBACK_BATCH = 32  # frames per call of a weight-free backbone
PREFETCH_BATCHES = 2  # decoded batches waiting in the queue; bounds memory
# Inference precision. "auto": fp16 on a GPU, fp32 on the CPU. bf16 on the CPU is ~1.9x faster
# where the CPU has native bf16 (AVX-512 BF16 / AMX) and moved pool5 features by ~0.4 % (relative
# L2) with random weights (docs/features.md); it is opt-in until checked with the real weights.
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# describe() keys that say how the features were computed but not which features they are: two
# descriptions that differ only in these still describe the same features (batch resume, checkpoints).
RUNTIME_KEYS = frozenset({"device", "batch_size", "precision"})


def same_features(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two ``Extractor.describe()`` dicts describe the same features (RUNTIME_KEYS ignored)."""
    a = {k: v for k, v in a.items() if k not in RUNTIME_KEYS}
    b = {k: v for k, v in b.items() if k not in RUNTIME_KEYS}
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def feature_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The description keys (RUNTIME_KEYS ignored) in which ``a`` and ``b`` differ, sorted."""
    return sorted(k for k in set(a) | set(b) if k not in RUNTIME_KEYS and a.get(k) != b.get(k))


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


def describe_name(described: dict[str, Any]) -> str:
    """The backbone (else extractor) name a description records, for messages."""
    return str(described.get("backbone") or described.get("name") or "an unrecorded extractor")


def is_fallback(described: dict[str, Any]) -> bool:
    """Whether a description is of a weight-free fallback feature."""
    return bool(described.get("fallback")) or "fallback" in describe_name(described).lower()


def compare_extractors(ckpt: dict[str, Any] | None, used: dict[str, Any], model_path: Path) -> str | None:
    """Check the checkpoint's recorded feature extractor against the one in use.

    A different feature size is a CheckpointError (the model cannot read these features); a
    different or unrecorded extractor is returned as a warning (scores may be meaningless).
    """
    from vidsum.checkpoint import DATASET_FEATURES

    dim = used.get("dim")
    if ckpt and ckpt.get("backbone") == DATASET_FEATURES["backbone"] and used.get("backbone") == "bvlc-googlenet":
        # trained on the public eccv16 features, read with the official BVLC GoogLeNet in the
        # datasets' known convention (docs/features.md): the intended match, not a mismatch
        log.info("%s: trained on eccv16 features; extracting them with the official BVLC GoogLeNet", model_path)
        return None
    if not ckpt:
        return (
            f"{model_path}: the checkpoint does not record its feature extractor (a model trained on "
            "the public datasets' precomputed features, say); scores may not match these features"
        )
    if ckpt.get("dim") is not None and dim is not None and int(ckpt["dim"]) != int(dim):
        raise CheckpointError(
            f"{model_path}: the model expects {ckpt['dim']}-d features but the extractor in use gives "
            f"{dim}-d ({describe_name(used)}); pass the backbone weights it was trained with "
            "(--backbone-weights) or a checkpoint trained on these features"
        )
    diff = feature_differences(ckpt, used)
    if diff:
        return (
            f"{model_path}: trained on features from {describe_name(ckpt)} but "
            f"{describe_name(used)} is in use (differs in {', '.join(diff)}); "
            "the scores may be poor"
        )
    return None


def to_input(
    frames: np.ndarray,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    preprocessing: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) ``dtype`` normalised per ``preprocessing``, channels_last.

    ``preprocessing`` is a BackboneSpec's (channels, mean, std in pixel units); the default is
    GoogLeNet's, p / 127.5 - 1 in [-1, 1]. The uint8 array crosses to the device (4x fewer bytes
    than float; pinned on CUDA) and is scaled there. The NHWC buffer viewed as NCHW already is
    channels_last: no transpose copy.
    """
    pre = googlenet_mod.SPEC.preprocessing if preprocessing is None else preprocessing
    if pre.get("channels", "RGB") == "BGR":
        frames = frames[..., ::-1]
    t = torch.from_numpy(np.ascontiguousarray(frames))
    device = torch.device(device)
    if device.type == "cuda":
        t = t.pin_memory().to(device, non_blocking=True)
    mean, std = tuple(pre["mean"]), tuple(pre["std"])
    if len(set(mean)) == 1 and len(set(std)) == 1:
        x = t.permute(0, 3, 1, 2).to(dtype)
        x = x.mul_(1.0 / std[0]).sub_(mean[0] / std[0])
    else:
        m = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        s = torch.tensor(std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        x = ((t.permute(0, 3, 1, 2).float() - m) / s).to(dtype)
    return x.contiguous(memory_format=torch.channels_last)


class Extractor:
    """Base class: turns frames into features. Subclasses set ``name``/``dim`` and implement
    ``extract_frames``; ``extract`` streams a file through it with decoding overlapped."""

    name: str = "extractor"
    dim: int = 0
    input_size: tuple[int, int] = FRAME_SIZE
    batch_size: int = CPU_BATCH
    sample_fps: float = SAMPLE_FPS
    fallback: bool = False
    warning: str | None = None  # why this extractor stands in for the requested one (already logged)

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
        frame_decoder: str = "opencv",
    ) -> Features:
        """Decode ``path`` at ``sample_fps`` (default: the extractor's, 2.0) and featurise the frames.

        ``frame_decoder``: who decodes (``vidsum.ffstream.resolve_decoder``; "opencv" by default).

        ``decoder``: a Prefetcher of ``path`` started earlier (at that sample rate), so that decoding
        ran while the model loaded; it is consumed here and closed by its owner.
        ``progress("features", frames_done, frames_expected)`` after each batch. Raises InputError
        for files that are not decodable videos (see ``vidsum.video.probe``).
        """
        sample_fps = self.sample_fps if sample_fps is None else float(sample_fps)
        if decoder is not None:
            return self._extract(decoder, sample_fps, progress)
        from vidsum.ffstream import open_frames

        stream = open_frames(path, frame_decoder, sample_fps=sample_fps, size=self.input_size, info=probe(path))
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


class NetworkExtractor(Extractor):
    """Features from a backbone network (``spec.load`` / ``spec.prepare``). CPU: fp32 (or bf16 on
    request), channels_last, inference_mode, batches of 8. CUDA: fp16, batches of 128, pinned
    uint8 transfers. ``model`` is the network as loaded (e.g. a GoogLeNet with random weights in
    tests); ``spec.prepare`` turns it into the inference network."""

    spec: BackboneSpec = googlenet_mod.SPEC

    def __init__(
        self,
        model: nn.Module,
        weights_sha256: str | None = None,
        weights_name: str | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        sample_fps: float = SAMPLE_FPS,
        precision: str = "auto",
        spec: BackboneSpec | None = None,
    ) -> None:
        self.spec = spec or self.spec
        self.name = self.spec.feature_name
        self.dim = self.spec.dim
        self.input_size = tuple(self.spec.input_size)  # type: ignore[assignment]
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.batch_size = int(batch_size or (CUDA_BATCH if self.device.type == "cuda" else CPU_BATCH))
        if self.batch_size < 1:
            raise UsageError(f"batch size must be >= 1, got {self.batch_size}")
        self.sample_fps = float(sample_fps)
        self.weights_sha256 = weights_sha256
        self.weights_name = weights_name
        self.dtype = DTYPES[self.precision]
        net = self.spec.prepare(model) if self.spec.prepare is not None else model
        self.model = net.to(self.device, dtype=self.dtype, memory_format=torch.channels_last).eval()

    def describe(self, sample_fps: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "backbone": self.weights_name or f"{self.spec.name}-random",
            "dim": self.dim,
            "layer": self.spec.layer,
            "weights_sha256": self.weights_sha256,
            "preprocessing": self.spec.preprocessing["text"],
            "precision": self.precision,
            "sample_fps": self.sample_fps if sample_fps is None else float(sample_fps),
            "fallback": False,
        }

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        frames = resize_frames(frames, self.input_size)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                x = to_input(frames[start : start + self.batch_size], self.device, self.dtype, self.spec.preprocessing)
                out.append(self.model(x).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)


# NetworkExtractor's default backbone is GoogLeNet pool5 (1024-d, torchvision layout).
GoogLeNetExtractor = NetworkExtractor


class WeightFreeExtractor(Extractor):
    """Features from a weight-free backbone (``spec.frame_features``), computed with numpy/OpenCV."""

    fallback = True

    def __init__(self, batch_size: int | None = None, sample_fps: float = SAMPLE_FPS, spec: BackboneSpec | None = None) -> None:
        self.spec = spec or get_backbone("fallback")
        self.name = self.spec.feature_name
        self.dim = self.spec.dim
        self.batch_size = int(batch_size or FALLBACK_BATCH)
        self.sample_fps = float(sample_fps)

    def describe(self, sample_fps: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "backbone": None,
            "dim": self.dim,
            "layer": self.spec.layer,
            "weights_sha256": None,
            "preprocessing": self.spec.preprocessing["text"],
            "sample_fps": self.sample_fps if sample_fps is None else float(sample_fps),
            "fallback": True,
        }

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        return self.spec.frame_features(frames)  # type: ignore[misc]


class FallbackExtractor(WeightFreeExtractor):
    """The weight-free colour/texture extractor (``vidsum.backbones.fallback``, 368-d)."""

    name = fallback_mod.SPEC.feature_name
    dim = fallback_mod.SPEC.dim

    def __init__(self, batch_size: int | None = None, sample_fps: float = SAMPLE_FPS) -> None:
        super().__init__(batch_size=batch_size, sample_fps=sample_fps, spec=fallback_mod.SPEC)


def _downloads_allowed(cfg: FeaturesConfig) -> bool:
    """``cfg.allow_download``; None means yes unless VIDSUM_OFFLINE=1."""
    if cfg.allow_download is None:
        return os.environ.get("VIDSUM_OFFLINE", "") in ("", "0")
    return cfg.allow_download


def fallback_warning(backbone: str, weights_name: str, allow_download: bool | None) -> str:
    """The one text that says the weight-free fallback stands in for missing network weights
    (``allow_download`` None: where the weights were looked for is not known here)."""
    reason = {True: "the download failed (offline?)", False: "downloads are off", None: "not found"}[allow_download]
    return (
        f"no {backbone} weights (none in weights/ or {weights_mod.cache_dir()}; {reason}): using the "
        f"weight-free fallback feature ({FallbackExtractor.name}), which gives rougher summaries. Get the "
        f"backbone with `vidsum weights download {weights_name}` (offline: `vidsum weights import FILE`)"
    )


class LocatedWeights(NamedTuple):
    """The weight file a backbone loads (for a caffemodel: its conversion), the SHA-256 recorded
    with the features, and whether the weights are the official ones."""

    path: Path
    sha256: str
    official: bool


def locate_weights(cfg: FeaturesConfig, spec: BackboneSpec, progress: ProgressFn | None = None) -> LocatedWeights | None:
    """The weight file of the network backbone ``spec`` and its sha256, or None when there is none
    and ``cfg`` allows the weight-free fallback (the warning is logged here).

    Order: ``cfg.backbone_weights`` (must exist) > project ``weights/`` > user cache > download
    (see ``make_extractor``). A file found in the project or cache that does not match the
    registry hash is a WeightsError; an explicit file that differs is used with a warning.
    A backbone with ``open_weights`` checks (and converts) the file itself. Without weights and
    without ``allow_fallback``: MissingWeightsError.
    Executors that run the backbone elsewhere (Ray) call this once on the driver.
    """
    name = spec.weights_name
    if name is None or spec.load is None:
        raise UsageError(f"backbone {spec.name!r} has neither a weight file nor a weight-free feature")
    entry = weights_mod.spec(name)
    path = weights_mod.resolve(name, cfg.backbone_weights)
    problem = None
    allow_download = _downloads_allowed(cfg)
    if path is None:
        if allow_download:
            try:
                path = weights_mod.download(name, progress=progress, timeout=10.0)
            except WeightsError as exc:
                problem = str(exc)
        else:
            problem = "downloads are off (VIDSUM_OFFLINE=1)"
    if path is None:
        where = ", ".join(str(p) for _, p in weights_mod.candidates(name))
        msg = (
            f"no {spec.name} weights (looked for {where}; {problem}); get them with "
            f"`vidsum weights download {name}`, or offline `vidsum weights import FILE`, or pass "
            "--backbone-weights FILE"
        )
        if not cfg.allow_fallback:
            raise MissingWeightsError(msg)
        log.debug("%s", msg)
        log.warning("%s", fallback_warning(spec.name, name, bool(allow_download)))
        return None
    if spec.open_weights is not None:  # checks the file itself (a caffemodel is converted first)
        opened = spec.open_weights(Path(path), cfg.backbone_weights is not None)
        return LocatedWeights(opened.path, opened.sha256, opened.official)
    digest = weights_mod.sha256_file(path)
    official = digest.startswith(entry.sha256)
    if not official:
        if cfg.backbone_weights is None:
            raise WeightsError(
                f"{path}: sha256 {digest} does not match {name} ({entry.sha256}...): the file is damaged; "
                f"delete it and run `vidsum weights download {name}`"
            )
        log.warning("%s: not the official %s file (sha256 %s); features will differ from the official ones", path, name, digest[:12])
    return LocatedWeights(Path(path), digest, official)


def make_extractor(
    cfg: FeaturesConfig | None = None, *, progress: ProgressFn | None = None, **overrides: Any
) -> Extractor:
    """The feature extractor ``cfg`` describes (fields of FeaturesConfig may also be given as
    keywords: ``make_extractor(device="cpu")``).

    Weights: ``backbone_weights`` (must exist) > project ``weights/`` > user cache > download
    (skipped when ``allow_download`` is False, or None with VIDSUM_OFFLINE=1). Files found in the
    project or cache must match the registry hash (WeightsError otherwise); an explicit file that
    differs from the official one is used with a warning. With no weights: the weight-free
    fallback and a logged warning, or, if not ``allow_fallback``, a MissingWeightsError saying how
    to get them. The backbone: see ``choose_backbone``.
    """
    cfg = dataclasses.replace(cfg or FeaturesConfig(), **overrides) if overrides else (cfg or FeaturesConfig())
    precision = resolve_precision(cfg.precision, resolve_device(cfg.device))  # before any fallback message
    spec = choose_backbone(cfg)
    if spec.weight_free:
        return WeightFreeExtractor(batch_size=cfg.batch_size, sample_fps=cfg.sample_fps, spec=spec)
    found = locate_weights(cfg, spec, progress=progress)
    if found is None:  # locate_weights has logged why
        fallback = FallbackExtractor(batch_size=cfg.batch_size, sample_fps=cfg.sample_fps)
        fallback.warning = fallback_warning(spec.name, str(spec.weights_name), _downloads_allowed(cfg))
        return fallback
    path, digest, official = found
    name = spec.weights_name
    model = spec.load(path)
    return NetworkExtractor(
        model,
        weights_sha256=digest,
        weights_name=name if official else f"{spec.name}-custom:{Path(path).name}",
        device=cfg.device,
        batch_size=cfg.batch_size,
        sample_fps=cfg.sample_fps,
        precision=precision,
        spec=spec,
    )


def choose_backbone(cfg: FeaturesConfig) -> BackboneSpec:
    """The backbone ``cfg`` asks for.

    A ``backbone_weights`` file picks the network whose weights it holds (a caffemodel or a
    converted file: the BVLC GoogLeNet; a torchvision state dict: GoogLeNet); a ``backbone`` that
    contradicts the file is a UsageError. Otherwise ``backbone`` by name, or for "auto" the first
    of AUTO_ORDER whose weights are in the project weights/ or the user cache, else the first.
    """
    if cfg.backbone_weights is not None:
        path = Path(cfg.backbone_weights).expanduser()
        if not path.is_file():
            raise InputError(f"{path}: weight file not found; check the --backbone-weights path")
        found = detect_backbone(path)
        if cfg.backbone != "auto":
            spec = get_backbone(cfg.backbone)
            if found is not None and found != spec.name:
                raise UsageError(
                    f"{path}: holds {found} weights, but --backbone {spec.name} was given; drop --backbone "
                    f"(the file picks its network) or pass {spec.name} weights"
                )
            return spec
        if found is None:
            raise WeightsError(
                f"{path}: not the weights of a known backbone (neither a torchvision GoogLeNet state dict nor "
                "a BVLC GoogLeNet caffemodel or conversion); get one with `vidsum weights download bvlc-googlenet`"
            )
        return get_backbone(found)
    if cfg.backbone != "auto":
        return get_backbone(cfg.backbone)
    for name in AUTO_ORDER:
        spec = get_backbone(name)
        if spec.weights_name is not None and weights_mod.resolve(spec.weights_name) is not None:
            return spec
    return get_backbone(AUTO_ORDER[0])
