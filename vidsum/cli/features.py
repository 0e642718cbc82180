"""`vidsum features VIDEOS... -o features.h5`: batch feature extraction, resumable.

Heavy libraries are imported inside the command so that `vidsum --help` stays fast.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import List, Optional

import typer

from vidsum.cli import executors as ex_opts
from vidsum.cli.common import RichProgress, guarded, out, print_failed, setup_logging
from vidsum.config import EXACT_DECODERS, SAMPLE_FPS


def features_command(
    videos: Optional[List[str]] = typer.Argument(
        None, help="Video files, folders (searched recursively for video files) or globs ('clips/**/*.mp4').",
        show_default=False,
    ),
    output: Path = typer.Option(..., "--output", "-o", help="HDF5 file to write (eccv16 schema, one group per video).", show_default=False),
    list_file: Optional[Path] = typer.Option(
        None, "--list", help="Text file with one video path per line (relative to the list file's folder).", show_default=False,
    ),
    workers: int = typer.Option(2, "--workers", "-j", help="Videos decoded in parallel, feeding one batched model."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Frames per model call (default: the extractor's).", show_default=False),
    device: str = typer.Option("auto", "--device", help="auto (GPU when available), cpu, cuda or cuda:N (the N-th GPU)."),
    precision: str = typer.Option(
        "auto", "--precision", help="GoogLeNet precision: auto (fp16 on a GPU, fp32 on the CPU), fp32, bf16 "
        "(~2x faster on CPUs with native bf16; features move by ~0.4 %) or fp16 (GPU only).",
    ),
    sample_fps: float = typer.Option(SAMPLE_FPS, "--sample-fps", help="Frames per second sampled (the public datasets use 2)."),
    backbone: Optional[str] = typer.Option(
        None, "--backbone", help="Image network: bvlc-googlenet (default: Caffe's BVLC GoogLeNet, whose pool5 the "
        "public eccv16 datasets hold, so the files mix with them) or googlenet (torchvision's).",
        show_default=False,
    ),
    backbone_weights: Optional[Path] = typer.Option(
        None, "--backbone-weights", help="A weight file: bvlc_googlenet.caffemodel or its conversion, or torchvision's "
        "googlenet-1378be20.pth; the file picks its backbone. Default: weights/ or the user cache "
        "(`vidsum weights download bvlc-googlenet`).", show_default=False,
    ),
    allow_fallback: bool = typer.Option(
        False, "--allow-fallback", help="Without backbone weights, use the weight-free colour/texture feature "
        "(368-d: it mixes with no other dataset) instead of refusing.",
    ),
    decoder: str = typer.Option("thread", "--decoder", help="Run decoders as 'thread's (default, faster here) or 'process'es."),
    frame_decoder: str = typer.Option(
        "opencv", "--frame-decoder", help="Who decodes the frames: opencv (every frame decoded), pyav (the "
        "non-reference frames that are not sampled are skipped: the same picks and pixels, fewer frames decoded) "
        "or auto (pyav for H.264/HEVC with B-frames, else opencv). Picks are exactly every (fps / sample-fps)-th "
        "frame with all three.",
    ),
    executor: str = ex_opts.EXECUTOR,
    ray_address: Optional[str] = ex_opts.RAY_ADDRESS,
    ray_actors: Optional[int] = ex_opts.RAY_ACTORS,
    ray_gpus: Optional[float] = ex_opts.RAY_GPUS,
    ray_retries: int = ex_opts.RAY_RETRIES,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or closing summary; errors only."),
) -> None:
    """Extract features of many videos into one HDF5 file, for `vidsum dataset build` and `vidsum train`.

    Re-running the same command skips the videos already done, also after a crash or kill.
    Unreadable videos are skipped and listed at the end; the exit code is then 1.

    Examples:

      vidsum weights download bvlc-googlenet && vidsum features videos/ -o features.h5

      vidsum features clips/ -o tv.h5 --backbone-weights googlenet-1378be20.pth

      vidsum features camera/ -o cam.h5 --frame-decoder auto

      vidsum features --list tvsum.txt -o tvsum_features.h5 --workers 2 --device cuda

      vidsum features /shared/videos/ -o /shared/features.h5 --executor ray --ray-address auto
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.config import FeaturesConfig
        from vidsum.errors import MissingWeightsError, UsageError
        from vidsum.extraction import collect_videos, extract_batch

        if batch_size is not None and batch_size < 1:
            raise UsageError(f"--batch-size must be >= 1, got {batch_size}")
        if sample_fps <= 0:
            raise UsageError(f"--sample-fps must be > 0, got {sample_fps}")
        from vidsum.config import PRECISIONS

        if precision not in PRECISIONS:
            raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        if decoder not in ("thread", "process"):
            raise UsageError(f"--decoder must be 'thread' or 'process', not {decoder!r}")
        if frame_decoder not in EXACT_DECODERS:
            raise UsageError(f"--frame-decoder must be one of {', '.join(EXACT_DECODERS)} (exact picks), not {frame_decoder!r}")
        runner = ex_opts.make_executor(executor, ray_address, ray_actors, ray_gpus, ray_retries)
        paths = collect_videos(videos or [], list_file)
        if not paths:
            raise UsageError("no videos found; pass video files, folders, globs or --list FILE")
        with RichProgress(enabled=not quiet) as progress, contextlib.ExitStack() as stack:
            if runner is not None:
                stack.enter_context(runner)
            # Datasets mix only with datasets of the same features: the BVLC network unless asked
            # otherwise (or unless the weight file says which), no silent weight-free fallback.
            cfg = FeaturesConfig(
                backbone=backbone or ("auto" if backbone_weights else "bvlc-googlenet"),
                backbone_weights=str(backbone_weights) if backbone_weights else None,
                device=device,
                batch_size=batch_size,
                precision=precision,
                sample_fps=sample_fps,
                allow_fallback=allow_fallback,
                frame_decoder=frame_decoder,
            )
            try:
                result = extract_batch(
                    paths,
                    output,
                    cfg,
                    workers=workers,
                    decoder=decoder,  # type: ignore[arg-type]
                    executor=runner or "local",
                    progress=progress,
                )
            except MissingWeightsError as exc:
                raise MissingWeightsError(
                    f"{exc}; or --allow-fallback for the weight-free feature (which mixes with no other dataset)"
                ) from None
        print_failed(result.failed, "skipped")
        if not quiet:
            rate = result.sampled_frames / result.seconds if result.seconds > 0 else 0.0
            written = result.output if result.output.exists() else "(nothing written)"
            out.print(
                f"[bold green]features:[/] {written}: {len(result.extracted)} extracted, "
                f"{len(result.skipped)} already done, {len(result.failed)} failed "
                f"({result.sampled_frames} frames in {result.seconds:.1f} s, {rate:.1f} frames/s)",
                soft_wrap=True,
            )
        if result.failed:
            raise typer.Exit(1)
