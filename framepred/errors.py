"""framepred's own exceptions: expected failures a user can cause.

Every message names what failed (usually a file) and what to do about it. The CLI turns any
:class:`FramepredError` into one line on stderr and exit code 2; nothing else should catch them.
"""

from __future__ import annotations


class FramepredError(Exception):
    """An expected failure with a message fit to show a user as it is."""


class UsageError(FramepredError):
    """A bad option or a bad combination of options."""


class DataError(FramepredError):
    """A missing, unreadable, empty or inconsistent input file or folder."""


class CheckpointError(FramepredError):
    """A weight file that is missing, corrupt, or made for another model."""


class WeightsMissingError(CheckpointError):
    """A pretrained weight file (backbone, metric) that is not on disk and cannot be downloaded."""


class TrainingDiverged(FramepredError):
    """The loss became NaN or infinite."""
