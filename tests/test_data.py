from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest

from tests.h5gen import make_dataset, make_video_arrays
from vidsum.data import (
    load_datasets,
    load_predictions,
    read_file_attrs,
    resolve_key,
    write_predictions,
    write_video_group,
)
from vidsum.errors import DatasetError


@pytest.fixture
def tvsum(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "tvsum.h5", n_videos=3, steps=(20, 30), dim=16)


def test_load_reads_the_schema(tvsum: Path) -> None:
    records = load_datasets([tvsum])
    assert list(records) == ["tvsum/video_1", "tvsum/video_2", "tvsum/video_3"]
    with h5py.File(tvsum) as f:
        g = f["video_2"]
        rec = records["tvsum/video_2"]
        assert rec.key == "tvsum/video_2" and rec.group == "video_2" and rec.source == tvsum
        np.testing.assert_array_equal(rec.features, g["features"][()])
        assert rec.features.dtype == np.float32 and rec.features.shape == (int(g["n_steps"][()]), 16)
        assert rec.picks.dtype == np.int64 and rec.n_frames == int(g["n_frames"][()])
        np.testing.assert_array_equal(rec.change_points, g["change_points"][()])
        assert rec.user_summary is not None and rec.user_summary.shape == (5, rec.n_frames)
        assert rec.user_scores is not None and rec.gtscore is not None and rec.gtsummary is not None
        assert rec.video_name == "generated video 2"
        assert rec.fps is None and rec.duration is None


def test_natural_order_and_several_files(tmp_path: Path) -> None:
    a = make_dataset(tmp_path / "a.h5", n_videos=11, steps=(5, 6), dim=4)
    b = make_dataset(tmp_path / "b.h5", n_videos=1, steps=(5, 6), dim=4, user_scores=False)
    keys = list(load_datasets([b, a]))
    assert keys[:3] == ["b/video_1", "a/video_1", "a/video_2"]
    assert keys[-2:] == ["a/video_10", "a/video_11"]  # not alphabetical (video_10 after video_9)
    (tmp_path / "sub").mkdir()
    same_stem = make_dataset(tmp_path / "sub" / "a.h5", n_videos=1, steps=(5, 6), dim=4)
    with pytest.raises(DatasetError, match="same name stem"):
        load_datasets([a, same_stem])


