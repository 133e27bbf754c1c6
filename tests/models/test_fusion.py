"""The fusion model: shapes of each stage, the record of trained stages, what prediction refuses, the
no-motion baseline and the streams rollout --compare shows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framepred.data.fusion import FusionOptions, fusion_image
from framepred.errors import CheckpointError
from framepred.losses.pixel import gaussian_blur
from framepred.models import create_model, load_model, model_entry, save_model
from framepred.models.fusion import STAGES, FusionUNet3D, PatchDiscriminator, Translator


def _small(**extra):
    torch.manual_seed(0)
    return create_model("fusion", **{**model_entry("fusion").small, **extra})


def _frames(batch=2, count=4, size=16):
    return torch.rand(batch, count, 3, size, size, generator=torch.Generator().manual_seed(1))


def test_each_stage_has_its_shapes():
    unet = FusionUNet3D(context=5, horizon=3, base=4, levels=2)
    assert unet(torch.rand(2, 5, 3, 16, 24)).shape == (2, 3, 3, 16, 24)
    translator = Translator(base=8, levels=3, dropout=0.5)
    frame = translator(torch.rand(2, 3, 16, 24))
    assert frame.shape == (2, 3, 16, 24) and frame.min() >= 0 and frame.max() <= 1
    assert PatchDiscriminator(8)(torch.rand(2, 3, 32, 32), frame.new_ones(2, 3, 32, 32)).shape == (2, 1, 4, 4)
    model = _small()
    assert model(torch.rand(2, 3, 16, 16), "sharpen").shape == (2, 3, 16, 16)


def test_the_paper_sized_networks_have_the_spec_parameter_counts():
    model = create_model("fusion")
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(model.translator) == 9_373_443  # the notebook's widths (spec §4: 9.37M)
    assert count(PatchDiscriminator(32)) == 392_033  # spec §4: 0.39M
    head = count(model.unet.head)  # our time-mixing output layer
    assert abs(count(model.unet) - head - 5.43e6) < 0.01e6  # spec §4: 5.43M


def test_a_training_forward_records_its_stage_and_the_record_is_saved(tmp_path):
    model = _small()
    assert model.stages_trained() == []
    model.active_stage = "unet"
    model.train()
    assert model.unet.training and not model.translator.training and not model.sharpener.training
    model(_frames(), "unet")
    model.eval()
    model(torch.rand(2, 3, 16, 16), "translator")  # eval mode: not training
    assert model.stages_trained() == ["unet"]
    save_model(model, tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").model.stages_trained() == ["unet"]


def test_prediction_refuses_weights_without_a_translator():
    model = _small().eval()
    model.trained[STAGES.index("unet")] = 1
    with pytest.raises(CheckpointError, match="not the translator stage; .*--stage translator"):
        model.predict_many(_frames())
    with pytest.raises(CheckpointError, match="not the translator stage"):
        model.baselines()["no-motion"].predict_many(_frames())
    model.trained[STAGES.index("translator")] = 1
    assert model.predict_many(_frames()).shape == (2, 4, 3, 16, 16)


def test_an_untrained_sharpener_is_skipped():
    model = _small().eval()
    model.trained[:2] = 1
    fusion = torch.rand(1, 2, 3, 16, 16)
    plain = model.translator(fusion.flatten(0, 1)).clamp(0, 1)
    assert torch.equal(model.translate(fusion)[0], plain)
    model.trained[STAGES.index("sharpen")] = 1
    assert not torch.equal(model.translate(fusion)[0], plain)
    context = _frames(batch=1)
    without = model.baselines()["no-sharpener"].predict_many(context)
    assert torch.equal(without, model.predict_many(context, sharpen=False))
    assert not torch.equal(without, model.predict_many(context))
    assert _small(upscale_factor=0).sharpener is None


def test_the_model_makes_fusion_images_as_prepare_does():
    model = _small(fusion={"canny_low": 30.0, "canny_high": 90.0})
    frames = _frames(batch=1, count=2)
    pixels = (frames * 255).round().to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()
    expected = fusion_image(pixels[0, 1], FusionOptions(canny_low=30, canny_high=90))
    got = (model.fusion_images(frames)[0, 1].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(got, expected)


def test_no_motion_repeats_the_translated_last_fusion_image_and_streams_show_fusion():
    model = _small().eval()
    context = _frames()
    with torch.no_grad():
        still = model.baselines()["no-motion"].predict_many(context)
        assert still.shape == (2, 4, 3, 16, 16) and torch.equal(still[:, 0], still[:, 3])
        assert torch.allclose(still[:, 0], model.translate(model.fusion_images(context[:, -1:]))[:, 0])
        streams = model.streams(context)
    assert set(streams) == {"fusion input", "predicted fusion"}
    assert all(s.shape == (2, 4, 3, 16, 16) for s in streams.values())
    assert torch.equal(streams["fusion input"][:, 2], model.fusion_images(context[:, -1:])[:, 0])


def test_the_unet_starts_from_the_last_fusion_image_or_its_blurred_copy():
    fusion = torch.rand(2, 5, 3, 16, 24)
    plain = FusionUNet3D(context=5, horizon=3, base=4, levels=2).eval()
    blurred = FusionUNet3D(context=5, horizon=3, base=4, levels=2, residual_blur=2.0).eval()
    with torch.no_grad():  # the output layer starts at zero: the output is what it is added to
        assert torch.equal(plain(fusion), fusion[:, -1:].expand(2, 3, 3, 16, 24))
        expected = gaussian_blur(fusion[:, -1], 2.0)[:, None].expand(2, 3, 3, 16, 24)
        assert torch.allclose(blurred(fusion), expected, atol=1e-6)
    assert _small(unet_residual_blur=1.5).unet.residual_blur == 1.5
