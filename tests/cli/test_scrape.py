"""`framepred scrape` end to end through the typer app, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import FrameTree
from tests.io.scrape_server import VIDEOS, serve

pytest.importorskip("yt_dlp")

FAST = ["--sleep", "0", "--retries", "0", "--timeout", "5", "--size", "32x24", "--frames", "3"]


@pytest.fixture
def site(shared_data: Path):
    for rel in VIDEOS.values():
        if not (shared_data / rel).exists():
            pytest.skip(f"{shared_data / rel} not found")
    with serve(shared_data) as running:
        yield running


def run(args: list[str], stdin: str | None = None):
    return CliRunner().invoke(app, ["scrape", *args], input=stdin)


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_all_ok_exits_0_with_one_json_object_per_video(site, tmp_path):
    urls = [site.url("/v/walk.mkv"), site.url("/page.html")]
    result = run([*urls, "-o", str(tmp_path), "--json", *FAST])
    assert result.exit_code == 0, result.output
    objects = json_lines(result.stdout)
    assert [o["status"] for o in objects] == ["ok", "ok"]
    assert [o["url"] for o in objects] == urls
    assert all(o["frames"] == 3 for o in objects)
    assert [Path(o["sequences"][0]) for o in objects] == [s.path for s in FrameTree(tmp_path).sequences()]
    assert "2 ok" in result.stderr and "0 failed" in result.stderr


def test_a_failed_url_exits_1_and_is_in_the_summary(site, tmp_path):
    missing = site.url("/missing.mp4")
    result = run([missing, site.url("/v/walk.mkv"), "-o", str(tmp_path), *FAST])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert missing in result.stderr and "[generic]" in result.stderr and "404" in result.stderr
    assert "1 ok" in result.stderr and "1 failed" in result.stderr
    assert len(FrameTree(tmp_path).sequences()) == 1


def test_urls_from_stdin_and_from_a_file(site, tmp_path):
    stdin = f"# a comment\n{site.url('/v/walk.mkv')}\n\n"
    result = run(["-", "-o", str(tmp_path / "a"), "--json", *FAST], stdin=stdin)
    assert result.exit_code == 0, result.output
    assert [o["status"] for o in json_lines(result.stdout)] == ["ok"]

    listing = tmp_path / "urls.txt"
    listing.write_text(site.url("/page.html") + "\n")
    result = run(["--from-file", str(listing), "-o", str(tmp_path / "b"), "--json", *FAST])
    assert result.exit_code == 0, result.output
    assert [o["status"] for o in json_lines(result.stdout)] == ["ok"]


def test_second_run_skips_via_the_archive_and_exits_0(site, tmp_path):
    args = [site.url("/v/walk.mkv"), "-o", str(tmp_path), "--json", *FAST]
    assert run(args).exit_code == 0
    result = run(args)
    assert result.exit_code == 0
    (obj,) = json_lines(result.stdout)
    assert obj["status"] == "skipped" and "archive" in obj["reason"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to scrape"),
        (["http://127.0.0.1:9/x.mp4", "--chunk"], "--frames"),
        (["http://127.0.0.1:9/x.mp4", "--size", "big"], "WIDTHxHEIGHT"),
        (["http://127.0.0.1:9/x.mp4", "--max-filesize", "lots"], "size"),
        (["--from-file", "/nonexistent/urls.txt"], "cannot read the URL list"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path, args, message):
    result = run([*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
