"""Frozen configuration dataclasses and the defaults every module shares, each defined once.

Defaults live here; CLI flags override them; the resolved config is saved next to results.
Unknown keys are errors (``from_dict``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal, TypeVar

from vidsum.errors import UsageError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys raise UsageError naming them."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known keys are {', '.join(sorted(names))}"
        )
    return cls(**data)


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


SAMPLE_FPS = 2.0  # frames per second sampled for features (the public datasets: every 15th at 30 fps)
DEFAULT_BUDGET = 0.15  # fraction of the duration: the public benchmarks' summary length
# Backbone inference precision: "auto" = fp16 on a GPU, fp32 on the CPU (vidsum.features).
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def check_device(device: str) -> None:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; anything else is a UsageError (whether the GPU
    exists is checked when the device is used, by ``vidsum.device.resolve_device``)."""
    if device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", str(device)):
        return
    raise UsageError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', not {device!r}")


@dataclasses.dataclass(frozen=True)
class FeaturesConfig:
    """How frames become features: everything needed to rebuild the same extractor anywhere.

    Plain values only, so that ``to_dict``/``FeaturesConfig.from_dict`` carry it to another
    process or machine. ``backbone``: a name of ``vidsum.backbones.BACKBONES`` or "auto" (the
    first of ``AUTO_ORDER`` whose weights are found: the BVLC GoogLeNet, then torchvision's).
    ``backbone_weights``: an explicit weight file; it picks the backbone by its contents.
    Without weights: the weight-free fallback when ``allow_fallback``, else WeightsError.
    ``batch_size`` None: the extractor's default.
    ``allow_download`` None: download unless VIDSUM_OFFLINE=1.
    """

    backbone: str = "auto"
    backbone_weights: str | None = None
    device: str = "auto"
    batch_size: int | None = None  # frames per forward pass
    precision: str = "auto"  # one of PRECISIONS
    sample_fps: float = SAMPLE_FPS  # frames per second
    allow_fallback: bool = True
    allow_download: bool | None = None
    # who decodes the sampled frames (FRAME_DECODERS; vidsum.ffstream.resolve_decoder):
    # `vidsum features` keeps "opencv", collection summaries pass on `summarize`'s choice
    frame_decoder: str = "opencv"

    def __post_init__(self) -> None:
        check_device(self.device)
        if self.frame_decoder not in FRAME_DECODERS:
            raise UsageError(f"frame_decoder must be one of {', '.join(FRAME_DECODERS)}, not {self.frame_decoder!r}")
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if not self.sample_fps > 0:
            raise UsageError(f"sample_fps must be > 0, got {self.sample_fps}")
        if self.backbone_weights is not None and not isinstance(self.backbone_weights, str):
            object.__setattr__(self, "backbone_weights", str(self.backbone_weights))

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeaturesConfig":
        return from_dict(cls, dict(data), where="features config")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """DMASum sizes (paper section 4.1 values as defaults)."""

    input_dim: int = 1024  # feature size (GoogLeNet pool5)
    d_model: int = 1024  # attention size D_a
    layers_visual: int = 4  # stacked MoA layers on the visual channel
    layers_sequential: int = 2  # stacked MoA layers after the BiLSTM
    lstm_hidden: int = 512  # per direction; BiLSTM output is 2 * lstm_hidden
    lstm_layers: int = 2
    head_hidden: int = 1024  # score head: FC -> head_hidden -> FC -> 1 -> sigmoid
    dropout: float = 0.1
    attention: Literal["moa", "softmax"] = "moa"
    channels: Literal["both", "visual", "sequential"] = "both"

    def __post_init__(self) -> None:
        if self.attention not in ("moa", "softmax"):
            raise UsageError(f"attention must be 'moa' or 'softmax', not {self.attention!r}")
        if self.channels not in ("both", "visual", "sequential"):
            raise UsageError(f"channels must be 'both', 'visual' or 'sequential', not {self.channels!r}")
        for name in ("input_dim", "d_model", "lstm_hidden", "lstm_layers", "head_hidden"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.layers_visual < 0 or self.layers_sequential < 0:
            raise UsageError("layer counts must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"dropout must be in [0, 1), got {self.dropout}")


STRATEGIES = ("meta", "plain", "batch-meta", "maml")
SPLITS = ("non-overlapping", "random", "augmented", "transfer")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Options of ``vidsum train`` / ``vidsum.train.run_training`` (docs/training.md says why).

    ``meta_lr`` is the Adam learning rate of every strategy (beta in Algorithm 1; the only lr of
    ``plain``); ``inner_lr`` (alpha) and ``inner_steps`` (m) are the per-task SGD steps.
    """

    strategy: Literal["meta", "plain", "batch-meta", "maml"] = "meta"
    split: Literal["non-overlapping", "random", "augmented", "transfer"] = "non-overlapping"
    folds: int = 5  # k of k-fold; number of 80/20 draws for split=random
    epochs: int = 40
    inner_steps: int = 5  # m: paper 5 on TVSum, 3 on SumMe
    inner_lr: float = 3e-5  # alpha: the paper value (it barely matters under Adam; docs/training.md)
    meta_lr: float = 3e-4  # beta (paper 6e-5 trains ~10x slower; docs/training.md)
    task_videos: int = 3  # videos per task for batch-meta and maml
    val_fraction: float = 0.15  # of each training fold, held out to pick the epoch
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda or cuda:N

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise UsageError(f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if self.split not in SPLITS:
            raise UsageError(f"split must be one of {', '.join(SPLITS)}, not {self.split!r}")
        check_device(self.device)
        for name in ("folds", "epochs", "inner_steps", "task_videos"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.split == "non-overlapping" and self.folds < 2:
            raise UsageError(f"non-overlapping k-fold needs folds >= 2, got {self.folds}")
        if not (self.inner_lr > 0 and self.meta_lr > 0):
            raise UsageError(f"learning rates must be > 0, got inner {self.inner_lr}, meta {self.meta_lr}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UsageError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


# libx264 presets, fastest first, and the exact render's default (sizes and times: docs/output.md).
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
X264_PRESET = "veryfast"
# Frame decoders (vidsum.ffstream.resolve_decoder): "opencv" decodes every frame and resizes in
# Python; "pyav" skips the non-reference frames that are not sampled (vidsum.avstream: same
# picks, same pixels); "ffmpeg" decodes every frame too, with the same picks, and converts +
# scales in ffmpeg; "ffmpeg-noref" skips all non-reference frames and moves a pick to the next
# decoded frame (it changed summaries of real footage). "auto" = pyav for H.264/HEVC with B-frames, else opencv.
FRAME_DECODERS = ("auto", "opencv", "pyav", "ffmpeg", "ffmpeg-noref")
# those whose picks are exactly the sampled frames and whose pixels are OpenCV's (`vidsum features`)
EXACT_DECODERS = ("opencv", "pyav", "auto")


@dataclasses.dataclass(frozen=True)
class SummarizeConfig:
    """Options of ``vidsum summarize`` / ``vidsum.pipeline.summarize``.

    ``length_s`` (seconds), when set, wins over ``budget`` (fraction of the input duration).
    ``output`` None means ``<input stem>.summary.mp4`` beside the input; ``json_path`` None means
    the clip path with a ``.json`` suffix.
    """

    output: str | None = None
    budget: float = DEFAULT_BUDGET
    length_s: float | None = None
    sample_fps: float = SAMPLE_FPS  # frames per second sampled for features
    model: str | None = None  # DMASum checkpoint; None: $VIDSUM_MODEL > weights/ > user cache > fallback
    backbone: str = "auto"  # auto: the checkpoint's backbone, else the first whose weights are found
    backbone_weights: str | None = None  # a backbone weight file; None: weights/ or user cache, else fallback
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    batch_size: int | None = None  # frames per forward pass; None: the extractor's default
    precision: str = "auto"  # backbone precision, one of PRECISIONS
    fast: bool = False  # stream-copy cuts at keyframes (not frame-accurate)
    preset: str = X264_PRESET  # libx264 preset of the exact render, one of X264_PRESETS
    frame_decoder: str = "auto"  # one of FRAME_DECODERS
    json_path: str | None = None
    plot_path: str | None = None
    exports: tuple[str, ...] = ()  # more formats written beside the JSON (names in vidsum.exports)
    overwrite: bool = False
    strict: bool = False  # any fallback (features or scorer) is an error
    min_shot_s: float = 1.0  # shots shorter than this are merged into a neighbour (watchability)
    max_shot_s: float = 30.0  # longer shots are split by KTS (bounded DP; never one giant shot)

    def __post_init__(self) -> None:
        if not 0.0 < self.budget <= 1.0:
            raise UsageError(f"budget must be a fraction in (0, 1], e.g. 0.15, got {self.budget}")
        if self.length_s is not None and self.length_s <= 0:
            raise UsageError(f"length must be positive, got {self.length_s} s")
        if not self.sample_fps > 0:
            raise UsageError(f"sample_fps must be > 0, got {self.sample_fps}")
        check_device(self.device)
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.preset not in X264_PRESETS:
            raise UsageError(f"preset must be one of {', '.join(X264_PRESETS)}, not {self.preset!r}")
        if self.frame_decoder not in FRAME_DECODERS:
            raise UsageError(f"frame_decoder must be one of {', '.join(FRAME_DECODERS)}, not {self.frame_decoder!r}")
        if self.min_shot_s < 0 or self.max_shot_s <= self.min_shot_s:
            raise UsageError(
                f"need 0 <= min_shot_s < max_shot_s, got {self.min_shot_s} and {self.max_shot_s}"
            )


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Options of ``vidsum eval`` / ``vidsum.evaluation``: the summary budget (fraction of each
    video's frames), the random baseline's draws and seed, and whether only the checkpoint's
    recorded test videos are scored."""

    budget: float = DEFAULT_BUDGET
    draws: int = 10  # random-baseline draws averaged
    seed: int = 0
    test_only: bool = False
    device: str = "auto"  # auto, cpu, cuda or cuda:N

    def __post_init__(self) -> None:
        if not 0.0 < self.budget <= 1.0:
            raise UsageError(f"--budget must be a fraction in (0, 1], got {self.budget}")
        if self.draws < 1:
            raise UsageError(f"draws must be >= 1, got {self.draws}")
        check_device(self.device)
