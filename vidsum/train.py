"""Training any model family: splits, the four strategies side by side, and the fold loop.

The family (``arch``, a ``vidsum.models.MODELS`` name) gives the model and its objective
(DMASum: the MSE of eq. 5); families trained by several optimizers (SUM-GAN) give their own
``train_step`` and train with ``plain`` only. Families that need no training (``training-free``)
are evaluated on the same folds without it.

Strategies (one optimizer step = one "task"; Adam with lr ``meta_lr`` is the outer optimizer of all):

    plain       one video per task; Adam on the gradient of its objective.
    meta        Algorithm 1, single-video meta learning: from the meta weights theta, m SGD steps
                with lr alpha on ONE video give theta_m; (theta - theta_m) is handed to Adam as the
                gradient (so Adam moves theta towards theta_m with its own step size beta).
    batch-meta  the same rule with ``task_videos`` videos per task (inner loss = their mean).
    maml        first-order MAML: adapt with m SGD steps on the support videos (all but the last
                of a ``task_videos`` group), then the query video's gradient AT theta_m is
                Adam's gradient for theta.

Model selection never looks at test videos: each training fold holds out ``val_fraction`` of its
videos; the epoch with the lowest validation criterion is kept (the last epoch when there is no
validation part). The criterion is the MSE against gtscore, or the family's own ``validate``
(label-free for DR-DSN and SUM-GAN, docs/models.md). The test videos of the fold are evaluated once, with that model, by
``vidsum.evaluation.evaluate`` (the same code as ``vidsum eval``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from vidsum.checkpoint import DATASET_FEATURES, ECCV16_DIM, UNKNOWN_FEATURES, save_checkpoint
from vidsum.config import TrainConfig, to_dict
from vidsum.device import resolve_device
from vidsum.errors import DatasetError, OutputError, UsageError
from vidsum.io import write_json
from vidsum.models import ModelSpec, get_model_spec, predict
from vidsum.models import dmasum
from vidsum.progress import ProgressFn, report

log = logging.getLogger(__name__)

METRIC_KEYS = ("f1_max", "f1_avg", "kendall", "spearman")
RANDOM_TEST_FRACTION = 0.2  # split=random: the literature's 80/20 draws

Split = dict[str, list[str]]  # {"train_keys": [...], "test_keys": [...]}


# ---------------------------------------------------------------------------------------------
# Splits


def make_splits(
    keys: Sequence[str],
    split: str = "non-overlapping",
    folds: int = 5,
    seed: int = 0,
    aug_keys: Sequence[str] = (),
) -> list[Split]:
    """Train/test key lists for each fold.

    non-overlapping: seeded shuffle, then k nearly equal folds; every video is tested exactly once.
    random: ``folds`` independent seeded 80/20 draws (test sets may overlap across draws).
    augmented: non-overlapping folds over ``keys``; every ``aug_keys`` video joins each train list.
    transfer: one split: train on all ``aug_keys``, test on all ``keys``.
    """
    keys = list(keys)
    rng = np.random.default_rng(seed)
    if split in ("non-overlapping", "augmented"):
        if split == "augmented" and not aug_keys:
            raise UsageError("split 'augmented' needs extra training data: pass --aug-data FILE.h5")
        if folds > len(keys):
            raise UsageError(f"{folds} folds need at least {folds} videos, but the data holds {len(keys)}")
        order = [keys[i] for i in rng.permutation(len(keys))]
        parts = [list(p) for p in np.array_split(np.array(order, dtype=object), folds)]
        out = []
        for k in range(folds):
            test = set(parts[k])
            train = [key for key in order if key not in test] + list(aug_keys)
            out.append({"train_keys": train, "test_keys": [key for key in order if key in test]})
        return out
    if split == "random":
        n_test = max(1, round(RANDOM_TEST_FRACTION * len(keys)))
        if len(keys) - n_test < 1:
            raise UsageError(f"split 'random' needs at least 2 videos, the data holds {len(keys)}")
        out = []
        for _ in range(folds):
            order = [keys[i] for i in rng.permutation(len(keys))]
            out.append({"train_keys": order[n_test:], "test_keys": order[:n_test]})
        return out
    if split == "transfer":
        if not aug_keys:
            raise UsageError("split 'transfer' trains on other datasets: pass --aug-data FILE.h5")
        return [{"train_keys": list(aug_keys), "test_keys": keys}]
    raise UsageError(f"unknown split {split!r}; use non-overlapping, random, augmented or transfer")


def check_splits(splits: Any, known: Mapping[str, Any], where: str) -> list[Split]:
    """Validate a list of {"train_keys", "test_keys"} against the loaded video keys."""
    if not isinstance(splits, list) or not splits:
        raise DatasetError(f"{where}: expected a non-empty JSON list of {{'train_keys': [...], 'test_keys': [...]}}")
    out = []
    for i, s in enumerate(splits):
        if not isinstance(s, dict) or set(s) != {"train_keys", "test_keys"}:
            raise DatasetError(f"{where}: split {i} must have exactly the keys 'train_keys' and 'test_keys'")
        train, test = s["train_keys"], s["test_keys"]
        if not all(isinstance(x, list) and all(isinstance(k, str) for k in x) for x in (train, test)):
            raise DatasetError(f"{where}: split {i}: train_keys and test_keys must be lists of strings")
        if not train or not test:
            raise DatasetError(f"{where}: split {i} has an empty train or test list")
        unknown = sorted(set(train + test) - set(known))
        if unknown:
            raise DatasetError(
                f"{where}: split {i} names videos not in the loaded data: {', '.join(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''}. Fix: pass the same --data/--aug-data files "
                "(keys are FILE_STEM/video_k)"
            )
        both = sorted(set(train) & set(test))
        if both:
            raise DatasetError(f"{where}: split {i} tests on training videos: {', '.join(both[:5])}")
        out.append({"train_keys": list(train), "test_keys": list(test)})
    return out


def load_splits(path: str | os.PathLike[str], known: Mapping[str, Any]) -> list[Split]:
    """Read a split file (JSON list of {"train_keys", "test_keys"}) and validate it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: split file not found. Fix: pass the splits.json of an earlier run") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable JSON split file ({exc})") from exc
    return check_splits(data, known, str(path))


