"""DMVFN inference speed against the official forward, side by side in one run.

The "official" rows are the official test forward written plainly (see ``official_forward``): the
router evaluated, each selected block run on NCHW fp32 tensors with fresh concatenations, the flow
resized separately, a fused frame after every block, the warp grid cached per size as the official
code does, ``torch.no_grad``, batch 1 (its test path lets the first sample decide for the batch).
"official, all 9 blocks" forces every gate on ("DMVFN without routing") and is the reference of the
ratio column; "official, sample gates" runs the gates framepred's ``sample`` routing drew.

Every variant runs the same weights on the same frames (real Cityscapes frames when ../shared/data
has them, or the folder ``--frames`` names, resized to each size; else random), round-robin (one call
of each per round, so a busy machine slows all alike); the table reports the median time per frame,
after two warm-up calls each, and the median minor page faults per call. "max/mean grey" compare each
row's output with the official output of the same blocks (8-bit grey levels, 255 = full range).
The pipeline table times whole jobs on a folder of PNGs: ``predict_files`` (decoding ahead, batches,
encoding behind) against the official script's loop (read two frames, forward, write, in turn).

Allocator settings: the commands predict, rollout and evaluate set glibc's allocator to keep freed
memory (framepred/inference/allocator.py), which would speed the official code too. Settings made
with mallopt last for the whole process, so every variant is timed once per setting, each setting in
its own fresh process: "glibc default" (the official code as its users run it, and framepred's
library without the tuning) and "framepred's" (what the commands run). The processes run one after
the other (``--processes N``: N of each, in turn), and every ratio is against the official forward
with glibc's default settings. The bf16, pipeline and profile tables run in this process, untuned.

    .venv/bin/python benchmarks/bench_dmvfn_infer.py                       # 256x448 and 512x1024
    .venv/bin/python benchmarks/bench_dmvfn_infer.py --sizes 512x1024 --batch 4 --compile
    .venv/bin/python benchmarks/bench_dmvfn_infer.py --sizes 512x1024 --rounds 1 --pipeline-frames 0 --profile
    .venv/bin/python benchmarks/bench_dmvfn_infer.py --sizes 512x1024 --pipeline-frames 0 --processes 2
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from framepred.engine.device import resolve_device
from framepred.inference import Predictor
from framepred.inference.allocator import skip_reason, tune_allocator
from framepred.inference.predict_files import predict_files
from framepred.models import create_model
from framepred.models.dmvfn import DMVFN

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cityscapes_aachen_seq0003_vid2vid"

# ---- the official forward, written plainly ---------------------------------------------------------

_OFFICIAL_GRIDS: dict[tuple[str, int, int], torch.Tensor] = {}


def official_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    height, width = flow.shape[2], flow.shape[3]
    key = (str(flow.device), height, width)
    if key not in _OFFICIAL_GRIDS:
        xs = (
            torch.linspace(-1.0, 1.0, width, device=flow.device)
            .view(1, 1, 1, width)
            .expand(-1, -1, height, -1)
        )
        ys = (
            torch.linspace(-1.0, 1.0, height, device=flow.device)
            .view(1, 1, height, 1)
            .expand(-1, -1, -1, width)
        )
        _OFFICIAL_GRIDS[key] = torch.cat([xs, ys], 1)
    flow = torch.cat([flow[:, 0:1] / ((width - 1.0) / 2.0), flow[:, 1:2] / ((height - 1.0) / 2.0)], 1)
    grid = (_OFFICIAL_GRIDS[key] + flow).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def official_block(
    block, x: torch.Tensor, flow: torch.Tensor, scale: int
) -> tuple[torch.Tensor, torch.Tensor]:
    coarse_x, coarse_flow = x, flow
    if scale != 1:
        coarse_x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        coarse_flow = (
            F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
        )
    feat = block.conv0(torch.cat([coarse_x, coarse_flow], 1))
    feat = block.convblock(feat) + feat
    feat = block.conv_sq(feat)
    feat = F.interpolate(feat, scale_factor=scale * 2, mode="bilinear", align_corners=False)
    fine = block.convblock1(block.conv1(torch.cat([x, flow], 1)))
    out = block.lastconv(torch.cat([feat, fine], 1))
    return out[:, 0:4], out[:, 4:5]


def official_forward(model: DMVFN, x: torch.Tensor, gates: list[bool] | None = None) -> torch.Tensor:
    """The official ``forward(x, scale, training=False)[-1]`` with the fallback to frame t-1; ``gates``
    replaces the Bernoulli draw (None: every block, the router still evaluated as the official code does)."""
    p = torch.sigmoid(model.l1(model.routing(x[:, :6]).flatten(1)))
    p = (p / (p.sum(1, keepdim=True) + 1e-6) * 4.5).clamp(0.0, 1.0)
    gates = [True] * model.num_blocks if gates is None else gates
    img0, img1 = x[:, :3], x[:, 3:6]
    flow = torch.zeros_like(x[:, :4])
    mask = torch.zeros_like(x[:, :1])
    warped0, warped1 = img0, img1
    merged = []
    for index, (block, scale) in enumerate(zip(model.blocks(), model.config.scales)):
        if not gates[index]:
            continue
        flow_delta, mask_delta = official_block(
            block, torch.cat([img0, img1, warped0, warped1, mask], 1), flow, scale
        )
        flow, mask = flow + flow_delta, mask + mask_delta
        warped0, warped1 = official_warp(img0, flow[:, :2]), official_warp(img1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        merged.append((warped0 * weight + warped1 * (1 - weight)).clamp(0, 1))
    return merged[-1] if merged else img0


# ---- inputs ------------------------------------------------------------------------------------------


def frames_at(height: int, width: int, count: int = 2) -> tuple[list[np.ndarray], str]:
    """``count`` consecutive uint8 RGB frames at ``height`` x ``width``."""
    if DATA.is_dir():  # DATA: the default, or --frames
        from framepred.io.images import list_images, read_image

        files = list_images(DATA)[:count]
        if len(files) == count:
            frames = [cv2.resize(read_image(f), (width, height), interpolation=cv2.INTER_AREA) for f in files]
            return frames, f"{DATA.name} (real)"
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)], "random"


def to_context(frames: list[np.ndarray], batch: int, device: torch.device) -> torch.Tensor:
    stacked = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255.0)
    return stacked[None].expand(batch, -1, -1, -1, -1).contiguous().to(device)


def grey_levels(output: torch.Tensor, reference: torch.Tensor) -> tuple[float, float, float]:
    """Max and mean difference in 8-bit grey levels, and the PSNR of ``output`` against ``reference``."""
    difference = (output.float().cpu() - reference.float().cpu()).abs()
    mse = float(difference.square().mean())
    psnr = float("inf") if mse == 0 else -10.0 * np.log10(mse)
    return float(difference.max()) * 255.0, float(difference.mean()) * 255.0, psnr


# ---- the variants ----------------------------------------------------------------------------------


class Variant:
    def __init__(
        self, name: str, batch: int, blocks: str, run: Callable[[], torch.Tensor], reference: str
    ) -> None:
        self.name, self.batch, self.blocks, self.run, self.reference = name, batch, blocks, run, reference
        self.times: list[float] = []


def build_variants(
    height: int, width: int, device: torch.device, batch: int, compile: bool
) -> tuple[list[Variant], str]:
    torch.manual_seed(0)
    official = create_model("dmvfn", routing="all").eval().to(device)
    state = official.state_dict()
    frames, source = frames_at(height, width)
    x = to_context(frames, 1, device).flatten(1, 2)  # 1 x 6 x H x W, the official input

    def predictor(routing: str, **runtime) -> Predictor:
        model = create_model("dmvfn", routing=routing)
        model.load_state_dict(state)
        return Predictor(model, "RGB", device, **runtime)

    sample = predictor("sample")
    with torch.no_grad():
        sample_gates = sample.model._test_gates(x)[0].tolist()
        threshold_gates = predictor("threshold").model._test_gates(x)[0].tolist()

    def official_run(gates: list[bool] | None) -> Callable[[], torch.Tensor]:
        def run() -> torch.Tensor:
            with torch.no_grad():
                return official_forward(official, x, gates)

        return run

    def framepred_run(p: Predictor, size: int) -> Callable[[], torch.Tensor]:
        context = to_context(frames, size, device)

        def run() -> torch.Tensor:
            # sample routing draws fresh gates every call; start the stream again so every call
            # draws the gates the official "sample gates" row runs (a no-op for the other modes)
            p.model.reseed()
            return p.predict_batch(context)[:1]

        return run

    fp32, bf16 = predictor("all"), predictor("all", precision="bf16")
    variants = [
        Variant("official, all 9 blocks", 1, "9", official_run(None), "self"),
        Variant("official, sample gates", 1, str(sum(sample_gates)), official_run(sample_gates), "self"),
        Variant(
            "official, threshold gates", 1, str(sum(threshold_gates)), official_run(threshold_gates), "self"
        ),
    ]
    for size in dict.fromkeys([1, batch]):
        variants.append(
            Variant("framepred all, fp32", size, "9", framepred_run(fp32, size), "official, all 9 blocks")
        )
    for size in dict.fromkeys([1, batch]):
        variants.append(
            Variant("framepred all, bf16", size, "9", framepred_run(bf16, size), "official, all 9 blocks")
        )
    variants += [
        Variant(
            "framepred threshold, fp32",
            1,
            str(sum(threshold_gates)),
            framepred_run(predictor("threshold"), 1),
            "official, threshold gates",
        ),
        Variant(
            "framepred sample, fp32",
            1,
            str(sum(sample_gates)),
            framepred_run(sample, 1),
            "official, sample gates",
        ),
    ]
    if compile:
        compiled = predictor("all", compile=True)
        start = time.perf_counter()
        framepred_run(compiled, 1)()
        seconds = time.perf_counter() - start
        print(f"torch.compile of the all-blocks network at {height}x{width}: {seconds:.0f} s")
        variants.append(
            Variant(
                "framepred all, fp32, compiled", 1, "9", framepred_run(compiled, 1), "official, all 9 blocks"
            )
        )
    return variants, source


ALLOCATORS = {"default": "glibc default", "framepred": "framepred's"}
MEMORY_CALLS = 4  # enough for a tuned allocator to reach its steady state (it does on call 2 or 3)


def time_variants(
    height: int, width: int, device: torch.device, rounds: int, batch: int, compile: bool
) -> tuple[dict[str, dict], str]:
    """Every variant's times and minor page faults per call, and its output, in this process."""
    variants, source = build_variants(height, width, device, batch, compile)
    outputs = {id(v): v.run() for v in variants}  # also the warm-up
    for v in variants:  # a second warm-up: a tuned allocator reaches its steady state on call 2 or 3
        v.run()
    faults: dict[int, list[int]] = {id(v): [] for v in variants}
    for _ in range(rounds):
        for variant in variants:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.perf_counter()
            variant.run()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            variant.times.append((time.perf_counter() - start) / variant.batch)
            faults[id(variant)].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    results = {
        v.name + f" (batch {v.batch})": {
            "name": v.name,
            "batch": v.batch,
            "blocks": v.blocks,
            "reference": v.reference,
            "times": v.times,
            "faults": faults[id(v)],
            "output": outputs[id(v)].cpu(),
        }
        for v in variants
    }
    return results, source


