"""What the frame tree's ``manifest.json`` says about scraped videos.

Each scraped sequence gets an entry under ``"sequences"`` keyed ``<split>/<name>``: where it came
from (page URL, title, extractor and id), its duration, its licence when the site states one, and
how it was cut (fps, frame count, first frame). The manifest is rewritten after every video
(``framepred.data.manifest.update_manifest``, the one writer), so a run that is stopped keeps the
record of everything it finished; a task of a sharded run keeps them in its shard record instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framepred.data.manifest import Contribution, SplitSource

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


def split_source(options: ScrapeOptions) -> SplitSource:
    """The record of the split scraped videos go to: what changes their frames."""
    size = list(options.size) if options.size else None
    return SplitSource(
        SOURCE, {"fps": options.fps, "frames": options.frames, "chunk": options.chunk, "size": size}
    )


def video_contribution(
    options: ScrapeOptions,
    info: Mapping[str, Any],
    sequences: list[str],
    frame_counts: list[int],
    duration: float | None,
    source_fps: float,
) -> Contribution:
    """What one finished video adds to ``OUT/manifest.json``: its split and its sequences' entries."""
    records = sequence_records(options, info, sequences, duration, source_fps)
    for record, count in zip(records.values(), frame_counts, strict=True):
        record["frames"] = count
    return Contribution({options.split: split_source(options)}, {"sequences": records})
