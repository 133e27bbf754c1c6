"""Fusion images: the transform (deterministic, edge and segmentation weights, label colours) and
`framepred prepare fusion` (a derived tree, resumable, user segmentations, one-line errors)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.derived import source_root
from framepred.data.fusion import (
    GRADIENT_NORMALISER,
    FusionOptions,
    edge_map,
    edges_of,
    fusion_image,
    gradient_map,
    read_segmentation,
    superpixel_map,
    voc_colours,
)
from framepred.data.prepare.fusion import fusion_manifest_options, prepare_fusion
from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from framepred.io.images import read_image
from tests.engine.engine_helpers import moving_squares_tree

runner = CliRunner()


def square_frame(size: int = 48) -> np.ndarray:
    """A bright square on a dark, slightly textured background: clear edges, two obvious regions."""
    rng = np.random.default_rng(3)
    frame = rng.integers(10, 30, (size, size, 3)).astype(np.uint8)
    frame[12:36, 16:40] = (200, 120, 40)
    return frame


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return moving_squares_tree(tmp_path_factory.mktemp("frames"), sequences=2, frames=5, size=40)


# ---- the transform ---------------------------------------------------------------------------------
def test_fusion_image_is_deterministic():
    frame = square_frame()
    first = fusion_image(frame, FusionOptions())
    assert first.dtype == np.uint8 and first.shape == frame.shape
    assert np.array_equal(first, fusion_image(frame.copy(), FusionOptions()))


def test_edges_and_segmentation_are_summed_with_their_weights():
    frame = square_frame()
    edges = edge_map(frame, 100, 200)
    assert set(np.unique(edges)) == {0, 255} and edges[24, 28] == 0 and edges[12:36, 16].any()
    blurred = edge_map(frame, 100, 200, blur=1.5)
    assert blurred[12:36, 14:19].any() and not np.array_equal(blurred, edges)
    segmentation = superpixel_map(frame, 200, 10.0)
    options = FusionOptions(edge_weight=0.5, seg_weight=0.3)
    expected = np.clip(np.rint(0.5 * edges[..., None].astype(np.float32) + 0.3 * segmentation), 0, 255)
    assert np.array_equal(fusion_image(frame, options), expected.astype(np.uint8))
    # Edges only, and segmentation only.
    assert np.array_equal(fusion_image(frame, FusionOptions(segmentation="none"))[..., 0], edges)
    only_segments = fusion_image(frame, FusionOptions(edge_weight=0.0, seg_weight=1.0))
    assert np.array_equal(only_segments, segmentation)


def test_gradient_edges_are_soft_deterministic_and_fixed_in_scale():
    frame = square_frame()
    options = FusionOptions(edges="gradient", edge_blur=1.5)
    first = fusion_image(frame, options)
    assert np.array_equal(first, fusion_image(frame.copy(), options))
    sharp = gradient_map(frame)
    # A fixed normaliser: the square's one-pixel step of grey levels scores about that step (not 255),
    # and doubling the frame's contrast doubles the map (a per-frame maximum would not).
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    step = grey[24, 16] - grey[24, 15]
    assert GRADIENT_NORMALISER == 4.0 and abs(sharp[24, 16] - step) < 0.1 * step and sharp[24, 28] == 0
    half = (frame // 2).astype(np.uint8)
    assert np.allclose(gradient_map(half)[24, 16] * 2, sharp[24, 16], rtol=0.05)
    # Many grey levels, not two: soft, unlike Canny's 0/255.
    assert len(np.unique(first)) > 20 and len(np.unique(gradient_map(frame, 1.5).round())) > 20
    edges = np.rint(gradient_map(frame, 1.5))
    only_edges = fusion_image(frame, FusionOptions(edges="gradient", edge_blur=1.5, segmentation="none"))
    assert np.array_equal(only_edges[..., 0], edges.astype(np.uint8))


def test_edge_soften_blurs_the_detected_map():
    frame = square_frame()
    canny = edge_map(frame, 100, 200).astype(np.float32)
    softened = edges_of(frame, FusionOptions(edge_soften=1.0))
    assert np.allclose(softened, cv2.GaussianBlur(canny, (0, 0), 1.0))
    assert softened.max() < 255 and abs(softened.sum() - canny.sum()) < 0.02 * canny.sum()
    assert np.array_equal(edges_of(frame, FusionOptions()), edge_map(frame, 100, 200))  # off by default


def test_superpixels_paint_each_region_in_its_mean_colour():
    frame = square_frame()
    segmentation = superpixel_map(frame, 50, 10.0)
    # Inside the flat square every superpixel's mean is the square's colour.
    assert np.abs(segmentation[20:28, 24:32].astype(int) - (200, 120, 40)).max() <= 1
    assert segmentation[2, 2].max() < 40


def test_label_maps_get_the_pascal_voc_colours(tmp_path):
    labels = np.array([[0, 1, 2], [3, 15, 255]], np.uint8)
    colours = voc_colours(labels)
    assert colours[0, 0].tolist() == [0, 0, 0]
    assert colours[0, 1].tolist() == [128, 0, 0] and colours[0, 2].tolist() == [0, 128, 0]
    assert colours[1, 0].tolist() == [128, 128, 0] and colours[1, 1].tolist() == [192, 128, 128]
    Image.fromarray(labels, mode="L").save(tmp_path / "labels.png")
    assert np.array_equal(read_segmentation(tmp_path / "labels.png"), colours)
    palette = Image.fromarray(labels, mode="P")
    palette.putpalette([255, 255, 255] * 256)  # a file's own palette is ignored: labels count
    palette.save(tmp_path / "palette.png")
    assert np.array_equal(read_segmentation(tmp_path / "palette.png"), colours)
    rgb = np.full((2, 3, 3), 77, np.uint8)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    assert np.array_equal(read_segmentation(tmp_path / "colour.png"), rgb)


def test_folder_segmentation_must_be_given_and_fit():
    frame, options = square_frame(), FusionOptions(segmentation="folder")
    with pytest.raises(DataError, match="none was given"):
        fusion_image(frame, options)
    with pytest.raises(DataError, match="segmentation is 10x10 but the frame is 48x48"):
        fusion_image(frame, options, np.zeros((10, 10, 3), np.uint8))
    given = np.full((48, 48, 3), 100, np.uint8)
    assert fusion_image(frame, options, given)[24, 28].tolist() == [30, 30, 30]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"canny_low": 200, "canny_high": 100}, "--canny-low <= --canny-high"),
        ({"segmentation": "deeplab"}, "unknown segmentation 'deeplab'"),
        ({"seg_weight": -1}, "must not be negative"),
        ({"edge_blur": -1}, "--edge-blur is a Gaussian sigma"),
        ({"edges": "sobel"}, "unknown --edges 'sobel'"),
        ({"edge_soften": -0.5}, "--edge-soften is a Gaussian sigma"),
        ({"edge_soften": float("nan")}, "--edge-soften is a Gaussian sigma"),
        ({"slic_segments": 0}, "--slic-segments"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(UsageError, match=message):
        FusionOptions(**options).check()


# ---- prepare fusion ----------------------------------------------------------------------------------
def test_prepare_fusion_makes_a_derived_tree(tree, tmp_path):
    out = tmp_path / "fusion"
    summary = prepare_fusion(tree, out, FusionOptions(canny_low=50, canny_high=150), workers=2)
    assert summary.written == 3 and summary.frames == 15
    fused, frames = FrameTree(out), FrameTree(tree)
    assert [(s.split, s.name, len(s)) for s in fused.sequences()] == [
        (s.split, s.name, len(s)) for s in frames.sequences()
    ]
    manifest = fused.manifest
    assert manifest["source"] == "fusion" and source_root(out, manifest) == tree.resolve()
    assert fusion_manifest_options(out, manifest) == FusionOptions(canny_low=50, canny_high=150)
    sequence, original = fused.sequences("train")[0], frames.sequences("train")[0]
    expected = fusion_image(original.read(2), FusionOptions(canny_low=50, canny_high=150))
    assert np.array_equal(sequence.read(2), expected)
    # A second run skips what is there; other options are refused rather than mixed in.
    assert prepare_fusion(tree, out, FusionOptions(canny_low=50, canny_high=150)).skipped == 3
    with pytest.raises(UsageError, match="was prepared with"):
        prepare_fusion(tree, out, FusionOptions(seg_weight=0.5))


def test_edge_options_round_trip_through_the_manifest(tree, tmp_path):
    out = tmp_path / "fusion"
    command = ["prepare", "fusion", str(tree), "-o", str(out), "--edges", "gradient", "--edge-soften", "0.5"]
    result = runner.invoke(
        app, [*command, "--edge-blur", "1", "--edge-weight", "4", "--segmentation", "none"]
    )
    assert result.exit_code == 0, result.output
    options = FusionOptions(
        edges="gradient", edge_soften=0.5, edge_blur=1.0, edge_weight=4.0, segmentation="none"
    )
    assert fusion_manifest_options(out, FrameTree(out).manifest) == options
    original = FrameTree(tree).sequences("train")[0]
    assert np.array_equal(
        FrameTree(out).sequences("train")[0].read(1), fusion_image(original.read(1), options)
    )
    # A tree made before these options existed (no such keys recorded) was made with their defaults.
    old = tmp_path / "old"
    prepare_fusion(tree, old, FusionOptions())
    recorded = json.loads((old / ".framepred-fusion.json").read_text())
    for key in ("edges", "edge_soften"):
        del recorded["fusion"][key]
    (old / ".framepred-fusion.json").write_text(json.dumps(recorded))
    assert prepare_fusion(tree, old, FusionOptions()).skipped == 3
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["fusion"]["edges"], manifest["fusion"]["edge_soften"]
    assert fusion_manifest_options(old, manifest) == FusionOptions()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--edges", "sobel"], "unknown --edges 'sobel'"),
        (["--edge-soften", "-1"], "--edge-soften is a Gaussian"),
    ],
)
def test_bad_edge_options_are_one_line_errors(tree, tmp_path, option, message):
    result = runner.invoke(app, ["prepare", "fusion", str(tree), "-o", str(tmp_path / "f"), *option])
    one_line_error(result, message)
    assert not (tmp_path / "f").exists()


def test_a_plain_frame_tree_is_not_fusion_images(tree):
    with pytest.raises(DataError, match="run `framepred prepare fusion"):
        fusion_manifest_options(tree, FrameTree(tree).manifest)


def _label_maps(tree, folder, size=None):
    for sequence in FrameTree(tree).sequences():
        target = folder / sequence.split / sequence.name
        target.mkdir(parents=True)
        for index, frame_path in enumerate(sequence.frames):
            height, width = read_image(frame_path).shape[:2]
            labels = np.zeros(size or (height, width), np.uint8)
            labels[: labels.shape[0] // 2] = 1 + index % 3
            Image.fromarray(labels, mode="L").save(target / f"{frame_path.stem}.png")


def test_prepare_fusion_from_a_segmentation_folder(tree, tmp_path):
    seg_dir = tmp_path / "labels"
    _label_maps(tree, seg_dir)
    out = tmp_path / "fusion"
    result = runner.invoke(app, ["prepare", "fusion", str(tree), "-o", str(out), "--seg-dir", str(seg_dir)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fusion"]["segmentation"] == "folder" and manifest["segmentation_folder"] == str(seg_dir)
    sequence = FrameTree(out).sequences("train")[0]
    frame_path = FrameTree(tree).sequences("train")[0].frames[1]
    labels = read_segmentation(seg_dir / "train" / sequence.name / f"{frame_path.stem}.png")
    expected = fusion_image(read_image(frame_path), FusionOptions(segmentation="folder"), labels)
    assert np.array_equal(sequence.read(1), expected)


def test_a_segmentation_folder_of_the_wrong_size_is_one_clear_error(tree, tmp_path):
    seg_dir = tmp_path / "labels"
    _label_maps(tree, seg_dir, size=(20, 30))
    out = tmp_path / "fusion"
    result = runner.invoke(app, ["prepare", "fusion", str(tree), "-o", str(out), "--seg-dir", str(seg_dir)])
    one_line_error(result, "segmentation is 30x20 but its frame", "is 40x40", "label maps at the frame size")
    assert not out.exists()


def test_missing_label_maps_are_named(tree, tmp_path):
    seg_dir = tmp_path / "labels"
    _label_maps(tree, seg_dir)
    first = FrameTree(tree).sequences("train")[0]
    (seg_dir / "train" / first.name / f"{first.frames[3].stem}.png").unlink()
    command = ["prepare", "fusion", str(tree), "-o", str(tmp_path / "f"), "--seg-dir", str(seg_dir)]
    result = runner.invoke(app, command)
    one_line_error(result, "has no label map for frame", first.frames[3].name)
    result = runner.invoke(
        app, ["prepare", "fusion", str(tree), "-o", str(tmp_path / "g"), "--seg-dir", str(tmp_path / "none")]
    )
    one_line_error(result, "no such segmentation folder")
