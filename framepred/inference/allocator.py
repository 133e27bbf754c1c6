"""Keep freed memory in the process during inference: glibc ``mallopt`` settings for CPU inference.

A video network's tensors are large (DMVFN's full-size state at 512x1024 is 36 MB a frame). With
glibc's default settings, freed blocks that large are given back to the system (unmapped, or
trimmed off the heap's top), and the next frame maps them fresh, paying one page fault per 4 KiB
page; the worker threads of a batch split over threads, started anew for each call, allocate from
arenas of their own and faulted just as much (measured). ``tune_allocator`` makes glibc keep what it
got and serve every block from one heap, so from the second or third call on a stream of frames of
one size faults almost never:

* ``M_TRIM_THRESHOLD = -1``: never give the heap's free top back to the system ("-1 disables
  trimming completely", mallopt(3));
* ``M_MMAP_MAX = 0``: no block gets its own mapping (unmapped again when freed), whatever its size;
  ``M_MMAP_THRESHOLD`` cannot do this for blocks above 32 MiB, its largest value;
* ``M_ARENA_MAX = 1``: every thread allocates from the one heap, so the worker threads a split
  batch starts for each call get the blocks the previous call's workers freed.

The cost is memory held: the process keeps its peak resident size until it exits instead of
shrinking between calls (framepred's peak itself did not rise; measured in docs/performance.md,
"Fifth round"). The commands
``predict``, ``rollout`` and ``evaluate`` call ``tune_allocator()`` when they start; importing
framepred changes nothing, and a program using ``Predictor`` may call it itself. It does nothing on
other C libraries (musl, macOS, Windows), when ``FRAMEPRED_MALLOC_TUNE=0``, or when the user set
glibc's allocator through its own environment variables (theirs win).
"""

from __future__ import annotations

import ctypes
import os
import sys

ENV_VAR = "FRAMEPRED_MALLOC_TUNE"

# mallopt(3) parameter numbers from glibc's <malloc.h>, and the values set (see the module doc).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
SETTINGS: tuple[tuple[str, int, int], ...] = (
    ("M_TRIM_THRESHOLD", M_TRIM_THRESHOLD, -1),
    ("M_MMAP_MAX", M_MMAP_MAX, 0),
    ("M_ARENA_MAX", M_ARENA_MAX, 1),
)
# glibc reads these at start-up; a user who set one has chosen the allocator's behaviour already.
_USER_SETTINGS = (
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_TRIM_THRESHOLD_",
)


def skip_reason(environ: dict[str, str] | None = None) -> str | None:
    """Why ``tune_allocator`` would do nothing here, or None when it would apply its settings."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR, "").strip().lower() in ("0", "false", "no", "off"):
        return f"{ENV_VAR}={env[ENV_VAR]}"
    chosen = [name for name in _USER_SETTINGS if name in env]
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        chosen.append("GLIBC_TUNABLES")
    if chosen:
        return f"the allocator is set by {', '.join(chosen)}"
    if not sys.platform.startswith("linux") or not _is_glibc():
        return "not glibc"
    return None


def tune_allocator() -> bool:
    """Apply ``SETTINGS`` through glibc's ``mallopt``; True when all of them took, False when skipped
    (see ``skip_reason``). Safe to call more than once; it affects the whole process from now on."""
    if skip_reason() is not None:
        return False
    mallopt = ctypes.CDLL(None).mallopt  # the process's own (a preloaded allocator's, if it has one)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; evaluate every setting even if one fails.
    results = [mallopt(number, value) == 1 for _, number, value in SETTINGS]
    return all(results)


def _is_glibc() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError, AttributeError):  # not glibc, or no confstr at all (Windows)
        return False
    return bool(version) and version.startswith("glibc")