def holdout(keys: Sequence[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Split training keys into (fit, validation); validation is empty below 3 videos or fraction 0."""
    keys = list(keys)
    if fraction <= 0 or len(keys) < 3:
        return keys, []
    n_val = min(len(keys) - 1, max(1, round(fraction * len(keys))))
    order = np.random.default_rng(seed).permutation(len(keys))
    val = set(order[:n_val].tolist())
    return [k for i, k in enumerate(keys) if i not in val], [k for i, k in enumerate(keys) if i in val]


# ---------------------------------------------------------------------------------------------
# Model options


# Config fields that tell a family's variants apart (vslstm / dpp-lstm, dr-dsn / dr-dsn-sup, ...):
# fixed by the --arch name, so a checkpoint's "arch" always says what it is; input_dim comes
# from the data.
VARIANT_FIELDS = ("dpp", "supervised")


def _parse_value(text: str, default: Any, where: str) -> Any:
    """``text`` as the type of ``default`` (bool: true/false/1/0/yes/no)."""
    if isinstance(default, bool):
        value = text.strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"{where}: expected true or false, got {text!r}")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            raise UsageError(f"{where}: expected {type(default).__name__}, got {text!r}") from None
    return text


def model_config(arch: str, options: Mapping[str, Any] | None = None) -> Any:
    """The config of family ``arch``: its defaults (the paper's sizes) with ``options`` applied.

    ``options`` maps field names to values, or to strings parsed as the field's type (what
    ``--model-opt KEY=VALUE`` gives). Unknown names are a UsageError listing the family's fields.
    Returns None for a family without options (training-free).
    """
    import dataclasses

    spec = get_model_spec(arch)
    options = dict(options or {})
    if spec.config_cls is None:
        if options:
            raise UsageError(f"model {arch!r} has no options (got {', '.join(sorted(options))})")
        return None
    defaults = spec.config_cls()
    names = [f.name for f in dataclasses.fields(defaults) if f.name not in ("input_dim", *VARIANT_FIELDS)]
    fixed = sorted(set(options) & set(VARIANT_FIELDS))
    if fixed:
        raise UsageError(
            f"--model-opt {fixed[0]}: the variant is chosen by the family name "
            "(--arch dpp-lstm, dr-dsn-sup, sum-gan-sup), not by an option"
        )
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise UsageError(
            f"{arch} has no option {', '.join(unknown)}; its options are {', '.join(names)} (docs/models.md)"
        )
    values = {
        k: _parse_value(v, getattr(defaults, k), f"--model-opt {k}") if isinstance(v, str) else v
        for k, v in options.items()
    }
    return replace(defaults, **values)


# ---------------------------------------------------------------------------------------------
# One optimizer step per strategy. A video is a pair (features (T, D), gtscore (T,) or None for a
# video without labels) of tensors; ``objective`` is the family's loss (default: DMASum's eq. 5).

Video = tuple[torch.Tensor, "torch.Tensor | None"]
Objective = Callable[[torch.nn.Module, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
Model = torch.nn.Module


def _loss(model: Model, videos: Sequence[Video], objective: Objective = dmasum.objective) -> torch.Tensor:
    """The objective (DMASum: eq. 5, the MSE against gtscore), averaged over the videos of a task."""
    return torch.stack([objective(model, x, y) for x, y in videos]).mean()


def _params(model: Model) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def _grads(loss: torch.Tensor, params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def _inner_sgd(
    model: Model, videos: Sequence[Video], steps: int, lr: float, objective: Objective = dmasum.objective
) -> float:
    """Eq. 12: ``steps`` plain SGD steps in place on ``videos``; returns the first step's loss."""
    params = _params(model)
    first = math.nan
    for j in range(steps):
        loss = _loss(model, videos, objective)
        if j == 0:
            first = float(loss.detach())
        with torch.no_grad():
            for p, g in zip(params, _grads(loss, params)):
                p.sub_(lr * g)
    return first


def plain_step(
    model: Model, optimizer: torch.optim.Optimizer, videos: Sequence[Video], objective: Objective = dmasum.objective
) -> float:
    """Adam on the objective's gradient on ``videos``; returns the loss before the step."""
    optimizer.zero_grad(set_to_none=True)
    loss = _loss(model, videos, objective)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def meta_step(
    model: Model,
    optimizer: torch.optim.Optimizer,
    videos: Sequence[Video],
    inner_steps: int,
    inner_lr: float,
    objective: Objective = dmasum.objective,
) -> float:
    """Algorithm 1 for one task: theta_m from ``inner_steps`` SGD steps on ``videos`` (one video for
    ``meta``, several for ``batch-meta``), then Adam with gradient (theta - theta_m). Returns the
    task loss at theta (before adaptation)."""
    params = _params(model)
    theta = [p.detach().clone() for p in params]
    loss = _inner_sgd(model, videos, inner_steps, inner_lr, objective)
    with torch.no_grad():
        for p, t in zip(params, theta):
            p.grad = t - p.detach()  # theta - theta_m, the "gradient" of Algorithm 1's last line
            p.copy_(t)
    optimizer.step()
    return loss


def maml_step(
    model: Model,
    optimizer: torch.optim.Optimizer,
    support: Sequence[Video],
    query: Sequence[Video],
    inner_steps: int,
    inner_lr: float,
    objective: Objective = dmasum.objective,
) -> float:
    """First-order MAML: adapt on ``support``, then Adam with the query gradient taken at theta_m.
    Returns the query loss at theta_m."""
    params = _params(model)
    theta = [p.detach().clone() for p in params]
    _inner_sgd(model, support, inner_steps, inner_lr, objective)
    loss = _loss(model, query, objective)
    grads = _grads(loss, params)
    with torch.no_grad():
        for p, t, g in zip(params, theta, grads):
            p.copy_(t)
            p.grad = g
    optimizer.step()
    return float(loss.detach())


def _tasks(order: list[int], strategy: str, task_videos: int) -> list[list[int]]:
    """Group a shuffled list of video indices into tasks (every video used once per epoch)."""
    if strategy in ("meta", "plain"):
        return [[i] for i in order]
    n_tasks = max(1, math.ceil(len(order) / task_videos))
    # array_split keeps groups within one video of each other (no lone 1-video task for maml).
    return [list(map(int, g)) for g in np.array_split(np.array(order), n_tasks)]


def run_epoch(
    model: Model,
    optimizer: torch.optim.Optimizer,
    videos: Sequence[Video],
    cfg: TrainConfig,
    rng: np.random.Generator,
    spec: ModelSpec | None = None,
) -> float:
    """One pass over ``videos`` in a seeded random order; returns the mean task loss.

    ``spec`` is the family (default DMASum): its objective, or its ``train_step`` (which then
    receives ``optimizer`` as made by its ``make_optimizer``).
    """
    spec = spec or dmasum.SPEC
    objective = spec.objective
    model.train()
    losses = []
    for task in _tasks(list(rng.permutation(len(videos))), cfg.strategy, cfg.task_videos):
        vids = [videos[i] for i in task]
        if spec.train_step is not None:
            losses.append(spec.train_step(model, optimizer, vids))
        elif cfg.strategy == "plain":
            losses.append(plain_step(model, optimizer, vids, objective))
        elif cfg.strategy in ("meta", "batch-meta"):
            losses.append(meta_step(model, optimizer, vids, cfg.inner_steps, cfg.inner_lr, objective))
        elif len(vids) >= 2:
            losses.append(maml_step(model, optimizer, vids[:-1], vids[-1:], cfg.inner_steps, cfg.inner_lr, objective))
        else:  # a single training video: MAML degenerates to support = query
            losses.append(maml_step(model, optimizer, vids, vids, cfg.inner_steps, cfg.inner_lr, objective))
    return float(np.mean(losses))


def validation_loss(model: Model, videos: Sequence[Video], spec: ModelSpec | None = None) -> float:
    """Mean per-video validation criterion in eval mode (no dropout, no gradients): the family's
    ``validate`` (lower is better), else the MSE against gtscore."""
    validate = (spec or dmasum.SPEC).validate
    model.eval()
    with torch.inference_mode():
        if validate is not None:
            return float(np.mean([validate(model, x, y) for x, y in videos]))
        return float(np.mean([float(torch.mean((model(x) - y) ** 2)) for x, y in videos]))


def selection_rule(spec: ModelSpec) -> str:
    """How the epoch is chosen for ``spec``, in words (recorded in config.json)."""
    if spec.validate is None:
        return "lowest validation MSE against gtscore"
    if spec.needs_labels:
        return f"lowest {spec.name} validation criterion ({spec.module}.validation: the MSE against gtscore)"
    return f"lowest {spec.name} label-free validation criterion ({spec.module}.validation; no labels used)"


# ---------------------------------------------------------------------------------------------
# Folds and runs


def _to_videos(records: Sequence[Any], device: torch.device) -> list[Video]:
    return [
        (
            torch.as_tensor(r.features, dtype=torch.float32, device=device),
            None if r.gtscore is None else torch.as_tensor(r.gtscore, dtype=torch.float32, device=device),
        )
        for r in records
    ]


def trainable_spec(arch: str, strategy: str) -> ModelSpec:
    """The family ``arch``, checked to be trainable with ``strategy``; UsageError otherwise."""
    spec = get_model_spec(arch)
    if not spec.needs_training or spec.build is None or spec.objective is None:
        raise UsageError(f"model {arch!r} needs no training: it scores videos as they are")
    if strategy not in spec.strategies:
        raise UsageError(
            f"--arch {arch} trains with --strategy {' or '.join(spec.strategies)}, not {strategy!r}"
            + (" (its players have their own optimizers)" if spec.train_step is not None else "")
        )
    return spec


@dataclass
class FoldResult:
    """What ``train_fold`` returns: the selected model and how it was selected."""

    model: Model
    best_epoch: int  # 1-based
    best_val_loss: float | None  # None: no validation part, the last epoch was kept
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: train_loss, val_loss
    seconds: float = 0.0


def train_fold(
    train_records: Sequence[Any],
    val_records: Sequence[Any],
    model_cfg: Any,
    cfg: TrainConfig,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: ProgressFn | None = None,
    stage: str = "epochs",
    arch: str = dmasum.SPEC.name,
) -> FoldResult:
    """Train one ``arch`` model (config ``model_cfg``) on ``train_records`` (VideoRecord-like:
    .features (T, D) float32, .gtscore (T,) or None for an unsupervised family).

    Keeps the weights of the epoch with the lowest validation criterion on ``val_records`` (the
    last epoch when that list is empty). Seeded by ``seed``: the same inputs give the same
    weights on CPU.
    """
    if not train_records:
        raise UsageError("no training videos in this fold")
    spec = trainable_spec(arch, cfg.strategy)
    device = torch.device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = spec.build(model_cfg).to(device)  # type: ignore[misc]  # trainable_spec checked build
    if spec.make_optimizer is not None:
        optimizer = spec.make_optimizer(model, cfg.meta_lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.meta_lr)
    train_videos = _to_videos(train_records, device)
    val_videos = _to_videos(val_records, device)
    best: dict[str, torch.Tensor] | None = None
    best_epoch, best_val = cfg.epochs, None
    history = []
    start = time.perf_counter()
    report(progress, stage, 0, cfg.epochs)
    for epoch in range(1, cfg.epochs + 1):
        train_loss = run_epoch(model, optimizer, train_videos, cfg, rng, spec)
        row = {"epoch": epoch, "train_loss": train_loss}
        if val_videos:
            val = validation_loss(model, val_videos, spec)
            row["val_loss"] = val
            if best_val is None or val < best_val:
                best_val, best_epoch = val, epoch
                best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if not math.isfinite(train_loss):
            raise UsageError(
                f"training diverged at epoch {epoch} (loss {train_loss}); lower --meta-lr / --inner-lr"
            )
        history.append(row)
        log.info("%s epoch %d: %s", stage, epoch, ", ".join(f"{k} {v:.5f}" for k, v in row.items() if k != "epoch"))
        report(progress, stage, epoch, cfg.epochs)
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    return FoldResult(model, best_epoch, best_val, history, time.perf_counter() - start)


def _features_info(paths: Sequence[Path], dim: int) -> dict[str, Any]:
    """The extractor description recorded by `vidsum features`; for 1024-d files without one (the
    public eccv16 datasets) "eccv16 (BVLC GoogLeNet pool5)"; else "unknown"."""
    from vidsum.data import read_file_attrs

    found = [read_file_attrs(path).get("extractor") for path in paths]
    recorded = [e for e in found if isinstance(e, dict)]
    if recorded:
        if len(recorded) < len(found) and recorded[0].get("name") != DATASET_FEATURES["name"]:
            log.warning(
                "training on eccv16-style files (no extractor record) together with %s features: "
                "they are different features; make the vidsum files with `vidsum features --backbone bvlc-googlenet`",
                recorded[0].get("name"),
            )
        return {**recorded[0], "dim": dim}
    return {**(DATASET_FEATURES if dim == ECCV16_DIM else UNKNOWN_FEATURES), "dim": dim}


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder. Fix: choose another --out")
    previous = [p.name for p in out.glob("*") if p.name == "metrics.json" or p.name.startswith("fold_")] if out.is_dir() else []
    if previous and not overwrite:
        raise OutputError(
            f"{out}: already holds a run ({', '.join(sorted(previous)[:3])}). "
            "Fix: choose another --out or pass --overwrite"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the run folder ({exc.strerror}). Fix: choose another --out") from exc


def summarize_folds(folds: list[dict[str, float]]) -> dict[str, Any]:
    """metrics.json: {"folds": [...], "mean": {...}, "std": {...}} (population std over folds)."""
    mean = {k: float(np.mean([f[k] for f in folds])) for k in METRIC_KEYS}
    std = {k: float(np.std([f[k] for f in folds])) for k in METRIC_KEYS}
    return {"folds": folds, "mean": mean, "std": std}


def run_training(
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    model_cfg: Any = None,
    cfg: TrainConfig | None = None,
    aug_data: Sequence[str | os.PathLike[str]] = (),
    splits: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    arch: str = dmasum.SPEC.name,
) -> dict[str, Any]:
    """Train and evaluate every fold of the family ``arch``; write the run folder; return the metrics.

    ``model_cfg``: the family's config (None: its defaults, the paper's sizes); ``cfg`` None: the
    defaults with the family's default strategy. Run folder: config.json (resolved), splits.json,
    fold_K.pt (plain-data checkpoints; none for a family that needs no training), metrics.json =
    {"folds": [{"fold", "f1_max", "f1_avg", "kendall", "spearman"}], "mean", "std"} with F1 as
    fractions in [0, 1]. Progress stages: "folds", then "fold K/N" (epochs).

    An unsupervised family (``needs_labels`` False) also trains on files without annotations
    (``vidsum features`` output): when a --data video has no user_summary nothing can be tested,
    so one model is trained on all the videos (fold_0.pt, its validation part still held out)
    and metrics.json says it was not evaluated.
    """
    from vidsum.data import load_datasets
    from vidsum.evaluation import evaluate

    spec = get_model_spec(arch)
    if spec.config_cls is not None:
        model_cfg = model_cfg if model_cfg is not None else spec.config_cls()
        if not isinstance(model_cfg, spec.config_cls):
            raise UsageError(f"--arch {arch} takes a {spec.config_cls.__name__}, not a {type(model_cfg).__name__}")
    elif model_cfg is not None:
        raise UsageError(f"model {arch!r} has no model options")
    cfg = cfg or TrainConfig(strategy=spec.strategies[0])  # type: ignore[arg-type]  # a STRATEGIES value
    if spec.needs_training:
        trainable_spec(arch, cfg.strategy)
    out = Path(out)
    data_paths = [Path(p) for p in data]
    aug_paths = [Path(p) for p in aug_data]
    if cfg.split in ("augmented", "transfer") and not aug_paths and splits is None:
        raise UsageError(f"--split {cfg.split} needs --aug-data FILE.h5 (the extra training datasets)")
    if aug_paths and cfg.split not in ("augmented", "transfer") and splits is None:
        raise UsageError(f"--aug-data is only used with --split augmented or transfer, not {cfg.split}")
    device = resolve_device(cfg.device)

    labels = spec.needs_labels or not spec.needs_training
    records = load_datasets(data_paths, require_annotations=labels)
    aug_records = load_datasets(aug_paths, require_annotations=labels) if aug_paths else {}
    clash = sorted(set(records) & set(aug_records))
    if clash:
        raise DatasetError(f"--aug-data repeats videos of --data ({', '.join(clash[:3])}). Fix: pass each file once")
    everything = {**records, **aug_records}
    dims = {r.features.shape[1] for r in everything.values()}
    if len(dims) != 1:
        raise DatasetError(
            f"the datasets mix feature sizes {sorted(dims)}; all --data/--aug-data files must come "
            "from the same feature extractor"
        )
    dim = dims.pop()
    if model_cfg is not None:
        model_cfg = replace(model_cfg, input_dim=dim)

    unlabelled = [key for key, rec in records.items() if rec.user_summary is None]
    if unlabelled:
        if splits is not None or aug_paths:
            raise UsageError(
                f"{unlabelled[0]} has no annotations, so nothing can be tested: without labels {arch} "
                "trains on all --data videos; drop --splits/--aug-data (or use annotated files)"
            )
        log.warning(
            "%d of the %d videos have no user_summary: training one %s model on all of them; nothing is evaluated",
            len(unlabelled), len(records), arch,
        )
        fold_splits: list[Split] = [{"train_keys": list(records), "test_keys": []}]
    elif splits is not None:
        fold_splits = load_splits(splits, everything)
    else:
        fold_splits = make_splits(list(records), cfg.split, cfg.folds, cfg.seed, list(aug_records))

    if not spec.needs_training:
        selection = "none: the family needs no training, each fold's test videos are scored as they are"
    elif cfg.val_fraction > 0:
        selection = (
            f"{selection_rule(spec)}, over epochs; validation = {cfg.val_fraction:.0%} of each "
            "training fold (seeded), never the test videos"
        )
    else:
        selection = "last epoch (no validation part)"
    _prepare_out(out, overwrite)
    features_info = _features_info(data_paths + aug_paths, dim)
    write_json(
        out / "config.json",
        {
            "arch": arch,
            "model": to_dict(model_cfg) if model_cfg is not None else None,
            "train": to_dict(cfg),
            "data": [str(p) for p in data_paths],
            "aug_data": [str(p) for p in aug_paths],
            "splits": str(splits) if splits is not None else None,
            "features": features_info,
            "device": str(device),
            "model_selection": selection,
        },
    )
    write_json(out / "splits.json", fold_splits)

    folds: list[dict[str, float]] = []
    report(progress, "folds", 0, len(fold_splits))
    for k, split in enumerate(fold_splits):
        test = {key: everything[key] for key in split["test_keys"]}
        if not spec.needs_training:
            scorer = spec.scorer()  # type: ignore[misc]  # a family without training has a scorer
            predictions = {
                key: scorer.score(rec.features, rec.change_points, rec.picks, rec.n_frames) for key, rec in test.items()
            }
            row = {"fold": k, **{m: float(v) for m, v in evaluate(predictions, test)["mean"].items() if m in METRIC_KEYS}}
            folds.append(row)
            log.info("fold %d: %s (no training)", k, row)
            report(progress, "folds", k + 1, len(fold_splits))
            continue
        fit_keys, val_keys = holdout(split["train_keys"], cfg.val_fraction, cfg.seed + 1000 * k + 1)
        result = train_fold(
            [everything[key] for key in fit_keys],
            [everything[key] for key in val_keys],
            model_cfg,
            cfg,
            device,
            seed=cfg.seed + k,
            progress=progress,
            stage=f"fold {k + 1}/{len(fold_splits)}",
            arch=arch,
        )
        row = {"fold": k}
        if test:
            predictions = {key: predict(result.model, rec.features, device) for key, rec in test.items()}
            mean = evaluate(predictions, test)["mean"]
            row.update({m: float(mean[m]) for m in METRIC_KEYS})
            folds.append(row)
        save_checkpoint(
            out / f"fold_{k}.pt",
            result.model,
            model_cfg,
            features_info,
            {
                "fold": k,
                "strategy": cfg.strategy,
                "config": to_dict(cfg),
                "train_keys": fit_keys,
                "val_keys": val_keys,
                "test_keys": split["test_keys"],
                "best_epoch": result.best_epoch,
                "best_val_loss": result.best_val_loss,
                "model_selection": selection,
                "history": result.history,
                "test_metrics": row if test else None,
                "seconds": result.seconds,
            },
            arch=arch,
        )
        log.info("fold %d: %s (epoch %d kept)", k, row, result.best_epoch)
        report(progress, "folds", k + 1, len(fold_splits))
    if folds:
        metrics = summarize_folds(folds)
    else:
        metrics = {"folds": [], "mean": None, "std": None,
                   "not_evaluated": "the --data videos have no annotations (user_summary)"}
    write_json(out / "metrics.json", metrics)
    return metrics
