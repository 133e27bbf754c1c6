import pytest

from framepred.engine.logging import _epoch_means


def _rows(losses_per_epoch):
    rows, step = [], 0
    for epoch, losses in enumerate(losses_per_epoch):
        for loss in losses:
            step += 1
            rows.append({"step": str(step), "epoch": str(epoch), "loss": str(loss)})
    return rows


def test_epoch_means_are_per_whole_epoch_at_its_last_step():
    means = _epoch_means(_rows([[0.4, 0.2, 0.3], [0.3, 0.1, 0.2], [0.05]]))
    assert [step for step, _ in means] == [3, 6]  # the third epoch was cut short: other clips
    assert [loss for _, loss in means] == pytest.approx([0.3, 0.2])


def test_one_epoch_gives_one_point():
    assert len(_epoch_means(_rows([[0.4, 0.2]]))) == 1
