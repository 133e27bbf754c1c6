"""framepred.io.scrape against a real HTTP server on 127.0.0.1 serving real video files.

Nothing here leaves the machine: the search path is checked through the query it builds.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from framepred.io.scrape import ScrapeOptions, build_sources, parse_bytes, scrape, search_url
from framepred.io.scrape.manifest import sequence_records
from framepred.io.scrape.names import archive_key, sequence_name
from framepred.io.scrape.ytdlp import error_message
from tests.io.scrape_server import VIDEOS, WALK_FRAMES, WALK_SECONDS, serve

pytest.importorskip("yt_dlp")

# Fast and quiet settings for a local server: no pauses, tiny back-off, small frames.
FAST = {"sleep": 0, "backoff": 0.01, "retries": 1, "timeout": 5, "size": (32, 24)}


@pytest.fixture
def site(shared_data: Path):
    for rel in VIDEOS.values():
        if not (shared_data / rel).exists():
            pytest.skip(f"{shared_data / rel} not found")
    with serve(shared_data) as running:
        yield running


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_direct_link_becomes_a_sequence_with_manifest_and_archive(site, tmp_path):
    out = tmp_path / "tree"
    url = site.url("/v/walk.mkv")
    (result,) = scrape([url], out=out, **FAST)

    assert result.status == "ok", result.reason
    assert result.frames == WALK_FRAMES
    assert result.duration == pytest.approx(WALK_SECONDS, abs=0.05)
    (sequence,) = FrameTree(out).sequences("train")
    assert Path(result.sequences[0]) == sequence.path
    assert len(sequence) == WALK_FRAMES
    assert sequence.read(0).shape == (24, 32, 3)
    # The name is framepred's (extractor, id, hash of the address), not the server's file name.
    assert sequence.name == result.name and sequence.name.startswith("generic-walk-")

    data = manifest(out)
    entry = data["sequences"][f"train/{sequence.name}"]
    assert entry["url"] == url and entry["title"] == "walk" and entry["frames"] == WALK_FRAMES
    assert entry["duration"] == pytest.approx(WALK_SECONDS, abs=0.05)
    assert "license" in entry
    options = {"fps": None, "frames": None, "chunk": False, "size": [32, 24]}
    assert data["splits"] == {
        "train": {"sequences": 1, "frames": WALK_FRAMES, "source": "scrape", "options": options}
    }
    assert data["frame_size"] == [32, 24]
    assert (out / "scrape_archive.txt").read_text().startswith("generic walk-")
    # The temp download folder is gone.
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_leftovers_of_a_killed_run_are_removed(site, tmp_path):
    dead = tmp_path / ".scrape-999999999-abc"  # no such pid
    (dead / "video.mkv.part").parent.mkdir(parents=True)
    (dead / "video.mkv.part").write_bytes(b"half")
    alive = tmp_path / f".scrape-{os.getpid()}-abc"
    alive.mkdir()
    scrape([site.url("/v/walk.mkv")], out=tmp_path, frames=2, **FAST)
    assert not dead.exists() and alive.exists()


def test_html_page_embedding_a_video(site, tmp_path):
    (result,) = scrape([site.url("/page.html")], out=tmp_path, frames=5, **FAST)
    assert result.status == "ok", result.reason
    assert result.title.startswith("Walk page")
    assert result.frames == 5
    assert site.hits("/v/walk.mkv") >= 1


def test_fps_resamples_and_frames_keeps_the_first_k(site, tmp_path):
    url = site.url("/v/walk.mkv")
    (all_at_10,) = scrape([url], out=tmp_path / "a", fps=10, **FAST)
    assert all_at_10.status == "ok"
    assert all_at_10.frames == pytest.approx(WALK_SECONDS * 10, abs=1)  # 30 fps -> 10 fps

    (first,) = scrape([url], out=tmp_path / "b", fps=10, frames=12, **FAST)
    assert first.frames == 12
    entry = next(iter(manifest(tmp_path / "b")["sequences"].values()))
    assert entry["fps"] == 10 and entry["frames"] == 12 and entry["size"] == [32, 24]
    # The first 12 frames at 10 fps are the same pictures whichever way they were cut.
    a, b = FrameTree(tmp_path / "a").sequences()[0], FrameTree(tmp_path / "b").sequences()[0]
    assert (a.read(11) == b.read(11)).all()


def test_a_video_shorter_than_frames_is_skipped(site, tmp_path):
    (result,) = scrape([site.url("/v/walk.mkv")], out=tmp_path, frames=WALK_FRAMES + 1, **FAST)
    assert result.status == "skipped" and "fewer than --frames" in result.reason
    assert not (tmp_path / "train").exists() or FrameTree(tmp_path).sequences() == []


def test_chunk_cuts_k_frame_sequences(site, tmp_path):
    (result,) = scrape([site.url("/v/walk.mkv")], out=tmp_path, frames=20, chunk=True, **FAST)
    assert result.status == "ok"
    sequences = FrameTree(tmp_path).sequences("train")
    assert [len(s) for s in sequences] == [20, 20, 20, 20]  # 89 frames: the last 9 are dropped
    assert [s.name for s in sequences] == [f"{result.name}-{i:04d}" for i in range(4)]
    entries = manifest(tmp_path)["sequences"]
    assert [entries[f"train/{s.name}"]["first_frame"] for s in sequences] == [0, 20, 40, 60]
    assert result.frames == 80


def test_duration_filter_uses_metadata_before_downloading(site, tmp_path):
    (result,) = scrape([site.url("/long.html")], out=tmp_path, max_duration=5, **FAST)
    assert result.status == "skipped" and "longer than --max-duration" in result.reason
    assert result.duration == 14
    assert site.hits("/v/cockatoo.mp4") == 0  # never downloaded


def test_duration_filter_falls_back_to_the_file(site, tmp_path):
    # A direct link states no duration, so the bound is checked on the downloaded file.
    (result,) = scrape([site.url("/v/walk.mkv")], out=tmp_path, min_duration=5, **FAST)
    assert result.status == "skipped" and "shorter than --min-duration" in result.reason
    assert not (tmp_path / "train").exists() or FrameTree(tmp_path).sequences() == []
    (kept,) = scrape([site.url("/v/walk.mkv")], out=tmp_path, min_duration=1, max_duration=5, **FAST)
    assert kept.status == "ok"


def test_second_run_skips_what_the_archive_has(site, tmp_path):
    out, archive = tmp_path / "tree", tmp_path / "seen.txt"
    urls = [site.url("/v/walk.mkv"), site.url("/page.html")]
    first = scrape(urls, out=out, archive=archive, frames=3, **FAST)
    assert [r.status for r in first] == ["ok", "ok"]
    assert len(archive.read_text().splitlines()) == 2
    downloads = site.hits("/v/walk.mkv")

    second = scrape(urls, out=out, archive=archive, frames=3, **FAST)
    assert [r.status for r in second] == ["skipped", "skipped"]
    assert all("archive" in r.reason for r in second)
    # The page's video was not fetched again (the direct link is only opened to read its metadata).
    assert site.hits("/v/walk.mkv") <= downloads + 1
    assert len(FrameTree(out).sequences()) == 2


def test_failures_are_reported_and_do_not_stop_the_others(site, tmp_path):
    urls = [site.url(p) for p in ("/missing.mp4", "/notes.txt", "/fake.mp4", "/v/walk.mkv")]
    results = scrape(urls, out=tmp_path, frames=3, **FAST)
    assert [r.status for r in results] == ["failed", "failed", "failed", "ok"]
    assert "404" in results[0].reason
    assert "not a video" in results[1].reason and "not a video" in results[2].reason
    assert [s.name for s in FrameTree(tmp_path).sequences()] == [results[3].name]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_local_files_point_to_prepare_videos(tmp_path):
    # yt-dlp's own advice, "Use --enable-file-urls", names an option framepred does not have.
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not fetched")
    results = scrape([video.as_uri(), str(video)], out=tmp_path / "out", **FAST)
    assert [r.status for r in results] == ["failed", "failed"]
    for result in results:
        assert "framepred prepare videos" in result.reason and "enable-file-urls" not in result.reason


def test_stalled_server_times_out_after_retries(site, tmp_path):
    start = time.monotonic()
    (result,) = scrape([site.url("/stall")], out=tmp_path, **{**FAST, "timeout": 0.3, "retries": 1})
    assert result.status == "failed"
    assert "timed out" in result.reason.lower()
    assert site.hits("/stall") == 2  # first try + one retry
    assert time.monotonic() - start < 10


def test_download_that_stalls_mid_file_times_out(site, tmp_path):
    start = time.monotonic()
    (result,) = scrape([site.url("/slowbody/walk.mkv")], out=tmp_path, **{**FAST, "timeout": 0.3})
    assert result.status == "failed" and "timed out" in result.reason
    assert site.hits("/slowbody/walk.mkv") == 3  # metadata, download, one retry of the download
    assert time.monotonic() - start < 10
    assert not (tmp_path / "train").exists() or FrameTree(tmp_path).sequences() == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_server_error_is_retried_with_back_off(site, tmp_path):
    (result,) = scrape([site.url("/flaky/walk.mkv")], out=tmp_path, frames=3, **FAST)
    assert result.status == "ok", result.reason
    assert site.hits("/flaky/walk.mkv") >= 2


def test_without_retries_a_server_error_is_final(site, tmp_path):
    (result,) = scrape([site.url("/flaky/walk.mkv")], out=tmp_path, **{**FAST, "retries": 0})
    assert result.status == "failed" and "503" in result.reason
    assert site.hits("/flaky/walk.mkv") == 1


@pytest.mark.parametrize("path", ["/v/walk.mkv", "/nolength/walk.mkv"])
def test_size_cap_stops_large_downloads(site, tmp_path, path):
    (result,) = scrape([site.url(path)], out=tmp_path, max_filesize=20_000, **FAST)
    assert result.status == "skipped" and "max-filesize" in result.reason
    assert not (tmp_path / "train").exists() or FrameTree(tmp_path).sequences() == []


def test_max_videos_stops_early(site, tmp_path):
    urls = [site.url("/v/walk.mkv"), site.url("/page.html"), site.url("/flaky/walk.mkv")]
    results = scrape(urls, out=tmp_path, max_videos=1, frames=2, **FAST)
    assert [r.status for r in results] == ["ok"]
    assert site.hits("/page.html") == 0


def test_sleep_spaces_out_the_videos(site, tmp_path):
    urls = [site.url("/v/walk.mkv"), site.url("/long.html")]
    results = scrape(urls, out=tmp_path, frames=2, max_duration=5, **{**FAST, "sleep": 0.5})
    assert [r.status for r in results] == ["ok", "skipped"]
    last_of_first = max(t for p, t in zip(site.requests, site.times, strict=True) if p == "/v/walk.mkv")
    first_of_second = min(t for p, t in zip(site.requests, site.times, strict=True) if p == "/long.html")
    assert first_of_second - last_of_first >= 0.5


def test_a_broken_manifest_stops_the_run_before_downloading(site, tmp_path):
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(DataError, match="manifest.json"):
        scrape([site.url("/v/walk.mkv")], out=tmp_path, **FAST)
    assert site.requests == []


def test_existing_manifest_is_merged_not_replaced(site, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"source": "videos", "note": "keep me"}))
    scrape([site.url("/v/walk.mkv")], out=tmp_path, frames=2, **FAST)
    data = manifest(tmp_path)
    # The tree had no split yet: its only split is the scraped one.
    assert data["note"] == "keep me" and data["source"] == "scrape"
    assert len(data["sequences"]) == 1 and data["sequence_count"] == 1


# -- pure parts: no server needed ---------------------------------------------------------------------


def test_search_builds_the_ytsearch_query():
    assert search_url("close-up  basketball highlights ", 30) == "ytsearch30:close-up basketball highlights"
    assert search_url("dunk", 5, site="youtube-date") == "ytsearchdate5:dunk"
    sources, cap = build_sources(["http://a/b.mp4"], "basketball", 4)
    assert sources == ["http://a/b.mp4", "ytsearch12:basketball"] and cap == 4  # 3x oversampling
    assert build_sources([], "basketball", None) == (["ytsearch30:basketball"], 10)
    with pytest.raises(UsageError):
        search_url("   ", 3)
    with pytest.raises(UsageError):
        build_sources([" "], None, None)


def test_options_are_checked_before_any_download(tmp_path):
    with pytest.raises(UsageError, match="--frames"):
        scrape(["http://127.0.0.1:9/x.mp4"], out=tmp_path, chunk=True)
    with pytest.raises(UsageError, match="--min-duration"):
        scrape(["http://127.0.0.1:9/x.mp4"], out=tmp_path, min_duration=10, max_duration=5)
    with pytest.raises(UsageError, match="--split"):
        ScrapeOptions(out=tmp_path, split="../up")
    with pytest.raises(UsageError):
        scrape(["http://127.0.0.1:9/x.mp4"], out=tmp_path, max_videos=0)
    assert not any(tmp_path.iterdir())
    assert parse_bytes("500M") == 500 * 1024**2
    assert parse_bytes("20k") == 20 * 1024 and parse_bytes("77") == 77
    with pytest.raises(UsageError):
        parse_bytes("lots")


def test_output_that_is_a_file_says_so(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("precious")
    # Used to say "(File exists) ... free space or choose another -o".
    with pytest.raises(DataError, match="taken: is a file, not a folder; choose another -o"):
        scrape(["http://127.0.0.1:9/x.mp4"], out=taken, **FAST)
    assert taken.read_text() == "precious"


def test_names_never_come_from_the_server_as_they_are():
    hostile = {"extractor_key": "Generic", "id": "../../etc/passwd", "webpage_url": "http://x/y"}
    name = sequence_name(hostile)
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-") and not name.startswith("-")
    clean = {"extractor_key": "Youtube", "id": "dQw4w9WgXcQ"}
    assert sequence_name(clean).startswith("youtube-dqw4w9wgxcq-")  # case folded, so hashed
    assert sequence_name({"extractor_key": "Youtube", "id": "abc_123"}) == "youtube-abc_123"
    assert archive_key(clean) == "youtube dQw4w9WgXcQ"  # yt-dlp's archive format
    # The same file name on two sites: different sequences and archive keys.
    a = {"extractor_key": "Generic", "id": "clip", "webpage_url": "http://one/clip.mp4"}
    b = {"extractor_key": "Generic", "id": "clip", "webpage_url": "http://two/clip.mp4"}
    assert sequence_name(a) != sequence_name(b) and archive_key(a) != archive_key(b)
    assert archive_key({"url": "http://x"}) is None


def test_manifest_records_carry_source_and_licence(tmp_path):
    options = ScrapeOptions(out=tmp_path, fps=8, frames=32, chunk=True, size=(64, 64))
    info = {
        "webpage_url": "https://www.youtube.com/watch?v=abc",
        "title": "Dunk",
        "extractor_key": "Youtube",
        "id": "abc",
        "license": "Creative Commons Attribution license (reuse allowed)",
    }
    records = sequence_records(options, info, ["youtube-abc-0000", "youtube-abc-0001"], 9.5, 30.0)
    first, second = records["train/youtube-abc-0000"], records["train/youtube-abc-0001"]
    assert first["license"].startswith("Creative Commons") and first["url"].endswith("v=abc")
    assert first["duration"] == 9.5 and first["fps"] == 8 and first["size"] == [64, 64]
    assert (first["first_frame"], second["first_frame"]) == (0, 32)


def test_error_message_is_one_clean_line():
    raw = "ERROR: [generic] x: Unable to download webpage: HTTP Error 404 (caused by <HTTPError 404>)"
    assert error_message(Exception(raw)) == "[generic] x: Unable to download webpage: HTTP Error 404"
    expected = "[download] Got error: timed out. Giving up after 1 retries"
    assert error_message(Exception("ERROR: \r" + expected)) == expected


def test_missing_yt_dlp_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yt_dlp", None)  # makes `import yt_dlp` fail as if not installed
    with pytest.raises(UsageError, match=r'pip install "framepred\[scrape\]"'):
        scrape(["http://127.0.0.1:9/x.mp4"], out=tmp_path)


# -- sharded runs (--shard K/N, then `prepare merge`) ---------------------------------------------------


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


SHARD_PATHS = ["/v/walk.mkv", "/page.html", "/missing.mp4", "/v/cockatoo.mp4", "/nolength/walk.mkv",
               "/notes.txt", "/long.html"]  # fmt: skip


@pytest.mark.parametrize("count", [1, 3, 7])
def test_tasks_one_after_another_then_merged_equal_one_run(site, tmp_path, count):
    from framepred.data.shard_records import merge_tree
    from framepred.data.sharding import Shard

    urls = [site.url(path) for path in SHARD_PATHS]
    whole = scrape(urls, out=tmp_path / "whole", frames=3, **FAST)
    assert [r.status for r in whole] == ["ok", "ok", "failed", "ok", "ok", "failed", "ok"]
    out = tmp_path / "sharded"
    results = []
    for index in range(count):
        results += scrape(urls, out=out, frames=3, shard=Shard(index, count), **FAST)
        assert not (out / "manifest.json").exists() and not (out / "scrape_archive.txt").exists()
    assert sorted(r.url for r in results) == sorted(urls)  # every URL went to exactly one task
    merge_tree(out)
    # Frames, manifest (entries in tree order) and archive (keys in URL order) as one run wrote them.
    assert _tree_bytes(out) == _tree_bytes(tmp_path / "whole")


def test_sharded_scrape_refuses_what_it_cannot_split_and_merge_waits_for_every_task(site, tmp_path):
    from framepred.data.shard_records import merge_tree
    from framepred.data.sharding import Shard

    with pytest.raises(UsageError, match="a search can answer each task differently"):
        scrape(search="dunk", out=tmp_path, shard=Shard(0, 2), **FAST)
    with pytest.raises(UsageError, match="--max-videos counts across the whole run"):
        scrape(["https://example.org/a.mp4"], max_videos=2, out=tmp_path, shard=Shard(0, 2), **FAST)
    urls = [site.url("/v/walk.mkv"), site.url("/page.html")]
    scrape(urls, out=tmp_path, frames=2, shard=Shard(1, 2), **FAST)
    with pytest.raises(DataError, match=r"1 of 2 tasks of `scrape` have not finished \(--shard 0/2\)"):
        merge_tree(tmp_path)
    (first,) = scrape(urls, out=tmp_path, frames=2, shard=Shard(0, 2), **FAST)
    again = scrape(urls, out=tmp_path, frames=2, shard=Shard(0, 2), **FAST)  # a rerun resumes
    assert first.status == "ok" and again[0].status == "skipped"
    merge_tree(tmp_path)
    assert len((tmp_path / "scrape_archive.txt").read_text().splitlines()) == 2
    assert len(manifest(tmp_path)["sequences"]) == 2
    # The split was scraped with --frames 2: another --frames is refused for it, as for prepare.
    with pytest.raises(UsageError, match="train: was prepared with .*'scrape'"):
        scrape([site.url("/nolength/walk.mkv")], out=tmp_path, frames=4, **FAST)
