"""The msgan networks: the paper's layer tables (parameter counts pinned), whole frames of any size,
the residual scales, the discriminators' inputs, and the options' checks."""

import numpy as np
import pytest
import torch

from framepred.errors import DataError, UsageError
from framepred.inference.predictor import Predictor
from framepred.models import create_model
from framepred.models.msgan import (
    MSGANConfig,
    MultiScaleDiscriminator,
    MultiScaleGenerator,
    check_crop,
    frame_pyramid,
)


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_full_width_parameter_counts_match_the_paper_tables():
    config = MSGANConfig(d_sees_history=False)
    generator = MultiScaleGenerator(config)
    discriminator = MultiScaleDiscriminator(config, crop=32)
    assert count(generator) == 12_569_740
    assert [count(n) for n in generator.scale_networks] == [607_619, 647_939, 3_008_003, 8_306_179]
    assert count(discriminator) == 16_875_652
    assert [count(n) for n in discriminator.scale_networks] == [166_657, 880_641, 4_042_753, 11_785_601]
    # The authors' discriminators also read the 4 context frames: 15 input channels.
    assert count(MultiScaleDiscriminator(MSGANConfig(), crop=32)) == 17_003_140


def test_discriminator_size_follows_the_crop():
    # The flatten -> fully connected layer grows with the crop (spec §3: 104.2M parameters at 64x64).
    assert (
        count(MultiScaleDiscriminator(MSGANConfig(d_sees_history=False, width=1.0), crop=64)) == 104_169_604
    )


def test_generator_is_fully_convolutional_at_every_scale():
    torch.manual_seed(0)
    generator = MultiScaleGenerator(MSGANConfig(width=0.125))
    outputs = generator(torch.rand(2, 4, 3, 40, 56) * 2 - 1)
    assert [tuple(o.shape) for o in outputs] == [(2, 3, 5, 7), (2, 3, 10, 14), (2, 3, 20, 28), (2, 3, 40, 56)]
    assert all(o.abs().max() <= 1 for o in outputs)  # tanh: [-1, 1]
    prediction = generator.predict(torch.rand(2, 4, 3, 40, 56))
    assert prediction.shape == (2, 3, 40, 56) and prediction.min() >= 0 and prediction.max() <= 1


def test_whole_frames_of_odd_sizes_through_the_predictor():
    torch.manual_seed(0)
    predictor = Predictor(create_model("msgan", width=0.125), device="cpu")
    assert predictor.context_frames == 4 and predictor.model.size_multiple == 8
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (45, 61, 3), dtype=np.uint8) for _ in range(4)]
    assert predictor.predict(frames).shape == (45, 61, 3)


def test_forward_refuses_sizes_and_frame_counts_it_cannot_take():
    generator = MultiScaleGenerator(MSGANConfig(width=0.0625))
    with pytest.raises(DataError, match="multiples of 8"):
        generator(torch.zeros(1, 4, 3, 36, 40))
    with pytest.raises(DataError, match="reads 4 RGB context frames, got 2"):
        generator(torch.zeros(1, 2, 3, 32, 32))


def test_residual_scales_add_a_correction_to_the_upsampled_coarser_prediction():
    torch.manual_seed(0)
    context = torch.rand(1, 4, 3, 16, 16) * 2 - 1
    for residual in (True, False):
        generator = MultiScaleGenerator(MSGANConfig(width=0.125, residual=residual))
        finest = generator.scale_networks[-1][-1]  # the last convolution of the finest scale
        torch.nn.init.zeros_(finest.weight)
        torch.nn.init.zeros_(finest.bias)
        outputs = generator(context)
        upsampled = torch.nn.functional.interpolate(outputs[-2], scale_factor=2, mode="nearest")
        expected = torch.tanh(upsampled) if residual else torch.zeros_like(upsampled)
        assert torch.allclose(outputs[-1], expected, atol=1e-6)


