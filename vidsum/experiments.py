"""The paper's experiments (section 4) as one call each: ``run_experiment(name, data, out, ...)``.

Every experiment is a set of *runs*, one per (dataset, system, setting, fold). A run trains with
``vidsum.train.run_training`` on a one-fold split file (so the leak-free model selection of
``vidsum train`` holds unchanged: the epoch is chosen on a validation part of the training
videos, never on the test videos), then scores its test videos once with
``vidsum.evaluation.evaluate``. Its folder holds the training run (``train/``) and ``test.json``
(per-video metrics and scores); a run whose ``test.json`` exists is skipped, so an interrupted
experiment resumes where it stopped. The experiment then writes ``results.json``,
``results.md`` (tables laid out like the paper's, each measured number beside the paper's) and
PNG figures (``vidsum.experiment_figures``).

    out/
      experiment.json                    the resolved options (a resumed run must match them)
      splits/<dataset>.json              the folds, shared by every system of the experiment
      runs/<dataset>/<setting>/<system>/fold_<k>/{split.json, train/, test.json}
      results.json  results.md  figure*.png

Experiments (``EXPERIMENTS``): compare (Tables 1-2), ablation (Table 3), settings (Table 4),
rank (Figure 3), curves (Figure 5), learners (Figure 6), qualitative (Figure 7).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from vidsum.config import ModelConfig, TrainConfig, to_dict
from vidsum.errors import DatasetError, OutputError, UsageError
from vidsum.io import write_json
from vidsum.progress import ProgressFn, report

log = logging.getLogger(__name__)

METRICS = ("f1_max", "f1_avg", "kendall", "spearman")

# Dataset file stems are matched to the paper's datasets by these substrings (lower case):
# "eccv16_dataset_tvsum_google_pool5.h5" is TVSum.
PAPER_DATASETS = (("summe", "SumMe"), ("tvsum", "TVSum"), ("ovp", "OVP"), ("youtube", "YouTube"))
# The literature's F1 convention per dataset (docs/evaluation.md): max over users on SumMe,
# mean over users on TVSum. Other datasets: the mean.
PAPER_F1 = {"SumMe": "f1_max", "TVSum": "f1_avg"}
# m of Algorithm 1 as published (section 4.1): fixed before any run, so no test video picks it.
PAPER_INNER_STEPS = {"SumMe": 3, "TVSum": 5}

# Figure 3: D = T - rank(A). The numerical rank counts singular values above
# RANK_RTOL * sigma_max * T (numpy's matrix_rank rule with float32's machine epsilon, because
# the attention matrices are computed in float32).
RANK_RTOL = float(np.finfo(np.float32).eps)
RANK_BUCKET_WIDTH = 4  # steps of D per bucket: the paper's ranges 0-3, 4-7, 8-11, ...
RANK_BUCKETS = 5  # the last bucket is open-ended (D >= 16)
CURVE_POINTS = 100  # points per correlation curve kept in results.json and drawn (every 1 % of the frames)
LEARNER_STEPS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # Figure 6's m values
DEFAULT_DRAWS = 10  # random-baseline draws per fold (as `vidsum eval --draws`)

# Model sizes by name. "paper" is ModelConfig's defaults (section 4.1); the others are for CPUs.
SIZES: dict[str, dict[str, Any]] = {
    "paper": {},
    "small": {"d_model": 64, "layers_visual": 2, "layers_sequential": 1, "lstm_hidden": 32, "head_hidden": 64},
    "tiny": {
        "d_model": 16, "layers_visual": 1, "layers_sequential": 1, "lstm_hidden": 8, "lstm_layers": 1,
        "head_hidden": 16, "dropout": 0.0,
    },
}

# ---------------------------------------------------------------------------------------------
# The paper's published numbers (section 4). F1 in %, correlations as printed.

PAPER_TABLE1 = {  # F1 (%), SumMe / TVSum
    "DPP-LSTM [36]": (38.6, 54.7),
    "SASUM [32]": (45.3, 58.2),
    "SUM-GAN [21]": (41.7, 54.3),
    "Cycle-SUM [35]": (41.9, 57.6),
    "DR-DSN [39]": (42.1, 58.1),
    "MetaL-TDVS [17]": (44.1, 58.2),
    "ACGAN [11]": (46.0, 58.5),
    "CSNet [13]": (51.3, 58.8),
    "M-AVS [12]": (44.4, 61.0),
    "DMASum": (54.3, 61.4),
}
PAPER_TABLE2 = {  # (SumMe tau, rho, TVSum tau, rho); None = "-" in the paper
    "Random": (0.000, 0.000, 0.000, 0.000),
    "DPP-LSTM [36]": (None, None, 0.042, 0.055),
    "SUM-GAN [21]": (0.049, 0.066, 0.024, 0.031),
    "DR-DSN [39]": (0.028, -0.027, 0.020, 0.026),
    "Human": (0.227, 0.239, 0.178, 0.205),
    "DMASum": (0.063, 0.089, 0.203, 0.267),
}
PAPER_TABLE3 = {  # F1 (%), SumMe / TVSum
    "DMASum_wom": (51.6, 60.6),
    "DMASum_softmax": (50.6, 60.1),
    "DMASum_v": (53.2, 60.5),
    "DMASum_s": (53.3, 61.0),
    "DMASum_b": (51.3, 60.0),
    "DMASum_maml": (49.3, 59.2),
    "DMASum": (54.3, 61.4),
}
PAPER_TABLE4 = {  # F1 (%): {setting: (SumMe, TVSum)}
    "DPP-LSTM [36]": {"C": (38.6, 54.7), "A": (42.9, 59.6), "T": (40.7, 58.7)},
    "SUM-GAN [21]": {"C": (41.7, 54.3), "A": (43.6, 61.2), "T": (None, None)},
    "DR-DSN [39]": {"C": (42.1, 58.1), "A": (43.9, 59.8), "T": (42.6, 58.9)},
    "CSNet [13]": {"C": (51.3, 58.8), "A": (52.1, 59.0), "T": (45.1, 59.2)},
    "DMASum": {"C": (54.3, 61.4), "A": (54.1, 61.2), "T": (52.2, 60.5)},
}
PAPER_DATASET_COLUMN = {"SumMe": 0, "TVSum": 1}
SETTINGS = ("C", "A", "T")
SETTING_NAMES = {"C": "canonical", "A": "augmented", "T": "transfer"}

# Model families (`vidsum train --arch`, normalised names) and the paper row each one stands
# beside. The paper's rows [36], [21], [39] carry the published numbers of DPP-LSTM and of the
# supervised SUM-GAN_sup and DR-DSN_sup (their SumMe F1 38.6, 41.7, 42.1 are those variants').
FAMILY_ROWS = {"dmasum": "DMASum", "dpplstm": "DPP-LSTM [36]", "sumgansup": "SUM-GAN [21]", "drdsnsup": "DR-DSN [39]"}
FAMILY_LABELS = {
    "dmasum": "DMASum", "vslstm": "VS-LSTM", "dpplstm": "DPP-LSTM", "sumgan": "SUM-GAN (unsupervised)",
    "sumgansup": "SUM-GAN_sup", "drdsn": "DR-DSN (unsupervised)", "drdsnsup": "DR-DSN_sup", "vasnet": "VASNet",
    "trainingfree": "training-free (vidsum's fallback)",
}
# Non-paper sizes for the other families: fields of their config classes set from the width
# and depth of --size (each family's defaults are its paper's sizes).
FAMILY_WIDTH_FIELDS = ("lstm_hidden", "mlp_hidden", "phi_dim", "hidden", "attention_dim", "head_hidden")
FAMILY_SIZES = {"small": {"width": 64, "layers": 1}, "tiny": {"width": 16, "layers": 1}}


def _family(arch: str) -> str:
    return arch.lower().replace("-", "").replace("_", "")


# ---------------------------------------------------------------------------------------------
# Systems, datasets and runs


@dataclass(frozen=True)
class System:
    """One row of a table: a model family with option overrides.

    ``model`` overrides ModelConfig fields, ``train`` TrainConfig fields; ``paper`` names the row
    of the paper's table whose number is printed beside this system's.
    """

    name: str  # folder name
    label: str  # row label
    arch: str = "dmasum"
    model: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    paper: str | None = None


ABLATION_SYSTEMS = (
    System("dmasum_wom", "DMASum_wom (no meta learning: plain Adam)", train={"strategy": "plain"}, paper="DMASum_wom"),
    System("dmasum_softmax", "DMASum_softmax (softmax attention)", model={"attention": "softmax"}, paper="DMASum_softmax"),
    System("dmasum_v", "DMASum_v (visual channel only)", model={"channels": "visual"}, paper="DMASum_v"),
    System("dmasum_s", "DMASum_s (sequential channel only)", model={"channels": "sequential"}, paper="DMASum_s"),
    System("dmasum_b", "DMASum_b (batch meta learning, 3 videos)", train={"strategy": "batch-meta"}, paper="DMASum_b"),
    System("dmasum_maml", "DMASum_maml (first-order MAML)", train={"strategy": "maml"}, paper="DMASum_maml"),
    System("dmasum", "DMASum", paper="DMASum"),
)
RANK_SYSTEMS = (
    System("dmasum", "MoA", paper="DMASum"),
    System("dmasum_softmax", "softmax", model={"attention": "softmax"}, paper="DMASum_softmax"),
)


@dataclass(frozen=True)
class Dataset:
    """One --data file: its stem (the key prefix), the paper dataset it is, and its video keys."""

    stem: str
    path: Path
    keys: tuple[str, ...]
    paper: str | None  # "SumMe", "TVSum", ... or None

    @property
    def f1_key(self) -> str:
        return PAPER_F1.get(self.paper or "", "f1_avg")

    @property
    def title(self) -> str:
        return self.paper or self.stem


def paper_dataset(stem: str) -> str | None:
    """The paper's dataset a file stem names ("eccv16_dataset_tvsum_google_pool5" -> "TVSum")."""
    low = stem.lower()
    return next((name for token, name in PAPER_DATASETS if token in low), None)


