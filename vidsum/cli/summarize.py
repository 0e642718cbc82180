"""`vidsum summarize INPUT -o OUT.mp4`: one video in, a summary clip + JSON (+ plot) out.
`vidsum summarize VIDEOS... -o OUTDIR/`: a whole collection (vidsum.cli.collection).

Heavy libraries are imported inside the command so that `vidsum --help` stays fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer

from vidsum.cli import executors as ex_opts
from vidsum.cli.common import RichProgress, console, guarded, out, setup_logging
from vidsum.config import SAMPLE_FPS


_LENGTH_RE = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


def parse_length(text: str) -> float:
    """Parse a summary length: "90s", "90", "1m30s", "2m", "1h5m", "1:30" or "1:02:03" -> seconds."""
    raw = text.strip().lower().replace(" ", "")
    seconds: float | None = None
    if ":" in raw:
        parts = raw.split(":")
        if 2 <= len(parts) <= 3 and all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + float(p)
    else:
        m = _LENGTH_RE.match(raw)
        if raw and m and any(m.group(k) for k in "hms"):
            seconds = sum(float(m.group(k) or 0) * f for k, f in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds is None:
        raise _usage(f"cannot read the length {text!r}; write it like 90s, 1m30s, 2m or 1:30")
    if seconds <= 0:
        raise _usage(f"the summary length must be positive, got {text!r}")
    return seconds


def _usage(message: str) -> Exception:
    from vidsum.errors import UsageError

    return UsageError(message)


def _fmt_s(seconds: float) -> str:
    m, s = divmod(seconds, 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def summarize_command(
    inputs: Optional[List[str]] = typer.Argument(
        None, metavar="INPUT...", help="The video to summarize (mp4, mkv, webm, avi, mov, ...); or several videos, folders "
        "(searched recursively) or globs, summarized into the folder -o.", show_default=False,
    ),
    output: Optional[str] = typer.Option(  # a str: a trailing / (a folder) must survive
        None, "--output", "-o", help="Summary clip to write (.mp4/.mkv/.mov: H.264 + AAC; .webm: VP9 + Opus). Default: INPUT.summary.mp4 beside the input. "
        "For a collection: the folder that gets NAME.summary.mp4 + NAME.summary.json per video and index.json.",
        show_default=False,
    ),
    list_file: Optional[Path] = typer.Option(
        None, "--list", help="Text file with one video path per line (a collection; relative to the list file's folder).", show_default=False,
    ),
    budget: Optional[float] = typer.Option(
        None, "--budget", "-b", help="Summary length as a fraction of the input duration (default 0.15 = 15 %).",
        show_default=False,
    ),
    length: Optional[str] = typer.Option(
        None, "--length", "-l", help="Summary length as a duration instead of --budget: 90s, 1m30s, 2m or 1:30.",
        show_default=False,
    ),
    sample_fps: float = typer.Option(SAMPLE_FPS, "--sample-fps", help="Frames per second sampled for features (the public datasets use 2)."),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="DMASum checkpoint (.pt). Default: $VIDSUM_MODEL, then weights/, then the user cache, "
        "else the training-free scorer (with a warning).", show_default=False,
    ),
    backbone: str = typer.Option(
        "auto", "--backbone", help="Image network for the features: bvlc-googlenet (Caffe's, the public datasets' "
        "features), googlenet (torchvision's) or fallback (weight-free). auto: the one the --model checkpoint "
        "was trained on, else the first whose weights are found.",
    ),
    backbone_weights: Optional[Path] = typer.Option(
        None, "--backbone-weights", help="A weight file: bvlc_googlenet.caffemodel or its conversion, or torchvision's "
        "googlenet-1378be20.pth; the file picks its backbone. Default: weights/ or the user cache "
        "(`vidsum weights download bvlc-googlenet`), else a weight-free colour/texture feature (with a warning).",
        show_default=False,
    ),
    device: str = typer.Option("auto", "--device", help="auto (GPU when available), cpu, cuda or cuda:N (the N-th GPU)."),
    precision: str = typer.Option(
        "auto", "--precision", help="GoogLeNet precision: auto (fp16 on a GPU, fp32 on the CPU), fp32, bf16 "
        "(~2x faster on CPUs with native bf16; features move by ~0.4 %) or fp16 (GPU only).",
    ),
    fast: bool = typer.Option(False, "--fast", help="Cut by stream copy at keyframes: much faster, but cuts may start up to a few seconds early."),
    preset: str = typer.Option(
        "veryfast", "--preset", help="libx264 preset of the exact render: ultrafast ... veryslow. Faster presets "
        "encode sooner but write larger files (ultrafast: ~2x faster, ~2x larger).",
    ),
    frame_decoder: str = typer.Option(
        "auto", "--frame-decoder", help="Frame decoder: auto (pyav for H.264/HEVC with B-frames, else opencv), opencv (every frame "
        "decoded), pyav (the non-reference frames that are not sampled are skipped: the same frames and pixels as "
        "opencv, a third to half fewer frames decoded on camera files), ffmpeg (every frame decoded, the "
        "sampled ones converted and scaled to 224x224 by ffmpeg: the same frames, pixels equal within rounding) or "
        "ffmpeg-noref (ffmpeg skips frames nothing references, ~40 % of H.264/HEVC with B-frames; a sampled frame may "
        "move to the next decoded one, which can change the summary; the JSON lists the frames used).",
    ),
    json_path: Optional[Path] = typer.Option(
        None, "--json", help="Where to write the JSON report. Default: the clip path with .json.", show_default=False,
    ),
    plot: Optional[Path] = typer.Option(
        None, "--plot", help="Also draw scores, shots and the selection to this PNG (with thumbnails of selected shots).",
        show_default=False,
    ),
    export: Optional[str] = typer.Option(
        None, "--export", "-e", metavar="FORMATS", help="Also write these formats beside the JSON, comma-separated: "
        "csv, edl, otio, fcpxml, chapters, srt, storyboard, html, png, or all (docs/output.md; "
        "`vidsum export` makes them later from the JSON).", show_default=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files (refused otherwise)."),
    strict: bool = typer.Option(False, "--strict", help="Fail instead of falling back to the weight-free feature or the training-free scorer."),
    workers: int = typer.Option(2, "--workers", "-j", help="Collection: videos decoded at once and summaries cut at once."),
    executor: str = ex_opts.EXECUTOR,
    ray_address: Optional[str] = ex_opts.RAY_ADDRESS,
    ray_actors: Optional[int] = ex_opts.RAY_ACTORS,
    ray_gpus: Optional[float] = ex_opts.RAY_GPUS,
    ray_retries: int = ex_opts.RAY_RETRIES,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or closing summary; errors only."),
) -> None:
    """Summarize a video into a short clip with sound, plus a JSON report (and an optional plot);
    or a whole collection into a folder (resumable; bad videos are listed at the end).

    Examples:

      vidsum summarize talk.mp4 -o talk_summary.mp4

      vidsum summarize match.mkv -o highlights.mp4 --length 2m --plot highlights.png

      vidsum summarize talk.mp4 --export edl,html    # + talk.summary.edl and talk.summary.html

      vidsum summarize lectures/ -o summaries/ --export chapters

      vidsum summarize --list archive.txt -o /shared/summaries/ --executor ray --ray-address auto
    """
    setup_logging(quiet=quiet)
    with guarded():
        from vidsum.config import SummarizeConfig
        from vidsum.errors import UsageError

        if budget is not None and length is not None:
            raise UsageError("give either --budget (a fraction) or --length (a duration), not both")
        from vidsum.pipeline import summarize

        length_s = parse_length(length) if length is not None else None
        kwargs = dict(
            output=str(output) if output else None,
            length_s=length_s,
            sample_fps=sample_fps,
            model=str(model) if model else None,
            backbone=backbone,
            backbone_weights=str(backbone_weights) if backbone_weights else None,
            device=device,  # validated by SummarizeConfig, as are precision and preset
            precision=precision,
            fast=fast,
            preset=preset,
            frame_decoder=frame_decoder,
            json_path=str(json_path) if json_path else None,
            plot_path=str(plot) if plot else None,
            exports=tuple(export.split(",")) if export else (),
            overwrite=overwrite,
            strict=strict,
        )
        if budget is not None:
            kwargs["budget"] = budget
        from vidsum.cli.collection import is_collection, run_collection

        if not inputs and list_file is None:
            raise UsageError("no video given; pass the video to summarize (or several, a folder, a glob or --list FILE)")

        if is_collection(inputs or [], list_file, output):
            if json_path is not None or plot is not None:
                raise UsageError("--json and --plot name one file; a collection writes NAME.summary.json per video into -o")
            kwargs.pop("output"), kwargs.pop("json_path"), kwargs.pop("plot_path")
            runner = ex_opts.make_executor(executor, ray_address, ray_actors, ray_gpus, ray_retries)
            run_collection(inputs or [], list_file, Path(output) if output else None, SummarizeConfig(**kwargs), runner, workers, quiet)  # type: ignore[arg-type]
            return
        if executor != "local" or any(v is not None for v in (ray_address, ray_actors, ray_gpus)):
            raise UsageError("--executor and the --ray-* flags apply to collections (several videos, a folder, --list)")
        cfg = SummarizeConfig(**kwargs)  # type: ignore[arg-type]
        with RichProgress(enabled=not quiet) as progress:
            result = summarize(Path(inputs[0]), cfg, progress=progress)  # type: ignore[index]
        if quiet:
            return
        out.print(
            f"[bold green]summary:[/] {_fmt_s(result.input_duration_s)} -> {_fmt_s(result.summary_duration_s)} "
            f"({result.n_selected} of {len(result.shots)} shots, budget {_fmt_s(result.budget_s)})"
        )
        out.print(f"  clip  {result.output}" + ("" if result.has_audio else "  (no audio)"))
        out.print(f"  json  {result.json_path}")
        if result.plot_path:
            out.print(f"  plot  {result.plot_path}")
        for name, path in result.exports.items():
            out.print(f"  {name:<5} {path}", soft_wrap=True)
        if result.warnings:
            console.print(f"[yellow]{len(result.warnings)} warning(s); the JSON lists them[/]")
