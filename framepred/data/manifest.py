"""What a frame tree records about how it was made: each split's source and options, and manifest.json.

A tree may gather splits from several commands (``prepare videos`` into ``train``, then ``prepare
frames`` into ``val``, then ``scrape`` into ``extra``). Each split belongs to one source with one set
of options: a later run into the same split with other options is refused (it would mix two kinds of
frames), a run into another split is not.

Two records, both written only here:

* ``<split>/.framepred-prepare.json`` (hidden: readers skip it) holds the split's source and options
  from the moment a run starts writing into it, so an interrupted run cannot be resumed with others;
* ``manifest.json`` is written last, when a run is complete: per split its counts, source, options
  and details (inputs ...), plus the tree-wide fields (frame size, evaluation protocol, per-sequence
  origins). It is rebuilt from what is on disk and from the records of the earlier runs, in an order
  that depends on neither the order nor the number of tasks that wrote the sequences, so a sharded
  run merged afterwards gives the same bytes as one run.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framepred.data.tree import FORMAT_NAME, MANIFEST_NAME, FrameTree, read_manifest, write_manifest
from framepred.errors import DataError, UsageError
from framepred.io.atomic import temporary_sibling, write_text_atomic
from framepred.io.paths import is_hidden

STATE_NAME = ".framepred-prepare.json"

# Per-sequence maps, keyed "<split>/<sequence>": where each came from (prepare <data set>), what each
# scraped video was (scrape). Entries of sequences no longer on disk are dropped.
ENTRY_MAPS = ("origins", "sequences")
# Fields of manifests written before splits recorded their own source; now inside each split.
_LEGACY_KEYS = ("resize", "inputs", "synthetic")
MIXED = "mixed"
TRAINING_CLIPS = "training_clips"  # framepred.data.training_clips.MANIFEST_KEY


def _plain(value: Any) -> Any:
    """``value`` as it comes back from JSON (tuples become lists), so records compare equal."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class SplitSource:
    """How one split is made: the command (``source``), the options that change its frames, and
    ``details`` recorded beside them (inputs ...) that a rerun may change."""

    source: str
    options: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """What must match for a run to add to a split: the source and its options."""
        return _plain({"source": self.source, **self.options})

    def to_json(self) -> dict[str, Any]:
        return _plain({"source": self.source, "options": self.options, "details": self.details})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SplitSource:
        return cls(data["source"], data.get("options", {}), data.get("details", {}))


@dataclass
class Contribution:
    """What one run adds to a tree's manifest: the splits it writes, per-sequence entries
    (maps keyed ``<split>/<sequence>``: ``origins``, scraped ``sequences`` ...), a protocol and, for
    a run that writes the ``train`` split, its ``training_clips`` rule (``framepred.data.training_clips``)."""

    splits: dict[str, SplitSource]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    protocol: dict[str, Any] | None = None
    training_clips: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return _plain(
            {
                "splits": {name: split.to_json() for name, split in self.splits.items()},
                "entries": self.entries,
                "protocol": self.protocol,
                "training_clips": self.training_clips,
            }
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contribution:
        splits = {name: SplitSource.from_json(split) for name, split in data["splits"].items()}
        return cls(splits, data.get("entries", {}), data.get("protocol"), data.get("training_clips"))

    def only(self, keys: set[str]) -> Contribution:
        """The same splits and protocol, with the per-sequence entries of ``keys`` only."""
        entries = {name: {k: v for k, v in m.items() if k in keys} for name, m in self.entries.items()}
        return Contribution(self.splits, entries, self.protocol, self.training_clips)


def combine(parts: list[Contribution]) -> Contribution:
    """One contribution from those of the tasks of one sharded run (same splits, entries joined).

    A task that wrote nothing (a scrape task whose videos all failed) contributes nothing.
    """
    parts = [part for part in parts if part.splits]
    if not parts:
        return Contribution({})
    first = parts[0]
    for part in parts[1:]:
        if {k: v for k, v in part.to_json().items() if k != "entries"} != {
            k: v for k, v in first.to_json().items() if k != "entries"
        }:
            raise DataError("the tasks of one sharded run recorded different options; run them again")
    entries: dict[str, dict[str, Any]] = {}
    for part in parts:
        for name, values in part.entries.items():
            entries.setdefault(name, {}).update(values)
    return Contribution(dict(first.splits), entries, first.protocol, first.training_clips)


# ----------------------------------------------------------------------------------------------------
# The per-split options: checked before a run writes anything, recorded as it starts


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"{path}: unreadable ({error}); delete it to start the output afresh") from error
    if not isinstance(value, dict):
        raise DataError(f"{path}: not a JSON object; delete it to start the output afresh")
    return value


def _has_sequences(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_dir() and not is_hidden(p) for p in folder.iterdir())


def recorded_identity(out: Path, split: str) -> dict[str, Any] | None:
    """The source and options ``out/<split>`` was made with, or None when nothing says."""
    state = out / split / STATE_NAME
    if state.is_file():
        return _read_json(state)
    legacy = out / STATE_NAME  # one file for the whole tree, written before splits had their own
    if legacy.is_file():
        return _read_json(legacy)
    entry = read_manifest(out).get("splits", {}).get(split)
    if isinstance(entry, dict) and "source" in entry:
        return _plain({"source": entry["source"], **entry.get("options", {})})
    return None


