"""`vidsum train --data tvsum.h5 --out runs/tvsum`: train and cross-validate a model family.

Heavy libraries (torch, h5py) are imported inside the command so that `vidsum --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from vidsum.cli.common import RichProgress, guarded, out, setup_logging
from vidsum.config import ModelConfig, TrainConfig

_T = TrainConfig()
_M = ModelConfig()
# The registry (vidsum.models.MODELS) imports torch, so --help names the families here; a test
# keeps this list equal to the registry.
ARCHS = ("dmasum", "training-free", "vslstm", "dpp-lstm", "dr-dsn", "dr-dsn-sup", "sum-gan", "sum-gan-sup", "vasnet")
# Size flags that set the same-named field of any family that has one (DMASum has all of them).
SIZE_FLAGS = {
    "d_model": "--d-model",
    "layers_visual": "--layers-visual",
    "layers_sequential": "--layers-sequential",
    "lstm_hidden": "--lstm-hidden",
    "head_hidden": "--head-hidden",
    "dropout": "--dropout",
    "attention": "--attention",
    "channels": "--channels",
}


def _table(metrics: dict[str, Any], out_dir: Path) -> None:
    from rich.table import Table

    if metrics.get("mean") is None:
        out.print(f"trained without evaluation ({metrics.get('not_evaluated')}): {out_dir / 'fold_0.pt'}")
        return
    table = Table(title=f"test metrics per fold ({out_dir / 'metrics.json'})")
    table.add_column("fold")
    for name in ("F1 max (%)", "F1 avg (%)", "Kendall tau", "Spearman rho"):
        table.add_column(name, justify="right")
    keys = ("f1_max", "f1_avg", "kendall", "spearman")

    def cell(key: str, value: float) -> str:
        return f"{100 * value:.1f}" if key.startswith("f1") else f"{value:.3f}"

    for row in metrics["folds"]:
        table.add_row(str(row["fold"]), *(cell(k, row[k]) for k in keys))
    table.add_section()
    table.add_row(
        "mean ± std",
        *(f"{cell(k, metrics['mean'][k])} ± {cell(k, metrics['std'][k])}" for k in keys),
        style="bold",
    )
    out.print(table)


def train_command(
    data: List[Path] = typer.Option(
        ..., "--data", "-d", help="eccv16-schema HDF5 dataset(s) to cross-validate on (repeat for several).",
        show_default=False,
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Run folder: config.json, splits.json, fold_K.pt, metrics.json.", show_default=False
    ),
    arch: str = typer.Option(
        "dmasum", "--arch", help=f"Model family: {', '.join(ARCHS)} (docs/models.md). training-free is scored "
        "on the same folds without training.",
    ),
    strategy: Optional[str] = typer.Option(
        None, "--strategy", help="meta (single-video meta learning, Algorithm 1), plain (Adam), "
        "batch-meta (meta with 3 videos per task) or maml (first-order MAML). Default: meta for dmasum, "
        "plain for the compared systems (sum-gan: plain only).", show_default=False,
    ),
    split: str = typer.Option(
        _T.split, "--split", help="non-overlapping (k-fold, each video tested once), random (seeded 80/20 draws), "
        "augmented (--aug-data joins every training fold) or transfer (train on --aug-data, test on all --data).",
    ),
    aug_data: Optional[List[Path]] = typer.Option(
        None, "--aug-data", help="Extra training datasets for --split augmented/transfer (repeat for several).",
        show_default=False,
    ),
    splits: Optional[Path] = typer.Option(
        None, "--splits", help="Use this split file (JSON [{\"train_keys\": [...], \"test_keys\": [...]}], e.g. "
        "an earlier run's splits.json) instead of --split/--folds.", show_default=False,
    ),
    folds: int = typer.Option(_T.folds, "--folds", help="k for k-fold; the number of draws for --split random."),
    epochs: int = typer.Option(_T.epochs, "--epochs", help="Passes over the training videos per fold."),
    inner_steps: int = typer.Option(_T.inner_steps, "--inner-steps", help="m: SGD steps per task (paper: 5 TVSum, 3 SumMe)."),
    inner_lr: float = typer.Option(_T.inner_lr, "--inner-lr", help="alpha: lr of the inner SGD steps (paper 3e-5; see docs/training.md)."),
    meta_lr: float = typer.Option(
        _T.meta_lr, "--meta-lr", "--lr", help="beta: Adam lr of every strategy and family (DMASum paper 6e-5; see docs/training.md)."
    ),
    val_fraction: float = typer.Option(
        _T.val_fraction, "--val-fraction", help="Part of each training fold held out to choose the epoch (0: keep the last epoch).",
    ),
    seed: int = typer.Option(_T.seed, "--seed", help="Seed for splits, initialisation and order (deterministic on CPU)."),
    device: str = typer.Option(_T.device, "--device", help="auto (GPU when available), cpu or cuda."),
    d_model: Optional[int] = typer.Option(None, "--d-model", help=f"DMASum attention size D_a (paper {_M.d_model}).", show_default=False),
    layers_visual: Optional[int] = typer.Option(
        None, "--layers-visual", help=f"DMASum MoA layers on the visual channel (paper {_M.layers_visual}).", show_default=False
    ),
    layers_sequential: Optional[int] = typer.Option(
        None, "--layers-sequential", help=f"DMASum MoA layers after the BiLSTM (paper {_M.layers_sequential}).",
        show_default=False,
    ),
    lstm_hidden: Optional[int] = typer.Option(
        None, "--lstm-hidden", help=f"BiLSTM units per direction (DMASum paper {_M.lstm_hidden}; also vslstm).",
        show_default=False,
    ),
    head_hidden: Optional[int] = typer.Option(
        None, "--head-hidden", help=f"Hidden units of the score head (DMASum paper {_M.head_hidden}; also vasnet).",
        show_default=False,
    ),
    dropout: Optional[float] = typer.Option(
        None, "--dropout", help=f"Dropout (DMASum {_M.dropout}; also vslstm, vasnet).", show_default=False
    ),
    attention: Optional[str] = typer.Option(
        None, "--attention", help="DMASum: moa (mixture of attention, default) or softmax (ablation).", show_default=False
    ),
    channels: Optional[str] = typer.Option(
        None, "--channels", help="DMASum: both (default), visual or sequential (ablation).", show_default=False
    ),
    model_opt: Optional[List[str]] = typer.Option(
        None, "--model-opt", help="KEY=VALUE: any field of the family's config, e.g. --model-opt hidden=64 "
        "(repeat; the fields of each family: docs/models.md).", show_default=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the results of an earlier run in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or table; errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every epoch's losses."),
) -> None:
    """Train a model family with cross-validation and report F1 / rank correlations per fold.

    Examples:

      vidsum train --data eccv16_dataset_tvsum_google_pool5.h5 --out runs/tvsum

      vidsum train --arch dr-dsn --data tvsum.h5 --splits runs/tvsum/splits.json --out runs/tvsum_drdsn

      vidsum train --arch vasnet --data tvsum.h5 --model-opt dropout=0.5 --lr 5e-5 --out runs/tvsum_vasnet

      vidsum train --data summe.h5 --aug-data tvsum.h5 --aug-data ovp.h5 --split augmented --inner-steps 3 --out runs/summe_aug

      vidsum train --data tvsum.h5 --splits runs/tvsum/splits.json --strategy plain --out runs/tvsum_plain
    """
    setup_logging(quiet=quiet, verbose=verbose)
    with guarded():
        from vidsum.errors import UsageError
        from vidsum.models import get_model_spec
        from vidsum.train import model_config, run_training

        spec = get_model_spec(arch)
        sizes = {
            "d_model": d_model, "layers_visual": layers_visual, "layers_sequential": layers_sequential,
            "lstm_hidden": lstm_hidden, "head_hidden": head_hidden, "dropout": dropout,
            "attention": attention, "channels": channels,
        }
        options: dict[str, Any] = {}
        for item in model_opt or ():
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise UsageError(f"--model-opt {item!r}: expected KEY=VALUE, e.g. --model-opt hidden=64")
            options[key.strip().replace("-", "_")] = value.strip()
        for name, value in sizes.items():
            if value is None:
                continue
            if spec.config_cls is None or name not in {f for f in spec.config_cls.__dataclass_fields__}:
                raise UsageError(f"{SIZE_FLAGS[name]} does not apply to --arch {arch}; see docs/models.md for its options")
            options[name] = value
        model_cfg = model_config(arch, options)
        cfg = TrainConfig(
            strategy=strategy or spec.strategies[0],  # type: ignore[arg-type]  # validated by TrainConfig
            split=split,  # type: ignore[arg-type]
            folds=folds,
            epochs=epochs,
            inner_steps=inner_steps,
            inner_lr=inner_lr,
            meta_lr=meta_lr,
            val_fraction=val_fraction,
            seed=seed,
            device=device,  # type: ignore[arg-type]
        )
        with RichProgress(enabled=not quiet) as progress:
            metrics = run_training(
                data, out_dir, model_cfg, cfg, aug_data=aug_data or (), splits=splits, overwrite=overwrite,
                progress=progress, arch=arch,
            )
        if not quiet:
            _table(metrics, out_dir)
