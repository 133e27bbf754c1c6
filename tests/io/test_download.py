"""The real HTTP download code against a local server: resume, cuts, web pages, sizes, SHA-256, timeouts."""

from __future__ import annotations

import hashlib
import json
import socket
import time

import numpy as np
import pytest

from framepred.errors import CheckpointError, WeightsMissingError
from framepred.io.download import http_download
from tests.io.weights_server import weights_server

PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(scope="module")
def server():
    with weights_server({"w.bin": PAYLOAD}) as site:
        yield site


def fetch(url: str, part, **kwargs) -> str:
    return http_download(url, part, what="w.bin", fix="put it at /x/w.bin", timeout=5, **kwargs)


def test_plain_download_returns_the_sha256_and_leaves_no_side_files(server, tmp_path) -> None:
    part = tmp_path / "w.bin.part"
    seen = []
    assert (
        fetch(server.url("files", "w.bin"), part, progress=lambda done, total: seen.append((done, total)))
        == SHA
    )
    assert part.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bin.part"]
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_a_cut_connection_is_resumed_with_a_range_request(server, tmp_path) -> None:
    part = tmp_path / "w.bin.part"
    assert fetch(server.url("cut", "w.bin"), part) == SHA
    ranges = server.ranges("cut", "w.bin")
    assert ranges[0] is None and ranges[1] == f"bytes={len(PAYLOAD) // 2}-"
    assert part.read_bytes() == PAYLOAD


def test_an_interrupted_run_resumes_from_the_kept_partial_file(server, tmp_path) -> None:
    url = server.url("files", "w.bin")
    part = tmp_path / "w.bin.part"
    part.write_bytes(PAYLOAD[:1000])
    (tmp_path / "w.bin.part.json").write_text(json.dumps({"url": url}))
    assert fetch(url, part) == SHA
    assert server.ranges("files", "w.bin")[-1] == "bytes=1000-"


def test_a_partial_file_of_another_url_is_not_resumed(server, tmp_path) -> None:
    url = server.url("files", "w.bin")
    part = tmp_path / "w.bin.part"
    part.write_bytes(b"junk" * 100)
    (tmp_path / "w.bin.part.json").write_text(json.dumps({"url": "http://elsewhere/w.bin"}))
    assert fetch(url, part) == SHA


def test_a_server_that_ignores_ranges_restarts_from_zero(server, tmp_path) -> None:
    url = server.url("norange", "w.bin")
    part = tmp_path / "w.bin.part"
    part.write_bytes(PAYLOAD[:1000])
    (tmp_path / "w.bin.part.json").write_text(json.dumps({"url": url}))
    assert fetch(url, part) == SHA
    assert part.stat().st_size == len(PAYLOAD)


def test_a_download_that_keeps_being_cut_fails_and_keeps_the_bytes_for_next_time(server, tmp_path) -> None:
    part = tmp_path / "w.bin.part"
    with pytest.raises(WeightsMissingError, match="was cut .* resumes from there; or put it at /x/w.bin"):
        fetch(server.url("short", "w.bin"), part, retries=2)
    assert 0 < part.stat().st_size < len(PAYLOAD)


@pytest.mark.parametrize("route", ["html", "htmlbytes"])
def test_a_web_page_instead_of_the_file_is_refused_and_nothing_kept(server, tmp_path, route) -> None:
    part = tmp_path / "w.bin.part"
    with pytest.raises(CheckpointError, match="web page.*nothing was kept; put it at /x/w.bin"):
        fetch(server.url(route, "w.bin"), part)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_sha256_is_refused_and_nothing_kept(server, tmp_path) -> None:
    part = tmp_path / "w.bin.part"
    with pytest.raises(CheckpointError, match=f"has SHA-256 {SHA}, expected 0{{64}}; nothing was kept"):
        fetch(server.url("files", "w.bin"), part, expected_sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_is_one_error_with_the_status(server, tmp_path) -> None:
    with pytest.raises(WeightsMissingError, match="answered HTTP 404"):
        fetch(server.url("files", "nope.bin"), tmp_path / "x.part")


def test_no_server_fails_at_once(tmp_path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(WeightsMissingError, match="cannot reach"):
        fetch(f"http://127.0.0.1:{port}/w.bin", tmp_path / "w.part")
    assert time.monotonic() - start < 3


def test_a_server_that_never_answers_times_out(server, tmp_path) -> None:
    start = time.monotonic()
    with pytest.raises(WeightsMissingError, match="cannot reach"):
        http_download(server.url("stall", "w.bin"), tmp_path / "w.part", what="w", fix="f", timeout=0.5)
    assert time.monotonic() - start < 5


def test_the_timeout_comes_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FRAMEPRED_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(WeightsMissingError, match="FRAMEPRED_DOWNLOAD_TIMEOUT='soon'"):
        http_download("http://127.0.0.1:9/w", tmp_path / "w.part", what="w", fix="f")