def check_splits(out: Path, splits: dict[str, SplitSource]) -> None:
    """Refuse to add to a split that holds frames made with another source or other options."""
    for split, wanted in splits.items():
        recorded = recorded_identity(out, split)
        if recorded is not None and recorded != wanted.identity() and _has_sequences(out / split):
            raise UsageError(
                f"{out / split}: was prepared with {recorded} but this run asks for {wanted.identity()}; "
                "use the same options to add to it, another --split, or another -o"
            )


def record_splits(out: Path, splits: dict[str, SplitSource]) -> None:
    """Record each split's source and options inside it (before any of its sequences is written).

    A new split folder appears with its record already inside (made hidden, then renamed), so a
    task of a sharded run never sees a split of its tree that says nothing about itself.
    """
    for split, source in splits.items():
        folder = out / split
        text = json.dumps(source.identity()) + "\n"
        try:
            if not folder.exists():
                temp = temporary_sibling(folder, "new")
                temp.mkdir(parents=True)
                (temp / STATE_NAME).write_text(text, encoding="utf-8")
                try:
                    os.rename(temp, folder)
                except OSError:  # another task made it first
                    shutil.rmtree(temp, ignore_errors=True)
            write_text_atomic(folder / STATE_NAME, text)
        except OSError as error:
            raise DataError(
                f"{folder}: cannot write there ({error.strerror}); choose a writable -o"
            ) from error


# ----------------------------------------------------------------------------------------------------
# manifest.json


def _walk(out: Path) -> tuple[dict[str, dict[str, int]], list[str], list[int] | None]:
    """Per split counts, every ``split/sequence`` in tree order, and the one frame size (or None)."""
    from PIL import Image  # header-only size reads

    tree = FrameTree(out)
    splits: dict[str, dict[str, int]] = {}
    keys: list[str] = []
    sizes = set()
    for split in tree.splits():
        sequences = tree.sequences(split)
        splits[split] = {"sequences": len(sequences), "frames": sum(len(s) for s in sequences)}
        for sequence in sequences:
            keys.append(f"{split}/{sequence.name}")
            with Image.open(sequence.frames[0]) as image:
                sizes.add(image.size)
    return splits, keys, list(sizes.pop()) if len(sizes) == 1 else None


def _join_details(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Details of a split added to by another run with the same options: lists grow, values update."""
    joined = dict(old)
    for key, value in new.items():
        if isinstance(value, list) and isinstance(old.get(key), list):
            joined[key] = old[key] + [item for item in value if item not in old[key]]
        else:
            joined[key] = value
    return joined


def _split_entry(counts: dict[str, int], old: Any, new: SplitSource | None, legacy: Any) -> dict[str, Any]:
    """A split's manifest entry: its counts, then its source, options and details."""
    record = {k: v for k, v in old.items() if k not in counts} if isinstance(old, dict) else {}
    if new is not None:
        same = record.get("source") == new.source and record.get("options") == _plain(new.options)
        earlier = {k: v for k, v in record.items() if k not in ("source", "options")} if same else {}
        record = {"source": new.source, "options": new.options, **_join_details(earlier, _plain(new.details))}
    elif "source" not in record and legacy is not None:
        record = {"source": legacy, **record}  # a tree from before splits recorded their own source
    return _plain({**counts, **record})


def build_manifest(out: Path, contribution: Contribution) -> dict[str, Any]:
    """The manifest ``out`` has once ``contribution`` is added: from disk and the earlier manifest."""
    from framepred import __version__

    old = read_manifest(out)
    counts, keys, frame_size = _walk(out)
    old_splits = old.get("splits") if isinstance(old.get("splits"), dict) else {}
    per_split = any(isinstance(v, dict) and "source" in v for v in old_splits.values())
    legacy = None if per_split else old.get("source")
    splits = {
        split: _split_entry(split_counts, old_splits.get(split), contribution.splits.get(split), legacy)
        for split, split_counts in counts.items()
    }
    sources = list(dict.fromkeys(entry["source"] for entry in splits.values() if "source" in entry))
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "source": sources[0] if len(sources) == 1 else MIXED if sources else old.get("source"),
        "splits": splits,
        "sequence_count": sum(c["sequences"] for c in counts.values()),
        "frame_size": frame_size,
        "framepred_version": __version__,
    }
    protocol = contribution.protocol if contribution.protocol is not None else old.get("protocol")
    if protocol is not None:
        manifest["protocol"] = protocol
    # The rule belongs to the train split: a run that writes it sets (or, without one, drops) it.
    clips = contribution.training_clips if "train" in contribution.splits else old.get(TRAINING_CLIPS)
    if clips is not None and "train" in splits:
        manifest[TRAINING_CLIPS] = clips
    for name in ENTRY_MAPS:
        joined = {**(old.get(name) or {}), **contribution.entries.get(name, {})}
        if joined:
            manifest[name] = {key: joined[key] for key in keys if key in joined}  # tree order
    for key, value in old.items():
        if key not in manifest and key not in (*ENTRY_MAPS, *_LEGACY_KEYS, TRAINING_CLIPS):
            manifest[key] = value
    return _plain(manifest)


def update_manifest(out: Path, contribution: Contribution) -> bool:
    """Write ``out/manifest.json`` with ``contribution`` added; False when it already said so."""
    manifest = build_manifest(out, contribution)
    if (out / MANIFEST_NAME).is_file() and read_manifest(out) == manifest:
        return False
    write_manifest(out, manifest)
    return True
