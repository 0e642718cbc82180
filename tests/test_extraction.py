"""Batch feature extraction (`vidsum.extraction`): collection of inputs, schema of the output, skipping
bad videos, resuming, equality with the single-video extractor, and surviving kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.videogen import make_video
from vidsum import extraction
from vidsum.data import load_datasets, read_file_attrs
from vidsum.errors import InputError, OutputError, UsageError
from vidsum.video import sample_indices

GOOD = {"alpha": (1.5, 1.5), "beta": (2.0, 1.0, 1.0), "gamma": (3.0,), "delta": (1.0, 2.0)}
SIZE = (128, 96)  # tiny frames: decoding is not what these tests measure


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alpha/beta/gamma at the top, delta in a subfolder, a text file named .mp4, a truncated mp4
    (no index) and a non-video file that folder expansion must ignore."""
    root = tmp_path_factory.mktemp("batch_videos")
    (root / "sub").mkdir()
    for name, durations in GOOD.items():
        folder = root / "sub" if name == "delta" else root
        make_video(folder / f"{name}.mp4", durations=durations, size=SIZE, audio=name != "gamma")
    (root / "notes.txt").write_text("not a video")
    (root / "text.mp4").write_text("this is text, not a video\n" * 50)
    data = (root / "alpha.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])
    return root


@pytest.fixture(scope="module")
def extractor():  # type: ignore[no-untyped-def]
    from vidsum.features import make_extractor

    return make_extractor(allow_download=False)  # the weight-free fallback (no weights offline)


def _read_all(path: Path) -> dict[str, dict[str, np.ndarray]]:
    with h5py.File(path, "r") as h5:
        return {g: {k: h5[g][k][()] for k in h5[g]} for g in h5}


def _assert_same_file(a: Path, b: Path) -> None:
    da, db = _read_all(a), _read_all(b)
    assert sorted(da) == sorted(db)
    for g in da:
        assert sorted(da[g]) == sorted(db[g]), g
        for k in da[g]:
            np.testing.assert_array_equal(da[g][k], db[g][k], err_msg=f"{g}/{k}")
    assert read_file_attrs(a) == read_file_attrs(b)


def test_collect_videos_folders_globs_lists(video_dir: Path, tmp_path: Path) -> None:
    found = extraction.collect_videos([video_dir])
    assert [p.relative_to(video_dir).as_posix() for p in found] == [
        "alpha.mp4", "beta.mp4", "gamma.mp4", "sub/delta.mp4", "text.mp4", "truncated.mp4"
    ]
    assert [p.name for p in extraction.collect_videos([str(video_dir / "**" / "d*.mp4")])] == ["delta.mp4"]
    lst = tmp_path / "list.txt"
    lst.write_text(f"# my videos\n{video_dir / 'gamma.mp4'}\n\n{os.path.relpath(video_dir / 'alpha.mp4', tmp_path)}\nmissing.mp4\n")
    got = extraction.collect_videos([video_dir / "alpha.mp4"], lst)
    # alpha given twice (argument and list, relative to the list's folder) is kept once; the
    # missing file is kept so that the batch lists it as failed
    assert [p.name for p in got] == ["alpha.mp4", "gamma.mp4", "missing.mp4"]
    assert got[2] == tmp_path / "missing.mp4"
    with pytest.raises(InputError, match="list file not found"):
        extraction.collect_videos([], tmp_path / "nope.txt")


def test_batch_writes_schema_and_lists_bad_videos(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "features.h5"
    videos = extraction.collect_videos([video_dir]) + [tmp_path / "missing.mp4"]
    seen: list[tuple[str, float, float | None]] = []
    res = extraction.extract_batch(videos, out, extractor=extractor, workers=2, progress=lambda s, d, t: seen.append((s, d, t)))
    assert sorted(res.extracted) == sorted(GOOD)
    assert sorted(p.name for p, _ in res.failed) == ["missing.mp4", "text.mp4", "truncated.mp4"]
    reasons = {p.name: r for p, r in res.failed}
    assert "not found" in reasons["missing.mp4"] and "text.mp4" in reasons["text.mp4"]
    assert not extraction.parts_dir(out).exists()

    records = load_datasets([out], require_annotations=False)
    assert sorted(records) == sorted(f"features/{n}" for n in GOOD)
    assert read_file_attrs(out)["extractor"] == extractor.describe(2.0)
    with h5py.File(out) as h5:
        for name, durations in GOOD.items():
            g = h5[name]
            assert set(g) == {
                "features", "picks", "n_frames", "n_steps", "change_points", "n_frame_per_seg",
                "fps", "duration", "video_name", "source_path",
            }
            n_frames = int(round(sum(durations) * 30))
            assert g["n_frames"][()] == n_frames and g["fps"][()] == pytest.approx(30.0)
            assert g["duration"][()] == pytest.approx(sum(durations))
            np.testing.assert_array_equal(g["picks"][()], sample_indices(n_frames, 30.0, 2.0))
            assert g["features"].shape == (g["picks"].shape[0], extractor.dim)
            assert g["n_steps"][()] == g["picks"].shape[0]
            assert g["video_name"][()] == name.encode()
            assert Path(g["source_path"][()].decode()).name == f"{name}.mp4"
            cps = g["change_points"][()]
            assert cps[0, 0] == 0 and cps[-1, 1] == n_frames - 1
    # the progress reached the end of both stages
    assert max(d for s, d, _ in seen if s == "videos") == len(videos)
    frames = [(d, t) for s, d, t in seen if s == "frames"]
    assert frames[-1][0] == res.sampled_frames == sum(len(r.picks) for r in records.values())


def test_batch_features_equal_single_video_extraction(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    """The whole point of issue 4: features of a batch are exactly what `summarize` computes."""
    out = tmp_path / "f.h5"
    extraction.extract_batch([video_dir / "beta.mp4", video_dir / "sub" / "delta.mp4"], out, extractor=extractor, workers=2)
    with h5py.File(out) as h5:
        for name, path in (("beta", video_dir / "beta.mp4"), ("delta", video_dir / "sub" / "delta.mp4")):
            single = extractor.extract(path)
            np.testing.assert_array_equal(h5[name]["features"][()], single.features)
            np.testing.assert_array_equal(h5[name]["picks"][()], single.picks)
            assert h5[name]["n_frames"][()] == single.info.n_frames


@pytest.mark.parametrize("workers, executor", [(1, "thread"), (3, "thread"), (2, "process")])
def test_workers_and_executors_agree(video_dir: Path, tmp_path: Path, extractor, workers: int, executor: str) -> None:  # type: ignore[no-untyped-def]
    videos = [video_dir / f"{n}.mp4" for n in ("alpha", "beta", "gamma")] + [video_dir / "text.mp4"]
    ref = tmp_path / "ref.h5"
    extraction.extract_batch(videos, ref, extractor=extractor, workers=2)
    out = tmp_path / "out.h5"
    res = extraction.extract_batch(videos, out, extractor=extractor, workers=workers, executor=executor)  # type: ignore[arg-type]
    assert [p.name for p, _ in res.failed] == ["text.mp4"]
    _assert_same_file(ref, out)


def test_rerun_skips_done_and_adds_new(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "f.h5"
    first = [video_dir / "alpha.mp4", video_dir / "gamma.mp4"]
    extraction.extract_batch(first, out, extractor=extractor)
    before = _read_all(out)
    mtime = out.stat().st_mtime_ns
    again = extraction.extract_batch(first, out, extractor=extractor)
    assert again.extracted == [] and sorted(again.skipped) == ["alpha", "gamma"] and again.sampled_frames == 0
    assert out.stat().st_mtime_ns == mtime  # nothing new: the file is not rewritten
    more = extraction.extract_batch(first + [video_dir / "beta.mp4"], out, extractor=extractor)
    assert more.extracted == ["beta"] and sorted(more.skipped) == ["alpha", "gamma"]
    after = _read_all(out)
    assert sorted(after) == ["alpha", "beta", "gamma"]
    for g in before:
        for k in before[g]:
            np.testing.assert_array_equal(before[g][k], after[g][k])
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a temporary file


def test_different_extractor_settings_are_refused(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "f.h5"
    extraction.extract_batch([video_dir / "alpha.mp4"], out, extractor=extractor)
    with pytest.raises(UsageError, match="different extractor"):
        extraction.extract_batch([video_dir / "beta.mp4"], out, extractor=extractor, sample_fps=1.0)


def test_input_checks(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match="does not exist"):
        extraction.extract_batch([video_dir / "alpha.mp4"], tmp_path / "no" / "f.h5", extractor=extractor)
    with pytest.raises(UsageError, match="same name 'alpha'"):
        extraction.extract_batch([video_dir / "alpha.mp4", tmp_path / "alpha.mkv"], tmp_path / "f.h5", extractor=extractor)
    with pytest.raises(UsageError, match="workers"):
        extraction.extract_batch([video_dir / "alpha.mp4"], tmp_path / "f.h5", extractor=extractor, workers=0)
    with h5py.File(tmp_path / "public.h5", "w") as h5:  # e.g. an eccv16 dataset: never modified
        h5.create_group("video_1")
    with pytest.raises(OutputError, match="not written by `vidsum features`"):
        extraction.extract_batch([video_dir / "alpha.mp4"], tmp_path / "public.h5", extractor=extractor)
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(OutputError, match="not a readable HDF5"):
        extraction.extract_batch([video_dir / "alpha.mp4"], tmp_path / "junk.h5", extractor=extractor)


def test_stale_temporaries_and_damaged_parts_are_discarded(video_dir: Path, tmp_path: Path, extractor) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "f.h5"
    parts = extraction.parts_dir(out)
    parts.mkdir()
    (parts / ".alpha.x1y2.part.h5").write_bytes(b"\x89HDF half written")  # a temporary of a killed run
    (parts / "beta.h5").write_bytes(b"garbage")  # cannot happen with atomic renames, but be safe
    res = extraction.extract_batch([video_dir / "alpha.mp4", video_dir / "beta.mp4"], out, extractor=extractor)
    assert sorted(res.extracted) == ["alpha", "beta"]
    assert not parts.exists()


class ToyExtractor:
    """A numpy-only extractor (4x4 grid of mean colours, 48-d): lets a subprocess run a batch
    without importing torch. With ``stall_dir``, every call stalls once a committed part file is
    in that folder, so a kill is sure to land mid-batch however fast the machine is."""

    dim, input_size = 48, (32, 32)

    def __init__(self, delay: float = 0.0, batch_size: int = 4, stall_dir: str | None = None) -> None:
        self.delay, self.batch_size, self.stall_dir = delay, batch_size, stall_dir

    def describe(self, sample_fps: float | None = None) -> dict:
        return {"name": "toy-grid-colour", "dim": self.dim, "weights_sha256": None, "sample_fps": sample_fps}

    def extract_frames(self, frames: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        parts = Path(self.stall_dir) if self.stall_dir else None
        if parts and parts.is_dir() and any(p.suffix == ".h5" and not p.name.startswith(".") for p in parts.iterdir()):
            time.sleep(120)  # the test kills the process long before this ends
        x = frames.reshape(len(frames), 4, 8, 4, 8, 3).astype(np.float32).mean(axis=(2, 4))
        return x.reshape(len(frames), -1) / 255.0


SLOW_RUN = """
import sys, time
from tests.test_extraction import ToyExtractor
import vidsum.extraction as extraction

merge = extraction.merge_parts


def stalled_merge(*args, **kwargs):
    time.sleep(120)  # the test kills the process long before this ends
    return merge(*args, **kwargs)


extraction.merge_parts = stalled_merge  # every part is written before the merge: a kill is sure to land
toy = ToyExtractor(delay=0.05, batch_size=2, stall_dir=str(extraction.parts_dir(sys.argv[1])))
extraction.extract_batch(sys.argv[2:], sys.argv[1], extractor=toy, workers=2, executor="EXECUTOR")
"""


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, "the batch finished before it could be killed; slow it down"
        assert time.monotonic() - t0 < timeout
        time.sleep(0.02)
    kids = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # decoder processes notice the parent's death and exit (no orphans left decoding forever)
    deadline = time.monotonic() + 10.0
    while any(Path(f"/proc/{k}").exists() and "(python" in Path(f"/proc/{k}/stat").read_text() for k in kids):
        assert time.monotonic() < deadline, "decoder processes outlived the killed batch"
        time.sleep(0.1)


@pytest.mark.parametrize("executor", ["thread", pytest.param("process", marks=pytest.mark.slow)])
def test_kill_9_mid_batch_then_rerun_equals_uninterrupted(video_dir: Path, tmp_path: Path, executor: str) -> None:
    extractor = ToyExtractor()
    videos = [str(video_dir / f"{n}.mp4") for n in ("alpha", "beta", "gamma")] + [str(video_dir / "sub" / "delta.mp4")]
    ref = tmp_path / "ref.h5"
    extraction.extract_batch(videos, ref, extractor=extractor)

    out = tmp_path / "out.h5"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    script = SLOW_RUN.replace("EXECUTOR", executor)
    # 1) killed after the first video is committed as a part: no output file yet, parts intact
    proc = subprocess.Popen([sys.executable, "-c", script, str(out), *videos[:2]], env=env)
    parts = extraction.parts_dir(out)
    _kill_when(proc, lambda: parts.is_dir() and any(p.suffix == ".h5" and not p.name.startswith(".") for p in parts.iterdir()))
    assert not out.exists()
    # 2) resumed and killed again while adding the rest; the first run's file must stay readable
    extraction.extract_batch(videos[:2], out, extractor=extractor)
    assert sorted(_read_all(out)) == ["alpha", "beta"]
    proc = subprocess.Popen([sys.executable, "-c", script, str(out), *videos], env=env)
    _kill_when(proc, lambda: parts.is_dir() and any(p.stem in ("gamma", "delta") for p in parts.iterdir()))
    with h5py.File(out) as h5:  # readable, and no group was touched
        assert sorted(h5) == ["alpha", "beta"]
    # 3) the same command again: the result equals the uninterrupted run
    res = extraction.extract_batch(videos, out, extractor=extractor)
    assert sorted(res.skipped + res.extracted) == ["alpha", "beta", "delta", "gamma"] and not res.failed
    _assert_same_file(ref, out)
    assert not parts.exists()
