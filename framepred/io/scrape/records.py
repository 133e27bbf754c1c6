"""Where a scrape run records each finished video: the tree's manifest and archive, or a shard record.

A whole run rewrites ``OUT/manifest.json`` and appends to the download archive after every video.
Task K of N of a sharded run (``--shard K/N``) must not: the tasks would race on those two files (and
appending from several machines to one file on a network file system can interleave lines). It keeps
its videos' manifest entries and archive keys in its own shard record, rewritten after every video;
``framepred prepare merge OUT`` adds them in URL order, as one run would have written them.
"""

from __future__ import annotations

from pathlib import Path

from framepred.data.manifest import Contribution, check_splits, combine, record_splits, update_manifest
from framepred.data.shard_records import ShardRecord, read_record, run_name, write_record
from framepred.data.sharding import Shard

from .archive import DownloadArchive
from .manifest import split_source
from .options import ScrapeOptions


class Recorder:
    """Records of a whole run: manifest and archive, updated after each video."""

    def __init__(self, options: ScrapeOptions) -> None:
        self.options = options
        self.archive = DownloadArchive(options.archive_path)
        self._split_recorded = False
        check_splits(options.out, {options.split: split_source(options)})

    def has(self, key: str) -> bool:
        return key in self.archive

    def before_writing(self) -> None:
        """Called before a video's frames are written: the split records how it is made."""
        if not self._split_recorded:
            record_splits(self.options.out, {self.options.split: split_source(self.options)})
            self._split_recorded = True

    def video_done(self, position: int, contribution: Contribution, key: str | None) -> None:
        update_manifest(self.options.out, contribution)
        if key is not None:
            self.archive.add(key)

    def finish(self) -> None:
        """Called when every source was tried (not when the run was interrupted)."""


class TaskRecorder(Recorder):
    """Records of task ``shard`` of a sharded run: one shard record, rewritten after each video."""

    def __init__(self, options: ScrapeOptions, shard: Shard, agreed: dict) -> None:
        super().__init__(options)
        out = Path(options.out)
        run = run_name("scrape", agreed)
        earlier = read_record(out, run, shard)  # this task ran before and was stopped: keep its videos
        self.record = earlier or ShardRecord(
            run, "scrape", shard, Contribution({}), archive=str(options.archive_path)
        )
        self.record.finished = False
        self._keys = {key for _, key in self.record.archive_keys}

    def has(self, key: str) -> bool:
        return key in self.archive or key in self._keys

    def video_done(self, position: int, contribution: Contribution, key: str | None) -> None:
        parts = (
            [self.record.contribution, contribution] if self.record.contribution.splits else [contribution]
        )
        self.record.contribution = combine(parts)
        self.record.sequences += list(contribution.entries["sequences"])
        if key is not None:
            self.record.archive_keys.append((position, key))
            self._keys.add(key)
        write_record(Path(self.options.out), self.record)

    def finish(self) -> None:
        self.record.finished = True
        write_record(Path(self.options.out), self.record)
