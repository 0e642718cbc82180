"""The Caffe BVLC GoogLeNet (models/bvlc_googlenet in BVLC/caffe), pool5 = 1024-d features.

This is the network behind the GoogLeNet pool5 features of the public eccv16 HDF5 datasets
(SumMe, TVSum, OVP, YouTube), written from the layer graph of its ``deploy.prototxt``. It is not
torchvision's GoogLeNet: no BatchNorm, biases on every convolution, a real 5x5 convolution in
each inception block, two LRN layers, 3x3/2 max pools everywhere (also pool4), a 7x7 average pool
for pool5, and input in Caffe's convention (BGR, 0-255, per-channel mean subtracted, no scaling).

Caffe semantics that differ from framework defaults, and how they are kept here:

- Pooling output sizes round UP: ``out = ceil((in + 2 pad - k) / stride) + 1``, less one when the
  last window would start inside the padding. PyTorch's ``ceil_mode=True`` is the same rule.
- LRN (ACROSS_CHANNELS): ``y_c = x_c / (k + alpha / n * sum_{c' in window(c)} x_c'^2) ** beta``
  with ``n = local_size = 5``, ``alpha = 1e-4``, ``beta = 0.75``, ``k = 1`` and a window of
  ``n`` channels centred on ``c``, clipped at the first and last channel (alpha is divided by the
  size, as Caffe does, not by the number of channels inside the clipped window).
- Padding per layer as in the prototxt: conv1 7x7/2 pad 3, 3x3 convs pad 1, 5x5 convs pad 2,
  inception max pools 3x3/1 pad 1, no padding elsewhere.

State-dict keys are the Caffe layer names with "/" replaced by ".": ``conv1.7x7_s2.weight``,
``inception_4e.5x5_reduce.bias``, ``loss3.classifier.weight``, so a caffemodel converts by name
(``vidsum.backbones.caffemodel``) and a file tells by its keys which network it belongs to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidsum import weights as weights_mod
from vidsum.backbones.base import BackboneSpec, OpenedWeights
from vidsum.backbones.base import read_state_dict as base_read_state_dict
from vidsum.errors import WeightsError
from vidsum.io import atomic_path

log = logging.getLogger(__name__)

NAME = "bvlc-googlenet"  # backbone registry name
DIM = 1024  # pool5 channels
INPUT_SIZE = (224, 224)  # (width, height): pool5 is a 7x7 average pool over inception_5b's 7x7 map
MEAN_BGR = (104.0, 117.0, 123.0)  # per-channel mean on the 0-255 scale, B, G, R (ModelScope's port)
LRN_SIZE = 5  # channels in the LRN window
LRN_ALPHA = 1e-4  # divided by LRN_SIZE inside the layer, as in Caffe
LRN_BETA = 0.75
LRN_K = 1.0
PREPROCESSING = (
    "BGR; whole frame resized to 224x224 (cv2 INTER_AREA, no crop); 0-255 minus the per-channel "
    "mean B 104, G 117, R 123 (no scaling); pool5 L2-normalised"
)

# name: (in_channels, 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj), in graph order.
INCEPTIONS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "inception_3a": (192, 64, 96, 128, 16, 32, 32),
    "inception_3b": (256, 128, 128, 192, 32, 96, 64),
    "inception_4a": (480, 192, 96, 208, 16, 48, 64),
    "inception_4b": (512, 160, 112, 224, 24, 64, 64),
    "inception_4c": (512, 128, 128, 256, 24, 64, 64),
    "inception_4d": (512, 112, 144, 288, 32, 64, 64),
    "inception_4e": (528, 256, 160, 320, 32, 128, 128),
    "inception_5a": (832, 256, 160, 320, 32, 128, 128),
    "inception_5b": (832, 384, 192, 384, 48, 128, 128),
}
NUM_CLASSES = 1000  # loss3/classifier, kept when the weights have it (not used for features)


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """One Caffe Convolution layer: name as in the prototxt, shapes and geometry."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    pad: int = 0


