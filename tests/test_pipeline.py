"""vidsum.pipeline: helpers checked by hand, then end-to-end runs on generated videos with known cuts."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from vidsum.config import SummarizeConfig, from_dict
from vidsum.errors import CheckpointError, InputError, OutputError, UsageError, WeightsError
from vidsum.cli.summarize import parse_length
from vidsum.features import compare_extractors
from vidsum.io import default_output
from vidsum.models import resolve_model
from vidsum.selection import drop_isolated_short, merge_short_shots, shots_to_segments
from tests.videogen import add_subtitles, ffmpeg_exe, has_encoder, make_video
from tests.videogen import frame_count as _frame_count


# --- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("90", 90), ("1m30s", 90), ("2m", 120), ("1h", 3600), ("1h5m", 3900), ("1:30", 90),
     ("1:02:03", 3723), ("2.5s", 2.5), (" 45 s ", 45), ("1M", 60)],
)
def test_parse_length(text: str, seconds: float) -> None:
    assert parse_length(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "abc", "1m30x", "0s", "-5s", "1:2:3:4", "m5"])
def test_parse_length_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_length(text)


def test_config_rejects_bad_values_and_unknown_keys() -> None:
    with pytest.raises(UsageError):
        SummarizeConfig(budget=0.0)
    with pytest.raises(UsageError):
        SummarizeConfig(budget=1.5)
    with pytest.raises(UsageError):
        SummarizeConfig(device="tpu")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        SummarizeConfig(length_s=-1.0)
    with pytest.raises(UsageError, match="precision"):
        SummarizeConfig(precision="half")
    with pytest.raises(UsageError, match="preset"):
        SummarizeConfig(preset="fastest")
    with pytest.raises(UsageError, match="bogus"):
        from_dict(SummarizeConfig, {"budget": 0.2, "bogus": 1})
    assert from_dict(SummarizeConfig, {"budget": 0.2}).budget == 0.2


def test_merge_short_shots_by_hand() -> None:
    shots = np.array([[0, 59], [60, 69], [70, 149], [150, 154], [155, 299]], dtype=np.int64)
    # the 10-frame shot joins its shorter neighbour (60 frames, on the left); the 5-frame one joins
    # the 80-frame shot on its left, which is shorter than the 145-frame one on its right
    got = merge_short_shots(shots, min_frames=30, max_frames=1000)
    np.testing.assert_array_equal(got, [[0, 69], [70, 154], [155, 299]])
    # a merge that would exceed max_frames is not made; the short shot stays on its own
    got = merge_short_shots(np.array([[0, 99], [100, 104], [105, 204]]), min_frames=30, max_frames=100)
    np.testing.assert_array_equal(got, [[0, 99], [100, 104], [105, 204]])
    # coverage is preserved exactly, on random cases
    rng = np.random.default_rng(0)
    for _ in range(50):
        cuts = np.sort(rng.choice(np.arange(1, 500), size=rng.integers(1, 40), replace=False))
        bounds = np.r_[0, cuts, 500]
        shots = np.stack([bounds[:-1], bounds[1:] - 1], axis=1)
        got = merge_short_shots(shots, min_frames=20, max_frames=10_000)
        assert got[0, 0] == 0 and got[-1, 1] == 499
        assert np.all(got[1:, 0] == got[:-1, 1] + 1)
        if len(got) > 1:
            assert np.all(got[:, 1] - got[:, 0] + 1 >= 20)


def test_drop_isolated_short_and_segments() -> None:
    shots = np.array([[0, 9], [10, 99], [100, 104], [105, 199], [200, 204]], dtype=np.int64)
    sel = np.array([True, False, True, True, False])
    # [0, 9] is short and alone -> dropped; [100, 104] is short but joined to [105, 199] -> kept
    keep = drop_isolated_short(shots, sel, min_frames=30)
    np.testing.assert_array_equal(keep, [False, False, True, True, False])
    assert shots_to_segments(shots, keep, fps=25.0) == [(4.0, 8.0)]
    # never empties the summary
    only = np.array([True, False, False, False, False])
    np.testing.assert_array_equal(drop_isolated_short(shots, only, 30), only)
    assert shots_to_segments(shots, sel, fps=10.0) == [(0.0, 1.0), (10.0, 20.0)]


def test_compare_extractors() -> None:
    used = {"name": "googlenet-pool5", "dim": 1024, "preprocess": "imagenet", "device": "cpu"}
    assert compare_extractors(dict(used, device="cuda"), used, Path("m.pt")) is None
    # a model trained on fp32 features reads bf16/fp16 ones without a warning (they differ by < 1 %)
    assert compare_extractors(dict(used, precision="fp32"), dict(used, precision="bf16"), Path("m.pt")) is None
    with pytest.raises(CheckpointError, match="512-d"):
        compare_extractors({"name": "x", "dim": 512}, used, Path("m.pt"))
    assert "unknown" not in (compare_extractors({"name": "other", "dim": 1024}, used, Path("m.pt")) or "")
    assert "other" in (compare_extractors({"name": "other", "dim": 1024}, used, Path("m.pt")) or "")
    assert "does not record" in (compare_extractors(None, used, Path("m.pt")) or "")


def test_resolve_model_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, env = tmp_path / "a.pt", tmp_path / "b.pt"
    explicit.write_bytes(b"x")
    env.write_bytes(b"x")
    monkeypatch.setenv("VIDSUM_MODEL", str(env))
    assert resolve_model(str(explicit)) == (explicit, "--model")
    assert resolve_model(None) == (env, "$VIDSUM_MODEL")
    with pytest.raises(CheckpointError):
        resolve_model(str(tmp_path / "missing.pt"))
    monkeypatch.setenv("VIDSUM_MODEL", str(tmp_path / "missing.pt"))
    with pytest.raises(CheckpointError, match="VIDSUM_MODEL"):
        resolve_model(None)


def test_default_output() -> None:
    assert default_output(Path("/x/talk.mkv")) == Path("/x/talk.summary.mp4")


# --- end to end on generated videos -----------------------------------------------------------

from vidsum.pipeline import summarize  # noqa: E402

FPS = 30.0  # frame rate of the conftest cut_video


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No network, no user cache, no $VIDSUM_MODEL: the fresh-machine path unless a test says otherwise."""
    monkeypatch.setenv("VIDSUM_OFFLINE", "1")
    monkeypatch.setenv("VIDSUM_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("VIDSUM_MODEL", raising=False)


def _media_info(path: Path) -> tuple[float, bool]:
    """(container duration in seconds, has audio) read back with `ffmpeg -i`, independently of vidsum."""
    import re

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    h, m, s = re.search(r"Duration:\s*(\d+):(\d+):([\d.]+)", proc.stderr).groups()  # type: ignore[union-attr]
    return int(h) * 3600 + int(m) * 60 + float(s), "Audio:" in proc.stderr


def test_summarize_fallback_path(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, cuts = cut_video
    out = tmp_path / "sum.mp4"
    stages: set[str] = set()
    s = summarize(src, SummarizeConfig(output=str(out), length_s=3.0, plot_path=str(tmp_path / "p.png")),
                  progress=lambda stage, done, total: stages.add(stage))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "sum.json", "sum.mp4"]
    assert {"features", "kts", "render"} <= stages
    # the known cuts (3, 6, 9 s) survive as shot boundaries, within one sampled frame (15 frames)
    starts = s.shots[:, 0]
    for cut in cuts:
        assert np.min(np.abs(starts - cut * FPS)) <= 15, (cut, starts)
    # shots tile the video; the selection fits the 3 s budget; no isolated flash under 1 s
    assert s.shots[0, 0] == 0 and s.shots[-1, 1] == s.n_frames - 1
    assert np.all(s.shots[1:, 0] == s.shots[:-1, 1] + 1)
    lengths = s.shots[:, 1] - s.shots[:, 0] + 1
    chosen_frames = int(lengths[s.selected].sum())
    assert 0 < chosen_frames <= 3.0 * FPS
    assert all(e - a >= 1.0 - 1e-9 for a, e in s.segments)
    # the clip: duration = the chosen frames (one frame of slack for the container), with audio
    n = _frame_count(out)
    assert n == chosen_frames
    duration, has_audio = _media_info(out)
    # one AAC frame (1024 samples, 23 ms) of slack: the audio track may end a little after the video
    assert abs(duration - chosen_frames / FPS) <= 0.03 and has_audio and s.has_audio
    assert s.summary_duration_s <= 3.0 + 0.03
    # the JSON agrees with the clip and records the fallbacks
    doc = json.loads((tmp_path / "sum.json").read_text())
    shots = doc["shots"]
    assert len(shots) == len(s.shots)
    sel = [sh for sh in shots if sh["selected"]]
    assert sum(sh["end_frame"] - sh["start_frame"] + 1 for sh in sel) == chosen_frames
    assert sum(sh["end_s"] - sh["start_s"] for sh in sel) == pytest.approx(chosen_frames / FPS, abs=1e-6)
    assert doc["summary"]["duration_s"] == pytest.approx(duration, abs=0.01)
    assert doc["summary"]["n_frames"] == chosen_frames
    text = json.dumps(doc)
    assert "training-free" in text and "fallback" in text
    # the ffmpeg that cut the clip, as the policy chose it (tests follow VIDSUM_FFMPEG too)
    from vidsum.ffmpeg import find_ffmpeg

    assert doc["ffmpeg"] == find_ffmpeg().to_dict() and doc["ffmpeg"]["version"]
    assert len(s.warnings) == 2


@pytest.mark.parametrize("vcodec,suffix,subs", [("libx265", ".mkv", "srt"), ("libx264", ".mp4", "mov_text")])
def test_summarize_hevc_and_subtitle_streams(tmp_path: Path, vcodec: str, suffix: str, subs: str) -> None:
    """Subtitle streams are ignored (not cut, not copied); HEVC input renders to H.264 with its audio."""
    if not has_encoder(vcodec):
        pytest.skip(f"this ffmpeg has no {vcodec} encoder")
    plain = tmp_path / f"plain{suffix}"
    make_video(plain, durations=(2.0, 2.0, 2.0), fps=25, size=(96, 64), audio=True, vcodec=vcodec)
    src = add_subtitles(plain, tmp_path / f"with_subs{suffix}", codec=subs)
    assert "Subtitle:" in subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(src)], capture_output=True, text=True).stderr
    out = tmp_path / "sum.mp4"
    s = summarize(src, SummarizeConfig(output=str(out), length_s=2.0))
    lengths = s.shots[:, 1] - s.shots[:, 0] + 1
    chosen = int(lengths[s.selected].sum())
    assert s.n_frames == 150 and 0 < chosen <= 50 and _frame_count(out) == chosen
    header = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    assert "Video: h264" in header and "Audio: aac" in header and "Subtitle:" not in header


