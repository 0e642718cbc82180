"""`vidsum experiment NAME --data ... --out DIR`: one of the paper's tables or figures.

Heavy libraries (torch, h5py, matplotlib) are imported inside the command so `vidsum --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from vidsum.cli.common import RichProgress, console, guarded, out, setup_logging
from vidsum.config import TrainConfig

_T = TrainConfig()
NAMES = ("compare", "ablation", "settings", "rank", "curves", "learners", "qualitative")


def _steps(text: str) -> list[int]:
    from vidsum.errors import UsageError

    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--steps must be a comma-separated list of integers like 1,3,5, got {text!r}") from None
    if not values:
        raise UsageError("--steps is empty; give e.g. 1,2,3,4,5")
    return values


def experiment_command(
    name: str = typer.Argument(
        ..., help="compare (Tables 1-2), ablation (Table 3), settings (Table 4), rank (Figure 3), "
        "curves (Figure 5), learners (Figure 6) or qualitative (Figure 7).", show_default=False,
    ),
    data: List[Path] = typer.Option(
        ..., "--data", "-d", help="eccv16-schema HDF5 dataset(s) to test on (repeat: e.g. SumMe and TVSum).",
        show_default=False,
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Run folder: results.json, results.md, figure*.png, runs/ (reused when re-run).",
        show_default=False,
    ),
    aug_data: Optional[List[Path]] = typer.Option(
        None, "--aug-data", help="Extra training datasets (settings: OVP, YouTube); repeat for several.",
        show_default=False,
    ),
    size: str = typer.Option("paper", "--size", help="Model sizes: paper (section 4.1; the other families: their papers'), small or tiny (CPU runs)."),
    d_model: Optional[int] = typer.Option(None, "--d-model", help="Override the size's attention size D_a.", show_default=False),
    lstm_hidden: Optional[int] = typer.Option(None, "--lstm-hidden", help="Override the BiLSTM units per direction.", show_default=False),
    head_hidden: Optional[int] = typer.Option(None, "--head-hidden", help="Override the score head's hidden units.", show_default=False),
    layers_visual: Optional[int] = typer.Option(None, "--layers-visual", help="Override the visual MoA layers.", show_default=False),
    layers_sequential: Optional[int] = typer.Option(
        None, "--layers-sequential", help="Override the sequential MoA layers.", show_default=False
    ),
    folds: int = typer.Option(_T.folds, "--folds", help="k of the non-overlapping k-fold split (paper: 5)."),
    epochs: int = typer.Option(_T.epochs, "--epochs", help="Epochs per run; each run keeps its best validation epoch."),
    inner_steps: Optional[int] = typer.Option(
        None, "--inner-steps", help="m for every run (default: the paper's, 3 on SumMe and 5 on TVSum).", show_default=False,
    ),
    meta_lr: float = typer.Option(_T.meta_lr, "--meta-lr", help="beta, the Adam lr of every strategy (docs/training.md)."),
    inner_lr: float = typer.Option(_T.inner_lr, "--inner-lr", help="alpha, the lr of the inner SGD steps."),
    val_fraction: float = typer.Option(
        _T.val_fraction, "--val-fraction", help="Part of each training fold held out to choose the epoch."
    ),
    seed: int = typer.Option(_T.seed, "--seed", help="Seed of the folds, initialisation and order."),
    device: str = typer.Option(_T.device, "--device", help="auto (GPU when available), cpu or cuda."),
    video: Optional[List[str]] = typer.Option(
        None, "--video", help="curves / qualitative: the video(s) to show, e.g. tvsum/video_16 (default: the first "
        "two / the first of the first --data file).", show_default=False,
    ),
    steps: str = typer.Option("1,2,3,4,5,6,7,8,9,10", "--steps", help="learners: the m values, comma-separated."),
    arch: Optional[List[str]] = typer.Option(
        None, "--arch", help="compare / settings / curves / qualitative: model families to run (default: all).",
        show_default=False,
    ),
    only: Optional[List[str]] = typer.Option(
        None, "--only", help="Run only these systems of the experiment (e.g. --only dmasum --only dmasum_softmax).",
        show_default=False,
    ),
    draws: int = typer.Option(10, "--draws", help="compare: random-baseline draws per fold.", min=1),
    note: Optional[str] = typer.Option(
        None, "--note", help="A line printed under the title of results.md (e.g. where the data come from).",
        show_default=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete the earlier results in --out and start afresh."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or tables; errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every run (and every epoch's losses)."),
) -> None:
    """Run one of the paper's experiments (section 4) and write its tables and figures.

    Runs train like `vidsum train` (epochs chosen on validation videos, never test videos); finished ones are reused.

    results.md puts the paper's published number beside each measured one (docs/experiments.md).

    Examples:

      vidsum experiment ablation --data summe.h5 --data tvsum.h5 --out runs/table3

      vidsum experiment rank --data tvsum.h5 --out runs/figure3 --size small --epochs 10 --device cpu

      vidsum experiment settings --data summe.h5 --data tvsum.h5 --aug-data ovp.h5 --aug-data youtube.h5 --out runs/table4
    """
    setup_logging(quiet=quiet, verbose=verbose)
    with guarded():
        from dataclasses import replace

        from vidsum.config import ModelConfig
        from vidsum.errors import UsageError
        from vidsum.experiments import SIZES, run_experiment

        if name not in NAMES:
            raise UsageError(f"unknown experiment {name!r}; choose one of {', '.join(NAMES)}")
        if size not in SIZES:
            raise UsageError(f"--size must be one of {', '.join(SIZES)}, not {size!r}")
        overrides = {
            k: v for k, v in {
                "d_model": d_model, "lstm_hidden": lstm_hidden, "head_hidden": head_hidden,
                "layers_visual": layers_visual, "layers_sequential": layers_sequential,
            }.items() if v is not None
        }
        model_cfg = replace(ModelConfig(**SIZES[size]), **overrides)
        train_cfg = TrainConfig(
            folds=folds, epochs=epochs, meta_lr=meta_lr, inner_lr=inner_lr, val_fraction=val_fraction, seed=seed,
            device=device,  # type: ignore[arg-type]  # validated by TrainConfig
        )
        with RichProgress(enabled=not quiet) as progress:
            results = run_experiment(
                name, data, out_dir, model_cfg, train_cfg, aug_data=aug_data or (), inner_steps=inner_steps,
                videos=video or (), steps=_steps(steps), archs=arch or (), only=only or (), draws=draws, note=note,
                size=size,
                overwrite=overwrite, progress=progress,
            )
        if not quiet:
            from rich.markdown import Markdown

            out.print(Markdown((out_dir / "results.md").read_text(encoding="utf-8")))
            runs = results["runs"]
            console.print(
                f"{runs['runs']} runs: {runs['trained']} trained, {runs['skipped']} reused from an earlier run. "
                f"Wrote {out_dir / 'results.md'}, {out_dir / 'results.json'}"
                + "".join(f", {out_dir / f}" for f in results["figures"])
            )