@dataclass
class Run:
    """One (dataset, system, setting, fold) training + test."""

    dataset: Dataset
    system: System
    setting: str  # "C", "A" or "T"
    fold: int
    split: dict[str, list[str]]
    data: list[Path]
    aug_data: list[Path]
    folder: Path

    @property
    def done(self) -> bool:
        return (self.folder / "test.json").is_file()


@dataclass
class Context:
    """Everything an experiment's plan and report need."""

    name: str
    out: Path
    datasets: list[Dataset]
    aug: list[Dataset]
    records: dict[str, Any]  # key -> VideoRecord, of every --data and --aug-data file
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    inner_steps: int | None  # None: PAPER_INNER_STEPS per dataset
    videos: list[str]
    steps: tuple[int, ...]
    archs: tuple[str, ...]
    only: tuple[str, ...]
    draws: int
    size: str = "paper"  # the --size name, for the other families' configs (FAMILY_SIZES)
    splits: dict[str, list[dict[str, list[str]]]] = field(default_factory=dict)

    def fold_of(self, key: str) -> tuple[Dataset, int]:
        for ds in self.datasets:
            for k, split in enumerate(self.splits[ds.stem]):
                if key in split["test_keys"]:
                    return ds, k
        raise UsageError(f"video {key} is in no test fold of --data")


def _runs_for(
    ctx: Context, systems: Sequence[System], folds: Callable[[Dataset], Sequence[int]] | None = None
) -> list[Run]:
    """Canonical-setting runs of ``systems`` on every --data file (all folds unless ``folds``)."""
    runs = []
    for ds in ctx.datasets:
        wanted = folds(ds) if folds is not None else range(len(ctx.splits[ds.stem]))
        for system in systems:
            for k in wanted:
                runs.append(
                    Run(ds, system, "C", k, ctx.splits[ds.stem][k], [ds.path], [],
                        ctx.out / "runs" / ds.stem / "C" / system.name / f"fold_{k}")
                )
    return runs


def _select(ctx: Context, systems: Sequence[System]) -> list[System]:
    if not ctx.only:
        return list(systems)
    known = {s.name for s in systems}
    unknown = sorted(set(ctx.only) - known)
    if unknown:
        raise UsageError(f"--only {', '.join(unknown)}: not a system of '{ctx.name}'; its systems are {', '.join(sorted(known))}")
    return [s for s in systems if s.name in ctx.only]


def available_archs() -> tuple[str, ...]:
    """Model families `vidsum.train.run_training` can run in this build (registry order)."""
    import inspect

    from vidsum.models import MODELS
    from vidsum.train import run_training

    if "arch" not in inspect.signature(run_training).parameters:
        return ("dmasum",)
    return tuple(MODELS)


def _family_systems(ctx: Context) -> list[System]:
    """One System per model family: the compared systems of Tables 1, 2, 4 and Figures 5, 7."""
    known = available_archs()
    archs = ctx.archs or known
    missing = [a for a in archs if a not in known]
    if missing:
        raise UsageError(f"--arch {', '.join(missing)}: not a model family of this vidsum; known: {', '.join(known)}")
    out = []
    for arch in archs:
        fam = _family(arch)
        out.append(System(arch.replace("-", "_"), FAMILY_LABELS.get(fam, arch), arch=arch, paper=FAMILY_ROWS.get(fam)))
    return _select(ctx, out)


# ---------------------------------------------------------------------------------------------
# Executing one run


def _train_config(ctx: Context, run: Run) -> TrainConfig:
    overrides = dict(run.system.train)
    if _family(run.system.arch) != "dmasum" and "strategy" not in overrides:
        from vidsum.models import get_model_spec

        strategies = getattr(get_model_spec(run.system.arch), "strategies", None)
        if strategies:
            overrides["strategy"] = strategies[0]  # the family's own default (GANs: their players' optimizers)
    if "inner_steps" not in overrides:
        m = ctx.inner_steps if ctx.inner_steps is not None else PAPER_INNER_STEPS.get(run.dataset.paper or "")
        if m is not None:
            overrides["inner_steps"] = m
    split = {"C": "non-overlapping", "A": "augmented", "T": "transfer"}[run.setting]
    # seed + fold, as `vidsum train` seeds fold k: each fold starts from its own initialisation.
    return replace(ctx.train_cfg, **overrides, split=split, seed=ctx.train_cfg.seed + run.fold)


