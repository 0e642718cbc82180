"""The weight-free backbone: colour, layout and texture statistics of each frame (368-d).

For when no network weights can be had. The features separate shots well enough for KTS and
the training-free scorer; they are not GoogLeNet features, so models trained on GoogLeNet
features cannot read them.
"""

from __future__ import annotations

import math

import numpy as np

from vidsum.backbones.base import BackboneSpec, resize_frames

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


SPEC = BackboneSpec(
    name="fallback",
    weights_name=None,
    dim=FALLBACK_DIM,
    input_size=(224, 224),
    preprocessing={"text": "RGB; whole frame resized to 112x112 (cv2 INTER_AREA); blocks L2-normalised"},
    feature_name="fallback-colour-texture",
    layer="hsv-hist-8x4x4 + grid4-rgb-mean-std + grid4-orient8-hist",
    description="weight-free colour + layout + texture statistics",
    frame_features=fallback_features,
)