def bench_size(
    height: int,
    width: int,
    device: torch.device,
    rounds: int,
    batch: int,
    compile: bool,
    allocators: list[str],
    processes: int,
) -> tuple[list[tuple], str]:
    """Each allocator setting in its own fresh process (mallopt settings last for the whole process
    and cannot be undone), the processes in turn (default, framepred's, default, ...) so that a
    machine whose speed drifts slows all settings alike; times are pooled over the processes."""
    merged: dict[tuple[str, str], dict] = {}
    source = ""
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(processes):
            for allocator in allocators:
                save = Path(tmp) / f"{allocator}-{index}.pt"
                command = [sys.executable, __file__, "--child-allocator", allocator]
                command += ["--child-save", str(save)]
                command += ["--sizes", f"{height}x{width}", "--rounds", str(rounds), "--batch", str(batch)]
                command += ["--device", str(device), "--threads", str(torch.get_num_threads())]
                command += ["--frames", str(DATA)] + (["--compile"] if compile else [])
                subprocess.run(command, check=True)
                results, source = torch.load(save, weights_only=False)
                for key, result in results.items():
                    entry = merged.setdefault((allocator, key), {**result, "times": [], "faults": []})
                    entry["times"] += result["times"]
                    entry["faults"] += result["faults"]
    # the reference of every ratio and every output difference: the official code as its users run it
    official = {key: e for (allocator, key), e in merged.items() if allocator == allocators[0]}
    by_name = {e["name"]: e for e in official.values() if e["batch"] == 1}
    reference_time = statistics.median(by_name["official, all 9 blocks"]["times"])
    # the official forward given the same allocator setting: how much of a ratio is the allocator
    same_setting = {
        allocator: statistics.median(e["times"])
        for (allocator, _), e in merged.items()
        if e["name"] == "official, all 9 blocks" and e["batch"] == 1
    }
    rows = []
    for (allocator, _), entry in merged.items():
        seconds = statistics.median(entry["times"])
        reference = entry["name"] if entry["reference"] == "self" else entry["reference"]
        if entry["reference"] == "self" and allocator == allocators[0]:
            diff = "-"
        else:
            biggest, mean, _ = grey_levels(entry["output"], by_name[reference]["output"])
            diff = f"{biggest:.2f} / {mean:.3f}"
        rows.append(
            (
                f"{height}x{width}",
                entry["name"],
                ALLOCATORS[allocator],
                entry["batch"],
                entry["blocks"],
                seconds,
                reference_time / seconds,
                same_setting[allocator] / seconds,
                int(statistics.median(entry["faults"])),
                diff,
            )
        )
    return rows, source


