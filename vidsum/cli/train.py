"""`vidsum train --data tvsum.h5 --out runs/tvsum`: train and cross-validate DMASum.

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


def _table(metrics: dict[str, Any], out_dir: Path) -> None:
    from rich.table import Table

    from vidsum.evaluation import METRICS as keys

    table = Table(title=f"test metrics per fold ({out_dir / 'metrics.json'})")
    table.add_column("fold")
    for name in ("F1 max (%)", "F1 avg (%)", "Kendall tau", "Spearman rho"):
        table.add_column(name, justify="right")

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
    strategy: str = typer.Option(
        _T.strategy, "--strategy", help="meta (single-video meta learning, Algorithm 1), plain (Adam), "
        "batch-meta (meta with 3 videos per task) or maml (first-order MAML).",
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
    meta_lr: float = typer.Option(_T.meta_lr, "--meta-lr", help="beta: Adam lr of every strategy (paper 6e-5; see docs/training.md)."),
    val_fraction: float = typer.Option(
        _T.val_fraction, "--val-fraction", help="Part of each training fold held out to choose the epoch (0: keep the last epoch).",
    ),
    seed: int = typer.Option(_T.seed, "--seed", help="Seed for splits, initialisation and order (deterministic on CPU)."),
    device: str = typer.Option(_T.device, "--device", help="auto (GPU when available), cpu, cuda or cuda:N (the N-th GPU)."),
    d_model: int = typer.Option(_M.d_model, "--d-model", help="Attention size D_a (paper 1024)."),
    layers_visual: int = typer.Option(_M.layers_visual, "--layers-visual", help="MoA layers on the visual channel (paper 4)."),
    layers_sequential: int = typer.Option(
        _M.layers_sequential, "--layers-sequential", help="MoA layers after the BiLSTM (paper 2)."
    ),
    lstm_hidden: int = typer.Option(_M.lstm_hidden, "--lstm-hidden", help="BiLSTM units per direction (paper 512)."),
    head_hidden: int = typer.Option(_M.head_hidden, "--head-hidden", help="Hidden units of the score head (paper 1024)."),
    dropout: float = typer.Option(_M.dropout, "--dropout", help="Dropout in the attention layers, BiLSTM and head."),
    attention: str = typer.Option(_M.attention, "--attention", help="moa (mixture of attention) or softmax (ablation)."),
    channels: str = typer.Option(_M.channels, "--channels", help="both, visual or sequential (ablation)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the results of an earlier run in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or table; errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every epoch's losses."),
) -> None:
    """Train DMASum with cross-validation and report F1 / rank correlations per fold.

    Examples:

      vidsum train --data eccv16_dataset_tvsum_google_pool5.h5 --out runs/tvsum

      vidsum train --data summe.h5 --aug-data tvsum.h5 --aug-data ovp.h5 --split augmented --inner-steps 3 --out runs/summe_aug

      vidsum train --data tvsum.h5 --splits runs/tvsum/splits.json --strategy plain --out runs/tvsum_plain
    """
    setup_logging(quiet=quiet, verbose=verbose)
    with guarded():
        from vidsum.train import run_training

        model_cfg = ModelConfig(
            d_model=d_model,
            layers_visual=layers_visual,
            layers_sequential=layers_sequential,
            lstm_hidden=lstm_hidden,
            head_hidden=head_hidden,
            dropout=dropout,
            attention=attention,  # type: ignore[arg-type]  # validated by ModelConfig
            channels=channels,  # type: ignore[arg-type]
        )
        cfg = TrainConfig(
            strategy=strategy,  # type: ignore[arg-type]  # validated by TrainConfig
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
                progress=progress,
            )
        if not quiet:
            _table(metrics, out_dir)
