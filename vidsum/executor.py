"""What every feature-extraction executor implements (``Executor``) and hands back
(``ExtractionResult``); the driver is ``vidsum.extraction.extract_batch``.

An executor lives in its own module (``extraction.py`` has the local one, ``extraction_ray.py``
Ray's) and imports only this module and the stages it runs, never the driver; the driver finds
it by name in ``vidsum.extraction.EXECUTORS``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

from vidsum.config import FeaturesConfig
from vidsum.progress import ProgressFn

if TYPE_CHECKING:
    from vidsum.features import Features


@dataclasses.dataclass
class ExtractionResult:
    """One video's outcome from an Executor: ``features`` when it worked, else ``error`` (why not).

    ``n_sampled``: the sampled frames that went through the extractor (also for a failed video).
    """

    key: str
    path: Path
    features: "Features | None"
    error: str | None = None
    n_sampled: int = 0


class Executor(Protocol):
    """Runs extraction for many videos and yields each result as it finishes (any order).

    ``videos``: (key, path) pairs of readable videos. ``cfg`` rebuilds the extractor anywhere
    (a remote worker gets ``cfg.to_dict()``). ``progress("frames", done, total)`` as frames are
    featurised. ``infos``: key -> VideoInfo the driver already probed (may be ignored). An
    executor never raises for one bad video: it yields an ExtractionResult with ``error``.
    """

    def run(
        self,
        videos: Sequence[tuple[str, Path]],
        cfg: FeaturesConfig,
        progress: ProgressFn | None = None,
        infos: dict[str, Any] | None = None,
    ) -> Iterator[ExtractionResult]: ...


def expected_steps(info: Any, sample_fps: float) -> int:
    """Sampled frames expected from a probed video (an estimate for progress bars)."""
    try:
        from vidsum.video import sample_indices

        return int(len(sample_indices(info.n_frames, info.fps, sample_fps)))
    except Exception:  # an estimate for the progress bar only
        return max(1, int(round(float(info.duration) * sample_fps)))
