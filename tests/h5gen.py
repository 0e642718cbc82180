"""Generate small HDF5 files in the public eccv16 schema (SumMe/TVSum/OVP/YouTube layout).

With ``signal=True`` the ground-truth importance is a fixed function of the features, so a model
that learns anything must beat random scores; with ``signal=False`` scores are noise.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from vidsum.selection import budget_frames, select_shots, summary_from_selection

STEP = 15  # frames between picks: 2 samples/s at 30 fps, as in the public datasets


def _shots(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Random inclusive (start, end) shots of 30-150 frames covering [0, n_frames - 1]."""
    bounds = [0]
    while bounds[-1] < n_frames:
        bounds.append(bounds[-1] + int(rng.integers(30, 151)))
    bounds[-1] = n_frames
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < 15:
        bounds.pop(-2)
    return np.array([[a, b - 1] for a, b in zip(bounds[:-1], bounds[1:])], dtype=np.int64)


def make_video_arrays(
    n_steps: int,
    dim: int = 1024,
    n_users: int = 5,
    signal: bool = True,
    seed: int = 0,
    direction: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Arrays for one video group. Features follow a random walk so neighbouring steps look alike."""
    rng = np.random.default_rng(seed)
    n_frames = n_steps * STEP
    walk = np.cumsum(rng.normal(size=(n_steps, dim)), axis=0) * 0.05
    features = (rng.normal(size=(n_steps, dim)) * 0.5 + walk).astype(np.float32)
    if direction is None:
        direction = np.random.default_rng(12345).normal(size=dim)
    if signal:
        z = features @ direction / np.sqrt(dim)
        gt = 1.0 / (1.0 + np.exp(-(z - z.mean()) / (z.std() + 1e-8) * 2.0))
    else:
        gt = rng.random(n_steps)
    gt = (gt - gt.min()) / (gt.max() - gt.min() + 1e-12)
    cps = _shots(n_frames, rng)
    return annotated_video(features, gt, cps, rng, n_users)


def annotated_video(
    features: np.ndarray, gt: np.ndarray, cps: np.ndarray, rng: np.random.Generator, n_users: int = 5
) -> dict[str, np.ndarray]:
    """The eccv16 arrays of a video: features (n_steps, D), step importance gt (n_steps,) in [0, 1]
    and shots cps (n_shots, 2) inclusive frames, one step every STEP frames; ``n_users``
    annotators score frames by gt plus noise and summarise them with the 15 % knapsack."""
    n_steps = features.shape[0]
    n_frames = n_steps * STEP
    frame_gt = np.repeat(gt, STEP)[:n_frames]
    user_scores = np.clip(frame_gt[None, :] * 4 + 1 + rng.normal(scale=0.7, size=(n_users, n_frames)), 1, 5)
    # Each user's summary is their scores pushed through the 15 % shot knapsack, as TVSum's were.
    user_summary = np.stack(
        [summary_from_selection(select_shots(u, cps, budget_frames(n_frames)), cps, n_frames) for u in user_scores]
    ).astype(np.float32)
    gtsummary = (user_summary.mean(0) >= 0.5).astype(np.float32)
    return {
        "features": features,
        "gtscore": gt.astype(np.float32),
        "user_summary": user_summary,
        "user_scores": user_scores.astype(np.float32),
        "change_points": cps,
        "n_frame_per_seg": (cps[:, 1] - cps[:, 0] + 1).astype(np.int64),
        "n_frames": np.array(n_frames),
        "picks": np.arange(n_steps, dtype=np.int64) * STEP,
        "n_steps": np.array(n_steps),
        "gtsummary": gtsummary,
    }


def make_dataset(
    path: Path,
    n_videos: int = 6,
    steps: tuple[int, int] = (40, 80),
    dim: int = 1024,
    n_users: int = 5,
    signal: bool = True,
    seed: int = 0,
    user_scores: bool = True,
) -> Path:
    """Write an eccv16-schema file with groups video_1..video_N; returns ``path``."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for i in range(1, n_videos + 1):
            arrays = make_video_arrays(
                int(rng.integers(steps[0], steps[1] + 1)), dim, n_users, signal, seed * 1000 + i
            )
            g = f.create_group(f"video_{i}")
            for k, v in arrays.items():
                if k == "user_scores" and not user_scores:
                    continue
                g.create_dataset(k, data=v)
            g.create_dataset("video_name", data=np.bytes_(f"generated video {i}"))
    return path