def conv_specs() -> list[ConvSpec]:
    """Every convolution of the deploy graph up to pool5, in graph order (57 layers)."""
    specs = [
        ConvSpec("conv1/7x7_s2", 3, 64, 7, stride=2, pad=3),
        ConvSpec("conv2/3x3_reduce", 64, 64, 1),
        ConvSpec("conv2/3x3", 64, 192, 3, pad=1),
    ]
    for block, (cin, c1, c3r, c3, c5r, c5, cp) in INCEPTIONS.items():
        specs += [
            ConvSpec(f"{block}/1x1", cin, c1, 1),
            ConvSpec(f"{block}/3x3_reduce", cin, c3r, 1),
            ConvSpec(f"{block}/3x3", c3r, c3, 3, pad=1),
            ConvSpec(f"{block}/5x5_reduce", cin, c5r, 1),
            ConvSpec(f"{block}/5x5", c5r, c5, 5, pad=2),
            ConvSpec(f"{block}/pool_proj", cin, cp, 1),
        ]
    return specs


def expected_shapes(with_classifier: bool = False) -> dict[str, list[tuple[int, ...]]]:
    """Caffe layer name -> the shapes of its blobs [weight, bias], as the network needs them."""
    shapes = {s.name: [(s.out_channels, s.in_channels, s.kernel, s.kernel), (s.out_channels,)] for s in conv_specs()}
    if with_classifier:
        shapes["loss3/classifier"] = [(NUM_CLASSES, DIM), (NUM_CLASSES,)]
    return shapes


def state_key(layer: str, blob: int) -> str:
    """State-dict key of blob ``blob`` (0 weight, 1 bias) of Caffe layer ``layer``."""
    return f"{layer.replace('/', '.')}.{('weight', 'bias')[blob]}"


def required_keys() -> list[str]:
    """The keys a BVLC GoogLeNet state dict must hold (the classifier is optional)."""
    return [state_key(name, i) for name in expected_shapes() for i in (0, 1)]


def matches(state_dict: Mapping[str, Any]) -> bool:
    """Whether ``state_dict`` is one of this network's (holds every convolution of the graph)."""
    return all(k in state_dict for k in required_keys())