def _set_allocator(allocator: str) -> None:
    """Apply ``allocator`` ("default": leave glibc as it is) to this fresh process, or stop."""
    if allocator == "framepred" and not tune_allocator():
        sys.exit(f"framepred's allocator settings do not apply here: {skip_reason()}")


def _child(args: argparse.Namespace, device: torch.device) -> None:
    """One allocator setting's timings in this fresh process, saved for the parent."""
    _set_allocator(args.child_allocator)
    height, width = (int(v) for v in args.sizes.lower().split("x"))
    results = time_variants(height, width, device, args.rounds, args.batch, args.compile)
    torch.save(results, args.child_save)


def bf16_error(height: int, width: int, device: torch.device) -> tuple[float, float, float]:
    torch.manual_seed(0)
    model = create_model("dmvfn", routing="all")
    frames, _ = frames_at(height, width)
    context = to_context(frames, 1, device)
    fp32 = Predictor(model, "RGB", device).predict_batch(context)
    bf16 = Predictor(model, "RGB", device, precision="bf16").predict_batch(context)
    return grey_levels(bf16, fp32)


# ---- whole jobs on a folder --------------------------------------------------------------------------


def official_script_loop(model: DMVFN, files: list[Path], out: Path, device: torch.device) -> None:
    """Read two frames, predict, write, in turn: the official test script's loop (BGR, as it reads)."""
    for first, second in zip(files, files[1:]):
        frames = [cv2.imread(str(f)) for f in (first, second)]
        x = torch.from_numpy(np.concatenate(frames, 2)).permute(2, 0, 1)[None].float().div(255.0).to(device)
        with torch.no_grad():
            prediction = official_forward(model, x)
        image = (prediction[0] * 255.0).round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()
        cv2.imwrite(str(out / second.name), image)


