"""Collection summaries (`vidsum.collection`): output names that cannot collide and stay stable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.videogen import make_video
from vidsum.collection import assign_names


def _h(p: Path) -> str:
    return hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:8]


def test_names_unique_stable_and_case_insensitive(tmp_path: Path) -> None:
    a1, a2, b, c_upper, c_lower = (
        tmp_path / "x" / "a.mp4", tmp_path / "y" / "a.mkv", tmp_path / "b.mp4", tmp_path / "C.mp4", tmp_path / "z" / "c.webm",
    )
    names = assign_names([a1, a2, b, c_upper, c_lower])
    assert names[str(b.resolve())] == "b"
    # same stems (also differing only in case, which macOS/Windows file systems merge) get hashes
    assert names[str(a1.resolve())] == f"a-{_h(a1)}" and names[str(a2.resolve())] == f"a-{_h(a2)}"
    assert names[str(c_upper.resolve())] == f"C-{_h(c_upper)}" and names[str(c_lower.resolve())] == f"c-{_h(c_lower)}"
    assert len({n.casefold() for n in names.values()}) == 5
    # a later run keeps the names an earlier run gave, and a newcomer cannot take one of them
    later = assign_names([b, tmp_path / "w" / "b.mp4"], known={str(b.resolve()): "b"})
    assert later[str(b.resolve())] == "b"
    assert later[str((tmp_path / "w" / "b.mp4").resolve())] == f"b-{_h(tmp_path / 'w' / 'b.mp4')}"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three good videos, two of them named a.mp4 in different folders, and a broken one."""
    root = tmp_path_factory.mktemp("collection")
    (root / "x").mkdir()
    (root / "y").mkdir()
    make_video(root / "x" / "a.mp4", durations=(2.0, 2.0), size=(128, 96))
    make_video(root / "y" / "a.mp4", durations=(1.5, 1.5, 1.0), size=(128, 96), audio=False)
    make_video(root / "b.mp4", durations=(3.0, 2.0), size=(128, 96))
    (root / "broken.mp4").write_text("not a video\n" * 40)
    return root


def _check_outputs(outdir: Path, root: Path) -> dict[str, dict]:
    """One clip + JSON per good video, the index says so, the broken one is listed with its reason."""
    index = json.loads((outdir / "index.json").read_text())
    rows = {Path(r["input"]).relative_to(root.resolve()).as_posix(): r for r in index["videos"]}
    assert sorted(rows) == ["b.mp4", "broken.mp4", "x/a.mp4", "y/a.mp4"]
    assert index["counts"] == {"ok": 3, "failed": 1, "pending": 0}
    assert rows["broken.mp4"]["status"] == "failed" and "broken.mp4" in rows["broken.mp4"]["error"]
    docs = {}
    for rel in ("b.mp4", "x/a.mp4", "y/a.mp4"):
        r = rows[rel]
        assert r["status"] == "ok" and r["error"] is None
        assert Path(r["output"]).parent == outdir and Path(r["output"]).stat().st_size > 0
        doc = json.loads(Path(r["json"]).read_text())
        assert Path(doc["input"]["path"]).resolve() == (root / rel).resolve()
        assert r["duration_s"] == pytest.approx(doc["input"]["duration_s"], abs=1e-3)
        assert 0 < r["summary_duration_s"] < r["duration_s"]
        docs[rel] = doc
    assert rows["b.mp4"]["name"] == "b" and rows["x/a.mp4"]["name"] != rows["y/a.mp4"]["name"]
    assert sorted(p.name for p in outdir.iterdir() if not p.name.startswith(".")) == sorted(
        ["index.json"] + [f"{rows[r]['name']}.summary.{ext}" for r in ("b.mp4", "x/a.mp4", "y/a.mp4") for ext in ("mp4", "json")]
    )
    return docs


def test_collection_summaries_index_resume_and_models_loaded_once(collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidsum import features, models
    from vidsum.collection import summarize_collection
    from vidsum.extraction import collect_videos

    calls = {"extractor": 0, "scorer": 0}
    make, load = features.make_extractor, models.load_scorer

    def counting_make(*a, **k):  # type: ignore[no-untyped-def]
        calls["extractor"] += 1
        return make(*a, **k)

    def counting_load(*a, **k):  # type: ignore[no-untyped-def]
        calls["scorer"] += 1
        return load(*a, **k)

    monkeypatch.setattr(features, "make_extractor", counting_make)
    monkeypatch.setattr(models, "load_scorer", counting_load)
    outdir = tmp_path / "summaries"
    seen: list[tuple[str, float, float | None]] = []
    res = summarize_collection(collect_videos([collection]), outdir, progress=lambda s, d, t: seen.append((s, d, t)))
    assert calls == {"extractor": 1, "scorer": 1}
    assert len(res.summarized) == 3 and [p.name for p, _ in res.failed] == ["broken.mp4"]
    _check_outputs(outdir, collection)
    assert ("videos", 4, 4) in seen and any(s == "frames" for s, _, _ in seen)

    # resumed: the finished videos are skipped (their files untouched), the broken one tried again
    clip = outdir / "b.summary.mp4"
    mtime = clip.stat().st_mtime_ns
    again = summarize_collection(collect_videos([collection]), outdir)
    assert len(again.skipped) == 3 and not again.summarized and len(again.failed) == 1
    assert clip.stat().st_mtime_ns == mtime
    _check_outputs(outdir, collection)


def test_collection_cli(collection: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vidsum.cli import app

    outdir = tmp_path / "out"
    res = CliRunner().invoke(app, ["summarize", str(collection / "x"), str(collection / "y"), str(collection / "b.mp4"),
                                   str(collection / "broken.mp4"), "-o", f"{outdir}/", "--length", "1s"])
    assert res.exit_code == 1, res.output  # a video failed; the others are done
    assert "3 summarized, 0 already done, 1 failed" in res.output and "broken.mp4" in res.output
    docs = _check_outputs(outdir, collection)
    assert all(d["budget"]["seconds"] == 1.0 for d in docs.values())
    res = CliRunner().invoke(app, ["summarize", str(collection), "-o", str(outdir), "--plot", str(tmp_path / "p.png")])
    assert res.exit_code == 2 and "--json and --plot name one file" in res.output


@pytest.mark.ray
def test_collection_on_ray_equals_local(ray_address: str, collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--executor ray`: one clip + JSON per good video and the index, made on the cluster; the
    same shots, scores and selection as the local executor (the weight-free feature is exact on both)."""
    from vidsum.collection import summarize_collection
    from vidsum.extraction import collect_videos
    from vidsum.extraction_ray import RayExecutor

    from vidsum import pipeline

    videos = collect_videos([collection])
    summarize_collection(videos, tmp_path / "local", workers=1)

    def not_here(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("with Ray the summaries are made by tasks on the cluster, not by the driver")

    monkeypatch.setattr(pipeline, "summarize", not_here)  # the workers are other processes
    with RayExecutor() as executor:
        res = summarize_collection(videos, tmp_path / "ray", executor=executor)
    assert len(res.summarized) == 3 and [p.name for p, _ in res.failed] == ["broken.mp4"]
    local, remote = _check_outputs(tmp_path / "local", collection), _check_outputs(tmp_path / "ray", collection)
    for rel in local:
        for key in ("input", "sampling", "backbone", "scores", "shots", "budget"):
            assert remote[rel][key] == local[rel][key], (rel, key)
