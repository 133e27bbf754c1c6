"""Motion-filtered training clips (Mathieu et al.'s procedure) cut at scale into uint8 shards."""

from framepred.data.clips.extract import FORMAT_NAME, MANIFEST_NAME, extract_clips, merge_clips, shard_name

__all__ = ["FORMAT_NAME", "MANIFEST_NAME", "extract_clips", "merge_clips", "shard_name"]
