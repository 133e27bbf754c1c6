"""Train, score and (optionally) install the small DMVFN that ships inside framepred.

Everything goes through the ``framepred`` command, so this is also a worked example of
prepare -> train -> evaluate on real footage:

1. Data, only from items whose licence allows it (``../shared/data/README.md``):
   * train: three videos -- udacity_highway_solidWhiteRight (MIT), sam2_juggle (Apache-2),
     intel_asl_walk (CC BY 4) -- plus the built-in synthetic set;
   * val (watched during training, never trained on): sam2_bedroom (Apache-2) and the synthetic
     test sequences;
   * held out for the model card (never trained on, never used to choose anything):
     davis_judo_cutie (MIT), hk_street_tram_realbasicvsr (Apache-2), sintel_raft_demo (BSD-3).
   Not used: cityscapes_aachen_seq0003_vid2vid (CC BY-NC-SA) and imageio_cockatoo (no licence).
   Real frames are resized to half their width and height (any aspect ratio is kept).
2. ``framepred train dmvfn`` with the recipe below (no perceptual loss: VGG19 is not available offline).
3. ``framepred evaluate --protocol next --steps 5`` on the held-out tree with copy-last and linear
   beside the model: t+1 .. t+5 PSNR and SSIM, predicted recursively from two frames.
4. With ``--install``: the last checkpoint becomes
   ``framepred/models/bundled/framepred-dmvfn-small.safetensors`` and its card
   ``framepred/models/bundled/framepred-dmvfn-small.json`` (numbers, data, recipe, command).

    python benchmarks/train_bundled_model.py --steps 1800 --install     # the bundled model's command
    python benchmarks/train_bundled_model.py --score-only runs/bundled/run/checkpoints/last/model.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BUNDLED = ROOT / "framepred" / "models" / "bundled"
NAME = "framepred-dmvfn-small"

# name -> (native width, height, fps, licence)
TRAIN_VIDEOS = {
    "udacity_highway_solidWhiteRight/solidWhiteRight.mp4": (960, 540, 25.0, "MIT (c) 2016-2019 Udacity, Inc"),
    "sam2_juggle/05_default_juggle.mp4": (1280, 720, 24.0, "Apache-2.0 (SAM 2)"),
    "intel_asl_walk/walk.mkv": (640, 480, 30.0, "CC BY 4.0 (intel-iot-devkit/sample-videos)"),
}
VAL_FOLDERS = {"sam2_bedroom": ("480x270", "Apache-2.0 (SAM 2)")}
HELD_OUT_FOLDERS = {
    "davis_judo_cutie": ("427x240", "MIT (c) 2024 Ho Kei Cheng (Cutie)"),
    "hk_street_tram_realbasicvsr": ("320x180", "Apache-2.0 (RealBasicVSR)"),
    "sintel_raft_demo": ("512x218", "BSD-3-Clause (c) 2020 princeton-vl (RAFT)"),
}
SYNTHETIC = {"train": 24, "test": 8, "frames": 16, "size": "128x128"}

MODEL = {"features": [32, 32, 32, 16, 16, 16, 8, 8, 8], "routing": "all"}


def framepred(*args: str, capture: bool = False) -> str:
    command = [sys.executable, "-m", "framepred", *args]
    print("+ framepred " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, text=True, stdout=subprocess.PIPE if capture else None)
    return done.stdout if capture else ""


def _scaled(width: int, height: int, scale: float) -> str:
    return f"{round(width * scale)}x{round(height * scale)}"


def _video_tree(work: Path, name: str, size: str, fps: float | None) -> Path:
    tree = work / "items" / f"{Path(name).stem}-{size}-{fps or 'all'}fps"
    if not (tree / "manifest.json").is_file():
        rate = ["--fps", str(fps)] if fps else []
        framepred("prepare", "videos", str(DATA / name), "-o", str(tree), "--size", size, *rate)
    return tree


def _folder_tree(work: Path, name: str, size: str | None, split: str) -> Path:
    """A frame folder in a tree of its own first: one ``prepare`` run takes one --size."""
    tree = work / "items" / (name if size else f"{name}-native")
    if not (tree / "manifest.json").is_file():
        staging = work / "staging" / name
        staging.mkdir(parents=True, exist_ok=True)
        link = staging / name
        if not link.exists():
            link.symlink_to(DATA / name)
        resize = ["--size", size] if size else []
        framepred("prepare", "frames", str(staging), "-o", str(tree), *resize, "--split", split)
    return tree


def held_out_native(work: Path) -> Path:
    """The held-out items at their published size, to show the model on full-size frames too."""
    trees = [_folder_tree(work, name, None, "test") for name in HELD_OUT_FOLDERS]
    return _merge(trees, work / "held-out-native-tree")


def _merge(trees: list[Path], out: Path) -> Path:
    """One tree of many frame sizes: ``prepare frames`` without --size keeps each sequence's size."""
    if (out / "manifest.json").is_file():
        return out
    staging = out.with_name(out.name + "-staging")
    for tree in trees:
        for split_dir in sorted(p for p in tree.iterdir() if p.is_dir() and not p.name.startswith(".")):
            (staging / split_dir.name).mkdir(parents=True, exist_ok=True)
            for sequence in sorted(p for p in split_dir.iterdir() if p.is_dir()):
                link = staging / split_dir.name / f"{tree.name}-{sequence.name}"
                if not link.exists():
                    link.symlink_to(sequence.resolve())
    framepred("prepare", "frames", str(staging), "-o", str(out))
    return out


