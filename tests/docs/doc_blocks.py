"""Code blocks of the docs, so tests run the commands exactly as the pages show them.

A block runs as one bash script in a work folder. To keep a documented training run short, a test may
append options to ``framepred`` commands that match a shell pattern: the script is prefixed with a
``framepred`` function that adds them (a later option overrides an earlier one), so the documented
lines themselves run unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def code_blocks(page: str, heading: str, language: str = "bash") -> list[str]:
    """The ``language`` code blocks of the section of ``docs/<page>`` under ``## <heading>``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def page_blocks(page: Path | str, language: str = "bash") -> list[tuple[str, str]]:
    """Every ``language`` block of a page (a path, or a name under docs/) with its ``##`` heading."""
    path = page if isinstance(page, Path) else DOCS / page
    found, heading = [], ""
    for part in re.split(rf"(```{language}\n.*?```)", path.read_text(encoding="utf-8"), flags=re.S):
        if part.startswith(f"```{language}\n"):
            found.append((heading, part[len(language) + 4 : -3]))
        else:
            headings = re.findall(r"^## (.+)$", part, flags=re.M)
            heading = headings[-1] if headings else heading
    return found


def _prelude(shorter: dict[str, str]) -> str:
    cases = "".join(f"    {pattern}) extra=({extra}) ;;\n" for pattern, extra in shorter.items())
    return (
        'framepred() {\n  local extra=()\n  case "$*" in\n'
        f"{cases}  esac\n"
        '  command framepred "$@" "${extra[@]}"\n}\n'
    )


def run_script(
    script: str, cwd: Path, shorter: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run ``script`` with bash (stopping at the first failing command) where ``framepred`` is this
    checkout's; ``shorter`` maps a glob on a framepred command's arguments to options to append."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _prelude(shorter or {}) + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def work_folder(tmp_path: Path, shared: Path) -> Path:
    """A work folder whose ``../shared`` is the real shared folder."""
    (tmp_path / "shared").symlink_to(shared)
    work = tmp_path / "work"
    work.mkdir()
    return work
