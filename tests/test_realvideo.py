"""`summarize` on real footage: every video in the folder named by $VIDSUM_TEST_VIDEOS.

    VIDSUM_TEST_VIDEOS=path/to/videos python -m pytest tests/test_realvideo.py -m realvideo -q

Skipped when the variable is unset (the default run). Videos are read in place, never copied into
the repository; outputs go to pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.videogen import ffmpeg_exe
from vidsum.config import SummarizeConfig
from vidsum.pipeline import summarize

pytestmark = pytest.mark.realvideo

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v"}


def _videos() -> list[Path]:
    folder = os.environ.get("VIDSUM_TEST_VIDEOS")
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def _duration_and_audio(path: Path) -> tuple[float, bool]:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    m = re.search(r"Duration:\s*(\d+):(\d+):([\d.]+)", proc.stderr)
    assert m, proc.stderr
    h, mi, s = m.groups()
    return int(h) * 3600 + int(mi) * 60 + float(s), "Audio:" in proc.stderr


@pytest.mark.parametrize("video", _videos() or [None], ids=lambda p: p.name if p else "none")
def test_real_video(real_videos: Path, video: Path | None, tmp_path: Path) -> None:
    if video is None:
        pytest.skip(f"no video files in {real_videos}")
    out = tmp_path / "summary.mp4"
    s = summarize(video, SummarizeConfig(output=str(out), plot_path=str(tmp_path / "plot.png")))
    assert out.is_file() and (tmp_path / "summary.json").is_file() and (tmp_path / "plot.png").is_file()
    lengths = s.shots[:, 1] - s.shots[:, 0] + 1
    chosen = int(lengths[s.selected].sum())
    assert 0 < chosen <= int(np.floor(0.15 * s.n_frames)) + 1
    duration, has_audio = _duration_and_audio(out)
    # frame-accurate cuts: the clip lasts as long as the chosen frames (audio padding aside)
    assert abs(duration - chosen / s.fps) <= 0.15, (duration, chosen / s.fps)
    _, src_audio = _duration_and_audio(video)
    assert has_audio == src_audio
    doc = json.loads((tmp_path / "summary.json").read_text())
    assert sum(sh["selected"] for sh in doc["shots"]) == s.n_selected
