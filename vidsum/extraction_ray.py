"""The Ray executor: feature extraction of a collection spread over a Ray cluster.

    driver                          cluster
    ------                          -------
    videos ------------------------> decode task per video (CPU): probe, then stream
                                      (picks, frames) chunks of sampled 224x224 frames
    chunks of several videos -------> backbone actors (a GPU each where there are GPUs): the
                                      weights are loaded once per actor; one call batches
                                      frames of several videos
    per-video features <------------ feature chunks
    part file + merge (vidsum.extraction.extract_batch), exactly as for the local executor

One unit of work is one video. Only plain data crosses to the cluster: paths, the features
options as a dict and the weight file's bytes (put once in the object store), so nothing of the
driver's state is pickled into a closure. The driver keeps the bookkeeping that makes a run
resumable (a part file per finished video, merged at the end), so a run killed at any moment,
driver included, is finished by the same command with either executor; Ray's own driver
fault tolerance is not used.

Failures: an error a video causes itself (not a video, damaged file) fails that video at once,
as in the local executor. A failure of the infrastructure (a worker or node died, an actor
crashed, an object was lost) restarts the video from its beginning, at most ``max_retries``
times; then it is listed as failed with the last cause.

Ray is optional (``pip install 'vidsum[ray]'``); this module imports it only when used.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from vidsum.errors import InputError, UsageError, VidsumError
from vidsum.progress import ProgressFn, report

if TYPE_CHECKING:
    from vidsum.video import VideoInfo

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'vidsum[ray]'"
ADDRESS_ENV = "RAY_ADDRESS"  # Ray's own variable: the cluster to join when --ray-address is not given
MAX_RETRIES = 2  # restarts of one video after infrastructure failures, before it is listed as failed
DECODE_CHUNK = 16  # sampled frames per object (224x224 RGB: 2.4 MB)
DECODE_AHEAD = 8  # objects a decode task may run ahead of the driver: 4 chunks (picks + frames), ~10 MB per video
CALLS_PER_ACTOR = 2  # backbone calls queued per actor: one running, the next one already shipped
CHUNKS_PER_CALL_MIN = 2  # a call takes at least this many chunks when they wait (frames of several videos)
ACTOR_RESTARTS = 3  # Ray restarts a crashed backbone actor (reloading its weights) this often
WAIT_S = 1.0  # seconds per ray.wait round; bounds how long a kill or a finished video goes unnoticed


def import_ray() -> Any:
    """The ``ray`` module, or a UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray, which is not installed; install it with: {INSTALL_HINT}") from None
    return ray


@dataclasses.dataclass(frozen=True)
class RayOptions:
    """Where and how wide the Ray executor runs. Every None is decided from the cluster.

    ``address``: the cluster to join ("auto", "ray://head:10001", "head:6379"); None: $RAY_ADDRESS,
    else a new local cluster. ``actors``: backbone actors (default: one per GPU, or on a CPU-only
    cluster half the CPUs in actors of ``cpus_per_actor``). ``gpus_per_actor``: default 1 where
    the cluster has GPUs, else 0 (fractions share a GPU). ``decode_cpus``: CPUs reserved per
    decode task. ``max_inflight``: videos decoding at once (default: the decode slots + actors).
    """

    address: str | None = None
    actors: int | None = None
    gpus_per_actor: float | None = None
    cpus_per_actor: float | None = None
    decode_cpus: float = 1.0
    max_retries: int = MAX_RETRIES
    max_inflight: int | None = None
    num_cpus: int | None = None  # CPUs of a local cluster started here (default: all)

    def __post_init__(self) -> None:
        if self.actors is not None and self.actors < 1:
            raise UsageError(f"--ray-actors must be >= 1, got {self.actors}")
        if self.gpus_per_actor is not None and self.gpus_per_actor < 0:
            raise UsageError(f"--ray-gpus-per-actor must be >= 0, got {self.gpus_per_actor}")
        if self.cpus_per_actor is not None and self.cpus_per_actor <= 0:
            raise UsageError(f"--ray-cpus-per-actor must be > 0, got {self.cpus_per_actor}")
        if not self.decode_cpus > 0:
            raise UsageError(f"decode_cpus must be > 0, got {self.decode_cpus}")
        if self.max_retries < 0:
            raise UsageError(f"--ray-retries must be >= 0, got {self.max_retries}")