def prepare(work: Path, scale: float, strides: list[int]) -> tuple[Path, Path]:
    synthetic = work / "items" / "synthetic"
    if not (synthetic / "manifest.json").is_file():
        framepred(
            "prepare", "synthetic", "-o", str(synthetic), "--train", str(SYNTHETIC["train"]),
            "--test", str(SYNTHETIC["test"]), "--frames", str(SYNTHETIC["frames"]),
            "--size", SYNTHETIC["size"],
        )  # fmt: skip
        # The synthetic test sequences join the validation split.
        (synthetic / "test").rename(synthetic / "val")
    trees = [synthetic]
    for name, (width, height, fps, _) in TRAIN_VIDEOS.items():
        size = _scaled(width, height, scale)
        trees += [_video_tree(work, name, size, fps / stride if stride > 1 else None) for stride in strides]
    trees += [_folder_tree(work, name, size, "val") for name, (size, _) in VAL_FOLDERS.items()]
    label = f"train-tree-{scale:g}-{'-'.join(map(str, strides))}"
    train_tree = _merge(trees, work / label)
    held_out = [_folder_tree(work, name, size, "test") for name, (size, _) in HELD_OUT_FOLDERS.items()]
    return train_tree, _merge(held_out, work / "held-out-tree")


def train(args: argparse.Namespace, tree: Path, run_dir: Path) -> None:
    model = dict(MODEL, routing=args.routing, features=args.features)
    framepred(
        "train", "dmvfn", "--data", str(tree), "--run-dir", str(run_dir), "--steps", str(args.steps),
        "--time-limit", str(args.minutes), "--batch-size", str(args.batch_size), "--crop", str(args.crop),
        "--clip-frames", str(args.clip_frames), "--no-perceptual", "--model-config", json.dumps(model),
        "--lr", str(args.lr), "--warmup", str(args.warmup), "--val-every", str(args.val_every),
        "--save-every", str(args.val_every), "--val-samples", "64", "--val-split", "val",
        "--device", "cpu", "--seed", str(args.seed),
    )  # fmt: skip


def score(weights: Path, held_out: Path) -> dict:
    output = framepred(
        "--quiet", "evaluate", "--data", str(held_out), "--split", "test", "--protocol", "next",
        "--steps", "5", "--weights", str(weights), "--baseline", "copy-last", "--baseline", "linear",
        "--metrics", "psnr,ssim", "--device", "cpu", "--json", capture=True,
    )  # fmt: skip
    result = json.loads(output)
    rows = {"model": result["per_step"], **{name: b["per_step"] for name, b in result["baselines"].items()}}
    table = {
        name: {metric: [round(float(row[metric]), 4) for row in steps] for metric in ("psnr", "ssim")}
        for name, steps in rows.items()
    }
    return {"windows": result["count"], "per_step": table}


