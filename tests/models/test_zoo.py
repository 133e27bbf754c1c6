"""Named weights: resolving, the cache and its records, mirrors over HTTP, Google Drive through gdown.

The HTTP tests run the real download code against a server on 127.0.0.1; the Drive tests replace
``gdown.download`` (gdown's boundary) with a fake that answers as Drive does. Nothing reaches the
internet (``tests/conftest.py`` also gives every test an empty FRAMEPRED_HOME).
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from framepred.errors import CheckpointError, WeightsMissingError
from framepred.models import create_model, load_model, zoo
from framepred.models.zoo import DRIVE_IDS, default_weights, resolve_weights
from tests.io.weights_server import QUOTA_PAGE, weights_server


def official_bytes(seed: int) -> bytes:
    torch.manual_seed(seed)
    state = {"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def releases() -> dict[str, bytes]:
    wrong_keys = io.BytesIO()
    torch.save({"conv.weight": torch.zeros(3, 3)}, wrong_keys)
    return {
        "dmvfn_city.pkl": official_bytes(0),
        "dmvfn_kitti.pkl": official_bytes(1),
        "other.pkl": official_bytes(2),
        "wrong_keys.pkl": wrong_keys.getvalue(),
    }


@pytest.fixture(scope="module")
def mirror(releases):
    with weights_server(releases) as site:
        yield site


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_files(home: Path) -> list[str]:
    """Everything in the cache except its bookkeeping (records, lock, unfinished downloads)."""
    weights = home / "weights"
    if not weights.exists():
        return []
    return sorted(
        str(p.relative_to(weights))
        for p in weights.rglob("*")
        if p.is_file() and p.name not in ("records.json", ".lock") and ".partial" not in p.parts
    )


# ---- paths, names, errors -----------------------------------------------------------------------


def test_a_path_is_used_as_it_is(tmp_path) -> None:
    path = tmp_path / "mine.pkl"
    path.write_bytes(b"x")
    assert resolve_weights(path) == path
    assert resolve_weights(str(path)) == path


def test_an_unknown_name_lists_the_names(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist, and is not a weights name .*dmvfn-city"):
        resolve_weights("dmvfn-ctiy")


def test_the_home_defaults_under_the_user_cache(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("FRAMEPRED_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert zoo.framepred_home() == tmp_path / "framepred"


def test_the_bundled_model_loads_and_matches_its_card() -> None:
    path = resolve_weights("framepred-dmvfn-small")
    card = zoo.bundled_card()
    assert path.stat().st_size == card["size_bytes"] < 5_000_000
    loaded = load_model("framepred-dmvfn-small")
    assert loaded.name == "dmvfn" and list(loaded.model.config.features) == card["config"]["features"]
    scores = card["scores"]["per_step"]
    for step in range(5):  # what docs/weights.md says of it, held out
        assert scores["model"]["psnr"][step] > scores["linear"]["psnr"][step] + 1
        assert scores["model"]["ssim"][step] > scores["copy-last"]["ssim"][step]
        assert abs(scores["model"]["psnr"][step] - scores["copy-last"]["psnr"][step]) < 0.1


# ---- a mirror over HTTP -------------------------------------------------------------------------


def test_a_mirror_base_url_serves_the_release_file_name(
    monkeypatch, mirror, releases, private_framepred_home
) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files/")
    notes: list[str] = []
    path = resolve_weights("dmvfn-city", notes.append)
    assert path == private_framepred_home / "weights" / "dmvfn_city.pkl"
    assert path.read_bytes() == releases["dmvfn_city.pkl"]
    assert "downloading dmvfn-city from " + mirror.url("files", "dmvfn_city.pkl") in notes[0]
    info = zoo.weights_info(zoo.NAMES["dmvfn-city"])
    assert info["cached"] and info["sha256"] == sha(releases["dmvfn_city.pkl"])
    before = len(mirror.requests)
    assert resolve_weights("dmvfn-city") == path  # cached: no request
    assert len(mirror.requests) == before
    assert load_model("dmvfn-city").colour_order == "BGR"


def test_a_per_name_override_wins_over_the_base(monkeypatch, mirror, releases) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", "http://127.0.0.1:9/nothing-here")
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL_DMVFN_KITTI", mirror.url("files", "dmvfn_kitti.pkl"))
    assert resolve_weights("dmvfn-kitti").read_bytes() == releases["dmvfn_kitti.pkl"]


def test_a_download_cut_half_way_is_resumed(monkeypatch, mirror, releases) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL_DMVFN_CITY", mirror.url("cut", "dmvfn_city.pkl"))
    assert resolve_weights("dmvfn-city").read_bytes() == releases["dmvfn_city.pkl"]
    assert mirror.ranges("cut", "dmvfn_city.pkl")[-1].startswith("bytes=")


@pytest.mark.parametrize(
    ("route", "name", "message"),
    [
        ("html", "dmvfn_city.pkl", "web page"),
        ("htmlbytes", "dmvfn_city.pkl", "web page"),
        ("files", "wrong_keys.pkl", "does not load as a model"),
    ],
)
def test_a_bad_answer_leaves_nothing_in_the_cache(
    monkeypatch, mirror, private_framepred_home, route, name, message
) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL_DMVFN_CITY", mirror.url(route, name))
    with pytest.raises(CheckpointError, match=message) as error:
        resolve_weights("dmvfn-city")
    assert "put it at " + str(private_framepred_home / "weights" / "dmvfn_city.pkl") in str(error.value)
    assert cache_files(private_framepred_home) == []
    assert not any((private_framepred_home / "weights" / ".partial").iterdir())


def test_a_changed_cached_file_is_caught_on_the_next_use(monkeypatch, mirror) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files")
    path = resolve_weights("dmvfn-city")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="changed since it was recorded .* weights download dmvfn-city"):
        load_model("dmvfn-city")


def test_a_new_download_must_match_the_sha256_recorded_at_first_download(monkeypatch, mirror) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL_DMVFN_CITY", mirror.url("files", "dmvfn_city.pkl"))
    resolve_weights("dmvfn-city").unlink()
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL_DMVFN_CITY", mirror.url("files", "other.pkl"))
    with pytest.raises(CheckpointError, match="SHA-256 .* expected"):
        resolve_weights("dmvfn-city")
    zoo.download_weights("dmvfn-city", force=True, announce=lambda _: None)  # accepts the new file


def test_a_file_put_there_by_hand_is_checked_and_recorded(releases, private_framepred_home) -> None:
    target = zoo.local_path(zoo.NAMES["dmvfn-kitti"])
    target.parent.mkdir(parents=True)
    target.write_bytes(releases["dmvfn_kitti.pkl"])
    notes: list[str] = []
    assert resolve_weights("dmvfn-kitti", notes.append) == target
    assert "not downloaded by framepred" in notes[0]
    assert zoo.weights_info(zoo.NAMES["dmvfn-kitti"])["sha256"] == sha(releases["dmvfn_kitti.pkl"])


def test_a_wrong_file_put_there_by_hand_is_named(releases) -> None:
    target = zoo.local_path(zoo.NAMES["dmvfn-kitti"])
    target.parent.mkdir(parents=True)
    target.write_bytes(releases["wrong_keys.pkl"])
    with pytest.raises(CheckpointError, match=f"{target}.*does not load.*replace it with the right file"):
        resolve_weights("dmvfn-kitti")


def test_a_url_is_downloaded_once_and_its_sha256_fragment_checked(mirror, releases) -> None:
    url = mirror.url("files", "other.pkl")
    path = resolve_weights(url)
    assert path.name == "other.pkl" and path.read_bytes() == releases["other.pkl"]
    assert resolve_weights(url) == path
    with pytest.raises(CheckpointError, match="expected 0{64}"):
        resolve_weights(mirror.url("files", "dmvfn_kitti.pkl") + "#sha256=" + "0" * 64)


def test_offline_forbids_downloads(monkeypatch, mirror) -> None:
    monkeypatch.setenv("FRAMEPRED_OFFLINE", "1")
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files")
    with pytest.raises(
        WeightsMissingError, match="FRAMEPRED_OFFLINE is set; download dmvfn_city.pkl by hand"
    ):
        resolve_weights("dmvfn-city")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- Google Drive through gdown -----------------------------------------------------------------


class FakeDrive:
    """gdown.download as Drive answers it: each id has a file name and a body (or a failure)."""

    def __init__(self, files: dict[str, tuple[str, bytes | Exception]]) -> None:
        self.files = files
        self.downloads: list[str] = []

    def __call__(self, url=None, output=None, quiet=False, id=None, skip_download=False, **kwargs):
        name, body = self.files[id]
        assert kwargs.get("timeout"), "every Drive call must have a timeout"
        if isinstance(body, Exception) and (not skip_download or name is None):
            raise body
        if skip_download:
            return SimpleNamespace(id=id, path=name, local_path=name)
        self.downloads.append(id)
        path = Path(output) / name
        path.write_bytes(body)
        return str(path)


@pytest.fixture
def drive(monkeypatch, releases):
    gdown = pytest.importorskip("gdown")
    fake = FakeDrive(
        {
            DRIVE_IDS[0]: (
                "dmvfn_kitti.pkl",
                releases["dmvfn_kitti.pkl"],
            ),  # the README's order is not the truth
            DRIVE_IDS[1]: ("dmvfn_city.pkl", releases["dmvfn_city.pkl"]),
            DRIVE_IDS[2]: ("dmvfn_vimeo.pkl", QUOTA_PAGE),  # Drive's quota page instead of the file
        }
    )
    monkeypatch.setattr(gdown, "download", fake)
    return fake


def test_drive_files_are_identified_by_the_name_drive_gives_them(drive, releases) -> None:
    path = resolve_weights("dmvfn-city")
    assert path.read_bytes() == releases["dmvfn_city.pkl"]
    assert drive.downloads == [DRIVE_IDS[1]]
    records = zoo._read_records()
    assert records["dmvfn-city"]["source"] == f"google-drive:{DRIVE_IDS[1]}"


def test_a_drive_quota_page_is_refused(drive, private_framepred_home) -> None:
    with pytest.raises(CheckpointError, match="web page instead of the file.*put it at .*dmvfn_vimeo.pkl"):
        resolve_weights("dmvfn-vimeo")
    assert cache_files(private_framepred_home) == []


def test_a_drive_refusal_is_one_clear_error(drive, monkeypatch) -> None:
    import gdown.exceptions

    drive.files[DRIVE_IDS[0]] = (None, gdown.exceptions.FileURLRetrievalError("Too many users have viewed"))
    with pytest.raises(WeightsMissingError, match="quota exceeded, or access refused: Too many users"):
        resolve_weights("dmvfn-kitti")


def test_no_network_to_drive_is_one_clear_error(drive) -> None:
    import requests

    drive.files[DRIVE_IDS[0]] = (None, requests.exceptions.ConnectionError("Name or service not known"))
    with pytest.raises(WeightsMissingError, match="cannot download from Google Drive .*ConnectionError"):
        resolve_weights("dmvfn-kitti")


def test_without_gdown_the_error_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "gdown", None)
    with pytest.raises(WeightsMissingError, match=r"needs gdown: pip install 'framepred\[weights\]'"):
        resolve_weights("dmvfn-city")


# ---- the default of predict and rollout ---------------------------------------------------------


def test_the_default_is_dmvfn_city_when_it_can_be_downloaded(drive) -> None:
    path, note = default_weights(lambda _: None)
    assert path.name == "dmvfn_city.pkl" and note.startswith("weights: dmvfn-city")


def test_the_default_falls_back_to_the_bundled_model_without_network(monkeypatch) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", f"http://127.0.0.1:{closed_port()}")
    path, note = default_weights(lambda _: None)
    assert path == zoo.local_path(zoo.NAMES["framepred-dmvfn-small"])
    assert note.startswith("weights: framepred-dmvfn-small") and "cannot reach" in note


def test_the_default_without_gdown_says_how_to_get_dmvfn_city(monkeypatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "gdown", None)
    path, note = default_weights(lambda _: None)
    assert path.name == "framepred-dmvfn-small.safetensors" and "pip install 'framepred[weights]'" in note


def test_the_default_uses_a_cached_dmvfn_city(monkeypatch, mirror) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files")
    resolve_weights("dmvfn-city")
    monkeypatch.setenv("FRAMEPRED_OFFLINE", "1")
    path, note = default_weights(lambda _: None)
    assert path.name == "dmvfn_city.pkl" and os.fspath(path) in note


def test_a_home_that_cannot_be_written_is_one_clear_error(monkeypatch, tmp_path) -> None:
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("FRAMEPRED_HOME", str(tmp_path / "a-file" / "home"))
    with pytest.raises(CheckpointError, match="cannot use the weights cache .*set FRAMEPRED_HOME"):
        resolve_weights("dmvfn-city")
