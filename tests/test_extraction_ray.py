"""The Ray executor (`vidsum.extraction_ray`): the same features file as the local executor,
resumable after kill -9 of the driver by either executor, bounded retries, the pool plan, and a
clear line when Ray is not installed.

Tests marked ``ray`` share one local 2-CPU cluster per session (tests/conftest.py: ray_address).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.test_extraction import _assert_same_file, _kill_when, _read_all
from tests.videogen import make_video
from vidsum import extraction as batch
from vidsum.config import FeaturesConfig
from vidsum.errors import UsageError
from vidsum.extraction_ray import PoolPlan, RayOptions, plan_pool

GOOD = {"alpha": (1.5, 1.5), "beta": (2.0, 1.0, 1.0), "gamma": (3.0,), "delta": (1.0, 2.0)}
SIZE = (128, 96)


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four good videos (one in a subfolder) and a text file named .mp4."""
    root = tmp_path_factory.mktemp("ray_videos")
    (root / "sub").mkdir()
    for name, durations in GOOD.items():
        make_video((root / "sub" if name == "delta" else root) / f"{name}.mp4", durations=durations, size=SIZE)
    (root / "broken.mp4").write_text("this is text, not a video\n" * 50)
    return root


@pytest.fixture(scope="module")
def googlenet_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random GoogLeNet state dict (a custom file: the workers get its bytes from the object store)."""
    import torch

    from vidsum.backbones.googlenet import GoogLeNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ray_weights") / "random-googlenet.pth"
    torch.save(GoogLeNet(aux_logits=True).state_dict(), path)
    return path


def test_plan_pool_from_resources_and_flags() -> None:
    # a GPU cluster: one actor per GPU, the rest of the CPUs decode
    assert plan_pool({"CPU": 32.0, "GPU": 4.0}, RayOptions()) == PoolPlan(actors=4, cpus=1.0, gpus=1.0, inflight=32)
    # half a GPU each: two actors share a GPU
    assert plan_pool({"CPU": 16.0, "GPU": 2.0}, RayOptions(gpus_per_actor=0.5)).actors == 4
    # CPU only: half of the CPUs in actors of 2
    assert plan_pool({"CPU": 16.0}, RayOptions()) == PoolPlan(actors=4, cpus=2.0, gpus=0.0, inflight=12)
    assert plan_pool({"CPU": 2.0}, RayOptions()) == PoolPlan(actors=1, cpus=1.0, gpus=0.0, inflight=2)
    # flags win
    assert plan_pool({"CPU": 16.0, "GPU": 4.0}, RayOptions(actors=2, gpus_per_actor=0, cpus_per_actor=4)) == PoolPlan(
        actors=2, cpus=4.0, gpus=0.0, inflight=10
    )
    with pytest.raises(UsageError, match="has 0 GPU"):
        plan_pool({"CPU": 8.0}, RayOptions(gpus_per_actor=1))
    with pytest.raises(UsageError, match="ray-actors"):
        RayOptions(actors=0)


def test_without_ray_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidsum import extraction_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    with pytest.raises(UsageError, match=r"needs Ray, which is not installed; install it with: pip install 'vidsum\[ray\]'"):
        extraction_ray.import_ray()


@pytest.mark.ray
def test_ray_features_equal_local(ray_address: str, video_dir: Path, tmp_path: Path, googlenet_weights: Path) -> None:
    """GoogLeNet (random weights shipped through the object store) on a folder with a broken
    video: the same groups, picks, shots and (allclose) features as the local executor."""
    videos = batch.collect_videos([video_dir])
    local, remote = tmp_path / "local.h5", tmp_path / "ray.h5"
    res_local = batch.extract_batch(videos, local, backbone_weights=googlenet_weights, device="cpu", workers=2)
    seen: list[tuple[str, float, float | None]] = []
    res_ray = batch.extract_batch(
        videos, remote, backbone_weights=googlenet_weights, device="cpu", executor="ray",
        progress=lambda s, d, t: seen.append((s, d, t)),
    )
    assert sorted(res_ray.extracted) == sorted(res_local.extracted) == sorted(GOOD)
    assert [p.name for p, _ in res_ray.failed] == [p.name for p, _ in res_local.failed] == ["broken.mp4"]
    assert res_ray.failed[0][1] == res_local.failed[0][1]  # the same reason, from the same probe
    assert res_ray.sampled_frames == res_local.sampled_frames
    assert not batch.parts_dir(remote).exists()
    a, b = _read_all(local), _read_all(remote)
    assert sorted(a) == sorted(b)
    for g in a:
        assert sorted(a[g]) == sorted(b[g])
        for k in a[g]:
            if k == "features":
                np.testing.assert_allclose(b[g][k], a[g][k], rtol=1e-4, atol=1e-5, err_msg=g)
            else:
                np.testing.assert_array_equal(b[g][k], a[g][k], err_msg=f"{g}/{k}")
    with h5py.File(local) as fl, h5py.File(remote) as fr:
        assert fl.attrs["extractor"] == fr.attrs["extractor"]  # same backbone, weights hash, fps
        assert fr["alpha"]["features"].shape[1] == 1024
    assert max(d for s, d, _ in seen if s == "videos") == len(videos)
    assert max(d for s, d, _ in seen if s == "frames") == res_ray.sampled_frames


@pytest.mark.ray
def test_ray_decode_tasks_take_the_frame_decoder(ray_address: str, tmp_path: Path) -> None:
    """`--frame-decoder auto` on the Ray decode tasks, on an H.264 file with B-frames (where auto
    means pyav): the file the local OpenCV decoder gives, array for array. (That pyav really
    decodes there is checked for the local executor in tests/test_avstream.py; a task's stream
    cannot be watched from here.)"""
    video = tmp_path / "bframes.mp4"
    make_video(video, durations=(2.0, 2.0), size=SIZE, extra=["-preset", "veryfast", "-bf", "3"])
    local, remote = tmp_path / "local.h5", tmp_path / "ray.h5"
    batch.extract_batch([video], local, device="cpu", workers=1)
    res = batch.extract_batch([video], remote, FeaturesConfig(device="cpu", frame_decoder="auto"), executor="ray")
    assert res.extracted == ["bframes"] and not res.failed
    a, b = _read_all(local), _read_all(remote)
    for k in a["bframes"]:
        np.testing.assert_array_equal(b["bframes"][k], a["bframes"][k], err_msg=k)
    with pytest.raises(UsageError, match="frame_decoder must be one of"):
        FeaturesConfig(frame_decoder="gstreamer")


STALLED_RUN = """
import sys, time
import vidsum.extraction as batch
from vidsum.extraction_ray import RayExecutor, RayOptions

