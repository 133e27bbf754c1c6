"""What the frame tree's ``manifest.json`` says about scraped videos.

Each scraped sequence gets an entry under ``"sequences"`` keyed ``<split>/<name>``: where it came
from (page URL, title, extractor and id), its duration, its licence when the site states one, and
how it was cut (fps, frame count, first frame). Entries are merged in one video at a time, so a
run that is stopped keeps the record of everything it finished; the tree summary (splits, counts,
frame size) is refreshed once at the end of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .options import ScrapeOptions

SOURCE = "scrape"


def sequence_records(
    options: ScrapeOptions,
    info: Mapping[str, Any],
    sequences: list[str],
    duration: float | None,
    source_fps: float,
) -> dict[str, dict[str, Any]]:
    """Manifest entries for the sequences cut from one video (pure; tested directly)."""
    frames_each = options.frames
    records = {}
    for index, name in enumerate(sequences):
        records[f"{options.split}/{name}"] = {
            "url": info.get("webpage_url") or info.get("original_url") or info.get("url"),
            "title": info.get("title"),
            "extractor": info.get("extractor_key") or info.get("extractor"),
            "id": info.get("id"),
            "duration": duration,
            "license": info.get("license"),
            "uploader": info.get("uploader"),
            "fps": options.fps or (source_fps or None),
            "size": list(options.size) if options.size else None,
            # Where the sequence starts in the extracted frames (non-zero only for --chunk pieces).
            "first_frame": index * frames_each if options.chunk and frames_each else 0,
        }
    return records


def record_video(
    options: ScrapeOptions,
    info: Mapping[str, Any],
    sequences: list[str],
    frame_counts: list[int],
    duration: float | None,
    source_fps: float,
) -> None:
    """Merge one video's entries into ``OUT/manifest.json`` (atomic rewrite)."""
    from framepred.data.tree import read_manifest, write_manifest

    records = sequence_records(options, info, sequences, duration, source_fps)
    for record, count in zip(records.values(), frame_counts, strict=True):
        record["frames"] = count
    manifest = read_manifest(options.out)
    manifest.setdefault("source", SOURCE)
    manifest.setdefault("sequences", {}).update(records)
    write_manifest(options.out, manifest)


def refresh_summary(options: ScrapeOptions) -> None:
    """Recount splits, sequences and frame size from disk, keeping every other manifest entry."""
    from framepred.data.tree import read_manifest, summarise_tree, write_manifest

    manifest = read_manifest(options.out)
    summary = summarise_tree(options.out, source=manifest.get("source", SOURCE))
    # Summary first (what a reader looks at), then everything else the manifest already held.
    write_manifest(options.out, {**summary, **{k: v for k, v in manifest.items() if k not in summary}})
