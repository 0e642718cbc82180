from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.videogen import make_video

RAY_STORE_BYTES = 256 * 1024 * 1024  # the test cluster's object store: small, the machine is shared


@pytest.fixture(scope="session", autouse=True)
def _offline_isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tests never download weights and never see the user's cache or $VIDSUM_MODEL."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDSUM_OFFLINE", "1")
        mp.setenv("VIDSUM_CACHE", str(tmp_path_factory.mktemp("vidsum-cache")))
        mp.delenv("VIDSUM_MODEL", raising=False)
        mp.delenv("VIDSUM_DEBUG", raising=False)
        yield


@pytest.fixture(scope="session")
def cut_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """A 12 s 320x240 30 fps H.264 + AAC mp4 with cuts at 3, 6 and 9 s."""
    path = tmp_path_factory.mktemp("videos") / "cuts.mp4"
    cuts = make_video(path, durations=(3.0, 3.0, 3.0, 3.0))
    return path, cuts


@pytest.fixture(scope="session")
def real_videos() -> Path:
    """Folder of real footage named by VIDSUM_TEST_VIDEOS; the test is skipped when unset."""
    folder = os.environ.get("VIDSUM_TEST_VIDEOS")
    if not folder or not Path(folder).is_dir():
        pytest.skip("VIDSUM_TEST_VIDEOS is not set to a folder of real videos")
    return Path(folder)


@pytest.fixture(scope="session")
def ray_address() -> Any:
    """One local Ray cluster (2 CPUs) for the whole test session: Ray starts slowly on 2 cores.

    Yields its address, for drivers in subprocesses; skipped when Ray is not installed.
    """
    ray = pytest.importorskip("ray")
    ctx = ray.init(num_cpus=2, include_dashboard=False, object_store_memory=RAY_STORE_BYTES, logging_level="warning")
    try:
        yield ctx.address_info["gcs_address"]
    finally:
        ray.shutdown()
