"""The baselines: copy-last can read fewer context frames (beside a one-image model); linear cannot."""

import pytest
import torch

from framepred.errors import UsageError
from framepred.models import create_model


def test_copy_last_with_one_context_frame():
    model = create_model("copy-last", context_frames=1)
    assert model.context_frames == 1
    context = torch.rand(2, 1, 3, 8, 8)
    assert torch.equal(model.predict(context), context[:, 0])
    assert create_model("copy-last").context_frames == 2  # the default is unchanged


def test_linear_needs_two_frames():
    with pytest.raises(UsageError, match="linear needs at least 2 context frame"):
        create_model("linear", context_frames=1)