write = batch._write_part
def stalled_write(*args, **kwargs):
    n = write(*args, **kwargs)
    time.sleep(120)  # after the first committed part: the test kills this driver long before this ends
    return n

batch._write_part = stalled_write
if sys.argv[1] == "local":
    batch.extract_batch(sys.argv[3:], sys.argv[2], workers=2)
else:
    batch.extract_batch(sys.argv[3:], sys.argv[2], executor=RayExecutor(RayOptions(address=sys.argv[1])))
"""


@pytest.mark.ray
@pytest.mark.parametrize("killed, resumed", [("ray", "local"), pytest.param("local", "ray", marks=pytest.mark.slow)])
def test_kill_9_mid_run_resumes_with_the_other_executor(
    ray_address: str, video_dir: Path, tmp_path: Path, killed: str, resumed: str
) -> None:
    """The driver is killed (-9) after its first part file; the other executor finishes the run
    and the file equals an uninterrupted one (the weight-free feature: exact across executors)."""
    videos = [str(video_dir / f"{n}.mp4") for n in ("alpha", "beta", "gamma")] + [str(video_dir / "sub" / "delta.mp4")]
    ref = tmp_path / "ref.h5"
    batch.extract_batch(videos, ref)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "out.h5"
    parts = batch.parts_dir(out)
    mode = "local" if killed == "local" else ray_address
    proc = subprocess.Popen([sys.executable, "-c", STALLED_RUN, mode, str(out), *videos], env=env)
    _kill_when(proc, lambda: parts.is_dir() and any(p.suffix == ".h5" and not p.name.startswith(".") for p in parts.iterdir()), timeout=180)
    assert not out.exists()
    done = {p.stem for p in parts.iterdir() if p.suffix == ".h5" and not p.name.startswith(".")}
    assert 1 <= len(done) < len(videos)
    res = batch.extract_batch(videos, out, executor=resumed)
    assert sorted(res.skipped) == sorted(done) and not res.failed
    assert sorted(res.skipped + res.extracted) == ["alpha", "beta", "delta", "gamma"]
    _assert_same_file(ref, out)
    assert not parts.exists()


@pytest.mark.ray
def test_worker_crashes_are_retried_a_bounded_number_of_times(ray_address: str, video_dir: Path, tmp_path: Path) -> None:
    """A worker that dies once costs a retry; one that dies every time is listed as failed after
    1 + max_retries attempts, like a bad file, and the rest of the batch is unaffected."""
    import shutil

    from tests import ray_faults
    from vidsum.extraction_ray import RayExecutor

    flaky, doomed, good = tmp_path / "flaky.mp4", tmp_path / "crash.mp4", tmp_path / "gamma.mp4"
    for src, dst in (("alpha", flaky), ("beta", doomed), ("gamma", good)):
        shutil.copy(video_dir / f"{src}.mp4", dst)
    out = tmp_path / "f.h5"
    with RayExecutor(RayOptions(max_retries=2), decode=ray_faults.crashing_decode) as executor:
        res = batch.extract_batch([flaky, doomed, good], out, executor=executor)
    assert sorted(res.extracted) == ["flaky", "gamma"]
    assert [p for p, _ in res.failed] == [doomed] and "failed 3 time(s) on the Ray cluster" in res.failed[0][1]
    assert {p.name: Path(f"{p}.attempts").read_text() for p in (flaky, doomed, good)} == {
        "flaky.mp4": "11", "crash.mp4": "111", "gamma.mp4": "1"
    }
    ref = tmp_path / "ref.h5"
    batch.extract_batch([flaky, good], ref)
    _assert_same_file(ref, out)