def test_upsampling_modes_differ_and_the_input_pyramid_is_average_pooling():
    torch.manual_seed(0)
    nearest = MultiScaleGenerator(MSGANConfig(width=0.125))
    bilinear = MultiScaleGenerator(MSGANConfig(width=0.125, upsampling="bilinear"))
    bilinear.load_state_dict(nearest.state_dict())
    context = torch.rand(1, 4, 3, 16, 16) * 2 - 1
    assert not torch.allclose(nearest(context)[-1], bilinear(context)[-1])
    frames = torch.arange(16.0).view(1, 1, 4, 4)
    coarse, middle, fine = frame_pyramid(frames, 3)
    assert coarse.item() == frames.mean() and torch.equal(fine, frames)
    assert torch.equal(middle, torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))


def test_fewer_scales_keep_the_finest_networks():
    single = MultiScaleGenerator(MSGANConfig(scales=1))
    assert single.size_multiple == 1 and len(single.scale_networks) == 1
    assert single.scale_networks[0][0].in_channels == 12 and single.scale_networks[0][0].kernel_size == (7, 7)
    two = MultiScaleGenerator(MSGANConfig(scales=2, width=0.125))
    assert two.size_multiple == 2 and [n[0].in_channels for n in two.scale_networks] == [12, 15]


def test_discriminators_score_each_scale():
    torch.manual_seed(0)
    config = MSGANConfig(width=0.125)
    discriminator = MultiScaleDiscriminator(config, crop=32)
    inputs = [torch.rand(3, 15, s, s) for s in (4, 8, 16, 32)]
    assert [tuple(s.shape) for s in discriminator(inputs)] == [(3, 1)] * 4
    frame_only = MultiScaleDiscriminator(MSGANConfig(width=0.125, d_sees_history=False), crop=32)
    assert frame_only.scale_networks[0].features[0].in_channels == 3


def test_bad_options_and_crops_are_refused():
    with pytest.raises(UsageError, match="scales"):
        MSGANConfig(scales=5)
    with pytest.raises(UsageError, match="upsampling"):
        MSGANConfig(upsampling="cubic")
    with pytest.raises(UsageError, match="width"):
        MSGANConfig(width=0)
    with pytest.raises(UsageError, match="at least 32"):
        check_crop(MSGANConfig(), 24)
    with pytest.raises(UsageError, match="multiple of 8"):
        check_crop(MSGANConfig(), 36)
    check_crop(MSGANConfig(), 40)
    check_crop(MSGANConfig(scales=1), 23)  # one full-resolution discriminator: any side from 23


def test_predict_and_rollout_commands_read_four_frames_and_refuse_three(tmp_path):
    from typer.testing import CliRunner

    from framepred.cli.app import app
    from framepred.io.images import read_image, write_image
    from framepred.models import save_model

    torch.manual_seed(0)
    weights = tmp_path / "msgan.safetensors"
    save_model(create_model("msgan", width=0.0625), weights)
    rng = np.random.default_rng(0)
    frames = []
    for t in range(4):
        frames.append(tmp_path / f"f{t}.png")
        write_image(frames[-1], rng.integers(0, 256, (30, 44, 3), dtype=np.uint8))
    runner = CliRunner()
    done = runner.invoke(
        app, ["predict", *map(str, frames), "-o", str(tmp_path / "next.png"), "-w", str(weights)]
    )
    assert done.exit_code == 0, done.output
    assert read_image(tmp_path / "next.png").shape == (30, 44, 3)
    done = runner.invoke(
        app,
        ["rollout", *map(str, frames), "--steps", "3", "-o", str(tmp_path / "future"), "-w", str(weights)],
    )
    assert done.exit_code == 0, done.output
    assert len(list((tmp_path / "future").glob("*.png"))) == 3
    short = runner.invoke(
        app, ["predict", *map(str, frames[1:]), "-o", str(tmp_path / "x.png"), "-w", str(weights)]
    )
    assert short.exit_code == 2
    assert "reads 4 context frames: give 4 images" in short.stderr and "Traceback" not in short.stderr
