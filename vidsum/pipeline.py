"""`summarize(path, cfg) -> Summary`: one video file in, a summary clip + JSON (+ plot) out.

Wires the stages together and owns no UI:

    probe -> features (n_steps, dim) -> KTS shots (n_shots, 2) -> step scores (n_steps,)
          -> frame/shot scores -> knapsack selection -> render (clip) -> report (JSON, PNG)

Everything that can be checked cheaply (input file, output paths, checkpoint, extractor) is
checked before the slow work starts, and every output is written to a temporary file beside its
destination and renamed only when all of them are complete, so an error or Ctrl-C leaves no
partial or clobbered file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import re
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidsum.config import SummarizeConfig
from vidsum.device import resolve_device
from vidsum.errors import CheckpointError, InputError, OutputError, UsageError, WeightsError
from vidsum.ffmpeg import find_ffmpeg
from vidsum.io import atomic_path, check_output, default_output, output_lock
from vidsum.progress import ProgressFn

log = logging.getLogger(__name__)

MIN_DURATION_S = 1.0  # seconds: shorter inputs have nothing to summarize
MIN_FRAMES = 2  # a single still frame is not a video
SHOTS_PER_BUDGET = 3  # no shot longer than budget / 3, when the minimum shot length allows
# Decoding runs ahead of the models while they load: chunks of this many sampled frames, at most
# DECODE_AHEAD frames (224x224 RGB, 150 KB each: 38 MB) waiting for the first forward pass.
DECODE_CHUNK = 8  # sampled frames per queue item
DECODE_AHEAD = 256  # sampled frames
MODEL_ENV = "VIDSUM_MODEL"  # checkpoint path override, below --model
CHECKPOINT_NAMES = ("dmasum-tvsum.pt", "dmasum-summe.pt")  # in weights/ or the cache, first found wins (weights/README.md)

_LENGTH_RE = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


@dataclasses.dataclass(frozen=True)
class Summary:
    """What ``summarize`` wrote and chose.

    ``shots`` is (n_shots, 2) int64 inclusive frame ranges; ``selected`` (n_shots,) bool;
    ``segments`` the rendered [(start_s, end_s)] time ranges (adjacent selected shots joined).
    """

    input: Path
    output: Path
    json_path: Path
    plot_path: Path | None
    input_duration_s: float
    summary_duration_s: float
    budget_s: float
    n_frames: int
    fps: float
    shots: np.ndarray
    selected: np.ndarray
    segments: list[tuple[float, float]]
    step_scores: np.ndarray
    has_audio: bool
    model: str | None  # checkpoint path, None for the training-free scorer
    extractor: dict[str, Any]
    warnings: list[str]
    timings: dict[str, float]
    exports: dict[str, Path] = dataclasses.field(default_factory=dict)  # format -> file (--export)

    @property
    def n_selected(self) -> int:
        return int(self.selected.sum())


def parse_length(text: str) -> float:
    """Parse a summary length: "90s", "90", "1m30s", "2m", "1h5m", "1:30" or "1:02:03" -> seconds."""
    raw = text.strip().lower().replace(" ", "")
    seconds: float | None = None
    if ":" in raw:
        parts = raw.split(":")
        if 2 <= len(parts) <= 3 and all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + float(p)
    else:
        m = _LENGTH_RE.match(raw)
        if raw and m and any(m.group(k) for k in "hms"):
            seconds = sum(float(m.group(k) or 0) * f for k, f in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds is None:
        raise UsageError(f"cannot read the length {text!r}; write it like 90s, 1m30s, 2m or 1:30")
    if seconds <= 0:
        raise UsageError(f"the summary length must be positive, got {text!r}")
    return seconds


def resolve_model(model: str | None) -> tuple[Path | None, str]:
    """Pick the DMASum checkpoint: explicit > $VIDSUM_MODEL > project weights/ > user cache > None.

    Returns (path or None, where it came from). An explicit path or $VIDSUM_MODEL that does not
    exist is an error, not a silent fallback.
    """
    if model:
        p = Path(model).expanduser()
        if not p.is_file():
            raise CheckpointError(f"{p}: --model names no checkpoint file; check the path or drop --model")
        return p, "--model"
    env = os.environ.get(MODEL_ENV, "").strip()
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise CheckpointError(f"{p}: ${MODEL_ENV} names no checkpoint file; fix or unset ${MODEL_ENV}")
        return p, f"${MODEL_ENV}"
    from vidsum.weights import cache_dir, project_dir

    for folder, where in ((project_dir(), "project weights/"), (cache_dir(), "user cache")):
        for name in CHECKPOINT_NAMES:
            if (folder / name).is_file():
                return folder / name, where
    return None, "training-free scorer"


def compare_extractors(ckpt: dict[str, Any] | None, used: dict[str, Any], model_path: Path) -> str | None:
    """Check the checkpoint's recorded feature extractor against the one in use.

    A different feature size is a CheckpointError (the model cannot read these features); a
    different or unrecorded extractor is returned as a warning (scores may be meaningless).
    """
    from vidsum.checkpoint import DATASET_FEATURES

    dim = used.get("dim")
    if ckpt and ckpt.get("backbone") == DATASET_FEATURES["backbone"] and used.get("backbone") == "bvlc-googlenet":
        # trained on the public eccv16 features, read with the official BVLC GoogLeNet in the
        # datasets' known convention (docs/features.md): the intended match, not a mismatch
        log.info("%s: trained on eccv16 features; extracting them with the official BVLC GoogLeNet", model_path)
        return None
    if not ckpt:
        return (
            f"{model_path}: the checkpoint does not record its feature extractor (a model trained on "
            "the public datasets' precomputed features, say); scores may not match these features"
        )
    if ckpt.get("dim") is not None and dim is not None and int(ckpt["dim"]) != int(dim):
        raise CheckpointError(
            f"{model_path}: the model expects {ckpt['dim']}-d features but the extractor in use gives "
            f"{dim}-d ({_name(used)}); pass the backbone weights it was trained with "
            "(--backbone-weights) or a checkpoint trained on these features"
        )
    from vidsum.features import RUNTIME_KEYS

    diff = sorted(k for k in set(ckpt) | set(used) if k not in RUNTIME_KEYS and ckpt.get(k) != used.get(k))
    if diff:
        return (
            f"{model_path}: trained on features from {_name(ckpt)} but "
            f"{_name(used)} is in use (differs in {', '.join(diff)}); "
            "the scores may be poor"
        )
    return None


def merge_short_shots(shots: np.ndarray, min_frames: int, max_frames: int) -> np.ndarray:
    """Merge shots shorter than ``min_frames`` into their shorter neighbour.

    A merge is skipped when it would make a shot longer than ``max_frames`` (the selection then
    drops the short shot if it stands alone). (n, 2) int64 inclusive -> (m, 2) int64, m <= n.
    """
    bounds = [list(map(int, s)) for s in shots]
    changed = True
    while changed and len(bounds) > 1:
        changed = False
        lengths = [b - a + 1 for a, b in bounds]
        order = np.argsort(lengths, kind="stable")
        for i in map(int, order):
            if lengths[i] >= min_frames:
                break
            cands = [j for j in (i - 1, i + 1) if 0 <= j < len(bounds)]
            cands = [j for j in cands if lengths[i] + lengths[j] <= max_frames]
            if not cands:
                continue
            j = min(cands, key=lambda k: lengths[k])
            a, b = min(i, j), max(i, j)
            bounds[a] = [bounds[a][0], bounds[b][1]]
            del bounds[b]
            changed = True
            break
    return np.asarray(bounds, dtype=np.int64).reshape(-1, 2)


def drop_isolated_short(shots: np.ndarray, selected: np.ndarray, min_frames: int) -> np.ndarray:
    """Unselect selected shots shorter than ``min_frames`` that no selected neighbour joins.

    A flash of a few frames between two unrelated shots is unwatchable; joined to an adjacent
    selected shot it plays as part of a longer segment and is kept. Never empties the summary.
    (n, 2) int64, (n,) bool -> (n,) bool.
    """
    keep = selected.copy()
    lengths = shots[:, 1] - shots[:, 0] + 1
    for i in np.flatnonzero(selected):
        joined = (i > 0 and selected[i - 1]) or (i + 1 < len(selected) and selected[i + 1])
        if lengths[i] < min_frames and not joined:
            keep[i] = False
    return keep if keep.any() else selected


def shots_to_segments(shots: np.ndarray, selected: np.ndarray, fps: float) -> list[tuple[float, float]]:
    """Selected inclusive frame ranges -> [(start_s, end_s)], adjacent shots joined."""
    segs: list[list[int]] = []
    for (a, b), sel in zip(shots.tolist(), selected.tolist()):
        if not sel:
            continue
        if segs and segs[-1][1] + 1 == a:
            segs[-1][1] = b
        else:
            segs.append([a, b])
    return [(a / fps, (b + 1) / fps) for a, b in segs]


def budget_capacity(cfg: SummarizeConfig, n_frames: int, fps: float) -> int:
    """Knapsack capacity in frames: floor(budget * n_frames) as in evaluation, or the frames in
    ``length_s`` seconds (at most the whole video)."""
    from vidsum.selection import budget_frames

    if cfg.length_s is None:
        return budget_frames(n_frames, cfg.budget)
    return min(n_frames, int(math.floor(cfg.length_s * fps + 1e-6)))  # 1e-6: 3.0 s * 30 fps is 90


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - t0, 4)


@dataclasses.dataclass
class Models:
    """The scorer and the backbone, loaded once for any number of videos (``load_models``).

    ``extractor`` is None when the features are computed elsewhere (an executor such as Ray's,
    whose description ``described`` is then); ``warnings`` go into every summary's JSON.
    """

    scorer: Any
    model_path: Path | None
    extractor: Any
    described: dict[str, Any]
    warnings: list[str]


def load_models(cfg: SummarizeConfig, described: dict[str, Any] | None = None) -> Models:
    """Load the scorer (checkpoint or training-free) and, unless ``described`` (the description
    of features computed elsewhere) is given, the feature extractor; check that they fit.

    Raises WeightsError (``cfg.strict`` without a checkpoint or backbone) and CheckpointError
    (a checkpoint that cannot read these features, when it was asked for explicitly).
    """
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        log.warning(msg)

    device = str(resolve_device(cfg.device))
    from vidsum.models import load_scorer

    model_path, model_source = resolve_model(cfg.model)
    if model_path is None:
        msg = (
            "no trained DMASum checkpoint found (--model, $VIDSUM_MODEL, weights/, user cache): using "
            "the training-free scorer (representativeness + diversity). To use DMASum, train one with "
            "`vidsum train --data tvsum.h5 --out runs/tvsum` and pass --model runs/tvsum/fold_0.pt "
            "(see weights/README.md)"
        )
        if cfg.strict:
            raise WeightsError(f"--strict: {msg}")
        warn(msg)
    # first: a broken checkpoint fails before the backbone loads
    scorer = load_scorer(model_path, device=device)
    extractor = None
    backbone = cfg.backbone
    if described is None:
        from vidsum.backbones import backbone_for_features
        from vidsum.features import make_extractor

        if backbone == "auto" and cfg.backbone_weights is None and model_path is not None:
            # the network the checkpoint was trained on (eccv16 files: the BVLC GoogLeNet)
            backbone = backbone_for_features(scorer.features) or "auto"
        extractor = make_extractor(
            backbone=backbone,
            backbone_weights=cfg.backbone_weights,
            device=device,
            batch_size=cfg.batch_size,
            allow_fallback=not cfg.strict,
            sample_fps=cfg.sample_fps,
            precision=cfg.precision,
        )
        described = dict(extractor.describe(cfg.sample_fps))
    wanted = "bvlc-googlenet" if backbone == "auto" else backbone
    if described is not None and extractor is None and cfg.strict and _is_fallback(described):
        raise WeightsError(
            f"--strict: no {wanted} weights (--backbone-weights, weights/ or the user cache); get them with "
            f"`vidsum weights download {wanted}`"
        )
    if _is_fallback(described):
        # make_extractor has already logged why; record it for the JSON without repeating it
        warnings.append(
            f"no {wanted} weights (--backbone-weights, weights/ or the user cache): using the weight-free "
            f"fallback feature ({_name(described)}); get the real backbone with "
            f"`vidsum weights download {wanted}`"
        )
    if model_path is not None:
        try:
            w = compare_extractors(scorer.features, described, model_path)
        except CheckpointError as exc:
            # A checkpoint found on its own (weights/, cache) must not break the no-network
            # path when only the weight-free feature is available: fall back, loudly.
            if model_source in ("--model", f"${MODEL_ENV}") or cfg.strict:
                raise
            w = f"{exc}; using the training-free scorer instead"
            scorer = load_scorer(None)
            model_path = None
        if w:
            warn(w)
    return Models(scorer=scorer, model_path=model_path, extractor=extractor, described=described, warnings=warnings)


def summarize(
    path: str | os.PathLike[str],
    cfg: SummarizeConfig | None = None,
    progress: ProgressFn | None = None,
    *,
    models: Models | None = None,
    features: Any = None,
) -> Summary:
    """Summarize the video at ``path`` into ``cfg.output`` (+ JSON, optional PNG).

    ``models``: from ``load_models``, to reuse them across videos (else loaded here, while the
    video starts decoding); ``features``: the video's ``vidsum.features.Features`` computed by an
    executor (else decoded and extracted here).

    Raises InputError / OutputError / UsageError / WeightsError / CheckpointError / ToolError
    with the cause and the fix; nothing is left on disk when it raises. Another run writing the
    same clip at the same time is refused (OutputError) rather than raced.
    """
    cfg = cfg or SummarizeConfig()
    src = Path(path).expanduser()
    with output_lock(Path(cfg.output).expanduser() if cfg.output else default_output(src)):
        return _summarize(src, cfg, progress, models, features)


def _summarize(
    path: Path, cfg: SummarizeConfig, progress: ProgressFn | None, models: Models | None, features: Any
) -> Summary:
    from vidsum import render as render_mod
    from vidsum import selection, segmentation, video

    cfg = cfg or SummarizeConfig()
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    warnings: list[str] = []

    def warn(msg: str) -> None:  # shown on the terminal (via logging) and kept for the JSON
        warnings.append(msg)
        log.warning(msg)

    src = Path(path).expanduser()
    out = Path(cfg.output).expanduser() if cfg.output else default_output(src)
    json_path = Path(cfg.json_path).expanduser() if cfg.json_path else out.with_suffix(".json")
    plot_path = Path(cfg.plot_path).expanduser() if cfg.plot_path else None

    # 1. everything cheap, before any slow work
    video.check_file(src)
    if out.suffix.lower() not in render_mod.CONTAINERS:
        raise UsageError(
            f"{out}: cannot write a '{out.suffix or '(no suffix)'}' clip; name it with one of "
            f"{', '.join(sorted(render_mod.CONTAINERS))} (e.g. {out.with_suffix('.mp4').name})"
        )
    if plot_path is not None:
        from vidsum.exports.plot import PLOT_FORMATS, check_plot_available

        if plot_path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
            raise UsageError(f"{plot_path}: --plot draws .png, .pdf or .svg pictures; name it with one of these")
        check_plot_available()
    taken: list[Path] = []
    for p, role in ((out, "summary clip"), (json_path, "JSON report"), (plot_path, "plot")):
        if p is not None:
            check_output(p, role, src, cfg.overwrite, taken)
            taken.append(p)
    export_plan: list[tuple[str, Path]] = []
    if cfg.exports:
        from vidsum.exports.outputs import parse_formats, plan_exports

        export_plan = plan_exports(parse_formats(cfg.exports), json_path, overwrite=cfg.overwrite, protect=[src], taken=taken)
    tool = find_ffmpeg()  # before any work: a missing or too old ffmpeg is one clear line
    with _timed(timings, "probe"):
        info = video.probe(src)
    if info.n_frames < MIN_FRAMES or info.duration < MIN_DURATION_S:
        raise InputError(
            f"{src}: too short to summarize ({info.n_frames} frame(s), {info.duration:.2f} s); "
            f"a summary needs at least {MIN_DURATION_S:g} s of video"
        )
    budget_s = min(cfg.length_s, info.duration) if cfg.length_s is not None else cfg.budget * info.duration
    if cfg.length_s is not None and cfg.length_s >= info.duration:
        warn(f"the requested length {cfg.length_s:g} s is not shorter than the video ({info.duration:.1f} s); the summary is the whole video")
    capacity = budget_capacity(cfg, info.n_frames, info.fps)
    if capacity < 1:
        raise UsageError(f"{src}: a {budget_s:.2f} s summary holds no whole frame at {info.fps:g} fps; ask for more")

    # Decoding starts now and runs while torch is imported and the models load (seconds; more
    # when CUDA starts); its queue bounds how far ahead it gets (DECODE_AHEAD frames).
    from vidsum import ffstream

    decoder = None
    # (features from an executor were decoded there, by OpenCV with exact picks)
    decoder_name = ffstream.resolve_decoder(cfg.frame_decoder) if features is None else "opencv"
    if features is None:
        decoder = video.Prefetcher(
            ffstream.open_frames(src, decoder_name, sample_fps=cfg.sample_fps, size=video.FRAME_SIZE, info=info),
            DECODE_CHUNK, DECODE_AHEAD // DECODE_CHUNK,
        )
    try:
        if models is None:
            with _timed(timings, "load_model"):
                models = load_models(cfg)
        warnings.extend(models.warnings)  # load_models has logged them; recorded for the JSON
        scorer, model_path, described = models.scorer, models.model_path, dict(models.described)

        # 2. the slow part: decode + features
        if features is None:
            if models.extractor is None:
                raise UsageError("summarize: these models were loaded without an extractor; pass the features")
            with _timed(timings, "features"):
                features = models.extractor.extract(src, sample_fps=cfg.sample_fps, progress=progress, decoder=decoder)
        feats = features
    finally:
        if decoder is not None:
            decoder.close()
    x = np.asarray(feats.features, dtype=np.float32)
    picks = np.asarray(feats.picks, dtype=np.int64)
    info = feats.info or info
    n_frames = int(info.n_frames)
    if feats.truncated:
        # video.py has already logged it; record it for the JSON without repeating it
        warnings.append(f"{src}: the video is truncated or damaged; summarized the {n_frames} frames that decode ({n_frames / info.fps:.1f} s)")
    if len(picks) < 2:
        raise InputError(f"{src}: only {len(picks)} frame(s) could be decoded; the file is damaged or not a video")
    duration = n_frames / info.fps
    budget_s = min(budget_s, duration)
    capacity = max(1, budget_capacity(cfg, n_frames, info.fps))

    # 3. shots
    with _timed(timings, "shots"):
        min_frames = min(int(round(cfg.min_shot_s * info.fps)), max(1, capacity // 2))
        # Shots longer than a third of the budget are split, so that the knapsack can fill the
        # budget with several moments (with 30 s shots a 45 s budget holds one 30 s shot).
        longest = max(capacity // SHOTS_PER_BUDGET, min(capacity, 2 * min_frames))
        shots = segmentation.segment_shots(
            x, picks, n_frames, info.fps, max_shot_s=cfg.max_shot_s, min_shot_s=cfg.min_shot_s,
            budget_frames=longest, progress=progress,
        )
        shots = merge_short_shots(np.asarray(shots, dtype=np.int64), min_frames, longest)

    # 4. scores
    with _timed(timings, "scores"):
        step_scores = np.asarray(scorer.score(x, shots, picks, n_frames), dtype=np.float32)

    # 5. selection (the same knapsack as evaluation)
    with _timed(timings, "selection"):
        frame_scores = selection.frame_scores_from_steps(step_scores, picks, n_frames)
        values = selection.shot_scores(frame_scores, shots)
        if capacity >= n_frames:  # the whole video was asked for; zero-score shots count too
            selected = np.ones(len(shots), dtype=bool)
        else:
            selected = np.asarray(selection.select_shots(frame_scores, shots, capacity), dtype=bool)
        selected = drop_isolated_short(shots, selected, min_frames)
        segments = shots_to_segments(shots, selected, info.fps)

    # 6. render + report, all into temporary files renamed together at the very end
    from vidsum.exports import EXPORTS, ExportContext
    from vidsum.exports.json_doc import build_document

    with contextlib.ExitStack() as stack:
        tmp_out = stack.enter_context(atomic_path(out))
        with _timed(timings, "render"):
            rendered = render_mod.render_summary(
                src, segments, tmp_out, fps=info.fps, has_audio=info.has_audio, fast=cfg.fast,
                progress=progress, overwrite=True, preset=cfg.preset,
            )
        if info.has_audio and not rendered.has_audio:
            warn(f"{src}: the input has audio but the summary clip has none")
        tmp_plot = stack.enter_context(atomic_path(plot_path)) if plot_path else None
        with _timed(timings, "report"):
            from vidsum.weights import sha256_file

            doc = build_document(
                input_path=src, duration_s=duration, fps=float(info.fps), n_frames=n_frames,
                width=int(info.width), height=int(info.height), sample_fps=cfg.sample_fps,
                picks=picks, scores=step_scores, shots=shots, shot_scores=values, selected=selected,
                backbone_name=_name(described), backbone_weights_sha256=described.get("weights_sha256"),
                backbone_fallback=_is_fallback(described), backbone_precision=described.get("precision"),
                backbone_preprocessing=described.get("preprocessing"),
                scorer=scorer.name,
                checkpoint_path=model_path, checkpoint_sha256=sha256_file(model_path) if model_path else None,
                budget_fraction=cfg.budget if cfg.length_s is None else None,
                budget_seconds=cfg.length_s, budget_frames=capacity, summary_path=out,
                summary_duration_s=float(rendered.duration_s), timings_s=timings, warnings=warnings,
                has_audio=bool(info.has_audio), fast=cfg.fast, ffmpeg=tool.to_dict(),
            )
            ctx = ExportContext(summary_json=json_path, source=src, clip=out)
            if tmp_plot is not None:
                EXPORTS["png"].write(doc, tmp_plot, ctx)
            # Which decoder chose the frames: with ffmpeg-noref the picks are the frames really
            # used, not exactly every (fps / sample_fps)-th (docs/output.md).
            doc["sampling"]["frame_decoder"] = decoder_name
            EXPORTS["json"].write(doc, stack.enter_context(atomic_path(json_path)), ctx)
        timings["total"] = round(time.perf_counter() - t_start, 4)
        summary = Summary(
            input=src, output=out, json_path=json_path, plot_path=plot_path,
            input_duration_s=duration, summary_duration_s=float(rendered.duration_s), budget_s=budget_s,
            n_frames=n_frames, fps=float(info.fps), shots=shots, selected=selected, segments=segments,
            step_scores=step_scores, has_audio=bool(rendered.has_audio),
            model=str(model_path) if model_path else None, extractor=described, warnings=warnings,
            timings=timings,
        )
    if export_plan:
        # After the clip and the JSON are in place: the formats read them (chapters go into the
        # clip), and a failing format must not take the finished summary with it.
        summary = dataclasses.replace(summary, exports=_write_exports(doc, export_plan, ExportContext(json_path, src, out)))
    return summary


def _write_exports(doc: dict[str, Any], plan: list[tuple[str, Path]], ctx: Any) -> dict[str, Path]:
    from vidsum.errors import VidsumError
    from vidsum.exports.outputs import write_exports

    try:
        return dict(zip((name for name, _ in plan), write_exports(doc, plan, ctx)))
    except VidsumError as exc:
        names = ",".join(name for name, _ in plan)
        raise type(exc)(
            f"{exc} (the clip {ctx.clip} and {ctx.summary_json} are complete; once the cause is fixed, "
            f"`vidsum export {ctx.summary_json} --format {names} --overwrite` writes the formats)"
        ) from exc


def _name(described: dict[str, Any]) -> str:
    return str(described.get("backbone") or described.get("name") or "an unrecorded extractor")


def _is_fallback(described: dict[str, Any]) -> bool:
    return bool(described.get("fallback")) or "fallback" in _name(described).lower()
