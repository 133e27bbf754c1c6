"""Run the shell commands a Markdown page shows, as written, on small data.

``commands(page)`` returns every command of the page's ```bash blocks (continuation lines joined,
comments dropped) in order. A test runs each one with bash in a work folder beside a ``shared`` link
(so ``../shared/data`` resolves as in the repository), appending only the options that make it short
(``--steps 2``); a later option overrides an earlier one, so the command itself runs unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def commands(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            # Keep the shell's own syntax (quotes, braces, variables): drop only a trailing "  # comment".
            command = re.split(r"(?:^|\s+)#\s", line, maxsplit=1)[0].strip()
            if command:
                found.append(command)
    return found


def with_variables(commands: list[str]) -> list[str]:
    """Each command prefixed by the shell variables the page set before it (``D=../shared/...``)."""
    assigned, out = [], []
    for command in commands:
        if re.fullmatch(r"[A-Za-z_]\w*=\S+", command):
            assigned.append(command)
        else:
            out.append("; ".join([*assigned, command]))
    return out


def run(command: str, cwd: Path, extra: str = "", timeout: float = 600) -> subprocess.CompletedProcess:
    """``command`` plus ``extra`` options, with bash, where ``framepred`` is this checkout's."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    line = f"{command} {extra}".strip()
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def work_folder(tmp_path: Path, shared: Path) -> Path:
    """A work folder whose ``../shared`` is the real shared folder."""
    (tmp_path / "shared").symlink_to(shared)
    work = tmp_path / "work"
    work.mkdir()
    return work