def test_budget_fraction_and_whole_video_length(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, _ = cut_video
    s = summarize(src, SummarizeConfig(output=str(tmp_path / "a.mp4"), budget=0.25))
    lengths = s.shots[:, 1] - s.shots[:, 0] + 1
    assert 0 < lengths[s.selected].sum() <= int(0.25 * s.n_frames)
    assert s.budget_s == pytest.approx(0.25 * s.input_duration_s)
    # asking for more than the video: the whole video (every shot, even a zero-score one), with a warning
    small = tmp_path / "small.mp4"
    make_video(small, durations=(1.5, 1.5), size=(64, 48))
    s = summarize(small, SummarizeConfig(output=str(tmp_path / "b.mp4"), length_s=60.0))
    assert s.selected.all() and any("whole video" in w for w in s.warnings)
    assert s.n_frames == 90 and _frame_count(tmp_path / "b.mp4") == 90


def _tiny_checkpoint(path: Path, dim: int, features_info: dict) -> Path:
    import torch

    from vidsum.checkpoint import save_checkpoint
    from vidsum.config import ModelConfig
    from vidsum.models.dmasum import DMASum

    torch.manual_seed(0)
    cfg = ModelConfig(input_dim=dim, d_model=16, layers_visual=1, layers_sequential=1, lstm_hidden=8,
                      lstm_layers=1, head_hidden=16, dropout=0.0)
    return save_checkpoint(path, DMASum(cfg), cfg, features_info)


def test_summarize_with_tiny_dmasum_checkpoint(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    from vidsum.models import load_model, predict
    from vidsum.features import FallbackExtractor

    src, _ = cut_video
    described = FallbackExtractor().describe(2.0)
    ckpt = _tiny_checkpoint(tmp_path / "tiny.pt", FallbackExtractor.dim, described)
    out = tmp_path / "out" / "m.mp4"
    out.parent.mkdir()
    # The OpenCV decoder, as Extractor.extract below uses (the ffmpeg one differs by pixel rounding).
    s = summarize(src, SummarizeConfig(output=str(out), model=str(ckpt), length_s=3.0, frame_decoder="opencv"))
    assert s.model == str(ckpt)
    # the scores are the model's: recompute them from the features the extractor gives
    feats = FallbackExtractor().extract(src, sample_fps=2.0)
    model, _ = load_model(ckpt)
    np.testing.assert_allclose(s.step_scores, predict(model, feats.features, "cpu"), atol=1e-5)
    # only the fallback-feature warning: the checkpoint matches the extractor in use
    assert len(s.warnings) == 1 and "fallback" in s.warnings[0]
    assert "tiny.pt" in (out.with_suffix(".json")).read_text()


def test_checkpoint_of_other_feature_size(cut_video: tuple[Path, list[float]], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    src, _ = cut_video
    ckpt = _tiny_checkpoint(tmp_path / "g.pt", 1024, {"backbone": "googlenet-imagenet", "dim": 1024})
    out = tmp_path / "x.mp4"
    threads = threading.active_count()
    with pytest.raises(CheckpointError, match="1024-d"):
        summarize(src, SummarizeConfig(output=str(out), model=str(ckpt)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pt"]
    assert threading.active_count() == threads  # the decoder started before the models is stopped
    # found on its own in the user cache: a warning and the training-free scorer instead
    cache = tmp_path / "cache"
    cache.mkdir()
    ckpt.rename(cache / "dmasum-tvsum.pt")
    monkeypatch.setenv("VIDSUM_CACHE", str(cache))
    assert resolve_model(None) == (cache / "dmasum-tvsum.pt", "user cache")
    s = summarize(src, SummarizeConfig(output=str(out)))
    assert s.model is None and any("1024-d" in w and "training-free" in w for w in s.warnings)
    with pytest.raises(WeightsError):  # --strict: neither fallback is allowed
        summarize(src, SummarizeConfig(output=str(out), strict=True, overwrite=True))


@pytest.mark.parametrize("stage", ["features", "render"])
def test_interrupt_leaves_nothing(cut_video: tuple[Path, list[float]], tmp_path: Path, stage: str) -> None:
    src, _ = cut_video
    (tmp_path / "old.mp4").write_bytes(b"previous summary")

    def progress(name: str, done: float, total: float | None) -> None:
        if name == stage and done > 0:
            raise KeyboardInterrupt

    threads = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        summarize(src, SummarizeConfig(output=str(tmp_path / "old.mp4"), overwrite=True,
                                       plot_path=str(tmp_path / "p.png")), progress=progress)
    assert threading.active_count() == threads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]
    assert (tmp_path / "old.mp4").read_bytes() == b"previous summary"


def test_overwrite_replaces(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, _ = cut_video
    out = tmp_path / "o.mp4"
    out.write_bytes(b"old")
    with pytest.raises(OutputError, match="already exists"):
        summarize(src, SummarizeConfig(output=str(out)))
    assert out.read_bytes() == b"old"
    summarize(src, SummarizeConfig(output=str(out), overwrite=True))
    assert _frame_count(out) > 0


def test_strict_without_weights(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    src, _ = cut_video
    with pytest.raises(WeightsError, match="--strict"):
        summarize(src, SummarizeConfig(output=str(tmp_path / "s.mp4"), strict=True))
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_raise_before_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        summarize(tmp_path / "none.mp4", SummarizeConfig(output=str(tmp_path / "o.mp4")))
    (tmp_path / "t.mp4").write_text("hello")
    with pytest.raises(InputError):
        summarize(tmp_path / "t.mp4", SummarizeConfig(output=str(tmp_path / "o.mp4")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.mp4"]


def test_truncated_video_uses_the_frames_that_decode(tmp_path: Path) -> None:
    full = tmp_path / "full.mkv"  # Matroska: its index is at the start, so half a file still decodes
    make_video(full, durations=(2.0, 2.0, 2.0), size=(96, 64))
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    s = summarize(cut, SummarizeConfig(output=str(tmp_path / "c.mp4")))
    assert 30 < s.n_frames < 170  # fewer than the 180 frames the header declares
    assert any("truncated" in w for w in s.warnings)
    assert _frame_count(tmp_path / "c.mp4") == int((s.shots[:, 1] - s.shots[:, 0] + 1)[s.selected].sum())


def test_budget_capacity_by_hand() -> None:
    from vidsum.selection import budget_capacity

    assert budget_capacity(SummarizeConfig(), 1000, 30.0) == 150  # floor(0.15 * 1000)
    assert budget_capacity(SummarizeConfig(budget=0.1), 999, 30.0) == 99
    assert budget_capacity(SummarizeConfig(length_s=3.0), 1000, 30.0) == 90
    assert budget_capacity(SummarizeConfig(length_s=0.7), 1000, 29.97) == 20  # 20.98 frames
    assert budget_capacity(SummarizeConfig(length_s=90.0), 1000, 30.0) == 1000  # capped at the video


def test_budget_is_filled_by_several_shots(cut_video: tuple[Path, list[float]], tmp_path: Path) -> None:
    """No shot longer than a third of the budget: a 6 s budget over 3 s scenes is not one scene."""
    src, _ = cut_video
    s = summarize(src, SummarizeConfig(output=str(tmp_path / "f.mp4"), length_s=6.0))
    lengths = s.shots[:, 1] - s.shots[:, 0] + 1
    assert lengths.max() <= 6.0 * FPS / 3
    assert s.n_selected >= 3
    assert lengths[s.selected].sum() == 180  # the knapsack fills the budget exactly