@dataclasses.dataclass(frozen=True)
class PoolPlan:
    """The actor pool decided for a cluster: ``actors`` actors of ``cpus``/``gpus`` each."""

    actors: int
    cpus: float
    gpus: float
    inflight: int


def plan_pool(resources: dict[str, float], options: RayOptions) -> PoolPlan:
    """Size the backbone pool from the cluster's total resources ({"CPU": n, "GPU": m, ...}).

    With GPUs: one actor per ``gpus_per_actor`` (default 1) GPUs, 1 CPU each (they feed the GPU).
    CPU only: half the CPUs go to actors of 2 CPUs (1 below 4 CPUs), the rest decode. Flags win.
    """
    cpus = float(resources.get("CPU", 0.0))
    gpus = float(resources.get("GPU", 0.0))
    per_gpu = options.gpus_per_actor if options.gpus_per_actor is not None else (1.0 if gpus >= 1 else 0.0)
    if per_gpu > 0 and gpus < per_gpu:
        raise UsageError(
            f"--ray-gpus-per-actor {per_gpu:g} but the Ray cluster has {gpus:g} GPU(s); "
            "pass --ray-gpus-per-actor 0 to run the backbone on CPUs"
        )
    if per_gpu > 0:
        actor_cpus = options.cpus_per_actor or 1.0
        actors = options.actors or max(1, int(math.floor(gpus / per_gpu + 1e-9)))
    else:
        actor_cpus = options.cpus_per_actor or (1.0 if cpus < 4 else 2.0)
        actors = options.actors or max(1, int((cpus // 2) // actor_cpus))
    if actor_cpus * actors > cpus and cpus > 0 and options.actors is None:
        actors = max(1, int(cpus // actor_cpus))
    decode_slots = max(1, int((cpus - actor_cpus * actors) // options.decode_cpus))
    inflight = options.max_inflight or decode_slots + actors
    return PoolPlan(actors=actors, cpus=float(actor_cpus), gpus=float(per_gpu), inflight=max(1, inflight))


def connect(options: RayOptions) -> bool:
    """Join (or start) the Ray cluster; True when this call started it (and should shut it down).

    Order: an already initialised Ray > ``options.address`` > $RAY_ADDRESS > a new local cluster.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    address = options.address or os.environ.get(ADDRESS_ENV) or None
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "configure_logging": True}
    if address is None:
        kwargs.update(include_dashboard=False, num_cpus=options.num_cpus)
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"cannot connect to the Ray cluster at {address!r} ({first}); check the address "
            "(`ray status` on the head node prints it), or drop --ray-address and unset "
            f"${ADDRESS_ENV} to start a local cluster"
        ) from None
    return address is None


# --- what runs on the cluster ------------------------------------------------------------------


def decode_video(
    path: str, sample_fps: float, size: tuple[int, int], chunk: int, info: "VideoInfo | None" = None,
    frame_decoder: str = "opencv",
) -> Iterator[Any]:
    """A Ray streaming task: probe ``path`` (unless the driver did: ``info``), then yield its
    sampled frames, decoded by ``frame_decoder`` (FRAME_DECODERS; "auto" resolved for this file).

    Yields, in order: the VideoInfo; then per chunk its picks ((k,) int64 frame
    indices) and its frames ((k, H, W, 3) uint8 RGB, k <= chunk) as two objects, so that the
    driver reads the small picks and hands the frames to an actor without fetching them; last a
    dict {"info": VideoInfo with the decoded frame count, "truncated": bool}.
    """
    from vidsum.ffstream import open_frames
    from vidsum.video import probe

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found on this node (inputs must be on storage every node mounts at the same path)")
    if info is None:
        info = probe(p)
    yield info
    stream = open_frames(p, frame_decoder, sample_fps=sample_fps, size=size, info=info)
    idx: list[int] = []
    frames: list[np.ndarray] = []
    try:
        for i, frame in stream:
            idx.append(int(i))
            frames.append(frame)
            if len(frames) == chunk:
                yield np.asarray(idx, dtype=np.int64)
                yield np.stack(frames)
                idx, frames = [], []
    finally:
        stream.close()
    if frames:
        yield np.asarray(idx, dtype=np.int64)
        yield np.stack(frames)
    yield {"info": stream.info, "truncated": bool(stream.truncated)}


class BackboneActor:
    """A Ray actor holding one feature extractor, built once from plain data.

    ``cfg``: ``FeaturesConfig.to_dict()``; ``weights``: the weight file's bytes from the object
    store (None: a weight-free backbone), written once to this worker's temporary folder under
    ``weights_name`` (a custom file's name is part of its description, so it is kept). The
    device "auto" becomes the GPU Ray assigned to this actor, or the CPU.
    """

    def __init__(self, cfg: dict[str, Any], weights: bytes | None, weights_name: str | None) -> None:
        import ray

        from vidsum.config import FeaturesConfig
        from vidsum.features import make_extractor

        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        changes: dict[str, Any] = {"allow_download": False}  # the driver chose the weights
        if weights is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vidsum-weights-")
            local = Path(self._tmp.name) / (weights_name or "backbone.pth")
            local.write_bytes(weights)
            changes["backbone_weights"] = str(local)
        features_cfg = FeaturesConfig.from_dict({**cfg, **changes})
        if features_cfg.device == "auto":
            features_cfg = dataclasses.replace(features_cfg, device="cuda" if ray.get_gpu_ids() else "cpu")
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if cpus:
            import torch

            torch.set_num_threads(max(1, int(cpus)))
        self.extractor = make_extractor(features_cfg)

    def describe(self, sample_fps: float) -> dict[str, Any]:
        """The extractor's description plus what the driver needs to feed it."""
        from vidsum import __version__

        ex = self.extractor
        return {
            "describe": dict(ex.describe(sample_fps)),
            "input_size": tuple(getattr(ex, "input_size", (224, 224))),
            "batch_size": int(getattr(ex, "batch_size", 16) or 16),
            "vidsum": __version__,
        }

    def embed(self, *chunks: np.ndarray) -> Any:
        """Chunks of frames (k_i, H, W, 3) uint8, from one or several videos -> one (k_i, dim)
        float32 array per chunk (one object each). The frames go through the model together."""
        sizes = [len(c) for c in chunks]
        feats = np.asarray(self.extractor.extract_frames(np.concatenate(chunks)), dtype=np.float32)
        out = np.split(feats, np.cumsum(sizes)[:-1])
        return out[0] if len(out) == 1 else tuple(out)


def summarize_video(
    cfg: dict[str, Any], models: dict[str, Any], src: str, clip: str, json_path: str, features: Any
) -> dict[str, float]:
    """A Ray task: the summary of one video from its features (shots, scores, selection, clip and
    JSON written into the output folder, which every node must mount at the same path).

    ``cfg``: the SummarizeConfig as a dict; ``models``: what the driver chose (checkpoint path on
    shared storage or None for the training-free scorer, the features' description, warnings).
    The scorer is loaded once per worker process (``_worker_models``), not per video.
    """
    from vidsum import pipeline
    from vidsum.config import SummarizeConfig, from_dict

    one = dataclasses.replace(
        from_dict(SummarizeConfig, cfg, where="summary config"), output=clip, json_path=json_path, plot_path=None,
        overwrite=True,
    )
    loaded = _worker_models(models["model_path"], one.device, models["described_json"], tuple(models["warnings"]))
    summary = pipeline.summarize(src, one, models=loaded, features=features)
    return {"duration_s": float(summary.input_duration_s), "summary_duration_s": float(summary.summary_duration_s)}


@functools.lru_cache(maxsize=4)
def _worker_models(model_path: str | None, device: str, described_json: str, warnings: tuple[str, ...]) -> Any:
    """The driver's choice of models, loaded in a Ray worker process once (cached per process)."""
    import json

    from vidsum import pipeline
    from vidsum.device import resolve_device
    from vidsum.errors import CheckpointError
    from vidsum.models import load_scorer

    if model_path is not None and not Path(model_path).is_file():
        raise CheckpointError(
            f"{model_path}: the checkpoint is not on this node; put it on storage every node mounts at the same path"
        )
    scorer = load_scorer(Path(model_path) if model_path else None, device=str(resolve_device(device)))
    return pipeline.Models(
        scorer=scorer, model_path=Path(model_path) if model_path else None, extractor=None,
        described=json.loads(described_json), warnings=list(warnings),
    )


# --- the driver ---------------------------------------------------------------------------------


@dataclasses.dataclass
class _Video:
    key: str
    path: Path
    attempt: int = 0
    gen: Any = None
    info: Any = None
    picks: list[np.ndarray] = dataclasses.field(default_factory=list)
    feats: dict[int, Any] = dataclasses.field(default_factory=dict)  # chunk seq -> features ref
    pending_picks: np.ndarray | None = None  # picks read, frames not yet
    n_chunks: int = 0
    n_done: int = 0
    end: dict[str, Any] | None = None
    started: bool = False
    n_sampled: int = 0  # frames featurised so far


def _cause(exc: BaseException) -> tuple[bool, str]:
    """(is the video's own fault, message) of an exception raised by ray.get."""
    ray = import_ray()
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = getattr(exc, "cause", None)
        if isinstance(cause, VidsumError):
            return True, str(cause)
        if cause is not None and not isinstance(cause, ray.exceptions.RayError):
            return True, f"{type(cause).__name__}: {cause}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return False, f"{type(exc).__name__}: {first}"[:300]


class RayExecutor:
    """The "ray" executor (``vidsum.extraction.EXECUTORS``): feature extraction on a Ray cluster.

    ``describe(cfg)`` connects, starts the actor pool for ``cfg`` (a FeaturesConfig) and returns
    what the actors compute; ``run`` yields one ExtractionResult per video as videos finish.
    The pool is kept for further runs with the same ``cfg`` until ``close()`` (or the end of a
    ``with`` block). ``decode``: the streaming decode task (default ``decode_video``; the tests
    pass one that kills its worker, to check the retries).
    """

    def __init__(self, options: RayOptions | None = None, decode: Any = None, **_local: Any) -> None:
        # _local: the local executor's factory options (extractor, workers, decoder), which do
        # not apply here: the actors build their own extractor from the FeaturesConfig
        self.options = options or RayOptions()
        self.decode_fn = decode or decode_video
        self.started_cluster = False
        self.actors: list[Any] = []
        self.plan: PoolPlan | None = None
        self.info: dict[str, Any] | None = None
        self._cfg: dict[str, Any] | None = None
        self._decode: Any = None
        self._summarize: Any = None

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- set-up --------------------------------------------------------------------------------

    def describe(self, cfg: Any, progress: ProgressFn | None = None) -> dict[str, Any]:
        """Start the pool for ``cfg`` if needed; the actors' extractor description at
        ``cfg.sample_fps`` (what the output file records)."""
        info = self._start(cfg, progress)
        desc = dict(info["describe"])
        desc["sample_fps"] = float(cfg.sample_fps)
        return desc

    def _start(self, cfg: Any, progress: ProgressFn | None = None) -> dict[str, Any]:
        from vidsum.features import choose_backbone, locate_weights

        wanted = cfg.to_dict()
        if self.info is not None and self._cfg == wanted:
            return self.info
        self.close_actors()
        # The weights are chosen here, once, by the same policy as a local run, and shipped as
        # bytes: every node computes the same features, and no worker downloads anything.
        spec = choose_backbone(cfg)
        weights: tuple[str, bytes] | None = None
        actor_cfg = dict(wanted)
        if not spec.weight_free:
            found = locate_weights(cfg, spec, progress=progress)
            if found is None:
                actor_cfg["backbone"] = "fallback"
            else:
                weights = (found[0].name, found[0].read_bytes())
                actor_cfg["backbone"] = spec.name
        ray = import_ray()
        self.started_cluster = connect(self.options) or self.started_cluster
        self.plan = plan_pool(ray.cluster_resources(), self.options)
        log.info(
            "Ray: %d backbone actor(s) of %g CPU / %g GPU, up to %d videos decoding at once",
            self.plan.actors, self.plan.cpus, self.plan.gpus, self.plan.inflight,
        )
        weights_ref = ray.put(weights[1]) if weights else None
        self._weights_ref = weights_ref  # held by the driver, so a restarted actor can still fetch the weights
        actor_cls = ray.remote(BackboneActor).options(
            num_cpus=self.plan.cpus, num_gpus=self.plan.gpus, max_restarts=ACTOR_RESTARTS, max_task_retries=0,
        )
        name = weights[0] if weights else None
        self.actors = [actor_cls.remote(actor_cfg, weights_ref, name) for _ in range(self.plan.actors)]
        try:
            self.info = ray.get(self.actors[0].describe.remote(float(cfg.sample_fps)))
        except ray.exceptions.RayError as exc:
            self.close_actors()
            cause = getattr(exc, "cause", None)
            if isinstance(cause, VidsumError):
                raise cause from None
            raise UsageError(f"the backbone actor could not start on the Ray cluster ({_cause(exc)[1]})") from None
        from vidsum import __version__

        if self.info.get("vidsum") != __version__:
            log.warning(
                "the Ray workers run vidsum %s but this driver runs %s; install the same version on every node",
                self.info.get("vidsum"), __version__,
            )
        self._decode = ray.remote(self.decode_fn).options(
            num_returns="streaming", num_cpus=self.options.decode_cpus, max_retries=0,
            _generator_backpressure_num_objects=DECODE_AHEAD,
        )
        self._cfg = wanted
        return self.info

    def close_actors(self) -> None:
        """Stop the backbone actors (the cluster stays)."""
        if self.actors:
            ray = import_ray()
            for a in self.actors:
                with contextlib.suppress(Exception):
                    ray.kill(a)
        self.actors, self.info, self._cfg = [], None, None

    def close(self) -> None:
        """Stop the actors, and the local cluster if this executor started one."""
        self.close_actors()
        if self.started_cluster:
            with contextlib.suppress(Exception):
                import_ray().shutdown()
            self.started_cluster = False

    # -- summaries ---------------------------------------------------------------------------------

    def summaries_in_flight(self) -> int:
        """How many summaries ``submit_summary`` should have running at once: one per cluster CPU."""
        return max(1, int(import_ray().cluster_resources().get("CPU", 1)))

    def submit_summary(self, cfg: Any, models: Any, src: Path, clip: Path, json_path: Path, features: Any) -> Any:
        """Run ``summarize_video`` for one video on the cluster; a concurrent.futures.Future of
        {"duration_s", "summary_duration_s"} (its exception: the task's, e.g. an InputError)."""
        import json

        from vidsum.config import to_dict

        ray = import_ray()
        if self._summarize is None:
            self._summarize = ray.remote(summarize_video).options(num_cpus=1, max_retries=self.options.max_retries)
        chosen = {
            "model_path": None if models.model_path is None else str(models.model_path),
            "described_json": json.dumps(models.described, sort_keys=True),
            "warnings": list(models.warnings),
        }
        return self._summarize.remote(to_dict(cfg), chosen, str(src), str(clip), str(json_path), features).future()

    # -- the run ---------------------------------------------------------------------------------

    def run(
        self,
        videos: Sequence[tuple[str, Path]],
        cfg: Any,
        progress: ProgressFn | None = None,
        infos: dict[str, Any] | None = None,
    ) -> Iterator[Any]:
        """Extract every (key, path) of ``videos`` with the extractor ``cfg`` (a FeaturesConfig)
        describes; yields a ``vidsum.executor.ExtractionResult`` per video as it finishes.

        ``infos``: key -> VideoInfo probed by the driver (the decode task probes the others).
        Progress: "frames" (sampled frames featurised, of those expected so far).
        """
        from vidsum.executor import ExtractionResult
        from vidsum.features import Features

        if not videos:
            return
        info0 = self._start(cfg, progress)
        ray = import_ray()
        assert self.plan is not None
        sample_fps = float(cfg.sample_fps)
        described = self.describe(cfg)
        infos = infos or {}
        size = tuple(info0["input_size"])
        chunk = max(1, min(DECODE_CHUNK, int(info0["batch_size"])))
        per_call = max(CHUNKS_PER_CALL_MIN, math.ceil(int(info0["batch_size"]) / chunk))
        queue_limit = per_call * CALLS_PER_ACTOR * len(self.actors) * 2  # chunks waiting for an actor

        todo = collections.deque(_Video(k, Path(p)) for k, p in videos)
        active: dict[str, _Video] = {}
        ready: collections.deque[tuple[str, int, int, Any]] = collections.deque()  # (key, attempt, seq, frames ref)
        calls: dict[Any, tuple[int, list[tuple[str, int, int]]]] = {}  # first ref -> (actor, chunks)
        call_refs: dict[Any, list[Any]] = {}
        load = [0] * len(self.actors)
        frames_done = 0
        frames_expected = 0

        def submit(v: _Video) -> None:
            v.gen = self._decode.remote(str(v.path), sample_fps, size, chunk, infos.get(v.key), cfg.frame_decoder)
            v.started = True
            active[v.key] = v

        def restart_or_fail(v: _Video, message: str) -> Any:
            nonlocal frames_expected
            with contextlib.suppress(Exception):
                ray.cancel(v.gen, force=True)
            if v.attempt < self.options.max_retries:
                log.warning("%s: %s; retrying (%d of %d)", v.path, message, v.attempt + 1, self.options.max_retries)
                if v.info is not None:
                    frames_expected -= _expected(v.info, sample_fps)
                fresh = _Video(v.key, v.path, attempt=v.attempt + 1)
                active.pop(v.key, None)
                submit(fresh)
                return None
            active.pop(v.key, None)
            tries = v.attempt + 1
            return ExtractionResult(v.key, v.path, None, f"failed {tries} time(s) on the Ray cluster; last: {message}", v.n_sampled)

        def fail(v: _Video, message: str) -> Any:
            with contextlib.suppress(Exception):
                ray.cancel(v.gen, force=True)
            active.pop(v.key, None)
            return ExtractionResult(v.key, v.path, None, message, v.n_sampled)

        def dispatch() -> None:
            while ready:
                i = min(range(len(self.actors)), key=lambda j: load[j])
                if load[i] >= CALLS_PER_ACTOR:
                    return
                take: list[tuple[str, int, int, Any]] = []
                while ready and len(take) < per_call:
                    key, attempt, seq, ref = ready.popleft()
                    v = active.get(key)
                    if v is not None and v.attempt == attempt:  # drop chunks of an abandoned attempt
                        take.append((key, attempt, seq, ref))
                if not take:
                    return
                refs = self.actors[i].embed.options(num_returns=len(take)).remote(*[t[3] for t in take])
                refs = [refs] if len(take) == 1 else list(refs)
                calls[refs[0]] = (i, [(k, a, s) for k, a, s, _ in take])
                call_refs[refs[0]] = refs
                for (k, a, s, _), r in zip(take, refs):
                    active[k].feats[s] = r
                load[i] += 1

        def finished(v: _Video) -> Any:
            if v.end is None or v.n_done < v.n_chunks:
                return None
            active.pop(v.key, None)
            if not v.n_chunks:
                return ExtractionResult(v.key, v.path, None, "no frame could be decoded")
            refs = [v.feats[s] for s in range(v.n_chunks)]
            try:
                feats = ray.get(refs)
            except ray.exceptions.RayError as exc:
                own, msg = _cause(exc)
                active[v.key] = v
                return fail(v, msg) if own else restart_or_fail(v, msg)
            features = Features(
                features=np.ascontiguousarray(np.concatenate(feats), dtype=np.float32),
                picks=np.concatenate(v.picks).astype(np.int64, copy=False),
                info=v.end["info"],
                truncated=bool(v.end["truncated"]),
                extractor=described,
            )
            return ExtractionResult(v.key, v.path, features, None, v.n_sampled)

        try:
            while todo or active:
                while todo and len(active) < self.plan.inflight:
                    submit(todo.popleft())
                dispatch()
                gens = [v.gen for v in active.values() if v.end is None] if len(ready) < queue_limit else []
                waitables = gens + list(calls)
                if not waitables:  # nothing running: every active video waits for its features
                    for v in list(active.values()):
                        res = finished(v)
                        if res is not None:
                            yield res
                    continue
                done, _ = ray.wait(waitables, num_returns=1, timeout=WAIT_S)
                done_gens = {id(x) for x in done if not isinstance(x, ray.ObjectRef)}
                done_refs = {x for x in done if isinstance(x, ray.ObjectRef)}
                # features of a backbone call
                for first in [c for c in calls if c in done_refs]:
                    actor, chunks = calls.pop(first)
                    refs = call_refs.pop(first)
                    load[actor] -= 1
                    error: BaseException | None = None
                    try:
                        ray.get(refs[0])
                    except ray.exceptions.RayError as exc:
                        error = exc
                    for key, attempt, seq in chunks:
                        v = active.get(key)
                        if v is None or v.attempt != attempt:
                            continue
                        if error is not None:
                            own, msg = _cause(error)
                            res = fail(v, msg) if own else restart_or_fail(v, msg)
                            if res is not None:
                                yield res
                            continue
                        v.n_done += 1
                        v.n_sampled += int(len(v.picks[seq]))
                        frames_done += int(len(v.picks[seq]))
                        res = finished(v)
                        if res is not None:
                            yield res
                    report(progress, "frames", frames_done, max(frames_expected, frames_done))
                # the next object of a decode stream
                for v in [v for v in list(active.values()) if v.gen is not None and id(v.gen) in done_gens]:
                    try:
                        ref = next(v.gen)
                    except StopIteration:
                        if v.end is None:
                            res = restart_or_fail(v, "the decode task ended without its last message")
                            if res is not None:
                                yield res
                        continue
                    try:
                        if v.pending_picks is not None:  # a chunk's frames: to an actor, unread
                            v.picks.append(v.pending_picks)
                            ready.append((v.key, v.attempt, v.n_chunks, ref))
                            v.n_chunks += 1
                            v.pending_picks = None
                            continue
                        obj = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        own, msg = _cause(exc)
                        res = fail(v, msg) if own else restart_or_fail(v, msg)
                        if res is not None:
                            yield res
                        continue
                    if isinstance(obj, np.ndarray):
                        v.pending_picks = obj
                    elif isinstance(obj, dict):
                        v.end = obj
                        res = finished(v)
                        if res is not None:
                            yield res
                    else:  # the probe's VideoInfo, first
                        v.info = obj
                        frames_expected += _expected(obj, sample_fps)
                        report(progress, "frames", frames_done, max(frames_expected, frames_done))
        finally:
            for v in active.values():
                with contextlib.suppress(Exception):
                    ray.cancel(v.gen, force=True)


def _expected(info: Any, sample_fps: float) -> int:
    from vidsum.executor import expected_steps

    return expected_steps(info, sample_fps)