def _model_config(ctx: Context, system: System) -> Any:
    """DMASum: ctx.model_cfg with the system's overrides; another family: its config class, at its
    paper defaults or scaled to ``ctx.size``; None for a family without options."""
    if _family(system.arch) == "dmasum":
        return replace(ctx.model_cfg, **system.model)
    from vidsum.models import get_model_spec

    cls = get_model_spec(system.arch).config_cls
    if cls is None:
        return None
    import dataclasses

    size = FAMILY_SIZES.get(ctx.size)
    values: dict[str, Any] = {}
    if size is not None:
        for f in dataclasses.fields(cls):
            if f.name in FAMILY_WIDTH_FIELDS:
                values[f.name] = size["width"]
            elif f.name == "layers":
                values[f.name] = size["layers"]
    return cls(**values, **system.model)


def _train(run: Run, model_cfg: Any, cfg: TrainConfig, progress: ProgressFn | None) -> None:
    from vidsum.train import run_training

    kwargs: dict[str, Any] = {}
    if _family(run.system.arch) != "dmasum":
        kwargs["arch"] = run.system.arch  # available_archs() checked that run_training takes it
    write_json(run.folder / "split.json", [run.split])
    run_training(
        run.data, run.folder / "train", model_cfg, cfg, aug_data=run.aug_data, splits=run.folder / "split.json",
        overwrite=True, progress=progress, **kwargs,
    )


def _execute(ctx: Context, run: Run, analyse: Callable[[Any, Run, str], dict] | None, progress: ProgressFn | None) -> dict:
    """Train ``run``, score its test videos once, write test.json; returns its contents."""
    import torch

    from vidsum.device import resolve_device
    from vidsum.evaluation import evaluate
    from vidsum.models import load_scorer

    run.folder.mkdir(parents=True, exist_ok=True)
    model_cfg = _model_config(ctx, run.system)
    cfg = _train_config(ctx, run)

    def epochs(stage: str, done: float, total: float | None = None) -> None:
        if stage.startswith("fold "):
            report(progress, "epochs (current run)", done, total)

    start = time.perf_counter()
    _train(run, model_cfg, cfg, epochs)
    device = str(resolve_device(cfg.device))
    checkpoint = run.folder / "train" / "fold_0.pt"
    # A family that needs no training leaves no checkpoint; it scores the test videos as they are.
    scorer = load_scorer(checkpoint if checkpoint.is_file() else None, device=device, name=run.system.arch)
    test = {key: ctx.records[key] for key in run.split["test_keys"]}
    scores = {key: np.asarray(scorer.score(r.features, r.change_points, r.picks, r.n_frames)) for key, r in test.items()}
    result = evaluate(scores, test)
    train_info = getattr(scorer, "train_info", None) or {}
    doc = {
        "dataset": run.dataset.stem,
        "system": run.system.name,
        "arch": run.system.arch,
        "setting": run.setting,
        "fold": run.fold,
        "test_keys": run.split["test_keys"],
        "metrics": result["mean"],
        "videos": result["videos"],
        "scores": {k: [round(float(v), 6) for v in s] for k, s in scores.items()},
        "best_epoch": train_info.get("best_epoch"),
        "inner_steps": cfg.inner_steps,
        "strategy": cfg.strategy,
        "seconds": time.perf_counter() - start,
    }
    if analyse is not None:
        with torch.inference_mode():
            doc["analysis"] = analyse(scorer.model, run, device)  # type: ignore[attr-defined]
    write_json(run.folder / "test.json", doc)
    return doc


def _execute_all(
    ctx: Context, runs: list[Run], analyse: Callable[[Any, Run, str], dict] | None, progress: ProgressFn | None
) -> tuple[list[dict], dict[str, int]]:
    docs = []
    stats = {"runs": len(runs), "trained": 0, "skipped": 0}
    report(progress, "runs", 0, len(runs))
    for i, run in enumerate(runs):
        where = f"{run.dataset.stem} {SETTING_NAMES[run.setting]} {run.system.name} fold {run.fold}"
        if run.done:
            try:
                docs.append(json.loads((run.folder / "test.json").read_text(encoding="utf-8")))
                stats["skipped"] += 1
                log.info("%s: done earlier, skipped", where)
                report(progress, "runs", i + 1, len(runs))
                continue
            except (OSError, json.JSONDecodeError):
                log.warning("%s: unreadable test.json, running it again", where)
        doc = _execute(ctx, run, analyse, progress)
        stats["trained"] += 1
        f1 = doc["metrics"][run.dataset.f1_key]
        log.info("%s: %s %.1f %% (epoch %s kept, %.1f s)", where, run.dataset.f1_key, 100 * f1, doc["best_epoch"], doc["seconds"])
        docs.append(doc)
        report(progress, "runs", i + 1, len(runs))
    return docs, stats


# ---------------------------------------------------------------------------------------------
# Aggregation and table cells


