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
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vidsum.config import FeaturesConfig, SummarizeConfig
from vidsum.device import resolve_device
from vidsum.errors import CheckpointError, InputError, UsageError, WeightsError
from vidsum.ffmpeg import find_ffmpeg
from vidsum.io import atomic_path, check_output, default_output, output_lock
from vidsum.progress import ProgressFn

log = logging.getLogger(__name__)

MIN_DURATION_S = 1.0  # seconds: shorter inputs have nothing to summarize
MIN_FRAMES = 2  # a single still frame is not a video
# Decoding runs ahead of the models while they load: chunks of this many sampled frames, at most
# DECODE_AHEAD frames (224x224 RGB, 150 KB each: 38 MB) waiting for the first forward pass.
DECODE_CHUNK = 8  # sampled frames per queue item
DECODE_AHEAD = 256  # sampled frames



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
    whose description ``described`` is then); ``features_config`` is what the features are made
    with (the backbone the checkpoint was trained on, when ``cfg.backbone`` is "auto"; None where
    only the scorer was loaded, as in a Ray worker); ``warnings`` go into every summary's JSON.
    """

    scorer: Any
    model_path: Path | None
    extractor: Any
    described: dict[str, Any]
    warnings: list[str]
    features_config: FeaturesConfig | None = None


def load_models(cfg: SummarizeConfig, describe: Callable[[FeaturesConfig], dict[str, Any]] | None = None) -> Models:
    """Load the scorer (checkpoint or training-free) and the feature extractor; check that they fit.

    ``describe``: the features are computed elsewhere (an executor's ``describe``, such as
    Ray's): it is called with the FeaturesConfig chosen here and returns the description of the
    features it will make, and no extractor is loaded.

    Raises WeightsError (``cfg.strict`` without a checkpoint or backbone) and CheckpointError
    (a checkpoint that cannot read these features, when it was asked for explicitly).
    """
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        log.warning(msg)

    device = str(resolve_device(cfg.device))
    from vidsum.features import compare_extractors, fallback_warning, is_fallback, make_extractor
    from vidsum.models import MODEL_ENV, load_scorer, resolve_model

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
    from vidsum.backbones import backbone_for_features

    backbone = cfg.backbone
    if backbone == "auto" and cfg.backbone_weights is None and model_path is not None:
        # the network the checkpoint was trained on (eccv16 files: the BVLC GoogLeNet)
        backbone = backbone_for_features(scorer.features) or "auto"
    # (the device as given: workers elsewhere resolve "auto" on their own machines)
    fcfg = FeaturesConfig(
        backbone=backbone, backbone_weights=cfg.backbone_weights, device=cfg.device, batch_size=cfg.batch_size,
        precision=cfg.precision, sample_fps=cfg.sample_fps, allow_fallback=not cfg.strict, frame_decoder=cfg.frame_decoder,
    )
    extractor = None
    if describe is None:
        extractor = make_extractor(dataclasses.replace(fcfg, device=device))
        described = dict(extractor.describe(cfg.sample_fps))
    else:
        described = dict(describe(fcfg))
    wanted = "bvlc-googlenet" if backbone in ("auto", "fallback") else backbone
    if extractor is not None and extractor.warning:
        warnings.append(extractor.warning)  # make_extractor has logged it; recorded for the JSON
    elif is_fallback(described):  # chosen for the checkpoint, or made elsewhere (an executor's workers)
        if cfg.strict and extractor is None:
            raise WeightsError(f"--strict: {fallback_warning(wanted, wanted, None)}")
        warnings.append(fallback_warning(wanted, wanted, None))
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
    return Models(scorer=scorer, model_path=model_path, extractor=extractor, described=described, warnings=warnings,
                  features_config=fcfg)


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
    capacity = selection.budget_capacity(cfg, info.n_frames, info.fps)
    if capacity < 1:
        raise UsageError(f"{src}: a {budget_s:.2f} s summary holds no whole frame at {info.fps:g} fps; ask for more")

    # Decoding starts now and runs while torch is imported and the models load (seconds; more
    # when CUDA starts); its queue bounds how far ahead it gets (DECODE_AHEAD frames).
    from vidsum import ffstream

    decoder = None
    # (features from an executor were decoded there, by the decoder this choice names for the file)
    decoder_name = ffstream.resolve_decoder(cfg.frame_decoder, info)
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
    capacity = max(1, selection.budget_capacity(cfg, n_frames, info.fps))

    # 3. shots
    with _timed(timings, "shots"):
        min_frames, longest = selection.shot_limits(capacity, info.fps, cfg.min_shot_s)
        shots = segmentation.segment_shots(
            x, picks, n_frames, info.fps, max_shot_s=cfg.max_shot_s, min_shot_s=cfg.min_shot_s,
            max_shot_frames=longest, progress=progress,
        )
        shots = selection.merge_short_shots(np.asarray(shots, dtype=np.int64), min_frames, longest)

    # 4. scores
    with _timed(timings, "scores"):
        step_scores = np.asarray(scorer.score(x, shots, picks, n_frames), dtype=np.float32)

    # 5. selection (the same knapsack as evaluation, in the summary policy of vidsum.selection)
    with _timed(timings, "selection"):
        chosen = selection.select_summary(step_scores, picks, shots, n_frames, info.fps, capacity, min_frames)
        selected, segments = chosen.selected, chosen.segments

    # 6. render + report, all into temporary files renamed together at the very end
    from vidsum.exports import EXPORTS, ExportContext
    from vidsum.exports.json_doc import build_document
    from vidsum.features import describe_name, is_fallback

    with contextlib.ExitStack() as stack:
        tmp_out = stack.enter_context(atomic_path(out))
        with _timed(timings, "render"):
            rendered = render_mod.render_summary(
                src, segments, tmp_out, fps=info.fps, has_audio=info.has_audio, fast=cfg.fast,
                progress=progress, overwrite=True, preset=cfg.preset, atomic=False,
            )
        if info.has_audio and not rendered.has_audio:
            warn(f"{src}: the input has audio but the summary clip has none")
        tmp_plot = stack.enter_context(atomic_path(plot_path)) if plot_path else None
        with _timed(timings, "report"):
            from vidsum.weights import sha256_file

            doc = build_document(
                input_path=src, duration_s=duration, fps=float(info.fps), n_frames=n_frames,
                width=int(info.width), height=int(info.height), sample_fps=cfg.sample_fps,
                picks=picks, scores=step_scores, shots=shots, shot_scores=chosen.shot_scores, selected=selected,
                backbone_name=describe_name(described), backbone_weights_sha256=described.get("weights_sha256"),
                backbone_fallback=is_fallback(described), backbone_precision=described.get("precision"),
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
