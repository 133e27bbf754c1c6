"""Memory formats for networks that mix 2D and 3D convolutions."""

import torch
from torch import nn

from framepred.engine.device import channels_last_


def test_mixed_2d_and_3d_weights_get_their_own_channels_last_format():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ConvTranspose3d(4, 2, 4, 2, 1), nn.BatchNorm3d(2))
    channels_last_(module)
    assert module[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert module[1].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert not module[1].weight.is_contiguous()
    frames = torch.rand(1, 3, 10, 10)
    assert module[0](frames).shape == (1, 4, 8, 8)
