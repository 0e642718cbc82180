"""vidsum.backbones.bvlc_googlenet and .caffemodel: the Caffe network, its caffemodel converter,
and Caffe's semantics checked against references vidsum did not write.

- Layer by layer against plain numpy written from Caffe's layer definitions (pooling sizes
  rounding up, the LRN formula with alpha / size).
- The whole network against OpenCV 4.x's Caffe importer (cv2.dnn.readNetFromCaffe, with OpenCV's
  own blobFromImages preprocessing) on a random-weight caffemodel that the test writes in
  protobuf wire format, on real frames ($VIDSUM_TEST_VIDEOS) or generated ones. OpenCV 5 has no
  Caffe importer, so this runs in a side environment named by $VIDSUM_TEST_OPENCV4 (a python with
  opencv-python-headless<5; .ci/run makes one) and is skipped when that is unset.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests import caffegen
from tests.videogen import make_video
from vidsum.backbones import bvlc_googlenet as bg
from vidsum.backbones.caffemodel import parse_caffemodel, read_caffemodel
from vidsum.backbones import detect_backbone
from vidsum.errors import InputError, UsageError, WeightsError
from vidsum.features import make_extractor, to_input
from vidsum.video import iter_frames

torch.set_num_threads(2)
REF_SCRIPT = Path(__file__).with_name("opencv_caffe_ref.py")
BLOBS = ["pool1/3x3_s2", "pool1/norm1", "conv2/norm2", "pool2/3x3_s2", "inception_3a/output", "pool3/3x3_s2",
         "inception_4e/output", "pool4/3x3_s2", "inception_5b/output", "pool5/7x7_s1"]
PRE = bg.SPEC.preprocessing  # BGR, mean (104, 117, 123), no scaling
RGB_ORDER = {**PRE, "channels": "RGB", "mean": PRE["mean"][::-1]}  # wrong order, right per-colour mean
NO_MEAN = {**PRE, "mean": (0.0, 0.0, 0.0)}
TOL = 1e-4  # relative L2 error allowed between two float32 implementations (measured: ~1e-6)
WRONG = 1e-2  # a wrong convention must move pool5 by more than this (it moves it by > 10 %)


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# ---------------------------------------------------------------------------------------------
# numpy references, written from Caffe's layer definitions (pooling_layer.cpp, lrn_layer.cpp)


def caffe_pool_size(size: int, k: int, stride: int, pad: int) -> int:
    out = int(np.ceil((size + 2 * pad - k) / stride)) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def numpy_max_pool(x: np.ndarray, k: int, stride: int, pad: int) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = caffe_pool_size(h, k, stride, pad), caffe_pool_size(w, k, stride, pad)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * stride - pad, j * stride - pad
            he, we = min(hs + k, h), min(ws + k, w)
            hs, ws = max(hs, 0), max(ws, 0)
            out[:, :, i, j] = x[:, :, hs:he, ws:we].max(axis=(2, 3))
    return out


def numpy_lrn(x: np.ndarray, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> np.ndarray:
    c = x.shape[1]
    out = np.empty_like(x)
    half = size // 2
    for ch in range(c):
        lo, hi = max(0, ch - half), min(c, ch + half + 1)
        s = (x[:, lo:hi].astype(np.float64) ** 2).sum(axis=1)
        out[:, ch] = x[:, ch] / (k + alpha / size * s) ** beta
    return out


@pytest.mark.parametrize("size,k,stride,pad", [(112, 3, 2, 0), (56, 3, 2, 0), (28, 3, 2, 0), (14, 3, 2, 0),
                                               (13, 3, 2, 0), (14, 3, 1, 1), (7, 3, 1, 1), (9, 3, 2, 1), (10, 2, 2, 1)])
def test_max_pool_follows_caffe(size: int, k: int, stride: int, pad: int) -> None:
    x = torch.randn(2, 3, size, size + 1) - 2.0  # negative values: padding must never win a max
    ours = bg.max_pool(x, k, stride, pad).numpy()
    ref = numpy_max_pool(x.numpy(), k, stride, pad)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)


def test_floor_pooling_would_be_caught() -> None:
    """Caffe rounds pooled sizes up: 112 -> 56 -> 28 -> 14 -> 7, so pool5's 7x7 window fits.
    Rounding down gives 55, 27, 13, 6, after which pool5 cannot even run."""
    x = torch.randn(1, 3, 224, 224)
    right, wrong = bg.BVLCGoogLeNet().eval(), bg.BVLCGoogLeNet(ceil_mode=False).eval()
    pools = ["pool1/3x3_s2", "pool2/3x3_s2", "pool3/3x3_s2", "pool4/3x3_s2", "pool5/7x7_s1"]
    with torch.inference_mode():
        sizes = [t.shape[-1] for t in right.blobs(x, pools).values()]
        floor = [t.shape[-1] for t in wrong.blobs(x, pools[:-1]).values()]
        assert sizes == [caffe_pool_size(s, 3, 2, 0) for s in (112, 56, 28, 14)] + [1] == [56, 28, 14, 7, 1]
        assert floor == [55, 27, 13, 6]
        with pytest.raises(RuntimeError):  # pool5's 7x7 window does not fit a 6x6 map
            F.avg_pool2d(torch.zeros(1, 1, 6, 6), 7, stride=1)


def test_lrn_follows_caffe() -> None:
    # 0-255-scale activations, so that the denominator is far from 1 and alpha / size matters.
    x = torch.rand(2, 7, 5, 4) * 300
    ours = bg.lrn_across_channels(x).numpy()
    np.testing.assert_allclose(ours, numpy_lrn(x.numpy()), rtol=1e-5)
    not_divided = numpy_lrn(x.numpy(), alpha=1e-4 * 5)  # alpha not divided by the window size
    assert rel_err(ours, not_divided) > 0.1
    # channels_last and bf16 inputs give the same answer (squares are summed in float32)
    cl = bg.lrn_across_channels(x.contiguous(memory_format=torch.channels_last)).numpy()
    np.testing.assert_allclose(cl, ours, rtol=1e-5)
    assert rel_err(bg.lrn_across_channels(x.bfloat16()).float().numpy(), ours) < 1e-2


def test_to_input_is_bgr_minus_mean() -> None:
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50  # R, G, B
    x = to_input(rgb, preprocessing=PRE)
    assert x.shape == (1, 3, 2, 2) and x.is_contiguous(memory_format=torch.channels_last)
    assert x[0, :, 0, 0].tolist() == [50 - 104.0, 100 - 117.0, 200 - 123.0]


def test_graph_has_real_5x5_branches_and_57_convolutions() -> None:
    specs = bg.conv_specs()
    assert len(specs) == 57
    five = [s for s in specs if s.name.endswith("/5x5")]
    assert len(five) == 9 and all(s.kernel == 5 and s.pad == 2 for s in five)
    state = bg.BVLCGoogLeNet().state_dict()
    assert state["inception_3a.5x5.weight"].shape == (32, 16, 5, 5)
    # output widths of the blocks, from Table 1 of Szegedy et al. 2014 ("Going deeper with
    # convolutions"); widths do not depend on the image size, so a small one will do
    x = torch.randn(1, 3, 64, 64)
    model = bg.BVLCGoogLeNet().eval()
    with torch.inference_mode():
        widths = [t.shape[1] for t in model.blobs(x, [f"{b}/output" for b in bg.INCEPTIONS]).values()]
    assert widths == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


# ---------------------------------------------------------------------------------------------
# The converter


@pytest.fixture(scope="module")
def weights() -> dict[str, list[np.ndarray]]:
    return caffegen.random_weights(seed=0)


@pytest.fixture(scope="module")
def caffe_dir(tmp_path_factory: pytest.TempPathFactory, weights: dict[str, list[np.ndarray]]) -> Path:
    d = tmp_path_factory.mktemp("caffe")
    caffegen.write_caffemodel(d / "v1.caffemodel", weights, v1=True)
    caffegen.write_caffemodel(d / "v2.caffemodel", weights, v1=False)
    return d


def test_reads_v1_and_current_layouts(caffe_dir: Path, weights: dict[str, list[np.ndarray]]) -> None:
    v1, v2 = read_caffemodel(caffe_dir / "v1.caffemodel"), read_caffemodel(caffe_dir / "v2.caffemodel")
    assert (v1.layout, v2.layout) == ("layers", "layer")
    assert v1.by_name()["conv1/7x7_s2"].type == v2.by_name()["conv1/7x7_s2"].type == "Convolution"
    a, b = bg.state_dict_from_caffemodel(caffe_dir / "v1.caffemodel"), bg.state_dict_from_caffemodel(caffe_dir / "v2.caffemodel")
    assert sorted(a) == sorted(b) == sorted(bg.required_keys())  # auxiliary heads left out
    for name, (w, bias) in weights.items():
        np.testing.assert_array_equal(a[bg.state_key(name, 0)].numpy(), w)
        np.testing.assert_array_equal(b[bg.state_key(name, 1)].numpy(), bias)


def test_unpacked_floats_and_doubles_are_read() -> None:
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    unpacked = caffegen.length_field(1, b"fc") + caffegen.length_field(7, caffegen.blob_proto(arr, legacy=False, packed=False))
    doubles = caffegen.length_field(8, arr.astype("<f8").tobytes())
    shape = caffegen.length_field(7, caffegen.length_field(1, b"".join(caffegen.varint(d) for d in arr.shape)))
    dbl_layer = caffegen.length_field(1, b"fc2") + caffegen.length_field(7, shape + doubles)
    net = parse_caffemodel(caffegen.length_field(100, unpacked) + caffegen.length_field(100, dbl_layer))
    np.testing.assert_array_equal(net.by_name()["fc"].blobs[0], arr)
    np.testing.assert_array_equal(net.by_name()["fc2"].blobs[0], arr)


def _without(weights: dict[str, list[np.ndarray]], layer: str) -> dict[str, list[np.ndarray]]:
    return {k: v for k, v in weights.items() if k != layer}


def test_missing_or_misshapen_layers_are_named(tmp_path: Path, weights: dict[str, list[np.ndarray]]) -> None:
    missing = caffegen.write_caffemodel(tmp_path / "missing.caffemodel", _without(weights, "inception_4c/5x5"))
    with pytest.raises(WeightsError, match=r"missing\.caffemodel: layer inception_4c/5x5 is missing"):
        bg.state_dict_from_caffemodel(missing)
    bad = dict(weights)
    bad["inception_5b/3x3"] = [weights["inception_5b/3x3"][0][:, :, :2], weights["inception_5b/3x3"][1]]
    misshapen = caffegen.write_caffemodel(tmp_path / "misshapen.caffemodel", bad)
    with pytest.raises(WeightsError, match=r"layer inception_5b/3x3 weight has shape \(384, 192, 2, 3\), expected \(384, 192, 3, 3\)"):
        bg.state_dict_from_caffemodel(misshapen)
    nobias = dict(weights)
    nobias["conv2/3x3"] = weights["conv2/3x3"][:1]
    with pytest.raises(WeightsError, match=r"layer conv2/3x3 has 1 weight blob\(s\)"):
        bg.state_dict_from_caffemodel(caffegen.write_caffemodel(tmp_path / "nobias.caffemodel", nobias))


def test_damaged_or_foreign_files_are_one_clear_error(tmp_path: Path, caffe_dir: Path) -> None:
    data = (caffe_dir / "v1.caffemodel").read_bytes()
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"cut\.caffemodel: not a readable Caffe model"):
        read_caffemodel(cut)
    text = tmp_path / "deploy.caffemodel"
    text.write_text(caffegen.deploy_prototxt())
    with pytest.raises(WeightsError, match=r"deploy\.caffemodel: "):
        bg.state_dict_from_caffemodel(text)
    with pytest.raises(InputError, match="no such file"):
        read_caffemodel(tmp_path / "absent.caffemodel")


def test_conversion_round_trip(tmp_path: Path, caffe_dir: Path) -> None:
    src = caffe_dir / "v1.caffemodel"
    conv = bg.convert_caffemodel(src, tmp_path / "cache")
    sha1 = hashlib.sha1(src.read_bytes()).hexdigest()
    assert conv.source_sha1 == sha1 and not conv.official
    assert conv.path.name == f"bvlc_googlenet-{sha1[:8]}.pt"
    assert conv.sha256 == hashlib.sha256(conv.path.read_bytes()).hexdigest()
    assert (tmp_path / "cache" / f"{conv.path.name}.sha256").read_text().split()[0] == conv.sha256
    payload = torch.load(conv.path, map_location="cpu", weights_only=True)  # plain data only
    assert payload["format"] == bg.CONVERTED_FORMAT and payload["source_sha1"] == sha1
    assert bg.matches(payload["state_dict"])
    assert not list(tmp_path.joinpath("cache").glob(".*part*"))  # no temporary file left behind
    # the converted file and the caffemodel give the same network
    x = torch.randn(1, 3, 224, 224) * 60
    with torch.inference_mode():
        np.testing.assert_array_equal(bg.load(conv.path).pool5(x).numpy(), bg.load(src).pool5(x).numpy())
    # a second conversion reuses the file; a damaged one is noticed and converted again
    mtime = conv.path.stat().st_mtime_ns
    assert bg.convert_caffemodel(src, tmp_path / "cache") == conv and conv.path.stat().st_mtime_ns == mtime
    raw = bytearray(conv.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    conv.path.write_bytes(bytes(raw))
    assert bg.cached_conversion(conv.path) is None
    assert bg.convert_caffemodel(src, tmp_path / "cache").sha256 == conv.sha256


def test_keys_tell_the_networks_apart() -> None:
    from vidsum.backbones.googlenet import GoogLeNet

    tv = GoogLeNet(aux_logits=True, init_weights=False).state_dict()
    assert bg.matches(bg.BVLCGoogLeNet().state_dict())
    assert not bg.matches(tv)
    assert not any(k in tv for k in bg.required_keys())
    with pytest.raises(WeightsError, match="not a BVLC GoogLeNet state dict"):
        bg.load_state_dict(bg.BVLCGoogLeNet(), tv, "googlenet-1378be20.pth")


def test_official_sha1_is_the_zoo_one() -> None:
    assert bg.OFFICIAL_SHA1 == "405fc5acd08a3bb12de8ee5e23a96bec22f08204"
    assert bg.ConvertedWeights(Path("x"), "0" * 64, bg.OFFICIAL_SHA1).official


# ---------------------------------------------------------------------------------------------
# Against OpenCV 4.x's Caffe importer


@pytest.fixture(scope="module")
def opencv4() -> str:
    python = os.environ.get("VIDSUM_TEST_OPENCV4")
    if not python or not Path(python).is_file():
        pytest.skip("VIDSUM_TEST_OPENCV4 is not set to a python with opencv-python-headless<5 (see .ci/run)")
    return python


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """(4, 224, 224, 3) uint8 RGB frames as vidsum decodes them: the frame at 1 s of each of four
    real videos of $VIDSUM_TEST_VIDEOS, else four shots of a generated video."""
    folder = os.environ.get("VIDSUM_TEST_VIDEOS")
    real = sorted(p for p in Path(folder).iterdir() if p.suffix in (".mp4", ".webm", ".mkv", ".mov")) if folder and Path(folder).is_dir() else []
    if real:
        picks = [(p, 2) for p in real[:4]]  # sample 2 at 2 frames/s = 1 s in
    else:
        path = tmp_path_factory.mktemp("bvlc-video") / "gen.mp4"
        make_video(path, durations=(1.0, 1.0, 1.0, 1.0), audio=False)
        picks = [(path, k) for k in (0, 2, 4, 6)]  # one per 1-s shot
    out: list[np.ndarray] = []
    for path, k in picks:
        stream = iter_frames(path, sample_fps=2.0, size=bg.INPUT_SIZE)
        try:
            out += [frame for i, (_, frame) in zip(range(k + 1), stream) if i == k]
        finally:
            stream.close()
    return np.stack(out)


def run_opencv(python: str, workdir: Path, caffemodel: Path, frames_rgb: np.ndarray, blobs: list[str]) -> dict[str, np.ndarray]:
    prototxt = workdir / "deploy.prototxt"
    prototxt.write_text(caffegen.deploy_prototxt(len(frames_rgb)))
    np.save(workdir / "bgr.npy", np.ascontiguousarray(frames_rgb[..., ::-1]))  # OpenCV images are BGR
    out = workdir / f"{caffemodel.stem}.npz"
    proc = subprocess.run(
        [python, str(REF_SCRIPT), str(prototxt), str(caffemodel), str(workdir / "bgr.npy"), str(out), *blobs],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("4."), proc.stdout
    with np.load(out) as data:
        return {name: data[name.replace("/", "__")] for name in blobs}


@pytest.fixture(scope="module")
def reference(opencv4: str, caffe_dir: Path, frames: np.ndarray) -> dict[str, np.ndarray]:
    return run_opencv(opencv4, caffe_dir, caffe_dir / "v1.caffemodel", frames, BLOBS)


def test_every_layer_matches_opencv(caffe_dir: Path, frames: np.ndarray, reference: dict[str, np.ndarray]) -> None:
    model = bg.load(caffe_dir / "v1.caffemodel")
    x = to_input(frames, preprocessing=PRE)
    with torch.inference_mode():
        ours = {k: v.numpy() for k, v in model.blobs(x, BLOBS).items()}
    for blob in BLOBS:
        assert ours[blob].shape == reference[blob].shape, blob
        assert rel_err(ours[blob], reference[blob]) < TOL, blob
    # the LRNs really normalise (a test with tiny activations would not notice a wrong LRN)
    assert np.linalg.norm(reference["pool1/norm1"]) < 0.8 * np.linalg.norm(ours["pool1/3x3_s2"])


def test_current_layout_file_matches_opencv_too(opencv4: str, caffe_dir: Path, frames: np.ndarray, reference: dict[str, np.ndarray]) -> None:
    ref2 = run_opencv(opencv4, caffe_dir, caffe_dir / "v2.caffemodel", frames, ["pool5/7x7_s1"])
    np.testing.assert_array_equal(ref2["pool5/7x7_s1"], reference["pool5/7x7_s1"])
    with torch.inference_mode():
        ours = bg.load(caffe_dir / "v2.caffemodel").pool5(to_input(frames, preprocessing=PRE)).numpy()
    assert rel_err(ours, ref2["pool5/7x7_s1"].reshape(ours.shape)) < TOL


def test_wrong_conventions_are_caught(caffe_dir: Path, frames: np.ndarray, reference: dict[str, np.ndarray]) -> None:
    model = bg.load(caffe_dir / "v1.caffemodel")
    ref = reference["pool5/7x7_s1"].reshape(len(frames), -1)
    with torch.inference_mode():
        right = model.pool5(to_input(frames, preprocessing=PRE)).numpy()
        rgb = model.pool5(to_input(frames, preprocessing=RGB_ORDER)).numpy()
        no_mean = model.pool5(to_input(frames, preprocessing=NO_MEAN)).numpy()
        floor = bg.load_state_dict(bg.BVLCGoogLeNet(ceil_mode=False), model.state_dict(), "x").features(to_input(frames, preprocessing=PRE), "pool1/3x3_s2")
    assert rel_err(right, ref) < TOL
    assert rel_err(rgb, ref) > WRONG
    assert rel_err(no_mean, ref) > WRONG
    assert floor.shape != reference["pool1/3x3_s2"].shape


def test_extractor_gives_normalised_opencv_pool5(caffe_dir: Path, frames: np.ndarray, reference: dict[str, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    ex = make_extractor(backbone_weights=caffe_dir / "v1.caffemodel", device="cpu", batch_size=3)
    got = ex.extract_frames(frames)
    ref = reference["pool5/7x7_s1"].reshape(len(frames), -1)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    assert rel_err(got, ref) < TOL
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# The backbone in vidsum: picked by its weight file, recorded with the features


def test_weight_file_picks_the_backbone(caffe_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from vidsum.backbones.googlenet import GoogLeNet

    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    src = caffe_dir / "v1.caffemodel"
    assert detect_backbone(src) == "bvlc-googlenet"
    with caplog.at_level(logging.WARNING, logger="vidsum.backbones.bvlc_googlenet"):
        ex = make_extractor(backbone_weights=src, device="cpu")
    assert any("not converted from the official" in r.getMessage() for r in caplog.records)
    d = ex.describe()
    conv = next((tmp_path / "cache").glob("bvlc_googlenet-*.pt"))
    assert d["name"] == "bvlc-googlenet-pool5" and d["dim"] == 1024 and d["fallback"] is False
    # random weights: not the official file; named by its conversion, which carries the source's SHA-1
    assert d["backbone"] == f"bvlc-googlenet-custom:{conv.name}"
    assert conv.name == f"bvlc_googlenet-{hashlib.sha1(src.read_bytes()).hexdigest()[:8]}.pt"
    assert d["weights_sha256"] == hashlib.sha256(conv.read_bytes()).hexdigest()  # the converted file's hash
    assert "BGR" in d["preprocessing"] and "104" in d["preprocessing"] and "L2" in d["preprocessing"]
    # the converted file on its own picks the same network and gives the same description
    same = make_extractor(backbone_weights=conv, device="cpu").describe()
    assert same == d
    # a torchvision state dict still picks the torchvision GoogLeNet
    tv = tmp_path / "googlenet-1378be20.pth"
    torch.save(GoogLeNet(aux_logits=True, init_weights=False).state_dict(), tv)
    assert detect_backbone(tv) == "googlenet"
    assert make_extractor(backbone_weights=tv, device="cpu").describe()["name"] == "googlenet-pool5"
    # a --backbone that contradicts the file is one clear error
    with pytest.raises(UsageError, match=r"v1\.caffemodel: holds bvlc-googlenet weights, but --backbone googlenet"):
        make_extractor(backbone_weights=src, backbone="googlenet", device="cpu")
    with pytest.raises(UsageError, match="holds googlenet weights, but --backbone bvlc-googlenet"):
        make_extractor(backbone_weights=tv, backbone="bvlc-googlenet", device="cpu")


def test_official_caffemodel_in_the_cache_is_found_and_a_damaged_one_refused(caffe_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidsum import weights

    src = caffe_dir / "v1.caffemodel"
    sha1 = hashlib.sha1(src.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("VIDSUM_CACHE", str(cache))
    monkeypatch.setattr(weights, "project_dir", lambda: tmp_path / "project")
    # pretend the random file is the official one: the registry and the module agree on its SHA-1
    entry = weights.REGISTRY["bvlc-googlenet"]
    monkeypatch.setitem(weights.REGISTRY, "bvlc-googlenet", weights.WeightFile(entry.name, entry.url, "", None, "", sha1=sha1))
    monkeypatch.setattr(bg, "OFFICIAL_SHA1", sha1)
    (cache / "bvlc_googlenet.caffemodel").write_bytes(src.read_bytes())
    ex = make_extractor(device="cpu")  # "auto": the BVLC network first when its weights are there
    d = ex.describe()
    assert d["backbone"] == "bvlc-googlenet" and d["name"] == "bvlc-googlenet-pool5"
    assert (cache / f"bvlc_googlenet-{sha1[:8]}.pt").is_file()
    (cache / "bvlc_googlenet.caffemodel").write_bytes(src.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(WeightsError, match="damaged"):
        make_extractor(device="cpu")


def test_features_of_a_video(caffe_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache"))
    video = tmp_path / "v.mp4"
    make_video(video, durations=(1.0, 1.0), audio=False)
    ex = make_extractor(backbone_weights=caffe_dir / "v1.caffemodel", device="cpu", precision="bf16")
    feats = ex.extract(video)
    assert feats.features.shape == (4, 1024) and feats.picks.tolist() == [0, 15, 30, 45]
    np.testing.assert_allclose(np.linalg.norm(feats.features, axis=1), 1.0, rtol=1e-3)
    assert feats.extractor["precision"] == "bf16"
    fp32 = make_extractor(backbone_weights=caffe_dir / "v1.caffemodel", device="cpu").extract(video).features
    assert rel_err(feats.features, fp32) < 0.02  # bf16 moves the normalised features a little


@pytest.fixture
def official(caffe_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated cache and project folder, and the random v1.caffemodel standing in for the
    official file (the registry and the module take its SHA-1); returns the cache folder."""
    from vidsum import weights

    sha1 = hashlib.sha1((caffe_dir / "v1.caffemodel").read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    monkeypatch.setenv("VIDSUM_CACHE", str(cache))
    monkeypatch.setattr(weights, "project_dir", lambda: tmp_path / "project")
    entry = weights.REGISTRY["bvlc-googlenet"]
    url = f"http://127.0.0.1:9/{entry.filename}"
    monkeypatch.setitem(weights.REGISTRY, "bvlc-googlenet", weights.WeightFile(entry.name, url, "", None, "", sha1=sha1))
    monkeypatch.setattr(bg, "OFFICIAL_SHA1", sha1)
    return cache


def test_eccv16_checkpoint_makes_summarize_use_the_bvlc_network(
    official: Path, caffe_dir: Path, cut_video: tuple[Path, list[float]], tmp_path: Path
) -> None:
    """Train on an eccv16-style file (1024-d, no extractor record): the run and the checkpoint say
    "eccv16 (BVLC GoogLeNet pool5)"; summarize with that checkpoint picks the BVLC network by
    itself and warns about nothing."""
    import json

    from tests.h5gen import make_dataset
    from vidsum.backbones.googlenet import GoogLeNet
    from vidsum.config import ModelConfig, SummarizeConfig, TrainConfig
    from vidsum.pipeline import summarize
    from vidsum.train import run_training

    data = make_dataset(tmp_path / "eccv16_dataset_tiny_google_pool5.h5", n_videos=4, steps=(20, 30))
    tiny = ModelConfig(d_model=16, layers_visual=1, layers_sequential=1, lstm_hidden=8, lstm_layers=1, head_hidden=16, dropout=0.0)
    run_training([data], tmp_path / "run", tiny, TrainConfig(folds=2, epochs=1, inner_steps=1, device="cpu", strategy="plain"))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["features"]["backbone"] == "eccv16 (BVLC GoogLeNet pool5)" and config["features"]["dim"] == 1024

    official.mkdir()
    (official / "bvlc_googlenet.caffemodel").write_bytes((caffe_dir / "v1.caffemodel").read_bytes())
    out = tmp_path / "s.mp4"
    s = summarize(cut_video[0], SummarizeConfig(output=str(out), model=str(tmp_path / "run" / "fold_0.pt"), length_s=3.0))
    report = json.loads(out.with_suffix(".json").read_text())
    assert s.extractor["backbone"] == "bvlc-googlenet" and s.extractor["name"] == "bvlc-googlenet-pool5"
    assert not s.warnings, s.warnings
    assert "bvlc-googlenet" in json.dumps(report)
    # the other network, by its weight file, is honoured, and the mismatch is said
    other = tmp_path / "googlenet-1378be20.pth"
    torch.save(GoogLeNet(aux_logits=True).state_dict(), other)
    s2 = summarize(cut_video[0], SummarizeConfig(output=str(out), model=str(tmp_path / "run" / "fold_0.pt"),
                                                 length_s=3.0, backbone_weights=str(other), overwrite=True))
    assert s2.extractor["name"] == "googlenet-pool5" and any("eccv16" in w for w in s2.warnings)
    # features made elsewhere (a collection on Ray: the executor's describe) get the same choice
    from vidsum.pipeline import load_models

    asked: list[str] = []

    def describe(fcfg):  # type: ignore[no-untyped-def]
        asked.append(fcfg.backbone)
        return s.extractor

    models = load_models(SummarizeConfig(model=str(tmp_path / "run" / "fold_0.pt")), describe=describe)
    assert asked == ["bvlc-googlenet"] and models.features_config.backbone == "bvlc-googlenet"
    assert models.extractor is None and not models.warnings, models.warnings


def test_cli_download_and_import_convert(official: Path, caffe_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools
    import http.server
    import threading

    from typer.testing import CliRunner

    from vidsum import weights
    from vidsum.cli import app

    served = tmp_path / "www"
    served.mkdir()
    (served / "bvlc_googlenet.caffemodel").write_bytes((caffe_dir / "v1.caffemodel").read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        entry = weights.REGISTRY["bvlc-googlenet"]
        url = f"http://127.0.0.1:{httpd.server_address[1]}/bvlc_googlenet.caffemodel"
        monkeypatch.setitem(weights.REGISTRY, "bvlc-googlenet", weights.WeightFile(entry.name, url, "", None, "", sha1=entry.sha1))
        res = CliRunner().invoke(app, ["weights", "download", "bvlc-googlenet", "-q"])
    finally:
        httpd.shutdown()
    assert res.exit_code == 0, res.output
    conv = official / f"bvlc_googlenet-{entry.sha1[:8]}.pt"
    assert (official / "bvlc_googlenet.caffemodel").is_file() and conv.is_file()
    assert "converted to" in res.output and hashlib.sha256(conv.read_bytes()).hexdigest() in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["weights", "verify", "--name", "bvlc-googlenet"])
    assert res.exit_code == 0 and "sha1" in res.output, res.output

    # offline: import the hand-downloaded file into an empty cache; the name follows the suffix
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path / "cache2"))
    res = CliRunner().invoke(app, ["weights", "import", str(served / "bvlc_googlenet.caffemodel")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cache2" / conv.name).is_file() and (tmp_path / "cache2" / f"{conv.name}.sha256").is_file()
    wrong = tmp_path / "other.caffemodel"
    caffegen.write_caffemodel(wrong, caffegen.random_weights(seed=5))
    res = CliRunner().invoke(app, ["weights", "import", str(wrong)])
    assert res.exit_code == 1 and "does not match bvlc-googlenet" in res.output


@pytest.mark.parametrize("command", ["summarize", "features"])
def test_cli_contradicting_backbone_is_one_line(command: str, caffe_dir: Path, cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vidsum.cli import app

    out = ["-o", str(tmp_path / ("s.mp4" if command == "summarize" else "f.h5"))]
    res = CliRunner().invoke(app, [command, str(cut_video[0]), *out, "--backbone", "googlenet",
                                   "--backbone-weights", str(caffe_dir / "v1.caffemodel")])
    assert res.exit_code == 2, res.output
    error = res.output[res.output.index("error:"):]  # (summarize warns about its scorer first)
    assert error.count("\n") == 1 and "holds bvlc-googlenet weights, but --backbone googlenet was given" in error
    assert "Traceback" not in res.output and not list(tmp_path.iterdir())
