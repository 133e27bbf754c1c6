"""Code blocks of the docs, so tests run the commands exactly as the pages show them."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def code_blocks(page: str, heading: str, language: str = "bash") -> list[str]:
    """The ``language`` code blocks of the section of ``docs/<page>`` under ``## <heading>``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
