"""VideoGAN's networks: the paper's sizes, the two-stream composition, the framepred interface."""

import pytest
import torch

from framepred.errors import UsageError
from framepred.models import create_model
from framepred.models.videogan import VideoDiscriminator, VideoGANConfig, compose


def _millions(module):
    return round(sum(p.numel() for p in module.parameters()) / 1e6, 2)


@pytest.mark.parametrize(
    ("condition", "generator", "discriminator"), [("none", 16.25, 11.04), ("image", 68.22, 44.10)]
)
def test_full_width_parameter_counts_match_the_paper(condition, generator, discriminator):
    config = VideoGANConfig(condition=condition)
    assert _millions(create_model("videogan", condition=condition)) == generator
    assert _millions(VideoDiscriminator(config)) == discriminator


def test_conditional_encoder_size():
    assert _millions(create_model("videogan").encoder) == 11.02


def test_spec_cpu_sizes():
    # The spec's small CPU settings: x1/16 widths G 0.27M / D 0.17M, x1/8 widths G 1.06M / D 0.69M.
    for width, generator, discriminator in ((1 / 16, 0.27, 0.17), (1 / 8, 1.06, 0.69)):
        config = VideoGANConfig(frames=16, width=width)
        assert _millions(create_model("videogan", frames=16, width=width)) == generator
        assert _millions(VideoDiscriminator(config)) == discriminator


def test_composition_selects_foreground_or_background():
    foreground = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    background = torch.rand(2, 3, 8, 8) * 2 - 1
    zeros = torch.zeros(2, 1, 4, 8, 8)
    background_video = background[:, :, None].expand(-1, -1, 4, -1, -1)
    assert torch.equal(compose(foreground, zeros, background), background_video)
    assert torch.equal(compose(foreground, torch.ones_like(zeros), background), foreground)
    half = compose(foreground, zeros + 0.5, background)
    assert torch.allclose(half, (foreground + background_video) / 2)


@pytest.mark.parametrize("condition", ["image", "none"])
@pytest.mark.parametrize("mask_logit", [-60.0, 60.0])
def test_generator_output_is_the_selected_stream(condition, mask_logit):
    torch.manual_seed(0)
    model = create_model("videogan", condition=condition, frames=16, width=1 / 16).eval()
    with torch.no_grad():  # a mask head that says "all background" or "all foreground" everywhere
        model.foreground.mask.weight.zero_()
        model.foreground.mask.bias.fill_(mask_logit)
    x = torch.rand(2, 3, 64, 64) * 2 - 1 if condition == "image" else torch.randn(2, 100)
    with torch.no_grad():
        streams = model(x)
    expected = (
        streams.foreground if mask_logit > 0 else streams.background[:, :, None].expand_as(streams.video)
    )
    assert torch.allclose(streams.video, expected, atol=1e-6)


@pytest.mark.parametrize("frames", [16, 32])
@pytest.mark.parametrize("condition", ["image", "none"])
def test_shapes(frames, condition):
    model = create_model("videogan", condition=condition, frames=frames, width=1 / 16)
    critic = VideoDiscriminator(VideoGANConfig(condition=condition, frames=frames, width=1 / 16))
    x = torch.rand(3, 3, 64, 64) * 2 - 1 if condition == "image" else torch.randn(3, 100)
    streams = model(x)
    assert streams.video.shape == streams.foreground.shape == (3, 3, frames, 64, 64)
    assert streams.mask.shape == (3, 1, frames, 64, 64) and streams.background.shape == (3, 3, 64, 64)
    assert streams.video.abs().max() <= 1 and streams.mask.min() >= 0 and streams.mask.max() <= 1
    assert critic(streams.video).shape == (3, 1)


