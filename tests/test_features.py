"""vidsum.features: torchvision-compatible GoogLeNet, preprocessing, batched and overlapped
extraction, weight resolution, the weight-free fallback. Random weights throughout."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import torch

from tests.videogen import make_video
from vidsum import features, weights
from vidsum.errors import UsageError, WeightsError
from vidsum.backbones.fallback import FALLBACK_DIM, fallback_features
from vidsum.backbones.googlenet import GoogLeNet, fold_batchnorm, load_googlenet
from vidsum.features import (
    FallbackExtractor,
    GoogLeNetExtractor,
    make_extractor,
    regroup,
    to_input,
)
from vidsum.video import Prefetcher, iter_frames, sample_indices

torch.set_num_threads(2)
PX = 64  # test frames are 64x64: GoogLeNet runs at any size >= 15 px and this is 12x cheaper than 224


def _torchvision_keys() -> list[str]:
    """State-dict keys of torchvision.models.googlenet(aux_logits=True), written out from its
    model definition (torchvision/models/googlenet.py): BasicConv2d = conv (no bias) + bn."""

    def basic(prefix: str) -> list[str]:
        bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
        return [f"{prefix}.conv.weight"] + [f"{prefix}.bn.{k}" for k in bn]

    keys = basic("conv1") + basic("conv2") + basic("conv3")
    for block in ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]:
        p = f"inception{block}"
        for branch in ["branch1", "branch2.0", "branch2.1", "branch3.0", "branch3.1", "branch4.1"]:
            keys += basic(f"{p}.{branch}")
    for aux in ["aux1", "aux2"]:
        keys += basic(f"{aux}.conv") + [f"{aux}.fc1.weight", f"{aux}.fc1.bias", f"{aux}.fc2.weight", f"{aux}.fc2.bias"]
    return keys + ["fc.weight", "fc.bias"]


@pytest.fixture(scope="module")
def net() -> GoogLeNet:
    torch.manual_seed(0)
    model = GoogLeNet()
    # Non-trivial BatchNorm statistics, so folding them is actually exercised.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval()


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(6, PX, PX, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("feat") / "clip.mp4"
    make_video(path, durations=(1.5, 1.5), fps=30, size=(160, 120), audio=False)
    return path


# ---- the network ---------------------------------------------------------------------------


def test_state_dict_keys_match_torchvision() -> None:
    model = GoogLeNet(init_weights=False)
    assert list(model.state_dict().keys()) == _torchvision_keys()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["conv1.conv.weight"] == (64, 3, 7, 7)
    assert shapes["inception3a.branch3.1.conv.weight"] == (32, 16, 3, 3)  # torchvision's 3x3 "5x5"
    assert shapes["inception5b.branch4.1.conv.weight"] == (128, 832, 1, 1)
    assert shapes["aux1.fc1.weight"] == (1024, 2048) and shapes["aux2.conv.conv.weight"] == (128, 528, 1, 1)
    assert shapes["fc.weight"] == (1000, 1024)
    # torchvision's published parameter count of the ImageNet model (aux heads removed).
    model.aux1 = model.aux2 = None
    assert sum(p.numel() for p in model.parameters()) == 6_624_904


def test_load_state_dict_file_roundtrip(net: GoogLeNet, tmp_path: Path) -> None:
    path = tmp_path / "g.pth"
    torch.save(net.state_dict(), path)
    loaded = load_googlenet(path)
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(loaded.pool5(x), net.pool5(x))
    # A state dict saved without the aux heads (googlenet(aux_logits=False)) loads too.
    sd = {k: v for k, v in net.state_dict().items() if not k.startswith("aux")}
    torch.save(sd, path)
    assert load_googlenet(path).aux1 is None
    torch.save({"conv1.weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match="not a torchvision GoogLeNet"):
        load_googlenet(path)
    path.write_text("garbage")
    with pytest.raises(WeightsError, match="vidsum weights download"):
        load_googlenet(path)


def test_preprocessing_of_hand_made_pixels() -> None:
    px = np.array([[[[255, 0, 128], [51, 102, 204]]]], dtype=np.uint8)  # (1, 1, 2, 3)
    x = to_input(px)
    assert x.shape == (1, 3, 1, 2) and x.dtype == torch.float32
    want = np.array([[1.0, -1.0, 128 / 127.5 - 1], [51 / 127.5 - 1, 102 / 127.5 - 1, 204 / 127.5 - 1]])
    np.testing.assert_allclose(x[0, :, 0, :].T.numpy(), want, atol=1e-6)
    # torchvision: ToTensor -> Normalize(ImageNet) -> transform_input=True, by hand.
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    normed = (px[0, 0] / 255.0 - mean) / std
    tv = normed * (std / 0.5) + (mean - 0.5) / 0.5
    np.testing.assert_allclose(x[0, :, 0, :].T.numpy(), tv, atol=1e-6)


def test_input_is_channels_last(frames: np.ndarray) -> None:
    assert to_input(frames[:2]).is_contiguous(memory_format=torch.channels_last)


def test_transform_input_equivalence(net: GoogLeNet, frames: np.ndarray) -> None:
    tv_net = GoogLeNet(transform_input=True, init_weights=False).eval()
    tv_net.load_state_dict(net.state_dict())
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    imagenet = (torch.from_numpy(frames[:2]).permute(0, 3, 1, 2).float() / 255 - mean) / std
    with torch.inference_mode():
        a = tv_net.pool5(imagenet)
        b = net.pool5(to_input(frames[:2]))
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_fold_batchnorm_keeps_outputs(net: GoogLeNet, frames: np.ndarray) -> None:
    folded = fold_batchnorm(net)
    x = to_input(frames[:2])
    with torch.inference_mode():
        a, b = net.pool5(x), folded.pool5(x)
    assert a.abs().mean() > 0.05  # not a degenerate all-zero network
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    assert "conv1.bn.weight" in net.state_dict()  # the original is untouched


# ---- the extractor --------------------------------------------------------------------------


def _small(ex: GoogLeNetExtractor) -> GoogLeNetExtractor:
    ex.input_size = (PX, PX)
    return ex


def test_extract_frames_shape_determinism_batch_invariance(net: GoogLeNet, frames: np.ndarray) -> None:
    ex = _small(GoogLeNetExtractor(net, device="cpu", batch_size=4))
    assert ex.input_size != GoogLeNetExtractor.input_size == (224, 224)
    a = ex.extract_frames(frames[:5])
    assert a.shape == (5, 1024) and a.dtype == np.float32
    np.testing.assert_array_equal(a, ex.extract_frames(frames[:5]))
    ex.batch_size = 1
    np.testing.assert_allclose(ex.extract_frames(frames[:5]), a, rtol=1e-4, atol=1e-4)
    with torch.inference_mode():
        ref = net.pool5(to_input(frames[:5])).numpy()
    np.testing.assert_allclose(a, ref, rtol=1e-4, atol=1e-4)
    # Frames of another size are resized to the input size first.
    big = np.repeat(np.repeat(frames[:1], 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(ex.extract_frames(big), a[:1], rtol=1e-4, atol=1e-4)


def test_extract_video_matches_frames(net: GoogLeNet, clip: Path) -> None:
    ex = _small(GoogLeNetExtractor(net, device="cpu", batch_size=4))
    calls: list[tuple[str, float, Any]] = []
    feats = ex.extract(clip, progress=lambda s, d, t: calls.append((s, d, t)))
    assert feats.picks.tolist() == sample_indices(90, 30.0).tolist() == [0, 15, 30, 45, 60, 75]
    assert feats.features.shape == (6, 1024) and feats.features.dtype == np.float32
    assert feats.picks.dtype == np.int64
    assert feats.info.n_frames == 90 and feats.info.frames_counted and not feats.truncated
    frames = np.stack([f for _, f in iter_frames(clip, size=(PX, PX))])
    np.testing.assert_allclose(feats.features, ex.extract_frames(frames), rtol=1e-5, atol=1e-5)
    assert calls[0] == ("features", 0, 6) and calls[-1] == ("features", 6, 6)
    d = feats.extractor
    assert d["dim"] == 1024 and d["sample_fps"] == 2.0 and d["weights_sha256"] is None and not d["fallback"]
    assert "127.5" in d["preprocessing"]
    # The two shots differ, so their features do.
    assert np.linalg.norm(feats.features[0] - feats.features[5]) > 1e-3 * np.linalg.norm(feats.features[0])


def test_precision_bf16_close_to_fp32_and_recorded(net: GoogLeNet, frames: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    fp32 = _small(GoogLeNetExtractor(net, device="cpu", batch_size=4))
    bf16 = _small(GoogLeNetExtractor(net, device="cpu", batch_size=4, precision="bf16"))
    assert fp32.describe()["precision"] == "fp32" and bf16.describe()["precision"] == "bf16"
    assert {p.dtype for p in bf16.model.parameters()} == {torch.bfloat16}
    a, b = fp32.extract_frames(frames), bf16.extract_frames(frames)
    assert b.dtype == np.float32 and b.shape == a.shape
    err = np.linalg.norm(a - b, axis=1)
    assert 0 < err.max() < 0.03 * np.linalg.norm(a, axis=1).min()  # bf16 really ran, and stays close
    # what tells frames apart survives: each bf16 row is nearest to its own fp32 row
    dist = np.linalg.norm(b[:, None, :] - a[None, :, :], axis=2)
    assert dist.argmin(axis=1).tolist() == list(range(len(frames)))
    with pytest.raises(UsageError, match="CUDA"):
        GoogLeNetExtractor(net, device="cpu", precision="fp16")
    with pytest.raises(UsageError, match="precision"):
        GoogLeNetExtractor(net, device="cpu", precision="int8")
    # a CPU without native bf16 is told that it will be slow
    monkeypatch.setattr(features, "_cpu_has_bf16", lambda: False)
    features._warn_slow_bf16.cache_clear()
    caplog.clear()  # on a CPU without native bf16 the extractor built above has warned already
    with caplog.at_level(logging.WARNING, logger="vidsum.features"):
        GoogLeNetExtractor(net, device="cpu", precision="bf16")
        GoogLeNetExtractor(net, device="cpu", precision="bf16")
    assert sum("no native bf16" in r.getMessage() for r in caplog.records) == 1  # once per process


def _fake_stream(n: int, fail_at: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    class S:
        closed = False

        def __iter__(self) -> "S":
            self.i = 0
            return self

        def __next__(self) -> tuple[int, np.ndarray]:
            if self.i == fail_at:
                raise RuntimeError("decoder broke")
            if self.i >= n:
                raise StopIteration
            self.i += 1
            return self.i - 1, np.full((2, 2, 3), self.i - 1, np.uint8)

        def close(self) -> None:
            self.closed = True

    return S()  # type: ignore[return-value]


def test_prefetcher_order_errors_and_early_stop() -> None:
    with Prefetcher(_fake_stream(10), 4, 2) as decoder:  # type: ignore[arg-type]
        batches = list(decoder)
    assert [b[0] for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b[1].shape[0] for b in batches] == [4, 4, 2]
    assert batches[2][1][1, 0, 0, 0] == 9
    with pytest.raises(RuntimeError, match="decoder broke"):
        with Prefetcher(_fake_stream(10, fail_at=5), 2, 2) as decoder:  # type: ignore[arg-type]
            list(decoder)
    before = threading.active_count()
    stream = _fake_stream(1000)
    decoder = Prefetcher(stream, 1, depth=1)  # type: ignore[arg-type]
    next(iter(decoder))
    decoder.close()  # consumer gives up: the producer must stop, not block on a full queue
    assert threading.active_count() == before and stream.closed  # type: ignore[attr-defined]


def test_regroup_recuts_chunks_into_batches() -> None:
    chunks = [([0, 1, 2], np.arange(3)), ([3], np.arange(3, 4)), ([4, 5, 6, 7, 8], np.arange(4, 9))]
    got = list(regroup(iter(chunks), 4))  # type: ignore[arg-type]
    assert [g[0] for g in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert [g[1].tolist() for g in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert [g[0] for g in regroup(iter(chunks), 20)] == [list(range(9))]  # type: ignore[arg-type]
    assert list(regroup(iter([]), 4)) == []


def test_extract_with_a_decoder_started_earlier(net: GoogLeNet, clip: Path) -> None:
    # summarize starts decoding (in chunks of its own size) before the model exists
    ex = _small(GoogLeNetExtractor(net, device="cpu", batch_size=4))
    direct = ex.extract(clip)
    with Prefetcher(iter_frames(clip, size=(PX, PX)), chunk=3, depth=64) as decoder:
        early = ex.extract(clip, decoder=decoder)
    assert early.picks.tolist() == direct.picks.tolist()
    np.testing.assert_allclose(early.features, direct.features, rtol=1e-5, atol=1e-5)
    assert early.info.n_frames == direct.info.n_frames == 90


# ---- weight resolution ---------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights, "project_dir", lambda: tmp_path / "project")
    return tmp_path / "cache"


def test_no_weights_falls_back_with_warning(cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("VIDSUM_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="vidsum.features"):
        ex = make_extractor(device="cpu")
    assert isinstance(ex, FallbackExtractor) and ex.describe()["fallback"] is True
    assert any("fallback" in r.getMessage() for r in caplog.records)
    with pytest.raises(WeightsError, match="vidsum weights download"):
        make_extractor(device="cpu", allow_fallback=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidsum.features"), pytest.raises(UsageError, match="CUDA"):
        make_extractor(device="cpu", precision="fp16")  # checked first, though the fallback ignores it
    assert not any("fallback" in r.getMessage() for r in caplog.records)


def test_unreachable_download_error_names_url(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDSUM_OFFLINE", raising=False)
    entry = weights.REGISTRY["googlenet-imagenet"]
    monkeypatch.setitem(
        weights.REGISTRY, "googlenet-imagenet", weights.WeightFile(entry.name, "http://127.0.0.1:9/googlenet-x.pth", entry.sha256, None, "")
    )
    with pytest.raises(WeightsError, match="127.0.0.1:9"):
        make_extractor(device="cpu", allow_fallback=False, backbone="googlenet")


def test_weights_from_cache_explicit_and_damaged(net: GoogLeNet, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    src = tmp_path / "mine.pth"
    torch.save(net.state_dict(), src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    entry = weights.WeightFile("googlenet-imagenet", "http://127.0.0.1:9/googlenet-test.pth", digest[:8], None, "test")
    monkeypatch.setitem(weights.REGISTRY, "googlenet-imagenet", entry)
    cache.mkdir()
    (cache / "googlenet-test.pth").write_bytes(src.read_bytes())
    ex = make_extractor(device="cpu", batch_size=2)
    assert isinstance(ex, GoogLeNetExtractor)
    d = ex.describe()
    assert d["weights_sha256"] == digest and d["backbone"] == "googlenet-imagenet" and d["dim"] == 1024
    x = np.random.default_rng(3).integers(0, 256, (2, PX, PX, 3), dtype=np.uint8)
    ex.input_size = (PX, PX)
    with torch.inference_mode():
        ref = net.pool5(to_input(x)).numpy()
    np.testing.assert_allclose(ex.extract_frames(x), ref, rtol=1e-4, atol=1e-4)
    # An explicit file that is not the official one: used, with a warning.
    other = tmp_path / "other.pth"
    torch.save(GoogLeNet(aux_logits=False).state_dict(), other)
    with caplog.at_level(logging.WARNING, logger="vidsum.features"):
        ex2 = make_extractor(backbone_weights=other, device="cpu")
    assert ex2.describe()["backbone"].startswith("googlenet-custom") and any("not the official" in r.getMessage() for r in caplog.records)
    # A damaged file in the cache is an error, never silently used.
    (cache / "googlenet-test.pth").write_bytes(b"x" * 100)
    with pytest.raises(WeightsError, match="damaged"):
        make_extractor(device="cpu")


# ---- the weight-free fallback ----------------------------------------------------------------


def test_fallback_features_hand_made_frames() -> None:
    red = np.zeros((1, 64, 64, 3), np.uint8)
    red[..., 0] = 255  # pure red: hue 0, saturation 255, value 255
    f = fallback_features(red)
    assert f.shape == (1, FALLBACK_DIM) == (1, 368) and f.dtype == np.float32
    # colour and layout blocks have norm 1/sqrt(3) each; the texture block of a flat frame is 0
    assert np.linalg.norm(f[0]) == pytest.approx(np.sqrt(2 / 3), abs=1e-5)
    colour, texture = f[0, :128], f[0, 224:]
    # Only the (h=0, s=3, v=3) bin is filled: index 0 * 16 + 3 * 4 + 3 = 15.
    assert np.argmax(colour) == 15 and np.count_nonzero(colour) == 1
    assert colour[15] == pytest.approx(1 / np.sqrt(3), abs=1e-5)
    assert np.all(texture == 0)  # a flat frame has no gradients
    # A vertical edge: all gradient energy in orientation bin 0 (horizontal gradient).
    edge = np.zeros((1, 112, 112, 3), np.uint8)
    edge[:, :, 56:] = 255
    hist = fallback_features(edge)[0, 224:352].reshape(16, 8)
    assert hist.sum() > 0 and hist[:, 1:].sum() == 0


def test_fallback_extractor_separates_shots(clip: Path) -> None:
    ex = FallbackExtractor()
    feats = ex.extract(clip)
    assert feats.features.shape == (6, 368) and feats.picks.tolist() == [0, 15, 30, 45, 60, 75]
    sim = feats.features @ feats.features.T
    within = min(sim[0, 1], sim[3, 4])
    across = sim[0, 4]
    assert within > across + 0.05  # frames of one shot are closer than frames of two shots
    np.testing.assert_array_equal(feats.features, ex.extract(clip).features)
