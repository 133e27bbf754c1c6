import hashlib

import pytest
import torch

from framepred.errors import CheckpointError, DataError, WeightsMissingError
from framepred.io.weights import fetch_file, hub_checkpoint_dir
from framepred.metrics import LPIPS
from framepred.metrics.alexnet import AlexNet
from framepred.metrics.weights import ALEXNET_FILE, ENV_VAR, locate_backbone


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """A torch hub cache with nothing in it, and no override in the environment."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_hub_dir_follows_torch_home(empty_hub) -> None:
    assert hub_checkpoint_dir() == empty_hub


def test_fetch_checks_sha256_prefix(tmp_path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"framepred test weights")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    dest = tmp_path / "cache" / "weights.bin"
    assert fetch_file(source.as_uri(), dest, digest[:8])
    assert dest.read_bytes() == source.read_bytes()

    other = tmp_path / "cache" / "other.bin"
    with pytest.raises(CheckpointError, match="SHA-256 check"):
        fetch_file(source.as_uri(), other, "00000000" if not digest.startswith("0") else "ffffffff")
    assert not other.exists()


def test_fetch_reports_unreachable_url(tmp_path) -> None:
    assert not fetch_file((tmp_path / "nowhere.bin").as_uri(), tmp_path / "dest.bin", "00")
    assert not (tmp_path / "dest.bin").exists()


def test_offline_without_file_says_where_to_put_it(empty_hub, tmp_path) -> None:
    unreachable = (tmp_path / "offline" / ALEXNET_FILE).as_uri()
    with pytest.raises(WeightsMissingError) as caught:
        locate_backbone(url=unreachable)
    message = str(caught.value)
    assert str(empty_hub) in message and ALEXNET_FILE in message and "--lpips-weights" in message


def test_cached_file_with_wrong_hash_is_refused(empty_hub) -> None:
    empty_hub.mkdir(parents=True)
    (empty_hub / ALEXNET_FILE).write_bytes(b"truncated download")
    with pytest.raises(CheckpointError, match="damaged or a different file"):
        locate_backbone()


def test_override_by_argument_and_environment(empty_hub, tmp_path, monkeypatch) -> None:
    torch.manual_seed(0)
    custom = tmp_path / "my_alexnet.pth"
    torch.save(AlexNet().state_dict(), custom)
    digest = hashlib.sha256(custom.read_bytes()).hexdigest()

    found = locate_backbone(custom)
    assert found.custom and found.path == custom and found.sha256 == digest

    monkeypatch.setenv(ENV_VAR, str(custom))
    model = LPIPS.load()
    assert model.backbone.custom and model.backbone.sha256 == digest

    with pytest.raises(DataError, match="does not exist"):
        locate_backbone(tmp_path / "missing.pth")