def test_official_initialisation():
    torch.manual_seed(0)
    model = create_model("videogan")
    conv = model.foreground.body[3]  # a 3D transposed convolution
    norm = model.foreground.body[4]
    assert abs(conv.weight.std().item() - 0.01) < 1e-4 and conv.bias.abs().max() == 0
    assert abs(norm.weight.mean().item() - 1.0) < 0.01 and abs(norm.weight.std().item() - 0.02) < 0.005
    assert norm.bias.abs().max() == 0


def test_bad_configurations_are_usage_errors():
    with pytest.raises(UsageError, match="multiple of 16"):
        create_model("videogan", frames=24)
    with pytest.raises(UsageError, match="condition"):
        create_model("videogan", condition="text")
    with pytest.raises(UsageError, match="width"):
        create_model("videogan", width=0)


def test_predict_many_at_any_size_leaves_out_the_reconstruction():
    torch.manual_seed(0)
    model = create_model("videogan", frames=16, width=1 / 16).eval()
    assert model.context_frames == 1 and model.frames_per_call == 15
    context = torch.rand(2, 1, 3, 37, 53)
    with torch.no_grad():
        future = model.predict_many(context)
        streams = model.streams(context)
    assert future.shape == (2, 15, 3, 37, 53) and future.min() >= 0 and future.max() <= 1
    assert set(streams) == {"video", "background", "foreground", "mask"}
    assert all(s.shape == (2, 16, 3, 37, 53) for s in streams.values())
    assert torch.allclose(streams["video"][:, 1:], future)  # frames 1..T-1 of the whole video
    assert torch.allclose(model.predict(context), future[:, 0])


def test_unconditional_samples_and_refuses_images():
    model = create_model("videogan", condition="none", frames=16, width=1 / 16).eval()
    with torch.no_grad():
        first = model.sample(2, torch.Generator().manual_seed(3))
        again = model.sample(2, torch.Generator().manual_seed(3))
        other = model.sample(2, torch.Generator().manual_seed(4))
    assert first["video"].shape == (2, 16, 3, 64, 64)
    assert torch.equal(first["video"], again["video"]) and not torch.equal(first["video"], other["video"])
    with pytest.raises(UsageError, match="unconditional.*--samples"):
        model.predict_many(torch.rand(1, 1, 3, 64, 64))
    with pytest.raises(UsageError, match="conditional"):
        create_model("videogan", frames=16, width=1 / 16).sample(1)


def test_input_background_starts_from_the_input_image():
    torch.manual_seed(0)
    model = create_model("videogan", frames=16, width=1 / 16, input_background=True).eval()
    image = torch.rand(2, 3, 64, 64) * 1.6 - 0.8
    with torch.no_grad():
        streams = model(image)
    # the stream's correction starts at exactly 0 and the mask nearly closed: the video is copy-last
    assert torch.equal(streams.background, image)
    assert streams.mask.max() < 0.01
    copy_last = image[:, :, None].expand_as(streams.video)
    assert (streams.video - copy_last).abs().max() < 0.02
    with pytest.raises(UsageError, match="--input-background"):
        create_model("videogan", condition="none", input_background=True)


def test_input_foreground_starts_both_streams_at_the_input_image():
    torch.manual_seed(0)
    model = create_model("videogan", frames=16, width=1 / 16, input_background=True, input_foreground=True)
    image = torch.rand(2, 3, 64, 64) * 1.6 - 0.8
    with torch.no_grad():
        streams = model.eval()(image)
    copy_last = image[:, :, None].expand_as(streams.video)
    assert torch.equal(streams.foreground, copy_last)
    assert torch.allclose(streams.mask, torch.full_like(streams.mask, 0.5))
    # both streams are the input, so whatever the mask, the video is copy-last (to rounding)
    assert (streams.video - copy_last).abs().max() < 1e-6
    # and a trained correction in either stream changes the video
    torch.nn.init.constant_(model.foreground.video.bias, 0.5)
    with torch.no_grad():
        assert (model(image).video - copy_last).abs().max() > 0.01
    with pytest.raises(UsageError, match="--input-foreground needs --input-background"):
        create_model("videogan", input_foreground=True)