def bench_pipeline(height: int, width: int, device: torch.device, count: int, batch: int) -> list[tuple]:
    torch.manual_seed(0)
    official = create_model("dmvfn", routing="all").eval().to(device)
    model = create_model("dmvfn", routing="all")
    model.load_state_dict(official.state_dict())
    predictor = Predictor(model, "RGB", device)
    frames, _ = frames_at(height, width, count)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for index, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{index:06d}.png"), frame[..., ::-1])
        files = sorted(folder.iterdir())
        jobs = {
            "official script loop (batch 1)": lambda out: official_script_loop(official, files, out, device),
        }
        for size in dict.fromkeys([1, batch]):
            jobs[f"framepred predict --input-dir, batch {size}"] = lambda out, size=size: predict_files(
                predictor, [], out, input_dir=folder, batch_size=size
            )
        times = {}
        for name, job in jobs.items():
            out = Path(tmp) / f"out-{len(times)}"
            out.mkdir()
            start = time.perf_counter()
            job(out)
            times[name] = time.perf_counter() - start
    reference = times["official script loop (batch 1)"]
    predictions = count - 1
    for name, seconds in times.items():
        rows.append((name, predictions / seconds, reference / seconds))
    return rows


# ---- memory (optional) -------------------------------------------------------------------------------


