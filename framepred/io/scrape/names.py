"""Names framepred gives to scraped videos: sequence folders and download-archive keys.

A server chooses titles and ids; framepred never uses them as paths as they are. A sequence name is
built from the extractor and the video id, reduced to ``[a-z0-9_-]``; when that reduction changed
anything (or the id is one the generic extractor derived from a file name, which two sites can
share) a short hash of the original is appended, so two different videos never share a folder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

_SAFE = re.compile(r"[^a-z0-9_-]+")
_MAX_ID_CHARS = 48

# Extractors whose ids are not unique across sites: "generic" names a direct link after its file
# name, "html5" after the page's file name. Their names also carry a hash of the page address.
_WEAK_ID_EXTRACTORS = {"generic", "html5mediaembed"}


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _clean(text: str) -> str:
    return _SAFE.sub("_", text.lower()).strip("_")


def sequence_name(info: Mapping[str, Any]) -> str:
    """A folder name for one video: ``<extractor>-<id>[-<hash>]``, only ``[a-z0-9_-]``."""
    extractor = str(info.get("extractor_key") or info.get("ie_key") or info.get("extractor") or "video")
    video_id = str(info.get("id") or "")
    page = str(info.get("webpage_url") or info.get("url") or "")
    if not video_id:
        # No id at all: the page address is the only stable identity there is.
        return f"{_clean(extractor) or 'video'}-{_short_hash(page)}"
    cleaned_extractor = _clean(extractor) or "video"
    cleaned_id = _clean(video_id)[:_MAX_ID_CHARS]
    name = f"{cleaned_extractor}-{cleaned_id}" if cleaned_id else cleaned_extractor
    changed = cleaned_id != video_id or cleaned_extractor != extractor.lower()
    if changed or cleaned_extractor in _WEAK_ID_EXTRACTORS:
        name += "-" + _short_hash(f"{extractor}\n{video_id}\n{page}")
    return name


def archive_key(info: Mapping[str, Any]) -> str | None:
    """The video's line in the download archive (``<extractor> <id>``, yt-dlp's own format).

    Generic links get the page address hashed into the id, for the reason given in the module
    docstring. None when the metadata has no id yet (an unresolved link).
    """
    extractor = info.get("extractor_key") or info.get("ie_key")
    video_id = info.get("id")
    if not extractor or not video_id:
        return None
    extractor = str(extractor).lower()
    video_id = str(video_id)
    if extractor in _WEAK_ID_EXTRACTORS:
        page = str(info.get("webpage_url") or info.get("url") or "")
        video_id = f"{video_id}-{_short_hash(page)}"
    return f"{extractor} {video_id}"
