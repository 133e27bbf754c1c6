"""Collect training video from the web with yt-dlp and turn it into the canonical frame tree.

``scrape(urls, search=..., out=...)`` is the one entry point; ``framepred scrape`` is its command.
yt-dlp is the optional extra ``framepred[scrape]``, imported only when a scrape runs.
"""

from __future__ import annotations

from .core import ScrapeResult, build_sources, scrape
from .options import ScrapeOptions, parse_bytes
from .ytdlp import search_url

__all__ = ["ScrapeOptions", "ScrapeResult", "build_sources", "parse_bytes", "scrape", "search_url"]