def peak_memory_mib(
    size: str, batch: int, device: torch.device, allocators: list[str], calls: int
) -> list[tuple[str, str, float, float]]:
    """Extra resident memory of ``calls`` batch-1 official and batch-N framepred fp32 calls, each
    variant and allocator setting in a fresh process (freed memory stays in a process's heap and
    would hide the next peak): the peak, and what the process still holds after the calls."""
    results = []
    for name, size_of_batch in (
        ("official, all 9 blocks", 1),
        (f"framepred all, fp32, batch {batch}", batch),
    ):
        for allocator in allocators:
            command = [sys.executable, __file__, "--memory-of", name, "--child-allocator", allocator]
            command += ["--sizes", size, "--batch", str(size_of_batch), "--rounds", str(calls)]  # calls
            command += ["--device", str(device), "--threads", str(torch.get_num_threads())]
            command += ["--frames", str(DATA)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
            results.append((name, ALLOCATORS[allocator], float(output[0]), float(output[1])))
    return results


def _measure_here(size: str, name: str, batch: int, device: torch.device, allocator: str, calls: int) -> None:
    _set_allocator(allocator)
    height, width = (int(v) for v in size.split("x"))
    torch.manual_seed(0)
    model = create_model("dmvfn", routing="all").eval().to(device)
    frames, _ = frames_at(height, width)
    context = to_context(frames, batch, device)
    predictor = None if name.startswith("official") else Predictor(model, "RGB", device)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak resident set size (VmHWM) to the current one
    before = _status_kib("VmRSS")
    for _ in range(calls):
        if predictor is None:
            with torch.no_grad():
                official_forward(model, context.flatten(1, 2))
        else:
            predictor.predict_batch(context)
    print(max(0, _status_kib("VmHWM") - before) / 1024, max(0, _status_kib("VmRSS") - before) / 1024)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


# ---- where the time goes (optional) -------------------------------------------------------------------


def profile_rows(
    height: int, width: int, device: torch.device, top: int = 12
) -> list[tuple[str, str, float, float]]:
    """torch.profiler self time of one framepred fp32 batch-1 call with all blocks, per operator and
    per resolution (``full`` when an input of the operator has the frame's height and width)."""
    from collections import defaultdict

    from torch.profiler import profile

    torch.manual_seed(0)
    predictor = Predictor(create_model("dmvfn", routing="all"), "RGB", device)
    frames, _ = frames_at(height, width)
    context = to_context(frames, 1, device)
    predictor.predict_batch(context)  # warm-up: caches, grids, allocator
    with profile(record_shapes=True) as prof:
        predictor.predict_batch(context)
    times: dict[tuple[str, str], float] = defaultdict(float)
    for event in prof.key_averages(group_by_input_shape=True):
        full = any(_has_frame_size(shape, height, width) for shape in event.input_shapes)
        times[(event.key, "full" if full else "coarser")] += event.self_cpu_time_total / 1e6
    total = sum(times.values())
    ranked = sorted(times.items(), key=lambda item: -item[1])[:top]
    return [(name, where, seconds, seconds / total) for (name, where), seconds in ranked]


def _has_frame_size(shape: list[int] | None, height: int, width: int) -> bool:
    """Whether a tensor shape holds height then width next to each other (NCHW or a B x H x W x 2 grid)."""
    shape = list(shape or [])
    return any(shape[i : i + 2] == [height, width] for i in range(len(shape) - 1))


# ---- main ----------------------------------------------------------------------------------------------


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    print()


def timing_tables(
    args: argparse.Namespace, sizes: list[tuple[int, ...]], device: torch.device, allocators: list[str]
) -> None:
    rows, source = [], ""
    for height, width in sizes:
        size_rows, source = bench_size(
            height, width, device, args.rounds, args.batch, args.compile, allocators, args.processes
        )
        rows += size_rows
    print(f"frames: {source}\n")
    print_table(
        [
            "size",
            "variant",
            "allocator",
            "batch",
            "blocks",
            "s/frame",
            "frames/s",
            f"vs official all, {ALLOCATORS[allocators[0]]}",
            "vs official all, same allocator",
            "minor faults/call",
            "max / mean grey vs official",
        ],
        [
            [s, n, a, str(b), k, f"{t:.3f}", f"{1 / t:.2f}", f"{r:.2f}x", f"{q:.2f}x", str(f), d]
            for s, n, a, b, k, t, r, q, f, d in rows
        ],
    )
    print("bf16 (autocast) against fp32, framepred all blocks:")
    print_table(
        ["size", "max grey", "mean grey", "PSNR of bf16 vs fp32 (dB)"],
        [
            [f"{h}x{w}", f"{a:.2f}", f"{b:.3f}", f"{c:.1f}"]
            for (h, w) in sizes
            for a, b, c in [bf16_error(h, w, device)]
        ],
    )


def main() -> None:
    global DATA  # --frames replaces the default folder, in this process and in its children
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256x448,512x1024", help="comma-separated HxW list")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per variant (median reported)")
    parser.add_argument("--batch", type=int, default=4, help="framepred's batch size beside batch 1")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--pipeline-frames", type=int, default=9, help="frames of the folder job (0: skip)")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory (fresh processes)")
    parser.add_argument("--profile", action="store_true", help="also profile one fp32 call per operator")
    parser.add_argument(
        "--no-timing", dest="timing", action="store_false", help="skip the timing and bf16 tables"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--frames", type=Path, default=DATA, help="folder of consecutive frames to run on")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    parser.add_argument(
        "--allocator",
        default="both",
        choices=["both", "default", "framepred"],
        help="glibc's default allocator settings, framepred's (those its commands set), or both",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="fresh processes per allocator setting, run in turn"
    )
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)  # internal: one variant's peak memory
    parser.add_argument("--child-allocator", help=argparse.SUPPRESS)  # internal: this process's setting
    parser.add_argument("--child-save", help=argparse.SUPPRESS)  # internal: where a child saves its times
    args = parser.parse_args()
    DATA = args.frames
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_of:
        _measure_here(args.sizes, args.memory_of, args.batch, device, args.child_allocator, args.rounds)
        return
    if args.child_save:
        _child(args, device)
        return
    allocators = ["default", "framepred"] if args.allocator == "both" else [args.allocator]
    sizes = [tuple(int(v) for v in size.lower().split("x")) for size in args.sizes.split(",")]
    threads = torch.get_num_threads()
    print(
        f"device {device}, torch {torch.__version__}, {threads} threads, median of {args.rounds} calls x "
        f"{args.processes} process(es) per allocator setting\n"
    )
    if args.timing:
        timing_tables(args, sizes, device, allocators)
    if args.pipeline_frames > 1:
        height, width = sizes[-1]
        count = args.pipeline_frames
        print(f"whole job on a folder of {count} PNGs at {height}x{width} (decode, predict, encode, write):")
        pipeline = bench_pipeline(height, width, device, args.pipeline_frames, args.batch)
        print_table(
            ["job", "predictions/s", "vs official loop"],
            [[n, f"{f:.2f}", f"{r:.2f}x"] for n, f, r in pipeline],
        )
    if args.memory:
        height, width = sizes[-1]
        print(f"extra resident memory of {MEMORY_CALLS} calls at {height}x{width} (fresh process each):")
        memory = peak_memory_mib(f"{height}x{width}", args.batch, device, allocators, MEMORY_CALLS)
        print_table(
            ["calls", "allocator", "peak MiB", "held after the calls, MiB"],
            [[n, a, f"{m:.0f}", f"{h:.0f}"] for n, a, m, h in memory],
        )
    if args.profile:
        height, width = sizes[-1]
        print(f"torch.profiler, one framepred fp32 call, batch 1, all blocks, {height}x{width}:")
        print_table(
            ["operator", "inputs at", "self s", "share"],
            [[n, w, f"{t:.3f}", f"{100 * f:.1f}%"] for n, w, t, f in profile_rows(height, width, device)],
        )


if __name__ == "__main__":
    main()
