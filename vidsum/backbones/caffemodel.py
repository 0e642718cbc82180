"""Read the weights out of a Caffe ``.caffemodel`` without Caffe or protobuf.

A caffemodel is one serialised ``NetParameter`` message (caffe/src/caffe/proto/caffe.proto).
Only the fields that hold weights are read; everything else is skipped by its wire type:

    NetParameter      layer = 100 (LayerParameter, current) | layers = 2 (V1LayerParameter, 2014)
    LayerParameter    name = 1 (string), type = 2 (string), blobs = 7 (BlobProto)
    V1LayerParameter  name = 4 (string), type = 5 (enum),   blobs = 6 (BlobProto), layer = 1 (V0)
    V0LayerParameter  name = 1 (string), type = 2 (string), blobs = 50 (BlobProto)
    BlobProto         shape = 7 (BlobShape), data = 5 (float, packed), double_data = 8 (double,
                      packed), and the legacy num, channels, height, width = 1, 2, 3, 4 (int32)
    BlobShape         dim = 1 (int64, packed)

The official ``bvlc_googlenet.caffemodel`` (2014) uses the V1 ``layers`` field and the legacy
4-d blob sizes; files saved by later Caffe versions use ``layer`` and ``shape``. Both are read.

Wire format (protobuf encoding): each field is a varint key ``field_number << 3 | wire_type``;
wire type 0 = varint, 1 = 8 bytes, 2 = varint length + bytes, 5 = 4 bytes. Repeated scalars
may be packed (one length-delimited run) or not (one key per value); readers must accept both.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vidsum.errors import InputError, WeightsError

log = logging.getLogger(__name__)

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # the wire types a caffemodel uses
NET_LAYER, NET_LAYERS_V1 = 100, 2
V1_LAYER_TYPES = {  # V1LayerParameter.LayerType values that can carry weights, by name
    4: "Convolution", 14: "InnerProduct", 39: "Deconvolution", 15: "LRN", 17: "Pooling", 18: "ReLU",
    3: "Concat", 6: "Dropout", 20: "Softmax", 21: "SoftmaxWithLoss", 5: "Data", 1: "Accuracy",
}


class _Truncated(Exception):
    pass


@dataclasses.dataclass
class CaffeLayer:
    """One layer of a caffemodel: its name, type ("Convolution", ...) and weight blobs
    (float32 arrays shaped by the blob's ``shape``, or its legacy (num, channels, height, width))."""

    name: str
    type: str
    blobs: list[np.ndarray]


@dataclasses.dataclass
class CaffeModel:
    """The layers of a caffemodel, in file order, and which layer field the file used."""

    layers: list[CaffeLayer]
    layout: str  # "layer" (current), "layers" (V1) or "layers+V0"

    def by_name(self) -> dict[str, CaffeLayer]:
        """Layer name -> layer (the first one when a name repeats)."""
        out: dict[str, CaffeLayer] = {}
        for layer in self.layers:
            out.setdefault(layer.name, layer)
        return out


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _Truncated
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _Truncated


def iter_fields(buf: memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int | memoryview]]:
    """The fields of one message in ``buf[start:end]``: (field number, wire type, value), where the
    value is an int for varints, a memoryview of the raw bytes for the other wire types."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = _varint(buf, pos, end)
            yield field, wire, value
            continue
        if wire == LENGTH:
            size, pos = _varint(buf, pos, end)
        elif wire == FIXED64:
            size = 8
        elif wire == FIXED32:
            size = 4
        else:  # 3/4 (groups) never occur in caffe.proto; 6/7 do not exist
            raise _Truncated
        if pos + size > end:
            raise _Truncated
        yield field, wire, buf[pos : pos + size]
        pos += size


def _packed_varints(raw: memoryview) -> list[int]:
    out = []
    pos = 0
    while pos < len(raw):
        value, pos = _varint(raw, pos, len(raw))
        out.append(value)
    return out


def _blob(raw: memoryview) -> np.ndarray:
    shape: list[int] | None = None
    legacy: dict[int, int] = {}
    floats: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    for field, wire, value in iter_fields(raw):
        if field == 7 and wire == LENGTH:  # BlobShape
            assert isinstance(value, memoryview)
            dims: list[int] = []
            for f, w, v in iter_fields(value):
                if f == 1 and w == LENGTH:
                    assert isinstance(v, memoryview)
                    dims.extend(_packed_varints(v))
                elif f == 1 and w == VARINT:
                    assert isinstance(v, int)
                    dims.append(v)
            shape = dims
        elif field == 5 and wire in (LENGTH, FIXED32):
            assert isinstance(value, memoryview)
            if len(value) % 4:
                raise _Truncated
            floats.append(np.frombuffer(value, dtype="<f4"))
        elif field == 8 and wire in (LENGTH, FIXED64):
            assert isinstance(value, memoryview)
            if len(value) % 8:
                raise _Truncated
            doubles.append(np.frombuffer(value, dtype="<f8"))
        elif field in (1, 2, 3, 4) and wire == VARINT:
            assert isinstance(value, int)
            legacy[field] = value
    if floats:
        data = np.concatenate(floats).astype(np.float32)
    elif doubles:
        data = np.concatenate(doubles).astype(np.float32)
    else:
        data = np.zeros(0, dtype=np.float32)
    if shape is None and legacy:
        shape = [legacy.get(i, 0) for i in (1, 2, 3, 4)]
    if shape is not None and int(np.prod(shape)) == data.size:
        return data.reshape(shape)
    if shape is not None:  # the sizes and the data disagree: keep the data flat, the caller says which layer
        log.debug("blob shape %s does not match its %d values", shape, data.size)
        return data.reshape(-1)
    return data


def _layer(raw: memoryview, v1: bool) -> CaffeLayer:
    name_f, type_f, blobs_f = (4, 5, 6) if v1 else (1, 2, 7)
    name, kind = "", ""
    blobs: list[np.ndarray] = []
    for field, wire, value in iter_fields(raw):
        if field == name_f and wire == LENGTH:
            assert isinstance(value, memoryview)
            name = bytes(value).decode("utf-8", "replace")
        elif field == type_f and wire == LENGTH and not v1:
            assert isinstance(value, memoryview)
            kind = bytes(value).decode("utf-8", "replace")
        elif field == type_f and wire == VARINT and v1:
            assert isinstance(value, int)
            kind = V1_LAYER_TYPES.get(value, f"V1 type {value}")
        elif field == blobs_f and wire == LENGTH:
            assert isinstance(value, memoryview)
            blobs.append(_blob(value))
        elif v1 and field == 1 and wire == LENGTH:  # a V0LayerParameter inside: name 1, type 2, blobs 50
            assert isinstance(value, memoryview)
            for f, w, v in iter_fields(value):
                if f == 1 and w == LENGTH and not name:
                    name = bytes(v).decode("utf-8", "replace")  # type: ignore[arg-type]
                elif f == 2 and w == LENGTH and not kind:
                    kind = bytes(v).decode("utf-8", "replace")  # type: ignore[arg-type]
                elif f == 50 and w == LENGTH:
                    blobs.append(_blob(v))  # type: ignore[arg-type]
    return CaffeLayer(name=name, type=kind, blobs=blobs)


def parse_caffemodel(data: bytes | memoryview, source: str = "<bytes>") -> CaffeModel:
    """Parse the bytes of a caffemodel. WeightsError naming ``source`` when they are not one."""
    buf = memoryview(data)
    layers: list[CaffeLayer] = []
    kinds: set[str] = set()
    try:
        for field, wire, value in iter_fields(buf):
            if wire != LENGTH or field not in (NET_LAYER, NET_LAYERS_V1):
                continue
            assert isinstance(value, memoryview)
            layer = _layer(value, v1=field == NET_LAYERS_V1)
            kinds.add("layer" if field == NET_LAYER else "layers")
            layers.append(layer)
    except _Truncated as exc:
        raise WeightsError(
            f"{source}: not a readable Caffe model (the protobuf ends early or is damaged); download it again"
        ) from exc
    if not layers:
        raise WeightsError(f"{source}: holds no Caffe layers; is it a .caffemodel (not a .prototxt or .binaryproto)?")
    layout = "+".join(sorted(kinds))
    log.debug("%s: %d layers (%s)", source, len(layers), layout)
    return CaffeModel(layers=layers, layout=layout)


def read_caffemodel(path: str | Path) -> CaffeModel:
    """Read a caffemodel file (about 54 MB for GoogLeNet, read whole)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; pass the downloaded .caffemodel") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc}); check the path and permissions") from exc
    return parse_caffemodel(data, str(path))