def fold_summary(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fold test metrics -> {"folds": [...], "mean", "std"} (population std, as metrics.json)."""
    from vidsum.train import summarize_folds

    return summarize_folds([{"fold": d["fold"], **{m: float(d["metrics"][m]) for m in METRICS}} for d in docs])


def _group(docs: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str], list[Mapping[str, Any]]]:
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for d in docs:
        groups.setdefault((d["dataset"], d["setting"], d["system"]), []).append(d)
    for v in groups.values():
        v.sort(key=lambda d: d["fold"])
    return groups


def _cell(summary: Mapping[str, Any] | None, metric: str) -> str:
    if summary is None:
        return "not run"
    mean, std = summary["mean"][metric], summary["std"][metric]
    if metric.startswith("f1"):
        return f"{100 * mean:.1f} ± {100 * std:.1f}"
    return f"{mean:.3f} ± {std:.3f}"


def _paper_cell(value: float | None, metric: str = "f1") -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if metric.startswith("f1") else f"{value:.3f}"


def _paper_f1(table: Mapping[str, Any], row: str | None, ds: Dataset, setting: str | None = None) -> float | None:
    if row is None or row not in table or ds.paper not in PAPER_DATASET_COLUMN:
        return None
    values = table[row] if setting is None else table[row][setting]
    return values[PAPER_DATASET_COLUMN[ds.paper]]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _metrics_table(ctx: Context, groups: Mapping[tuple[str, str, str], list], systems: Sequence[System], setting: str = "C") -> str:
    """Every metric of every system, per dataset (the detail behind the paper-shaped table)."""
    parts = []
    for ds in ctx.datasets:
        rows = []
        for s in systems:
            docs = groups.get((ds.stem, setting, s.name))
            summary = fold_summary(docs) if docs else None
            rows.append([s.label, *(_cell(summary, m) for m in METRICS)])
        parts.append(
            f"**{ds.title}** (`{ds.path.name}`), mean ± std over folds:\n\n"
            + _md_table(["system", "F1 max (%)", "F1 avg (%)", "Kendall τ", "Spearman ρ"], rows)
        )
    return "\n\n".join(parts)


def _header(ctx: Context, title: str, what: str) -> str:
    files = ", ".join(f"`{d.path.name}` ({d.title}, {len(d.keys)} videos)" for d in ctx.datasets)
    aug = ", ".join(f"`{d.path.name}`" for d in ctx.aug)
    n_folds = {len(ctx.splits[d.stem]) for d in ctx.datasets}
    return (
        f"# {title}\n\n{what}\n\n"
        f"- data: {files}" + (f"; augmentation / transfer data: {aug}" if aug else "") + "\n"
        f"- {'/'.join(map(str, sorted(n_folds)))} folds (non-overlapping, seed {ctx.train_cfg.seed}), "
        f"{ctx.train_cfg.epochs} epochs, model {_size_text(ctx.model_cfg)}; the epoch of each fold is chosen "
        f"on {ctx.train_cfg.val_fraction:.0%} of its training videos, never on its test videos\n"
        "- measured numbers are mean ± std over folds (population std); \"paper\" is the number "
        "printed in the paper, shown only for the datasets the paper reports (SumMe, TVSum)\n"
        "- F1 follows each dataset's convention: max over annotators on SumMe, mean on TVSum "
        "(and on any other file); docs/evaluation.md\n"
    )


def _size_text(cfg: ModelConfig) -> str:
    return (
        f"d_model {cfg.d_model}, {cfg.layers_visual} + {cfg.layers_sequential} attention layers, "
        f"BiLSTM {cfg.lstm_layers} x {cfg.lstm_hidden}, head {cfg.head_hidden}"
    )


# ---------------------------------------------------------------------------------------------
# Table 3: ablation


def _ablation(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    systems = _select(ctx, ABLATION_SYSTEMS)
    docs, stats = _execute_all(ctx, _runs_for(ctx, systems), None, progress)
    groups = _group(docs)
    rows, table = [], []
    for s in systems:
        cells = [s.label]
        for ds in ctx.datasets:
            summary = fold_summary(groups[(ds.stem, "C", s.name)])
            paper = _paper_f1(PAPER_TABLE3, s.paper, ds)
            rows.append({"system": s.name, "label": s.label, "dataset": ds.stem, **summary, "paper_f1": paper})
            cells += [_cell(summary, ds.f1_key), _paper_cell(paper)]
        table.append(cells)
    header = ["Method"]
    for ds in ctx.datasets:
        header += [f"{ds.title} F1 (%)", "paper"]
    md = (
        _header(ctx, "Table 3: ablation study (F1 %)", "DMASum and its six ablations, on the same folds.")
        + "\n" + _md_table(header, table) + "\n\n## Every metric\n\n" + _metrics_table(ctx, groups, systems) + "\n"
    )
    return {"reproduces": "Table 3", "rows": rows, "runs": stats}, md, {}


# ---------------------------------------------------------------------------------------------
# Figure 3: rank deficit of the attention matrices

MATRICES = ("A", "log A")  # the attention matrix, and its elementwise log (section 3.2's reading)


def attention_matrices(module: Any, x: Any) -> Any:
    """The (T, T) float64 attention matrix of one MixtureOfAttention module for input x (1, T, d).

    Recomputed in float64 from the module's weights (softmax: P; MoA: P P^), rows = queries.
    """
    import copy

    import torch

    m = copy.deepcopy(module).double()
    z = x[0].double()
    q, k = m.q(z), m.k(z)
    scale = 1.0 / float(np.sqrt(m.d_model))
    p = torch.softmax(q @ k.T * scale, dim=-1)
    if m.assoc is None:
        return p
    return p @ torch.softmax(torch.tanh(m.assoc(q)) @ k.T * scale, dim=-1)


def rank_deficits(model: Any, features: np.ndarray, device: str = "cpu") -> dict[str, dict[str, list[int]]]:
    """D = T - rank(M) of every attention layer for one video, per matrix and channel.

    features: (T, D) float32. Returns {"A": {"visual": [D of layer 1, ...], "sequential": [...]},
    "log A": {...}}: M is the attention matrix A, or log A (elementwise; the log-probability
    matrix whose rank the softmax bottleneck bounds by d + 1). Channels the model lacks are
    absent. rank counts singular values above RANK_RTOL * sigma_max * T.
    """
    import torch

    captured: list[tuple[str, Any]] = []
    hooks = []
    for name, module in model.named_modules():
        if callable(getattr(module, "weights", None)) and name.endswith("attn"):
            def hook(mod: Any, args: tuple, name: str = name) -> None:
                captured.append((name, attention_matrices(mod, args[0])))

            hooks.append(module.register_forward_pre_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(torch.as_tensor(np.asarray(features), dtype=torch.float32, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    out: dict[str, dict[str, list[int]]] = {m: {} for m in MATRICES}
    for name, a in captured:
        a = a.cpu().numpy()
        channel = name.split(".")[0]
        tiny = np.finfo(np.float64).tiny  # an entry that underflowed to 0 would make log A -inf
        for kind, matrix in (("A", a), ("log A", np.log(np.maximum(a, tiny)))):
            out[kind].setdefault(channel, []).append(int(a.shape[0] - numerical_rank(matrix)))
    return out


def numerical_rank(a: np.ndarray) -> int:
    """Rank of a (T, T) matrix: singular values above RANK_RTOL * sigma_max * T."""
    s = np.linalg.svd(np.asarray(a, dtype=np.float64), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.count_nonzero(s > RANK_RTOL * s[0] * max(a.shape)))


def rank_bucket(d: int) -> int:
    return min(int(d) // RANK_BUCKET_WIDTH, RANK_BUCKETS - 1)


def rank_bucket_labels() -> list[str]:
    w = RANK_BUCKET_WIDTH
    return [f"{i * w}-{i * w + w - 1}" for i in range(RANK_BUCKETS - 1)] + [f">={(RANK_BUCKETS - 1) * w}"]


def _rank(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    from vidsum.experiment_figures import plot_rank

    systems = _select(ctx, RANK_SYSTEMS)

    def analyse(model: Any, run: Run, device: str) -> dict:
        return {key: rank_deficits(model, ctx.records[key].features, device) for key in run.split["test_keys"]}

    docs, stats = _execute_all(ctx, _runs_for(ctx, systems), analyse, progress)
    groups = _group(docs)
    labels = rank_bucket_labels()
    buckets: dict[str, Any] = {}
    md_parts = []
    figures = {}
    for ds in ctx.datasets:
        buckets[ds.stem] = {}
        for kind in MATRICES:
            per_kind: dict[str, Any] = {}
            for s in systems:
                videos = []
                for d in groups[(ds.stem, "C", s.name)]:
                    for key in d["test_keys"]:
                        layers = d["analysis"][key][kind]
                        videos.append({
                            "video": key, "n_steps": ctx.records[key].n_steps, "f1": d["videos"][key][ds.f1_key],
                            "deficit_per_layer": layers,
                            # A channel's D is that of its most rank-deficient layer (its bottleneck).
                            "deficit": {ch: max(v) for ch, v in layers.items() if v},
                        })
                per_channel = {}
                for ch in ("visual", "sequential"):
                    if not any(ch in v["deficit"] for v in videos):
                        continue
                    rows = []
                    for b in range(RANK_BUCKETS):
                        f1s = [v["f1"] for v in videos if ch in v["deficit"] and rank_bucket(v["deficit"][ch]) == b]
                        rows.append({"bucket": labels[b], "videos": len(f1s), "mean_f1": float(np.mean(f1s)) if f1s else None})
                    per_channel[ch] = rows
                per_kind[s.name] = {"label": s.label, "videos": videos, "buckets": per_channel}
            buckets[ds.stem][kind] = per_kind
            for ch in ("visual", "sequential"):
                if not all(ch in per_kind[s.name]["buckets"] for s in systems):
                    continue
                header = [f"D = T - rank({kind})"]
                for s in systems:
                    header += [f"{s.label} videos", f"{s.label} mean F1 (%)"]
                table = []
                for b in range(RANK_BUCKETS):
                    cells = [labels[b]]
                    for s in systems:
                        row = per_kind[s.name]["buckets"][ch][b]
                        cells += [str(row["videos"]), "-" if row["mean_f1"] is None else f"{100 * row['mean_f1']:.1f}"]
                    table.append(cells)
                md_parts.append(f"**{ds.title}, {ch} channel, M = {kind}**\n\n" + _md_table(header, table))
            name = f"figure3_rank_{ds.stem}.png" if kind == "A" else f"figure3_logrank_{ds.stem}.png"
            plot_rank(ctx.out / name, per_kind, [s.name for s in systems], labels, f"{ds.title}, M = {kind}")
            figures[name] = f"Figure 3 on {ds.title} with M = {kind}: mean F1 and number of test videos per bucket of D, per channel"
    tol = f"singular values above {RANK_RTOL:.3g} x sigma_max x T (numpy's matrix_rank rule with float32's epsilon)"
    md = (
        _header(
            ctx, "Figure 3: rank deficit of the attention matrices",
            "Every test video's attention matrices (T x T, rows = queries; softmax: A = P, MoA: A = P P^) are "
            "recomputed in float64 from the model of the fold that tests the video. D = T - rank(M), where T "
            f"is the number of steps and the numerical rank counts {tol}. M = A is the attention matrix; "
            "M = log A (elementwise) is the log-probability matrix of section 3.2, whose rank softmax bounds by "
            "d + 1 (the softmax bottleneck). A channel's D is the largest over its layers (its most "
            f"rank-deficient layer); every layer's D is in results.json. Buckets of {RANK_BUCKET_WIDTH}.",
        )
        + "\n" + "\n\n".join(md_parts)
        + "\n\nPaper (TVSum, bars only, no numbers printed): softmax attention drops in F1 after D 8-11 (visual) "
        "and 4-7 (sequential); with softmax many videos leave the 0-7 range; with MoA a large share of videos "
        "is in 0-3 and videos with D > 11 score higher. Note: rank(P P^) <= min(rank P, rank P^), so under "
        "this reading M = A cannot gain rank from the mixture; M = log A can.\n"
    )
    doc = {"reproduces": "Figure 3", "rank_tolerance": tol, "rank_rtol": RANK_RTOL, "bucket_width": RANK_BUCKET_WIDTH,
           "matrices": list(MATRICES), "buckets": buckets, "runs": stats}
    return doc, md, figures


# ---------------------------------------------------------------------------------------------
# Figure 5: correlation curves (Otani et al. 2019)


def correlation_curve(scores: np.ndarray, reference: np.ndarray, points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Otani et al.'s curve: frames ranked by ``scores`` (descending), cumulative share of ``reference``.

    scores, reference: (n_frames,) float. Returns (x, y), each (points + 1,) float64 from (0, 0)
    to (1, 1): x = share of frames taken, y = share of the total reference importance they hold.
    Frames with equal scores count in random order (their reference values are averaged), so a
    constant score vector gives the random expectation y = x. Ranking by ``reference`` itself
    gives the upper bound, by ``-reference`` the lower bound.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    r = np.asarray(reference, dtype=np.float64).reshape(-1)
    if s.size != r.size or s.size == 0:
        raise ValueError(f"scores ({s.size}) and reference ({r.size}) must be non-empty and of equal length")
    order = np.argsort(-s, kind="stable")
    s_sorted, r_sorted = s[order], r[order]
    _, start, counts = np.unique(-s_sorted, return_index=True, return_counts=True)
    group_mean = np.add.reduceat(r_sorted, start) / counts
    r_tied = np.repeat(group_mean, counts)
    total = r_tied.sum()
    cum = np.concatenate(([0.0], np.cumsum(r_tied))) / (total if total > 0 else 1.0)
    if total <= 0:
        cum = np.linspace(0.0, 1.0, s.size + 1)
    idx = np.unique(np.round(np.linspace(0, s.size, points + 1)).astype(int))
    return idx / s.size, cum[idx]


def _points(values: np.ndarray) -> list[float]:
    """Curve coordinates for results.json: 4 decimals (a 1/10,000 share is finer than a plot shows)."""
    return [round(float(v), 4) for v in values]


def _annotations(rec: Any) -> np.ndarray:
    ann = rec.user_scores if rec.user_scores is not None else rec.user_summary
    return np.asarray(ann, dtype=np.float64)


def _chosen_videos(ctx: Context, count: int) -> list[str]:
    if ctx.videos:
        from vidsum.data import resolve_key

        data_records = {k: ctx.records[k] for ds in ctx.datasets for k in ds.keys}
        try:
            return [resolve_key(v, data_records) for v in ctx.videos]
        except DatasetError as exc:
            raise UsageError(f"--video: {exc}") from None
    return list(ctx.datasets[0].keys[:count])


def _video_runs(ctx: Context, systems: Sequence[System], keys: Sequence[str]) -> list[Run]:
    """Only the folds that test the chosen videos."""
    need: dict[str, set[int]] = {}
    for key in keys:
        ds, k = ctx.fold_of(key)
        need.setdefault(ds.stem, set()).add(k)
    return _runs_for(ctx, systems, lambda ds: sorted(need.get(ds.stem, ())))


def _curves(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    from vidsum.evaluation import evaluate_video, frame_scores_for, rank_correlations
    from vidsum.experiment_figures import plot_curves

    systems = _family_systems(ctx)
    keys = _chosen_videos(ctx, 2)
    docs, stats = _execute_all(ctx, _video_runs(ctx, systems, keys), None, progress)
    by_video: dict[str, Any] = {}
    table = []
    for key in keys:
        rec = ctx.records[key]
        ann = _annotations(rec)
        reference = ann.mean(axis=0)
        entry: dict[str, Any] = {"video": key, "video_name": rec.video_name, "n_frames": rec.n_frames}
        entry["upper"] = [_points(c) for c in correlation_curve(reference, reference)]
        entry["lower"] = [_points(c) for c in correlation_curve(-reference, reference)]
        entry["annotators"] = []
        for u in range(ann.shape[0]):
            x, y = correlation_curve(ann[u], reference)
            tau, rho = rank_correlations(ann[u], np.delete(ann, u, axis=0)) if ann.shape[0] > 1 else (0.0, 0.0)
            entry["annotators"].append({"x": _points(x), "y": _points(y), "kendall": tau, "spearman": rho})
        entry["systems"] = {}
        for s in systems:
            d = next(d for d in docs if d["system"] == s.name and key in d["test_keys"])
            frames = frame_scores_for(np.asarray(d["scores"][key]), rec)
            x, y = correlation_curve(frames, reference)
            m = evaluate_video(np.asarray(d["scores"][key]), rec)
            entry["systems"][s.name] = {"label": s.label, "fold": d["fold"], "x": _points(x), "y": _points(y), **m}
            table.append([key, s.label, f"{m['kendall']:.3f}", f"{m['spearman']:.3f}"])
        h_tau = float(np.mean([a["kendall"] for a in entry["annotators"]]))
        h_rho = float(np.mean([a["spearman"] for a in entry["annotators"]]))
        table.append([key, "human (leave-one-out, mean over annotators)", f"{h_tau:.3f}", f"{h_rho:.3f}"])
        by_video[key] = entry
    figures = {}
    name = "figure5_curves.png"
    plot_curves(ctx.out / name, by_video)
    figures[name] = "Figure 5: correlation curves per chosen video"
    md = (
        _header(
            ctx, "Figure 5: correlation curves (Otani et al. 2019)",
            "For each chosen video, frames are ranked by a score vector and the curve is the cumulative share of "
            "the reference importance (the mean of the annotators' per-frame scores) over the share of frames "
            "taken. One curve per annotator (ranking by their own scores), the random expectation (the "
            "diagonal), the upper and lower bounds (ranking by the reference, and by its reverse) and one curve "
            "per system, each from the model of the fold that tests the video. Tied scores count in random "
            "order (expected curve).",
        )
        + "\n" + _md_table(["video", "system", "Kendall τ", "Spearman ρ"], table)
        + "\n\nPaper: two TVSum videos (3eYKfiOEJNs, EYqVtl9YWJA), curves only (no numbers); DMASum's curve lies "
        "among the annotators' and above the random expectation.\n"
    )
    return {"reproduces": "Figure 5", "videos": by_video, "runs": stats}, md, figures


# ---------------------------------------------------------------------------------------------
# Figure 6: F1 against the number of inner steps m


def _learner_systems(ctx: Context) -> list[System]:
    return _select(ctx, [System(f"dmasum_m{m}", f"m = {m}", train={"inner_steps": m}) for m in ctx.steps])


def _learners(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    from vidsum.experiment_figures import plot_learners

    systems = _learner_systems(ctx)
    docs, stats = _execute_all(ctx, _runs_for(ctx, systems), None, progress)
    groups = _group(docs)
    curves: dict[str, Any] = {}
    table = []
    for s in systems:
        m = int(s.train["inner_steps"])
        cells = [str(m)]
        for ds in ctx.datasets:
            summary = fold_summary(groups[(ds.stem, "C", s.name)])
            curves.setdefault(ds.stem, []).append({"inner_steps": m, **summary})
            mark = " (paper's m)" if PAPER_INNER_STEPS.get(ds.paper or "") == m else ""
            cells.append(_cell(summary, ds.f1_key) + mark)
        table.append(cells)
    name = "figure6_learners.png"
    plot_learners(ctx.out / name, curves, {ds.stem: (ds.title, ds.f1_key, PAPER_INNER_STEPS.get(ds.paper or "")) for ds in ctx.datasets})
    md = (
        _header(ctx, "Figure 6: F1 against the number of inner steps m", "DMASum (single-video meta learning) with m inner SGD steps per task, everything else fixed.")
        + "\n" + _md_table(["m", *(f"{ds.title} F1 (%)" for ds in ctx.datasets)], table)
        + "\n\nPaper: F1 peaks at m = 3 on SumMe (54.3 %) and m = 5 on TVSum (61.4 %); the other points are drawn, "
        "not printed.\n"
    )
    return {"reproduces": "Figure 6", "curves": curves, "runs": stats}, md, {name: "Figure 6: F1 against m"}


# ---------------------------------------------------------------------------------------------
# Figure 7: one video, ground truth and the frames each system selected


def _qualitative(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    from vidsum.evaluation import evaluate_video
    from vidsum.experiment_figures import plot_qualitative
    from vidsum.selection import machine_summary

    systems = _family_systems(ctx)
    key = _chosen_videos(ctx, 1)[0]
    rec = ctx.records[key]
    docs, stats = _execute_all(ctx, _video_runs(ctx, systems, [key]), None, progress)
    entry: dict[str, Any] = {"video": key, "video_name": rec.video_name, "n_frames": rec.n_frames,
                             "picks": rec.picks.tolist(), "gtscore": [float(v) for v in rec.gtscore], "systems": {}}
    table = []
    for s in systems:
        d = next(d for d in docs if d["system"] == s.name and key in d["test_keys"])
        scores = np.asarray(d["scores"][key])
        summary = machine_summary(scores, rec.picks, rec.change_points, rec.n_frames)
        shots = [[int(a), int(b)] for a, b in rec.change_points if summary[a : b + 1].any()]
        m = evaluate_video(scores, rec)
        entry["systems"][s.name] = {"label": s.label, "fold": d["fold"], "scores": d["scores"][key],
                                    "selected_shots": shots, "selected_steps": summary[rec.picks].astype(int).tolist(), **m}
        table.append([s.label, str(len(shots)), f"{100 * summary.mean():.1f}", f"{100 * m['f1_max']:.1f}",
                      f"{100 * m['f1_avg']:.1f}", f"{m['kendall']:.3f}", f"{m['spearman']:.3f}"])
    name = "figure7_qualitative.png"
    plot_qualitative(ctx.out / name, entry)
    md = (
        _header(ctx, "Figure 7: one video, ground truth and the selected frames",
                f"Video `{key}`" + (f" ({rec.video_name})" if rec.video_name else "") + ", scored by the model of the "
                "fold that tests it; grey bars: ground-truth step scores (gtscore), coloured bars: the steps in the "
                "system's 15 % keyshot summary.")
        + "\n" + _md_table(["system", "shots selected", "frames selected (%)", "F1 max (%)", "F1 avg (%)", "Kendall τ", "Spearman ρ"], table)
        + "\n\nPaper: TVSum video 16 (caption; panel (a) says video 37), bars only: every system covers the "
        "high-importance intervals; DMASum and SUM-GAN select more peaks.\n"
    )
    return {"reproduces": "Figure 7", "video": entry, "runs": stats}, md, {name: "Figure 7: selected frames per system"}


# ---------------------------------------------------------------------------------------------
# Tables 1 and 2: the compared families, random and human


def _compare(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    from vidsum.evaluation import human_baseline, random_baseline

    systems = _family_systems(ctx)
    docs, stats = _execute_all(ctx, _runs_for(ctx, systems), None, progress)
    groups = _group(docs)
    baselines: dict[str, dict[str, Any]] = {}
    for ds in ctx.datasets:
        rand, human = [], []
        for k, split in enumerate(ctx.splits[ds.stem]):
            test = {key: ctx.records[key] for key in split["test_keys"]}
            rand.append({"fold": k, "metrics": random_baseline(test, n_draws=ctx.draws, seed=ctx.train_cfg.seed + k)})
            human.append({"fold": k, "metrics": human_baseline(test)})
        baselines[ds.stem] = {"random": fold_summary(rand), "human": fold_summary(human)}
    rows = []
    for ds in ctx.datasets:
        for s in systems:
            rows.append({"system": s.name, "label": s.label, "dataset": ds.stem, **fold_summary(groups[(ds.stem, "C", s.name)])})
        for b in ("random", "human"):
            rows.append({"system": b, "label": b.capitalize(), "dataset": ds.stem, **baselines[ds.stem][b]})

    def summary(ds: Dataset, name: str) -> dict | None:
        return next((r for r in rows if r["dataset"] == ds.stem and r["system"] == name), None)

    # Table 1: F1.
    header1 = ["Method"]
    for ds in ctx.datasets:
        header1 += [f"{ds.title} F1 (%)", "paper"]
    t1 = []
    shown = set()
    for s in systems:
        cells = [s.label + (f" (paper row: {s.paper})" if s.paper and s.paper != s.label else "")]
        for ds in ctx.datasets:
            cells += [_cell(summary(ds, s.name), ds.f1_key), _paper_cell(_paper_f1(PAPER_TABLE1, s.paper, ds))]
        shown.add(s.paper)
        t1.append(cells)
    for b in ("random", "human"):
        cells = [b.capitalize()]
        for ds in ctx.datasets:
            cells += [_cell(summary(ds, b), ds.f1_key), "-"]
        t1.append(cells)
    for row in PAPER_TABLE1:
        if row not in shown:
            cells = [row]
            for ds in ctx.datasets:
                cells += ["not run", _paper_cell(_paper_f1(PAPER_TABLE1, row, ds))]
            t1.append(cells)
    # Table 2: rank correlations.
    header2 = ["Method"]
    for ds in ctx.datasets:
        header2 += [f"{ds.title} τ", "paper", f"{ds.title} ρ", "paper"]

    def paper2(row: str | None, ds: Dataset) -> tuple[float | None, float | None]:
        if row not in PAPER_TABLE2 or ds.paper not in PAPER_DATASET_COLUMN:
            return None, None
        col = 2 * PAPER_DATASET_COLUMN[ds.paper]  # type: ignore[index]
        v = PAPER_TABLE2[row]  # type: ignore[index]
        return v[col], v[col + 1]

    t2 = []
    shown2 = set()
    for name, label, paper_row in (("random", "Random", "Random"), *((s.name, s.label, s.paper) for s in systems), ("human", "Human", "Human")):
        cells = [label]
        for ds in ctx.datasets:
            tau, rho = paper2(paper_row, ds)
            sm = summary(ds, name)
            cells += [_cell(sm, "kendall"), _paper_cell(tau, "kendall"), _cell(sm, "spearman"), _paper_cell(rho, "spearman")]
        shown2.add(paper_row)
        t2.append(cells)
    for row in PAPER_TABLE2:
        if row not in shown2:
            cells = [row]
            for ds in ctx.datasets:
                tau, rho = paper2(row, ds)
                cells += ["not run", _paper_cell(tau, "kendall"), "not run", _paper_cell(rho, "spearman")]
            t2.append(cells)
    all_systems = [*systems, System("random", "Random"), System("human", "Human")]
    detail_groups = {**groups}
    for ds in ctx.datasets:
        for b in ("random", "human"):
            detail_groups[(ds.stem, "C", b)] = [
                {"fold": f["fold"], "metrics": {m: f[m] for m in METRICS}} for f in baselines[ds.stem][b]["folds"]
            ]
    md = (
        _header(ctx, "Tables 1 and 2: compared methods", "Every model family trained by `vidsum train --arch` on the same folds, "
                "plus the random (uniform scores, mean of seeded draws) and human (leave-one-out over annotators) rows "
                "on the same test videos.")
        + "\n## Table 1: F1 (%)\n\n" + _md_table(header1, t1)
        + "\n\n## Table 2: rank correlation with the annotators (Kendall τ, Spearman ρ)\n\n" + _md_table(header2, t2)
        + "\n\n## Every metric\n\n" + _metrics_table(ctx, detail_groups, all_systems)
        + "\n\nPaper notes: rows marked \"not run\" are methods the paper quotes from other papers and vidsum "
        "does not implement. The paper's Table 1 row [36] is DPP-LSTM; vidsum's VS-LSTM is its variant without "
        "the DPP term. The paper's text quotes DMASum's TVSum correlations as 0.233 / 0.267 and the human ones as "
        "0.205 / 0.267, its Table 2 as 0.203 / 0.267 and 0.178 / 0.205; the table's values are shown.\n"
    )
    return {"reproduces": "Tables 1 and 2", "rows": rows, "runs": stats}, md, {}


# ---------------------------------------------------------------------------------------------
# Table 4: canonical / augmented / transfer


def _settings(ctx: Context, progress: ProgressFn | None) -> tuple[dict, str, dict]:
    systems = _family_systems(ctx)
    aug_keys = [k for d in ctx.aug for k in d.keys]
    runs = []
    for ds in ctx.datasets:
        others = [o for o in ctx.datasets if o.stem != ds.stem]
        for s in systems:
            for k, split in enumerate(ctx.splits[ds.stem]):
                base = ctx.out / "runs" / ds.stem
                runs.append(Run(ds, s, "C", k, split, [ds.path], [], base / "C" / s.name / f"fold_{k}"))
                if ctx.aug:
                    aug_split = {"train_keys": split["train_keys"] + aug_keys, "test_keys": split["test_keys"]}
                    runs.append(Run(ds, s, "A", k, aug_split, [ds.path], [d.path for d in ctx.aug], base / "A" / s.name / f"fold_{k}"))
            transfer_from = [*others, *ctx.aug]
            if transfer_from:
                split = {"train_keys": [k for d in transfer_from for k in d.keys], "test_keys": list(ds.keys)}
                runs.append(Run(ds, s, "T", 0, split, [ds.path], [d.path for d in transfer_from], ctx.out / "runs" / ds.stem / "T" / s.name / "fold_0"))
    docs, stats = _execute_all(ctx, runs, None, progress)
    groups = _group(docs)
    header = ["Method"]
    for ds in ctx.datasets:
        for st in SETTINGS:
            header += [f"{ds.title} {st} (%)", "paper"]
    rows, table, shown = [], [], set()
    for s in systems:
        cells = [s.label]
        for ds in ctx.datasets:
            for st in SETTINGS:
                g = groups.get((ds.stem, st, s.name))
                sm = fold_summary(g) if g else None
                if sm is not None:
                    rows.append({"system": s.name, "label": s.label, "dataset": ds.stem, "setting": st, **sm})
                cells += [_cell(sm, ds.f1_key), _paper_cell(_paper_f1(PAPER_TABLE4, s.paper, ds, st))]
        shown.add(s.paper)
        table.append(cells)
    for row in PAPER_TABLE4:
        if row not in shown:
            cells = [row]
            for ds in ctx.datasets:
                for st in SETTINGS:
                    cells += ["not run", _paper_cell(_paper_f1(PAPER_TABLE4, row, ds, st))]
            table.append(cells)
    aug_names = ", ".join(d.title for d in ctx.aug) or "none"
    md = (
        _header(ctx, "Table 4: canonical, augmented and transfer settings (F1 %)",
                f"C: the folds of the dataset. A: the same folds, with every --aug-data video ({aug_names}) added to each "
                "training fold. T: one run per dataset, trained on every other --data and --aug-data file, tested on "
                "all of the dataset's videos (std 0: one run).")
        + "\n" + _md_table(header, table) + "\n"
    )
    return {"reproduces": "Table 4", "rows": rows, "runs": stats}, md, {}


EXPERIMENTS: dict[str, tuple[str, Callable[[Context, ProgressFn | None], tuple[dict, str, dict]]]] = {
    "compare": ("Tables 1 and 2: every model family, random and human; F1, Kendall, Spearman", _compare),
    "ablation": ("Table 3: DMASum and its six ablations", _ablation),
    "settings": ("Table 4: canonical / augmented / transfer", _settings),
    "rank": ("Figure 3: rank deficit D = T - rank(A) of the attention matrices, MoA vs softmax", _rank),
    "curves": ("Figure 5: Otani et al.'s correlation curves for chosen videos", _curves),
    "learners": ("Figure 6: F1 against the number of inner steps m", _learners),
    "qualitative": ("Figure 7: one video's ground truth and the frames each system selected", _qualitative),
}


# ---------------------------------------------------------------------------------------------
# The driver


def _validate(ctx: Context) -> None:
    """Option errors that need the data (systems, videos, extra data), raised before any output."""
    if ctx.name in ("compare", "settings", "curves", "qualitative"):
        _family_systems(ctx)
    elif ctx.name == "ablation":
        _select(ctx, ABLATION_SYSTEMS)
    elif ctx.name == "rank":
        _select(ctx, RANK_SYSTEMS)
    elif ctx.name == "learners":
        _learner_systems(ctx)
    if ctx.name == "settings" and not ctx.aug and len(ctx.datasets) < 2:
        raise UsageError("'settings' needs extra training data: pass --aug-data FILE.h5 (paper: OVP and YouTube)")
    if ctx.name in ("curves", "qualitative"):
        for key in _chosen_videos(ctx, 2 if ctx.name == "curves" else 1):
            ctx.fold_of(key)


def _datasets(paths: Sequence[Path], records: Mapping[str, Any]) -> list[Dataset]:
    out = []
    for p in paths:
        keys = tuple(k for k, r in records.items() if Path(r.source) == p)
        out.append(Dataset(p.stem, p, keys, paper_dataset(p.stem)))
    return out


RESUME_FREE = ("device", "note")  # options a resumed run may change (they do not change a number)


def _check_resume(out: Path, settings: dict[str, Any], overwrite: bool) -> None:
    """A run folder is resumed only with the same options (except RESUME_FREE)."""
    path = out / "experiment.json"
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder. Fix: choose another --out")
    if overwrite and out.is_dir():
        for name in ("runs", "splits"):
            shutil.rmtree(out / name, ignore_errors=True)
        for p in out.glob("figure*.png"):
            p.unlink()
        for name in ("experiment.json", "results.json", "results.md"):
            (out / name).unlink(missing_ok=True)
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise OutputError(f"{path}: unreadable ({exc}). Fix: pass --overwrite or choose another --out") from exc
        a = {k: v for k, v in before.items() if k not in RESUME_FREE}
        b = {k: v for k, v in settings.items() if k not in RESUME_FREE}
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise OutputError(
                f"{out}: holds an experiment run with other options ({', '.join(diff)} differ), so its finished runs "
                "cannot be reused. Fix: pass the same options, choose another --out, or pass --overwrite"
            )
    elif out.is_dir() and (out / "runs").exists():
        raise OutputError(f"{out}: holds runs but no experiment.json. Fix: choose another --out or pass --overwrite")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the run folder ({exc.strerror}). Fix: choose another --out") from exc
    write_json(path, settings)


def run_experiment(
    name: str,
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    aug_data: Sequence[str | os.PathLike[str]] = (),
    inner_steps: int | None = None,
    videos: Sequence[str] = (),
    steps: Sequence[int] = LEARNER_STEPS,
    archs: Sequence[str] = (),
    only: Sequence[str] = (),
    draws: int = DEFAULT_DRAWS,
    note: str | None = None,
    size: str = "paper",
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Run experiment ``name`` (a key of EXPERIMENTS) into the run folder ``out``; return results.json.

    ``model_cfg`` gives the DMASum sizes (input_dim is taken from the data), ``train_cfg`` the
    epochs, folds, learning rates, validation part, seed and device of every run (strategy and
    split are set per system and setting). ``inner_steps`` None uses the paper's m per dataset
    (3 SumMe, 5 TVSum, else ``train_cfg.inner_steps``). ``videos`` picks the videos of curves /
    qualitative (default: the first of the first --data file), ``steps`` the m values of
    learners, ``archs`` the families of compare / settings / curves / qualitative (default:
    every trainable family), ``only`` restricts the systems by name, ``note`` is printed under
    the title of results.md (e.g. where the data come from), ``size`` ("paper", "small", "tiny")
    sizes the other families (their paper defaults, or FAMILY_SIZES). Finished runs in ``out``
    are reused; ``overwrite`` starts afresh. Progress stages: "runs", "epochs (current run)".
    """
    from vidsum.data import load_datasets
    from vidsum.experiment_figures import check_figures_available
    from vidsum.train import make_splits

    if name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    if not data:
        raise UsageError("no dataset given: pass --data FILE.h5 (repeat for several)")
    if draws < 1:
        raise UsageError(f"draws must be >= 1, got {draws}")
    if size not in SIZES:
        raise UsageError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if any(int(m) < 1 for m in steps) or not steps:
        raise UsageError(f"inner steps must be >= 1, got {list(steps)}")
    check_figures_available()
    model_cfg = model_cfg or ModelConfig()
    train_cfg = train_cfg or TrainConfig()
    out = Path(out)
    data_paths = [Path(p) for p in data]
    aug_paths = [Path(p) for p in aug_data]
    records = load_datasets(data_paths + aug_paths, require_annotations=True)
    dims = {r.features.shape[1] for r in records.values()}
    if len(dims) != 1:
        raise DatasetError(f"the datasets mix feature sizes {sorted(dims)}; all files must come from the same feature extractor")
    model_cfg = replace(model_cfg, input_dim=dims.pop())
    settings = {
        "experiment": name,
        "data": [str(p.resolve()) for p in data_paths],
        "aug_data": [str(p.resolve()) for p in aug_paths],
        "model": to_dict(model_cfg),
        "train": to_dict(train_cfg),
        "inner_steps": inner_steps,
        "videos": list(videos),
        "steps": [int(m) for m in steps],
        "archs": list(archs),
        "only": list(only),
        "draws": draws,
        "device": train_cfg.device,
        "size": size,
        "note": note,
    }
    ctx = Context(
        name, out, _datasets(data_paths, records), _datasets(aug_paths, records), records, model_cfg, train_cfg,
        inner_steps, list(videos), tuple(int(m) for m in steps), tuple(archs), tuple(only), draws, size,
    )
    for ds in ctx.datasets:
        ctx.splits[ds.stem] = make_splits(list(ds.keys), "non-overlapping", train_cfg.folds, train_cfg.seed)
    _validate(ctx)
    _check_resume(out, settings, overwrite)
    (out / "splits").mkdir(exist_ok=True)
    for ds in ctx.datasets:
        write_json(out / "splits" / f"{ds.stem}.json", ctx.splits[ds.stem])

    description, fn = EXPERIMENTS[name]
    start = time.perf_counter()
    doc, md, figures = fn(ctx, progress)
    if note:
        title, rest = md.split("\n", 1)
        md = f"{title}\n\n> {note}\n{rest}"
    results = {
        "experiment": name,
        "description": description,
        **doc,
        "data": settings["data"],
        "aug_data": settings["aug_data"],
        "datasets": {d.stem: {"paper": d.paper, "f1": d.f1_key, "videos": len(d.keys)} for d in ctx.datasets},
        "config": settings,
        "figures": figures,
        "seconds": time.perf_counter() - start,
    }
    if figures:
        md += "\n## Figures\n\n" + "\n".join(f"- `{f}`: {what}\n\n  ![{f}]({f})" for f, what in figures.items()) + "\n"
    write_json(out / "results.json", results)
    from vidsum.io import atomic_path

    with atomic_path(out / "results.md") as tmp:
        tmp.write_text(md, encoding="utf-8")
    log.info("%s: %d runs (%d trained, %d reused) -> %s", name, doc["runs"]["runs"], doc["runs"]["trained"], doc["runs"]["skipped"], out)
    return results
