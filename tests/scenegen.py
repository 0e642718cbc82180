"""Generated eccv16-schema videos made of shots, for the model families' learning tests.

Every video is a sequence of shots. Most shots are "background": one content shared by every
video (a fixed direction) plus a small per-shot offset. The others ("events", ``event_share`` of
the shots, at least two per video) each show their own random content, seen nowhere else. The
annotators score event steps high and background low, and summarise by the 15 % knapsack, as
TVSum's did. So:

- a supervised family learns the planted rule (event vs. background) from gtscore;
- an unsupervised family is rewarded for it too: background steps are redundant (alike within
  and across shots) while each event is distinct, so diverse, representative selections and
  good reconstructions from few steps both favour the events.

Random scores put most of the budget on background shots, so F1 separates a model that learned
from one that did not (unlike ``tests.h5gen``, whose short shots make F1 uninformative).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from tests.h5gen import STEP, annotated_video

CONTENT_NORM = 3.0  # length of a shot's content vector
NOISE = 0.25  # per-dimension std of the step noise around the shot content


def _unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.normal(size=dim)
    return v / np.linalg.norm(v)


def background_direction(dim: int) -> np.ndarray:
    """The content every video's background shots share (fixed, independent of the video seed)."""
    return _unit(np.random.default_rng(4242), dim)


def video_from_shots(
    contents: np.ndarray, lengths: np.ndarray, importance: np.ndarray, rng: np.random.Generator, n_users: int = 5
) -> dict[str, np.ndarray]:
    """eccv16 arrays for shots of the given contents (n_shots, D), lengths in steps and importance."""
    steps = np.repeat(np.arange(len(lengths)), lengths)
    n_steps = steps.size
    dim = contents.shape[1]
    features = (contents[steps] + rng.normal(scale=NOISE, size=(n_steps, dim))).astype(np.float32)
    gt = np.clip(importance[steps] + rng.normal(scale=0.03, size=n_steps), 0.0, 1.0)
    ends = np.cumsum(lengths) * STEP
    cps = np.stack([ends - lengths * STEP, ends - 1], axis=1).astype(np.int64)
    return annotated_video(features, gt, cps, rng, n_users)


def scene_video(
    dim: int, seed: int, n_shots: int = 12, shot_steps: tuple[int, int] = (6, 12), event_share: float = 0.3
) -> dict[str, np.ndarray]:
    """One video of background and event shots (module docstring)."""
    rng = np.random.default_rng(seed)
    n_events = max(2, round(event_share * n_shots))
    events = np.zeros(n_shots, dtype=bool)
    events[rng.choice(n_shots, n_events, replace=False)] = True
    back = background_direction(dim)
    contents = np.stack(
        [_unit(rng, dim) if e else back + 0.15 * _unit(rng, dim) for e in events]
    ) * CONTENT_NORM
    lengths = rng.integers(shot_steps[0], shot_steps[1] + 1, size=n_shots)
    return video_from_shots(contents, lengths, np.where(events, 0.9, 0.1), rng)


def write_videos(path: Path, videos: list[dict[str, np.ndarray]], labels: bool = True) -> Path:
    """Write ``videos`` as groups video_1..video_N; ``labels=False`` keeps only the feature-file keys."""
    feature_keys = {"features", "picks", "n_frames", "change_points", "n_frame_per_seg", "n_steps"}
    with h5py.File(path, "w") as f:
        for i, arrays in enumerate(videos, start=1):
            g = f.create_group(f"video_{i}")
            for k, v in arrays.items():
                if labels or k in feature_keys:
                    g.create_dataset(k, data=v)
    return path


def make_scene_dataset(path: Path, n_videos: int = 16, dim: int = 32, seed: int = 0, labels: bool = True) -> Path:
    """An eccv16-schema file of ``n_videos`` scene videos; returns ``path``."""
    return write_videos(path, [scene_video(dim, seed * 1000 + i) for i in range(n_videos)], labels)


def repeated_shots_video(dim: int, seed: int, pattern: str = "ABACAADAA", shot_steps: int = 8) -> dict[str, np.ndarray]:
    """A video whose shots repeat contents: each letter of ``pattern`` is one shot of that content."""
    rng = np.random.default_rng(seed)
    letters = sorted(set(pattern))
    content = {c: _unit(rng, dim) * CONTENT_NORM for c in letters}
    contents = np.stack([content[c] for c in pattern])
    lengths = np.full(len(pattern), shot_steps)
    return video_from_shots(contents, lengths, np.full(len(pattern), 0.5), rng)


def fit(module, model, videos, epochs: int, lr: float, labels: bool = True, seed: int = 0) -> list[float]:
    """Train ``model`` of family ``module`` (objective or train_step) for ``epochs`` passes over
    ``videos`` [(features (T, D), gtscore (T,)) tensors]; returns each epoch's mean loss."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    step = getattr(module, "train_step", None)  # (model, optimizers, videos) -> float
    if step is not None:
        optimizers = module.make_optimizers(model, lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history = []
    for _ in range(epochs):
        losses = []
        for i in rng.permutation(len(videos)):
            x, y = videos[i]
            y = y if labels else None
            if step is not None:
                losses.append(step(model, optimizers, [(x, y)]))
                continue
            optimizer.zero_grad(set_to_none=True)
            loss = module.objective(model, x, y)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)))
    model.eval()
    return history