def lrn_across_channels(
    x: torch.Tensor, size: int = LRN_SIZE, alpha: float = LRN_ALPHA, beta: float = LRN_BETA, k: float = LRN_K
) -> torch.Tensor:
    """Caffe's LRN, ACROSS_CHANNELS: (N, C, H, W) -> (N, C, H, W).

    y_c = x_c / (k + alpha / size * sum of x_c'^2 over the ``size`` channels centred on c) ** beta,
    the window clipped at the ends of the channel axis (zeros beyond them). The windowed sum is a
    1x1 convolution with a 0/1 band matrix, which keeps channels_last and runs in oneDNN/cuDNN.
    """
    if size % 2 == 0:
        raise ValueError(f"LRN local_size must be odd (Caffe requires it), got {size}")
    c = x.shape[1]
    idx = torch.arange(c, device=x.device)
    band = ((idx[:, None] - idx[None, :]).abs() <= size // 2).to(torch.float32).view(c, c, 1, 1)
    # In float32 even in bf16/fp16 runs: squares of 0-255-scale activations (~1e4) summed in
    # 8 mantissa bits would move the scale by percents.
    xf = x.float()
    scale = F.conv2d(xf * xf, band).mul_(alpha / size).add_(k).pow_(-beta)
    return (xf * scale).to(x.dtype)


class LRN(nn.Module):
    """Module form of ``lrn_across_channels`` (no parameters)."""

    def __init__(self, size: int = LRN_SIZE, alpha: float = LRN_ALPHA, beta: float = LRN_BETA, k: float = LRN_K) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lrn_across_channels(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def max_pool(x: torch.Tensor, kernel: int, stride: int, pad: int = 0, ceil_mode: bool = True) -> torch.Tensor:
    """Caffe MAX pooling: (N, C, H, W) -> (N, C, H', W') with H' = ceil((H + 2 pad - kernel) /
    stride) + 1, less one when the last window would start in the padding (Caffe's
    PoolingLayer::Reshape); padding never wins a max. ``ceil_mode=False`` rounds down instead
    (the wrong rule, for tests)."""
    return F.max_pool2d(x, kernel, stride=stride, padding=pad, ceil_mode=ceil_mode)


def _conv(spec: ConvSpec) -> nn.Conv2d:
    return nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel, stride=spec.stride, padding=spec.pad, bias=True)


class Inception(nn.ModuleDict):
    """One inception block: four branches (1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3/1 max pool -> 1x1),
    each convolution followed by ReLU, concatenated along channels in that order."""

    def __init__(self, block: str, ceil_mode: bool = True) -> None:
        super().__init__({s.name.split("/", 1)[1]: _conv(s) for s in conv_specs() if s.name.startswith(block + "/")})
        self.ceil_mode = ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        b1 = F.relu(self["1x1"](x))
        b2 = F.relu(self["3x3"](F.relu(self["3x3_reduce"](x))))
        b3 = F.relu(self["5x5"](F.relu(self["5x5_reduce"](x))))
        b4 = F.relu(self["pool_proj"](max_pool(x, 3, 1, pad=1, ceil_mode=self.ceil_mode)))
        return torch.cat([b1, b2, b3, b4], 1)


class BVLCGoogLeNet(nn.Module):
    """BVLC GoogLeNet up to pool5 (plus loss3/classifier when ``num_classes``).

    ``pool5(x)``: (N, 3, 224, 224) float, BGR, 0-255 minus MEAN_BGR -> (N, 1024), the 7x7 average
    pool after inception_5b ("pool5/7x7_s1"), before dropout and the classifier; not normalised.
    ``forward(x)``: the classifier's logits (N, num_classes) when it exists, else pool5.
    ``ceil_mode=False`` builds the wrong (floor-rounding) variant, for tests that show the
    difference is caught. Random init (for tests): Kaiming-normal weights, small positive biases.
    """

    def __init__(self, num_classes: int | None = None, ceil_mode: bool = True) -> None:
        super().__init__()
        self.ceil_mode = ceil_mode
        specs = {s.name: s for s in conv_specs()}
        self.conv1 = nn.ModuleDict({"7x7_s2": _conv(specs["conv1/7x7_s2"])})
        self.conv2 = nn.ModuleDict({"3x3_reduce": _conv(specs["conv2/3x3_reduce"]), "3x3": _conv(specs["conv2/3x3"])})
        for block in INCEPTIONS:
            setattr(self, block, Inception(block, ceil_mode))
        self.loss3 = nn.ModuleDict({"classifier": nn.Linear(DIM, num_classes)}) if num_classes else None
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.constant_(m.bias, 0.01)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return max_pool(x, 3, 2, ceil_mode=self.ceil_mode)

    def blobs(self, x: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run the graph once and return the Caffe blobs ``names`` (for layer-by-layer tests);
        it stops after the last one asked for.

        Blobs: conv1/7x7_s2 (after its ReLU), pool1/3x3_s2, pool1/norm1, conv2/3x3 (after ReLU),
        conv2/norm2, pool2/3x3_s2, inception_XX/output, pool3/3x3_s2, pool4/3x3_s2, pool5/7x7_s1.
        """
        steps: list[tuple[str, Any]] = [
            ("conv1/7x7_s2", lambda t: F.relu(self.conv1["7x7_s2"](t))),
            ("pool1/3x3_s2", self._pool),
            ("pool1/norm1", lrn_across_channels),
            ("conv2/3x3", lambda t: F.relu(self.conv2["3x3"](F.relu(self.conv2["3x3_reduce"](t))))),
            ("conv2/norm2", lrn_across_channels),
            ("pool2/3x3_s2", self._pool),
            ("inception_3a/output", self.inception_3a),
            ("inception_3b/output", self.inception_3b),
            ("pool3/3x3_s2", self._pool),
            ("inception_4a/output", self.inception_4a),
            ("inception_4b/output", self.inception_4b),
            ("inception_4c/output", self.inception_4c),
            ("inception_4d/output", self.inception_4d),
            ("inception_4e/output", self.inception_4e),
            ("pool4/3x3_s2", self._pool),
            ("inception_5a/output", self.inception_5a),
            ("inception_5b/output", self.inception_5b),
            ("pool5/7x7_s1", lambda t: F.avg_pool2d(t, 7, stride=1, ceil_mode=self.ceil_mode)),
        ]
        known = [name for name, _ in steps]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown blob {unknown[0]!r}; one of {', '.join(known)}")
        wanted, out = set(names), {}
        for name, step in steps:
            x = step(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out

    def features(self, x: torch.Tensor, upto: str = "pool5/7x7_s1") -> torch.Tensor:
        """The Caffe blob ``upto`` (see ``blobs``)."""
        return self.blobs(x, [upto])[upto]

    def pool5(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 224, 224) Caffe-preprocessed input -> (N, 1024) pool5 (not normalised)."""
        if x.shape[-2:] != (INPUT_SIZE[1], INPUT_SIZE[0]):
            raise ValueError(f"BVLC GoogLeNet reads {INPUT_SIZE[0]}x{INPUT_SIZE[1]} input, got {tuple(x.shape[-2:])}")
        return torch.flatten(self.features(x, "pool5/7x7_s1"), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool5(x)
        return self.loss3["classifier"](x) if self.loss3 is not None else x


def l2_normalise(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """(N, D) -> (N, D) rows divided by their L2 norm (a zero row stays zero)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(eps)


def load_state_dict(model: BVLCGoogLeNet, state: Mapping[str, torch.Tensor], source: str | Path) -> BVLCGoogLeNet:
    """Load ``state`` into ``model``; WeightsError naming ``source`` and the first bad keys."""
    missing = [k for k in required_keys() if k not in state]
    if missing:
        raise WeightsError(
            f"{source}: not a BVLC GoogLeNet state dict ({len(missing)} of {len(required_keys())} layers missing, "
            f"e.g. {', '.join(missing[:3])}); convert the official file with `vidsum weights import bvlc_googlenet.caffemodel`"
        )
    own = model.state_dict()
    for key in own:
        if key in state and tuple(state[key].shape) != tuple(own[key].shape):
            raise WeightsError(f"{source}: {key} has shape {tuple(state[key].shape)}, expected {tuple(own[key].shape)}")
    if model.loss3 is not None and "loss3.classifier.weight" not in state:
        model.loss3 = None  # a features-only file
    model.load_state_dict({k: v for k, v in state.items() if k in own and (model.loss3 or not k.startswith("loss3."))})
    return model.eval()


# --------------------------------------------------------------------------------------------
# The official weights: a caffemodel from the Caffe model zoo, converted on the user's machine.

WEIGHTS_NAME = "bvlc-googlenet"  # weights registry name (vidsum.weights.REGISTRY)
OFFICIAL_SHA1 = str(weights_mod.REGISTRY[WEIGHTS_NAME].sha1)  # as the zoo's readme publishes it
CAFFEMODEL_NAME = "bvlc_googlenet.caffemodel"
CONVERTED_FORMAT = "vidsum-bvlc-googlenet"  # "format" key of a converted file
CONVERTED_VERSION = 1


def converted_name(source_sha1: str) -> str:
    """File name of the conversion of the caffemodel whose SHA-1 is ``source_sha1``
    (``bvlc_googlenet-405fc5ac.pt`` for the official one)."""
    return f"bvlc_googlenet-{source_sha1[:8]}.pt"


def _fit(blob: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``blob`` as ``shape``, when they differ only by leading 1s (legacy 4-d Caffe sizes: a bias
    is (1, 1, 1, C)); None when they do not fit."""
    def core(s: tuple[int, ...]) -> tuple[int, ...]:
        s = tuple(int(d) for d in s)
        while len(s) > 1 and s[0] == 1:
            s = s[1:]
        return s

    if core(blob.shape) != core(shape):
        return None
    return blob.reshape(shape)


def state_dict_from_caffemodel(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a BVLC GoogLeNet caffemodel into this module's state dict (float32 tensors, pool5
    layers only: the auxiliary heads loss1/loss2 and the classifier loss3 are left out).

    Raises WeightsError naming the layer when one of the 57 convolutions is missing, has fewer
    than two blobs, or has a blob of the wrong size.
    """
    from vidsum.backbones.caffemodel import read_caffemodel
    layers = read_caffemodel(path).by_name()
    state: dict[str, torch.Tensor] = {}
    fix = "it is not the BVLC GoogLeNet; download bvlc_googlenet.caffemodel again (`vidsum weights download bvlc-googlenet`)"
    for name, shapes in expected_shapes().items():
        layer = layers.get(name)
        if layer is None:
            raise WeightsError(f"{path}: layer {name} is missing; {fix}")
        if len(layer.blobs) < len(shapes):
            raise WeightsError(f"{path}: layer {name} has {len(layer.blobs)} weight blob(s), expected weight and bias; {fix}")
        for i, shape in enumerate(shapes):
            blob = _fit(layer.blobs[i], shape)
            if blob is None:
                raise WeightsError(
                    f"{path}: layer {name} {('weight', 'bias')[i]} has shape {tuple(layer.blobs[i].shape)}, expected {shape}; {fix}"
                )
            state[state_key(name, i)] = torch.from_numpy(np.ascontiguousarray(blob, dtype=np.float32))
    return state


@dataclasses.dataclass(frozen=True)
class ConvertedWeights:
    """A converted file: its path and SHA-256, and the SHA-1 of the caffemodel it came from."""

    path: Path
    sha256: str
    source_sha1: str

    @property
    def official(self) -> bool:
        return self.source_sha1 == OFFICIAL_SHA1


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def convert_caffemodel(src: str | Path, dest_dir: str | Path, source_sha1: str | None = None) -> ConvertedWeights:
    """Convert ``src`` (a caffemodel) into ``dest_dir/bvlc_googlenet-<sha1[:8]>.pt``.

    The file is plain data ({"format", "version", "source_sha1", "state_dict"}; loads with
    ``torch.load(weights_only=True)``), written through a temporary file and renamed; its SHA-256
    is written beside it (``.pt.sha256``, also atomically), so that a damaged copy is noticed.
    An existing conversion whose hash still matches is reused.
    """
    src = Path(src)
    source_sha1 = source_sha1 or weights_mod.file_digest(src, "sha1")
    dest_dir = Path(dest_dir)
    target = dest_dir / converted_name(source_sha1)
    cached = cached_conversion(target)
    if cached is not None and cached.source_sha1 == source_sha1:
        return cached
    state = state_dict_from_caffemodel(src)
    payload = {"format": CONVERTED_FORMAT, "version": CONVERTED_VERSION, "source_sha1": source_sha1, "state_dict": state}
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        # Serialised in memory: torch.save names the archive's root folder after the file, and
        # a temporary file's random name would make every conversion hash differently.
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
        with atomic_path(_sidecar(target), suffix=".sha256") as tmp:
            tmp.write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    except OSError as exc:
        raise WeightsError(
            f"{target}: cannot write the converted weights ({exc.strerror or exc}); set VIDSUM_CACHE to a writable folder"
        ) from exc
    log.info("converted %s (sha1 %s) to %s (sha256 %s)", src, source_sha1, target, digest)
    return ConvertedWeights(path=target, sha256=digest, source_sha1=source_sha1)


def cached_conversion(path: Path) -> ConvertedWeights | None:
    """The conversion at ``path`` when it and its ``.sha256`` file exist and agree, else None
    (a mismatch is logged: the file is damaged and will be converted again)."""
    side = _sidecar(path)
    if not path.is_file() or not side.is_file():
        return None
    recorded = side.read_text(encoding="utf-8").split()[:1]
    digest = weights_mod.sha256_file(path)
    if recorded != [digest]:
        log.warning("%s: sha256 %s does not match %s; converting again", path, digest[:12], side.name)
        return None
    try:
        meta = torch.load(path, map_location="cpu", weights_only=True)
        source_sha1 = str(meta["source_sha1"])
    except Exception:  # torch raises several types for a damaged file; the hash matched, so unlikely
        return None
    return ConvertedWeights(path=path, sha256=digest, source_sha1=source_sha1)


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a converted file or a plain state dict: (state_dict, metadata without the tensors).

    Raises WeightsError naming the file when it is not a readable torch file.
    """
    return base_read_state_dict(path, "convert the official caffemodel with `vidsum weights import bvlc_googlenet.caffemodel`")


def is_caffemodel(path: str | Path) -> bool:
    """Whether ``path`` looks like a caffemodel rather than a torch file: torch files are zip
    archives ("PK") or pickles (0x80); a caffemodel's first byte is a protobuf field key."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    return Path(path).suffix.lower() == ".caffemodel" or (bool(head) and head[:2] != b"PK" and head[:1] != b"\x80")


def load(path: str | Path) -> BVLCGoogLeNet:
    """A BVLC GoogLeNet with the weights of ``path``: a converted file, a plain state dict with
    this module's keys, or a caffemodel (converted in memory). WeightsError when it is none."""
    path = Path(path)
    state = state_dict_from_caffemodel(path) if is_caffemodel(path) else read_state_dict(path)[0]
    return load_state_dict(BVLCGoogLeNet(), state, path)


def open_weights(path: str | Path, explicit: bool) -> OpenedWeights:
    """Check a BVLC GoogLeNet weight file (``load`` then reads ``.path``): a caffemodel (SHA-1 checked against the zoo's, then
    converted into the user cache, or the earlier conversion reused) or a converted file.

    The SHA-256 recorded with the features is the converted file's. A file vidsum found by itself
    (project weights/ or the cache, ``explicit`` False) that is not the official one is damaged:
    WeightsError. A file named with --backbone-weights is used either way, with a warning.
    """
    path = Path(path)
    if is_caffemodel(path):
        sha1 = weights_mod.file_digest(path, "sha1")
        if sha1 != OFFICIAL_SHA1 and not explicit:
            raise WeightsError(
                f"{path}: sha1 {sha1} does not match the official bvlc_googlenet.caffemodel ({OFFICIAL_SHA1}): "
                "the file is damaged; delete it and run `vidsum weights download bvlc-googlenet`"
            )
        conv = convert_caffemodel(path, weights_mod.cache_dir(), sha1)
    else:
        cached = cached_conversion(path)
        if cached is None:  # no (matching) .sha256 beside it: a file from elsewhere
            meta = read_state_dict(path)[1]
            cached = ConvertedWeights(path=path, sha256=weights_mod.sha256_file(path), source_sha1=str(meta.get("source_sha1", "")))
        conv = cached
    if not conv.official:
        log.warning(
            "%s: not converted from the official bvlc_googlenet.caffemodel (source sha1 %s); features will "
            "differ from the public datasets'", path, conv.source_sha1[:12] or "unknown",
        )
    return OpenedWeights(path=conv.path, sha256=conv.sha256, official=conv.official)


class Pool5(nn.Module):
    """The inference network: (N, 3, 224, 224) Caffe-preprocessed -> (N, 1024) pool5, L2-normalised
    per frame (as ModelScope's port of the eccv16 pipeline does; docs/features.md)."""

    def __init__(self, net: BVLCGoogLeNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return l2_normalise(self.net.pool5(x).float())


def prepare(model: nn.Module) -> nn.Module:
    """A loaded BVLCGoogLeNet -> its pool5 inference network (no classifier; no BatchNorm to fold)."""
    if not isinstance(model, BVLCGoogLeNet):
        raise TypeError(f"expected a BVLCGoogLeNet, got {type(model).__name__}")
    model.loss3 = None
    return Pool5(model.eval())


SPEC = BackboneSpec(
    name=NAME,
    weights_name=WEIGHTS_NAME,
    dim=DIM,
    input_size=INPUT_SIZE,
    preprocessing={"channels": "BGR", "mean": MEAN_BGR, "std": (1.0, 1.0, 1.0), "text": PREPROCESSING},
    feature_name="bvlc-googlenet-pool5",
    layer="pool5/7x7_s1 (7x7 average pool after inception_5b), L2-normalised",
    description="BVLC GoogLeNet (Caffe model zoo) pool5: the network behind the public eccv16 datasets' features",
    load=load,
    prepare=prepare,
    matches=matches,
    open_weights=open_weights,
)
