"""`vidsum eval`: score a model, a predictions file and/or the baselines with the one protocol.

Heavy libraries (torch, h5py, scipy) are imported inside the command so `vidsum --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from vidsum.cli.common import RichProgress, console, guarded, out, setup_logging

# Column labels say which F1 convention each number follows, so nobody has to guess.
COLUMNS = (
    ("f1_max", "F1-max % (SumMe)"),
    ("f1_avg", "F1-avg % (TVSum)"),
    ("kendall", "Kendall τ"),
    ("spearman", "Spearman ρ"),
)


def _model_predictions(model_path: Path, records: dict[str, Any], device: str, test_only: bool, progress: Any) -> dict:
    """Run the checkpoint on every selected video; returns key -> (n_steps,) scores."""
    import logging

    from vidsum.models import load_model, predict
    from vidsum.device import resolve_device
    from vidsum.errors import UsageError

    log = logging.getLogger("vidsum.cli.eval")
    dev = str(resolve_device(device))
    model, ckpt = load_model(model_path, device=dev)
    train_info = ckpt.get("train", {}) if isinstance(ckpt, dict) else {}
    seen = set(train_info.get("train_keys", []) or []) | set(train_info.get("val_keys", []) or [])
    keys = list(records)
    if test_only:
        wanted = set(train_info.get("test_keys", []) or [])
        keys = [k for k in keys if k in wanted]
        if not keys:
            raise UsageError(
                f"--test-only: none of the checkpoint's test videos is in --data ({model_path} records "
                f"{len(wanted)} test keys). Fix: pass the dataset file the model was trained on"
            )
    overlap = [k for k in keys if k in seen]
    if overlap:
        log.warning(
            "%d of the %d evaluated videos were used to train or select this checkpoint, so the model row "
            "is optimistic; use --test-only to score only its test videos",
            len(overlap),
            len(keys),
        )
    preds = {}
    for i, key in enumerate(keys):
        preds[key] = predict(model, records[key].features, device=dev)
        progress("predict", i + 1, len(keys))
    return preds


def eval_command(
    data: list[Path] = typer.Option(
        ..., "--data", "-d", help="eccv16-schema HDF5 dataset(s) with user annotations; repeat for several files "
        "(videos are named FILE_STEM/video_k).", show_default=False,
    ),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="DMASum checkpoint (fold_K.pt from `vidsum train`) to score.", show_default=False,
    ),
    predictions: Optional[Path] = typer.Option(
        None, "--predictions", "-p", help="HDF5 file of any method's outputs: a 'scores' vector per video "
        "(/video_1/scores or /tvsum/video_1/scores), one score per step or per frame.", show_default=False,
    ),
    baselines: bool = typer.Option(
        False, "--baselines", "-b", help="Add the 'random' (uniform scores, mean of --draws seeded draws) and 'human' "
        "(leave-one-out over annotators) rows, on the same videos.",
    ),
    json_path: Optional[Path] = typer.Option(
        None, "--json", help="Also write the rows (F1 as fractions in [0, 1]) and per-video results to this JSON file.",
        show_default=False,
    ),
    budget: float = typer.Option(0.15, "--budget", help="Summary length as a fraction of each video (the literature uses 0.15)."),
    draws: int = typer.Option(10, "--draws", help="Random-baseline draws to average.", min=1),
    seed: int = typer.Option(0, "--seed", help="Seed of the random baseline."),
    test_only: bool = typer.Option(
        False, "--test-only", help="With --model: score only the videos the checkpoint recorded as its test split.",
    ),
    per_video: bool = typer.Option(False, "--per-video", help="Also print one row per video for the model/predictions."),
    device: str = typer.Option("auto", "--device", help="auto (GPU when available), cpu or cuda (for --model)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; errors and the table only."),
) -> None:
    """Evaluate video summaries with the standard protocol: keyshot F1 (15 % budget, 0/1 knapsack over
    shots) and Kendall / Spearman rank correlation with the annotators, plus baseline rows.

    Examples:

      vidsum eval --data tvsum.h5 --model runs/tvsum/fold_0.pt --test-only --baselines

      vidsum eval --data summe.h5 --predictions other_method.h5 --json results.json

      vidsum eval --data tvsum.h5 --data summe.h5 --baselines
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.errors import OutputError, UsageError

        if model is not None and predictions is not None:
            raise UsageError("give either --model or --predictions, not both (run eval twice to compare them)")
        if model is None and predictions is None and not baselines:
            raise UsageError("nothing to evaluate: give --model CKPT, --predictions P.h5 and/or --baselines")
        if test_only and model is None:
            raise UsageError("--test-only needs --model (it uses the test split recorded in the checkpoint)")
        if not 0.0 < budget <= 1.0:
            raise UsageError(f"--budget must be a fraction in (0, 1], got {budget}")
        if json_path is not None and not json_path.parent.resolve().is_dir():
            raise OutputError(f"{json_path}: folder {json_path.parent} does not exist; create it first")

        from vidsum.data import load_datasets, load_predictions
        from vidsum.evaluation import METRICS, evaluate, human_baseline, random_baseline
        from vidsum.io import write_json

        records = load_datasets(data)
        rows: list[dict[str, Any]] = []
        videos: dict[str, dict[str, float]] | None = None
        with RichProgress(enabled=not quiet) as progress:
            preds = None
            if model is not None:
                preds = _model_predictions(model, records, device, test_only, progress)
                source = str(model)
            elif predictions is not None:
                preds = load_predictions(predictions)  # keys resolved (and duplicates refused) by evaluate
                source = str(predictions)
            scored = records
            if preds is not None:
                result = evaluate(preds, records, fraction=budget, progress=progress)
                videos = result["videos"]
                rows.append({"name": "model", "source": source, "n_videos": len(videos), **result["mean"]})
                scored = {k: records[k] for k in videos}
                if predictions is not None and len(videos) < len(records):
                    console.print(
                        f"[yellow]note:[/] {predictions} has scores for {len(videos)} of {len(records)} videos; "
                        "only those (and the baselines on the same videos) are scored."
                    )
            if baselines:
                rand = random_baseline(scored, n_draws=draws, seed=seed, fraction=budget, progress=progress)
                rows.append({"name": "random", "draws": draws, "seed": seed, "n_videos": len(scored), **rand})
                rows.append({"name": "human", "n_videos": len(scored), **human_baseline(scored)})

        _print_table(rows, videos if per_video else None, [str(p) for p in data], budget)
        if json_path is not None:
            doc = {
                "rows": [{k: r[k] for k in ("name", *METRICS)} | {k: v for k, v in r.items() if k not in METRICS} for r in rows],
                "data": [str(p) for p in data],
                "budget": budget,
                "videos": videos or {},
            }
            write_json(json_path, doc)
            console.print(f"wrote {json_path}")


def _print_table(rows: list[dict[str, Any]], videos: dict[str, dict[str, float]] | None, data: list[str], budget: float) -> None:
    from rich.table import Table

    n = max((r["n_videos"] for r in rows), default=0)
    table = Table(
        title=f"{n} videos from {', '.join(data)} (summary budget {budget:.0%} of each video)",
        caption=(
            "F1-max: F1 against the best-matching user (SumMe convention); F1-avg: mean F1 over users "
            "(TVSum convention). Kendall τ / Spearman ρ: rank correlation with each user's per-frame annotation, "
            "mean over users (Otani et al. 2019)."
        ),
    )
    table.add_column("row")
    for _, label in COLUMNS:
        table.add_column(label, justify="right")

    def cells(metrics: dict[str, float]) -> list[str]:
        return [
            f"{metrics[key] * 100:.1f}" if key.startswith("f1") else f"{metrics[key]:.3f}" for key, _ in COLUMNS
        ]

    for row in rows:
        table.add_row(row["name"], *cells(row))
    if videos:
        table.add_section()
        for key, metrics in videos.items():
            table.add_row(key, *cells(metrics), style="dim")
    out.print(table)
