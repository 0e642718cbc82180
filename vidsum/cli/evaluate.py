"""`vidsum eval`: score a model, a training-free scorer, a predictions file and/or the baselines
with the one protocol (``vidsum.evaluation``).

Heavy libraries (torch, h5py, scipy) are imported inside the command so `vidsum --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from vidsum.cli.common import RichProgress, console, guarded, out, setup_logging
from vidsum.config import DEFAULT_BUDGET

# Column labels say which F1 convention each number follows, so nobody has to guess.
COLUMNS = (
    ("f1_max", "F1-max % (SumMe)"),
    ("f1_avg", "F1-avg % (TVSum)"),
    ("kendall", "Kendall τ"),
    ("spearman", "Spearman ρ"),
)


def eval_command(
    data: list[Path] = typer.Option(
        ..., "--data", "-d", help="eccv16-schema HDF5 dataset(s) with user annotations; repeat for several files "
        "(videos are named FILE_STEM/video_k).", show_default=False,
    ),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="Checkpoint (fold_K.pt from `vidsum train`, any model family) to score.", show_default=False,
    ),
    scorer: Optional[str] = typer.Option(
        None, "--scorer", help="Score a scorer that needs no checkpoint: 'training-free' (what `vidsum summarize` "
        "uses without a model), on the dataset's shots.", show_default=False,
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
    budget: float = typer.Option(DEFAULT_BUDGET, "--budget", help="Summary length as a fraction of each video (the literature uses 0.15)."),
    draws: int = typer.Option(10, "--draws", help="Random-baseline draws to average.", min=1),
    seed: int = typer.Option(0, "--seed", help="Seed of the random baseline."),
    test_only: bool = typer.Option(
        False, "--test-only", help="With --model: score only the videos the checkpoint recorded as its test split.",
    ),
    per_video: bool = typer.Option(False, "--per-video", help="Also print one row per video for the model/predictions."),
    device: str = typer.Option("auto", "--device", help="auto (GPU when available), cpu, cuda or cuda:N (for --model)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; errors and the table only."),
) -> None:
    """Evaluate video summaries with the standard protocol: keyshot F1 (15 % budget, 0/1 knapsack over
    shots) and Kendall / Spearman rank correlation with the annotators, plus baseline rows.

    Examples:

      vidsum eval --data tvsum.h5 --model runs/tvsum/fold_0.pt --test-only --baselines

      vidsum eval --data summe.h5 --predictions other_method.h5 --json results.json

      vidsum eval --data tvsum.h5 --scorer training-free --baselines

      vidsum eval --data tvsum.h5 --data summe.h5 --baselines
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.config import EvalConfig
        from vidsum.errors import UsageError

        given = [name for name, v in (("--model", model), ("--scorer", scorer), ("--predictions", predictions)) if v is not None]
        if len(given) > 1:
            both = "not both" if len(given) == 2 else "only one of them"
            raise UsageError(f"give either {' or '.join(given)}, {both} (run eval once per method to compare them)")
        if not given and not baselines:
            raise UsageError("nothing to evaluate: give --model CKPT, --scorer training-free, --predictions P.h5 and/or --baselines")
        if test_only and model is None:
            raise UsageError("--test-only needs --model (it uses the test split recorded in the checkpoint)")
        cfg = EvalConfig(budget=budget, draws=draws, seed=seed, test_only=test_only, device=device)
        if json_path is not None:
            from vidsum.io import check_output

            check_output(json_path, "eval JSON", [*data, *(p for p in (model, predictions) if p)], overwrite=True)

        from vidsum.data import load_datasets, load_predictions
        from vidsum.evaluation import eval_document, evaluate, evaluate_checkpoint, evaluate_scorer, human_baseline, random_baseline
        from vidsum.io import write_json

        score_with = None
        if scorer is not None:
            from vidsum.models import MODELS, load_scorer

            free = [n for n, s in MODELS.items() if not s.needs_training]
            if scorer not in free:
                raise UsageError(f"--scorer {scorer!r}: use one of {', '.join(free)} (trained models are given with --model)")
            score_with = load_scorer(None, name=scorer)
        records = load_datasets(data)
        rows: list[dict[str, Any]] = []
        videos: dict[str, dict[str, float]] | None = None
        with RichProgress(enabled=not quiet) as progress:
            result = None
            if model is not None:
                result = evaluate_checkpoint(model, records, cfg.device, cfg.test_only, cfg.budget, progress)
                rows.append({"name": "model", "source": str(model), "n_videos": len(result["videos"]), **result["mean"]})
            elif score_with is not None:
                result = evaluate_scorer(score_with, records, fraction=cfg.budget, progress=progress)
                rows.append({"name": scorer, "source": score_with.name, "n_videos": len(result["videos"]), **result["mean"]})
            elif predictions is not None:
                preds = load_predictions(predictions)  # keys resolved (and duplicates refused) by evaluate
                result = evaluate(preds, records, fraction=cfg.budget, progress=progress)
                rows.append({"name": "model", "source": str(predictions), "n_videos": len(result["videos"]), **result["mean"]})
                if len(result["videos"]) < len(records):
                    console.print(
                        f"[yellow]note:[/] {predictions} has scores for {len(result['videos'])} of {len(records)} videos; "
                        "only those (and the baselines on the same videos) are scored."
                    )
            scored = records
            if result is not None:
                videos = result["videos"]
                scored = {k: records[k] for k in videos}
            if baselines:
                rand = random_baseline(scored, n_draws=cfg.draws, seed=cfg.seed, fraction=cfg.budget, progress=progress)
                rows.append({"name": "random", "draws": cfg.draws, "seed": cfg.seed, "n_videos": len(scored), **rand})
                rows.append({"name": "human", "n_videos": len(scored), **human_baseline(scored)})

        _print_table(rows, videos if per_video else None, [str(p) for p in data], cfg.budget)
        if json_path is not None:
            write_json(json_path, eval_document(rows, data, cfg.budget, videos))
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
