"""Random-weight BVLC GoogLeNet files for tests: a caffemodel in protobuf wire format (the V1
``layers`` layout of the official 2014 file, or the current ``layer`` layout) and the matching
deploy prototxt, so that an implementation vidsum did not write (OpenCV's Caffe importer) can
run the same network. Written from caffe.proto's field numbers; see vidsum/backbones/caffemodel.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vidsum.backbones.bvlc_googlenet import INCEPTIONS, conv_specs, expected_shapes

V1_CONVOLUTION, V1_INNER_PRODUCT, V1_RELU = 4, 14, 18  # V1LayerParameter.LayerType


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def length_field(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def blob_proto(arr: np.ndarray, legacy: bool, packed: bool = True) -> bytes:
    """BlobProto: legacy num/channels/height/width (1-4) or shape (7); data (5) as float32."""
    arr = np.asarray(arr, dtype="<f4")
    out = b""
    if legacy:
        dims = (1,) * (4 - arr.ndim) + arr.shape
        for field, d in zip((1, 2, 3, 4), dims):
            out += key(field, 0) + varint(int(d))
    if packed:
        out += length_field(5, arr.tobytes())
    else:  # one key per value: legal protobuf that a reader must accept
        out += b"".join(key(5, 5) + struct.pack("<f", float(v)) for v in arr.ravel())
    if not legacy:
        out = length_field(7, length_field(1, b"".join(varint(int(d)) for d in arr.shape))) + out
    return out


def layer_proto(name: str, blobs: list[np.ndarray], v1: bool, kind: str = "Convolution", v1_type: int = V1_CONVOLUTION) -> bytes:
    """One layer as V1LayerParameter (name 4, type 5 enum, blobs 6) or LayerParameter (1, 2, 7)."""
    if v1:
        out = length_field(4, name.encode()) + key(5, 0) + varint(v1_type)
        return out + b"".join(length_field(6, blob_proto(b, legacy=True)) for b in blobs)
    out = length_field(1, name.encode()) + length_field(2, kind.encode())
    return out + b"".join(length_field(7, blob_proto(b, legacy=False)) for b in blobs)


def random_weights(seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Caffe layer name -> [weight, bias] float32, He-scaled so that activations keep their size
    through the 22 layers (0-255 input: LRN then divides noticeably, as with trained weights)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, (wshape, bshape) in expected_shapes().items():
        fan_in = int(np.prod(wshape[1:]))
        out[name] = [
            (rng.standard_normal(wshape) * np.sqrt(2.0 / fan_in)).astype(np.float32),
            (rng.standard_normal(bshape) * 0.1).astype(np.float32),
        ]
    return out


def write_caffemodel(path: Path, weights: dict[str, list[np.ndarray]], v1: bool = True, extras: bool = True) -> Path:
    """Write ``weights`` as a NetParameter: ``layers`` (field 2, V1) or ``layer`` (field 100).

    ``extras`` adds what the official file also holds and a converter must skip: blob-less ReLU
    layers and the training-time auxiliary classifiers (loss1/*, loss2/*, loss3/classifier).
    """
    rng = np.random.default_rng(1)
    field = 2 if v1 else 100
    body = length_field(1, b"GoogleNet")  # NetParameter.name
    for name, blobs in weights.items():
        body += length_field(field, layer_proto(name, blobs, v1))
        if extras:
            relu = name.split("/")[0] + "/relu_" + name.split("/")[-1]
            body += length_field(field, layer_proto(relu, [], v1, kind="ReLU", v1_type=V1_RELU))
    if extras:
        # Smaller than the real heads (128x512x1x1, 1024x2048, 1000x1024): only their skipping matters.
        for name, shape in (("loss1/conv", (8, 512, 1, 1)), ("loss1/fc", (16, 32)), ("loss3/classifier", (10, 1024))):
            blobs = [rng.standard_normal(shape).astype(np.float32) * 0.01, np.zeros(shape[0], np.float32)]
            body += length_field(field, layer_proto(name, blobs, v1, kind="InnerProduct", v1_type=V1_INNER_PRODUCT))
    path.write_bytes(body)
    return path


def deploy_prototxt(batch: int = 1) -> str:
    """The deploy graph up to pool5 in prototxt text (current ``layer`` syntax, Input layer)."""
    specs = {s.name: s for s in conv_specs()}
    parts = [
        'name: "GoogleNet"',
        f'layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {batch} dim: 3 dim: 224 dim: 224 }} }} }}',
    ]

    def conv(name: str, bottom: str) -> str:
        s = specs[name]
        geometry = f"num_output: {s.out_channels} kernel_size: {s.kernel}"
        geometry += f" pad: {s.pad}" if s.pad else ""
        geometry += f" stride: {s.stride}" if s.stride != 1 else ""
        parts.append(f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}" convolution_param {{ {geometry} }} }}')
        parts.append(f'layer {{ name: "{name}/relu" type: "ReLU" bottom: "{name}" top: "{name}" }}')
        return name

    def pool(name: str, bottom: str, method: str, k: int, stride: int, pad: int = 0) -> str:
        extra = f" pad: {pad}" if pad else ""
        parts.append(
            f'layer {{ name: "{name}" type: "Pooling" bottom: "{bottom}" top: "{name}" '
            f"pooling_param {{ pool: {method} kernel_size: {k} stride: {stride}{extra} }} }}"
        )
        return name

    def lrn(name: str, bottom: str) -> str:
        parts.append(
            f'layer {{ name: "{name}" type: "LRN" bottom: "{bottom}" top: "{name}" '
            "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }"
        )
        return name

    x = conv("conv1/7x7_s2", "data")
    x = pool("pool1/3x3_s2", x, "MAX", 3, 2)
    x = lrn("pool1/norm1", x)
    x = conv("conv2/3x3_reduce", x)
    x = conv("conv2/3x3", x)
    x = lrn("conv2/norm2", x)
    x = pool("pool2/3x3_s2", x, "MAX", 3, 2)
    for block in INCEPTIONS:
        b1 = conv(f"{block}/1x1", x)
        b2 = conv(f"{block}/3x3", conv(f"{block}/3x3_reduce", x))
        b3 = conv(f"{block}/5x5", conv(f"{block}/5x5_reduce", x))
        b4 = conv(f"{block}/pool_proj", pool(f"{block}/pool", x, "MAX", 3, 1, pad=1))
        bottoms = " ".join(f'bottom: "{b}"' for b in (b1, b2, b3, b4))
        parts.append(f'layer {{ name: "{block}/output" type: "Concat" {bottoms} top: "{block}/output" }}')
        x = f"{block}/output"
        if block == "inception_3b":
            x = pool("pool3/3x3_s2", x, "MAX", 3, 2)
        elif block == "inception_4e":
            x = pool("pool4/3x3_s2", x, "MAX", 3, 2)
    pool("pool5/7x7_s1", x, "AVE", 7, 1)
    return "\n".join(parts) + "\n"
