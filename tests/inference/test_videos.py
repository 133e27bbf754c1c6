"""Prediction with models that make videos: several frames per call, their streams, samples from noise,
rollout past one call, and evaluation beside copy-last."""

import numpy as np
import pytest
import torch

from framepred.data.tree import SequenceWriter
from framepred.errors import UsageError
from framepred.inference.predict_files import predict_files
from framepred.inference.predictor import Predictor
from framepred.io.images import list_images, read_image, write_image
from framepred.io.video import read_video
from framepred.metrics.evaluate import evaluate_tree
from framepred.models import create_model, save_model
from tests.helpers import random_frames

SMALL = {"frames": 16, "width": 1 / 16}


def _predictor(condition="image"):
    torch.manual_seed(0)
    return Predictor(create_model("videogan", condition=condition, **SMALL), device="cpu")


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "input.png"
    write_image(path, random_frames(1, 45, 70)[0])
    return path


def test_predict_writes_the_input_then_the_future(tmp_path, image):
    predictor = _predictor()
    records = predict_files(predictor, [image], tmp_path / "future", None)
    files = list_images(tmp_path / "future")
    assert len(files) == 16 and records[0]["frames"] == 16
    assert np.array_equal(read_image(files[0]), read_image(image))  # the input image first
    expected = predictor.rollout([read_image(image)], 15)
    for path, frame in zip(files[1:], expected, strict=True):
        assert np.array_equal(read_image(path), frame)
        assert frame.shape == (45, 70, 3)  # generated at 64x64, back at the input's size


def test_predict_gif_with_streams_side_by_side(tmp_path, image):
    records = predict_files(_predictor(), [image], tmp_path / "future.gif", None, compare=True)
    assert len(read_video(tmp_path / "future.gif")) == 16
    compare = read_video(records[0]["compare"])
    assert records[0]["compare"].endswith("future_compare.gif")
    assert len(compare) == 16
    # input, video, background, foreground, mask: five 70-pixel panels, 2-pixel gaps, a label strip
    assert compare[0].shape[1] == 5 * 70 + 4 * 2 and compare[0].shape[0] > 45


def test_video_models_refuse_single_image_outputs_and_folders(tmp_path, image):
    predictor = _predictor()
    with pytest.raises(UsageError, match="15 frames at once.*gif"):
        predict_files(predictor, [image], tmp_path / "future.png", None)
    with pytest.raises(UsageError, match="--input-dir"):
        predict_files(predictor, [], tmp_path / "out", tmp_path)
    with pytest.raises(UsageError, match="1 context image"):
        predict_files(predictor, [image, image], tmp_path / "out.gif", None)
    assert not (tmp_path / "future.png").exists()


def test_compare_needs_a_model_with_streams(tmp_path):
    frames = [tmp_path / "a.png", tmp_path / "b.png"]
    for path, frame in zip(frames, random_frames(2, 16, 16), strict=True):
        write_image(path, frame)
    with pytest.raises(UsageError, match="has none to show"):
        predict_files(
            Predictor.from_name("copy-last", device="cpu"), frames, tmp_path / "o.gif", None, compare=True
        )


def test_samples_are_seeded_and_written_to_a_new_folder(tmp_path):
    predictor = _predictor("none")
    first = predict_files(predictor, [], tmp_path / "a", None, samples=3, seed=5, compare=True)
    again = predict_files(predictor, [], tmp_path / "b", None, samples=3, seed=5)
    other = predict_files(predictor, [], tmp_path / "c", None, samples=3, seed=6)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        f"sample_000{i}{kind}.gif" for i in (1, 2, 3) for kind in ("", "_compare")
    ]
    videos = [np.stack(read_video(r["output"])) for r in (first[0], again[0], other[0])]
    assert videos[0].shape == (16, 64, 64, 3)
    assert np.array_equal(videos[0], videos[1]) and not np.array_equal(videos[0], videos[2])
    with pytest.raises(UsageError, match="not an empty folder"):
        predict_files(predictor, [], tmp_path / "a", None, samples=1)
    with pytest.raises(UsageError, match="new folder"):
        predict_files(predictor, [], tmp_path / "x.gif", None, samples=1)
    with pytest.raises(UsageError, match="at least 1"):
        predict_files(predictor, [], tmp_path / "d", None, samples=0)


def test_samples_need_a_noise_model(tmp_path, image):
    with pytest.raises(UsageError, match="conditional"):
        predict_files(_predictor(), [], tmp_path / "s", None, samples=2)
    with pytest.raises(UsageError, match="from frames"):
        predict_files(Predictor.from_name("copy-last", device="cpu"), [], tmp_path / "s", None, samples=2)
    with pytest.raises(UsageError, match="give no input images"):
        predict_files(_predictor("none"), [image], tmp_path / "s", None, samples=2)
    with pytest.raises(UsageError, match="unconditional"):
        predict_files(_predictor("none"), [image], tmp_path / "f.gif", None)


def test_rollout_conditions_each_call_on_the_last_generated_frame():
    predictor = _predictor()
    context = torch.rand(1, 1, 3, 40, 48)
    rolled = predictor.rollout_batch(context, 20)
    assert rolled.shape == (1, 20, 3, 40, 48)
    with torch.inference_mode():
        first = predictor.model.predict_many(context)
        second = predictor.model.predict_many(first[:, -1:])
    assert torch.allclose(rolled[:, :15], first) and torch.allclose(rolled[:, 15:], second[:, :5])


def test_evaluate_scores_every_step_beside_copy_last_of_the_input(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        with SequenceWriter(tmp_path / "tree", "test", name) as writer:
            for _ in range(16):
                writer.write(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    weights = tmp_path / "videogan.safetensors"
    save_model(_predictor().model, weights)
    result = evaluate_tree(
        tmp_path / "tree", weights=weights, protocol="next", steps=15, metrics="psnr",
        baselines=["copy-last"], device="cpu",
    )  # fmt: skip
    assert result["count"] == 2 and len(result["per_step"]) == 15  # one window: frame 0 -> frames 1..15
    copy_last = result["baselines"]["copy-last"]["per_step"]
    frames = [[read_image(p) for p in sorted((tmp_path / "tree" / "test" / n).iterdir())] for n in ("a", "b")]
    for step in (1, 15):  # copy-last repeats frame 0, the image the model saw
        mse = [np.mean((f[0] / 255.0 - f[step] / 255.0) ** 2) for f in frames]
        assert copy_last[step - 1]["psnr"] == pytest.approx(
            np.mean([-10 * np.log10(m) for m in mse]), abs=1e-3
        )
    with pytest.raises(UsageError, match="drop --baseline linear"):
        evaluate_tree(tmp_path / "tree", weights=weights, protocol="next", steps=15, baselines=["linear"])