def test_not_hdf5_and_missing_file(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.h5"
    bogus.write_text("this is not HDF5\n")
    with pytest.raises(DatasetError, match=r"notes\.h5: not a readable HDF5 file"):
        load_datasets([bogus])
    with pytest.raises(DatasetError, match="file not found"):
        load_datasets([tmp_path / "nope.h5"])
    empty = tmp_path / "empty.h5"
    h5py.File(empty, "w").close()
    with pytest.raises(DatasetError, match="no video groups"):
        load_datasets([empty])


def _corrupt(tmp_path: Path, change: Callable[[h5py.Group], None]) -> Path:
    path = make_dataset(tmp_path / "bad.h5", n_videos=2, steps=(20, 30), dim=8)
    with h5py.File(path, "a") as f:
        change(f["video_2"])
    return path


def _replace(key: str, value: np.ndarray) -> Callable[[h5py.Group], None]:
    def change(g: h5py.Group) -> None:
        del g[key]
        g.create_dataset(key, data=value)

    return change


@pytest.mark.parametrize(
    "change, key, cause",
    [
        (lambda g: g.__delitem__("features"), "features", "missing"),
        (lambda g: g.__delitem__("user_summary"), "user_summary", "missing"),
        (_replace("features", np.zeros((7, 8), np.float32)), "n_steps", "says"),
        (lambda g: g["features"].__setitem__((3, 2), np.nan), "features", "NaN or inf"),
        (lambda g: g["gtscore"].__setitem__(0, np.inf), "gtscore", "NaN or inf"),
        (_replace("gtscore", np.zeros(3, np.float32)), "gtscore", "shape"),
        (_replace("user_summary", np.zeros((2, 5), np.float32)), "user_summary", "shape"),
        (lambda g: g["user_summary"].__setitem__((0, 0), 0.5), "user_summary", "other than 0 and 1"),
        (lambda g: g["picks"].__setitem__(-1, 10**6), "picks", "out of range"),
        (lambda g: g["picks"].__setitem__(1, 0), "picks", "not strictly increasing"),
        (lambda g: g["change_points"].__setitem__((-1, 1), 5), "change_points", "span frames"),
        (lambda g: g["change_points"].__setitem__((1, 0), g["change_points"][1, 0] + 2), "change_points", "tile"),
        (_replace("change_points", np.zeros(4, np.int64)), "change_points", "2-D"),
        (_replace("n_frames", np.array([1.5])), "n_frames", "integer"),
    ],
)
def test_schema_errors_name_file_video_and_key(
    tmp_path: Path, change: Callable[[h5py.Group], None], key: str, cause: str
) -> None:
    path = _corrupt(tmp_path, change)
    with pytest.raises(DatasetError) as err:
        load_datasets([path])
    msg = str(err.value)
    assert str(path) in msg and "'video_2'" in msg and f"key {key!r}" in msg, msg
    assert cause in msg, msg
    assert "Fix" in msg


def test_feature_only_files_and_write_video_group(tmp_path: Path) -> None:
    arrays = make_video_arrays(12, dim=8, seed=1)
    path = tmp_path / "feats.h5"
    with h5py.File(path, "w") as f:
        f.attrs["extractor"] = json.dumps({"name": "googlenet-pool5", "dim": 8})
        f.attrs["version"] = np.bytes_(b"0.1.0")
        write_video_group(
            f,
            "video_1",
            features=arrays["features"],
            picks=arrays["picks"],
            n_frames=int(arrays["n_frames"]),
            change_points=arrays["change_points"],
            video_name="clip one",
            extra={"fps": 29.97, "duration": 6.0, "source_path": "/videos/clip one.mp4"},
        )
        g = f["video_1"]
        assert int(g["n_steps"][()]) == 12
        np.testing.assert_array_equal(
            g["n_frame_per_seg"][()], arrays["change_points"][:, 1] - arrays["change_points"][:, 0] + 1
        )
        assert g["source_path"][()] == b"/videos/clip one.mp4"
    with pytest.raises(DatasetError, match="'gtscore'.*missing"):
        load_datasets([path])
    rec = load_datasets([path], require_annotations=False)["feats/video_1"]
    assert rec.gtscore is None and rec.user_summary is None
    assert rec.fps == pytest.approx(29.97) and rec.duration == 6.0 and rec.video_name == "clip one"
    assert read_file_attrs(path) == {"extractor": {"name": "googlenet-pool5", "dim": 8}, "version": "0.1.0"}


def test_write_video_group_round_trip_with_annotations(tmp_path: Path) -> None:
    arrays = make_video_arrays(15, dim=8, seed=2)
    path = tmp_path / "full.h5"
    with h5py.File(path, "w") as f:
        kwargs = {k: arrays[k] for k in ("features", "picks", "change_points", "gtscore", "user_summary", "user_scores", "gtsummary")}
        write_video_group(f, "video_1", n_frames=int(arrays["n_frames"]), **kwargs)
        write_video_group(f, "video_1", n_frames=int(arrays["n_frames"]), **kwargs)  # replaces, no error
    rec = load_datasets([path])["full/video_1"]
    for key in ("features", "picks", "change_points", "gtscore", "user_summary", "user_scores", "gtsummary"):
        np.testing.assert_allclose(getattr(rec, key), arrays[key], err_msg=key)
    assert read_file_attrs(path) == {}


def test_write_video_group_validates_before_writing(tmp_path: Path) -> None:
    arrays = make_video_arrays(10, dim=8, seed=3)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        with pytest.raises(DatasetError, match="'picks'"):
            write_video_group(
                f, "video_1", features=arrays["features"], picks=arrays["picks"][:5],
                n_frames=int(arrays["n_frames"]), change_points=arrays["change_points"],
            )
        with pytest.raises(DatasetError, match="shadow"):
            write_video_group(
                f, "video_1", features=arrays["features"], picks=arrays["picks"],
                n_frames=int(arrays["n_frames"]), change_points=arrays["change_points"], extra={"picks": 1},
            )
        assert "video_1" not in f


def test_resolve_key(tmp_path: Path) -> None:
    records = {"tvsum/video_1": 0, "tvsum/video_2": 0, "summe/video_1": 0}
    assert resolve_key("tvsum/video_1", records) == "tvsum/video_1"
    assert resolve_key("video_2", records) == "tvsum/video_2"
    assert resolve_key("/runs/x/summe/video_1", records) == "summe/video_1"
    with pytest.raises(DatasetError, match="ambiguous"):
        resolve_key("video_1", records)
    with pytest.raises(DatasetError, match="not in the loaded datasets"):
        resolve_key("video_9", records)
    with pytest.raises(DatasetError, match="not in the loaded datasets"):
        resolve_key("ovp/video_2", records)


def test_predictions_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "pred.h5"
    write_predictions(path, {"tvsum/video_10": np.ones(3), "tvsum/video_2": np.arange(4.0)})
    loaded = load_predictions(path)
    assert list(loaded) == ["tvsum/video_2", "tvsum/video_10"]
    np.testing.assert_array_equal(loaded["tvsum/video_2"], [0, 1, 2, 3])
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.create_dataset("video_1/scores", data=np.zeros(5))
    assert list(load_predictions(tmp_path / "plain.h5")) == ["video_1"]
    with h5py.File(tmp_path / "nan.h5", "w") as f:
        f.create_dataset("video_1/scores", data=np.array([0.0, np.nan]))
    with pytest.raises(DatasetError, match="NaN"):
        load_predictions(tmp_path / "nan.h5")
    with h5py.File(tmp_path / "none.h5", "w") as f:
        f.create_dataset("video_1/other", data=np.zeros(5))
    with pytest.raises(DatasetError, match="no per-video 'scores'"):
        load_predictions(tmp_path / "none.h5")