def print_table(scores: dict) -> None:
    print(f"held-out windows: {scores['windows']}")
    for metric in ("psnr", "ssim"):
        print(f"| {metric} | t+1 | t+2 | t+3 | t+4 | t+5 |")
        print("|---|---|---|---|---|---|")
        for name, steps in scores["per_step"].items():
            digits = 2 if metric == "psnr" else 4
            print(f"| {name} | " + " | ".join(f"{v:.{digits}f}" for v in steps[metric]) + " |")


def install(args: argparse.Namespace, weights: Path, scores: dict, seconds: float, steps: int) -> None:
    from framepred.io.download import sha256_of

    BUNDLED.mkdir(parents=True, exist_ok=True)
    target = BUNDLED / f"{NAME}.safetensors"
    shutil.copyfile(weights, target)
    card = {
        "name": NAME,
        "model": "dmvfn",
        "config": dict(MODEL, routing=args.routing, features=args.features),
        "sha256": sha256_of(target),
        "parameters": parameters(target),
        "size_bytes": target.stat().st_size,
        "licence": "Apache-2.0 (framepred); trained only on the Apache-2.0, MIT, BSD and CC BY items below",
        "data": {
            "train": {
                **{
                    name: f"{_scaled(w, h, args.scale)}, frame step(s) {args.strides}, {licence}"
                    for name, (w, h, _, licence) in TRAIN_VIDEOS.items()
                },
                "synthetic": f"framepred prepare synthetic: {SYNTHETIC}",
            },
            "val": {name: f"{size}, {licence}" for name, (size, licence) in VAL_FOLDERS.items()},
            "held_out": {name: f"{size}, {licence}" for name, (size, licence) in HELD_OUT_FOLDERS.items()},
        },
        "recipe": {
            "steps": steps,
            "minutes": round(seconds / 60, 1),
            "batch_size": args.batch_size,
            "crop": args.crop,
            "clip_frames": args.clip_frames,
            "lr_peak": args.lr,
            "warmup": args.warmup,
            "perceptual": False,
            "seed": args.seed,
            "device": "CPU (2 cores shared with other jobs)",
        },
        "scores": scores,
        "scores_native_size": score(weights, held_out_native(args.work)),
        "protocol": "framepred evaluate --protocol next --steps 5: every window of 2 context frames and 5 "
        "targets (stride 1) of each held-out sequence, predicted recursively; mean over windows",
        "command": "python benchmarks/train_bundled_model.py " + " ".join(_argv_without_install_from()),
    }
    (BUNDLED / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    write_card_into_docs(card)
    print(f"installed {target} ({target.stat().st_size / 1e6:.2f} MB)")


def _argv_without_install_from() -> list[str]:
    argv = sys.argv[1:]
    if "--install-from" in argv:
        at = argv.index("--install-from")
        argv = argv[:at] + argv[at + 2 :]
    return argv


DOC = ROOT / "docs" / "weights.md"
START, END = "<!-- bundled-card: written by benchmarks/train_bundled_model.py -->", "<!-- /bundled-card -->"


def card_markdown(card: dict) -> str:
    recipe, scores = card["recipe"], card["scores"]
    lines = [
        f"- **Parameters / file**: {card['parameters']:,} parameters, {card['size_bytes'] / 1e6:.2f} MB "
        f"(float32 safetensors), SHA-256 `{card['sha256']}`.",
        "- **Trained on** (licences from `../shared/data/README.md`): "
        + "; ".join(f"`{name}` ({what})" for name, what in card["data"]["train"].items())
        + ".",
        "- **Watched during training (val), never trained on**: "
        + "; ".join(f"`{name}` ({what})" for name, what in card["data"]["val"].items())
        + ", and the synthetic set's test sequences.",
        "- **Held out for the numbers below** (whole items, never trained on, never used to choose "
        "anything): "
        + "; ".join(f"`{name}` ({what})" for name, what in card["data"]["held_out"].items())
        + ".",
        "- **Not used**: `cityscapes_aachen_seq0003_vid2vid` (CC BY-NC-SA) and `imageio_cockatoo` "
        "(no licence).",
        f"- **Recipe**: `framepred train dmvfn`, {recipe['steps']} steps in {recipe['minutes']} minutes on "
        f"{recipe['device']}, batch {recipe['batch_size']}, {recipe['crop']}x{recipe['crop']} crops of "
        f"{recipe['clip_frames']}-frame clips, peak lr {recipe['lr_peak']:g} (warm-up {recipe['warmup']} "
        f"batches, cosine to lr/10), routing `{card['config']['routing']}`, no perceptual loss, seed "
        f"{recipe['seed']}.",
        f"- **Protocol**: {card['protocol']}; {scores['windows']} windows.",
        "",
        "| PSNR (dB) / SSIM | t+1 | t+2 | t+3 | t+4 | t+5 |",
        "|---|---|---|---|---|---|",
    ]
    for name, steps in scores["per_step"].items():
        cells = [f"{p:.2f} / {q:.3f}" for p, q in zip(steps["psnr"], steps["ssim"])]
        lines.append(f"| {NAME if name == 'model' else name} | " + " | ".join(cells) + " |")
    native = card["scores_native_size"]
    lines += [
        "",
        f"The same {native['windows']} windows at the frames' published size (854x480, 640x360, 1024x436), "
        "which is larger than anything the model was trained on:",
        "",
        "| PSNR (dB) / SSIM | t+1 | t+2 | t+3 | t+4 | t+5 |",
        "|---|---|---|---|---|---|",
    ]
    for name, steps in native["per_step"].items():
        cells = [f"{p:.2f} / {q:.3f}" for p, q in zip(steps["psnr"], steps["ssim"])]
        lines.append(f"| {NAME if name == 'model' else name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Reproduce (prepares the data, trains, scores, and rewrites the card and this section):",
        "",
        "```text",
        card["command"],
        "```",
    ]
    return "\n".join(lines)


def write_card_into_docs(card: dict) -> None:
    text = DOC.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    DOC.write_text(f"{before}{START}\n{card_markdown(card)}\n{END}{after}", encoding="utf-8")


def parameters(weights: Path) -> int:
    from framepred.models import load_model

    return sum(p.numel() for p in load_model(weights).model.parameters())


def trained_seconds(run_dir: Path) -> float:
    import csv

    with open(run_dir / "metrics.csv", newline="") as handle:
        return max(float(row["elapsed_s"]) for row in csv.DictReader(handle) if row["elapsed_s"])


def trained_steps(run_dir: Path) -> int:
    import csv

    with open(run_dir / "metrics.csv", newline="") as handle:
        return max(int(row["step"]) for row in csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bundled")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--crop", type=int, default=96)
    parser.add_argument("--clip-frames", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--routing", default="all", choices=["all", "sample"])
    parser.add_argument("--val-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.5, help="Training videos' size / native size.")
    parser.add_argument("--strides", default="1", help="Frame steps of the training videos, e.g. 1,2.")
    parser.add_argument("--run-name", default="run")
    parser.add_argument("--features", default=",".join(map(str, MODEL["features"])), help="Per block.")
    parser.add_argument("--score-only", type=Path, help="Score this checkpoint on the held-out tree.")
    parser.add_argument("--install", action="store_true", help="Copy the result into the package.")
    parser.add_argument(
        "--install-from", type=Path, help="A finished run directory of the same options to score and install."
    )
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # small convolutions: threads only contend
    args.strides = [int(s) for s in args.strides.split(",")]
    args.features = [int(c) for c in args.features.split(",")]
    train_tree, held_out = prepare(args.work, args.scale, args.strides)
    if args.score_only:
        print_table(score(args.score_only, held_out))
        print_table(score(args.score_only, held_out_native(args.work)))
        return
    if args.install_from:  # a finished run of this same command: score and install it, no retraining
        run_dir = args.install_from
        seconds = trained_seconds(run_dir)
    else:
        run_dir = args.work / args.run_name
        if run_dir.exists():
            shutil.rmtree(run_dir)
        start = time.monotonic()
        train(args, train_tree, run_dir)
        seconds = time.monotonic() - start
    weights = run_dir / "checkpoints" / "last" / "model.safetensors"
    steps = trained_steps(run_dir)
    scores = score(weights, held_out)
    print_table(scores)
    if args.install:
        install(args, weights, scores, seconds, steps)


if __name__ == "__main__":
    main()
