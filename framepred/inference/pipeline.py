"""Overlapping file work with compute: read ahead in a thread, write behind in a thread.

OpenCV's image and video codecs release the GIL, so decoding the next frames and encoding the last
predictions run while the network computes. Both sides are bounded (a few items), so memory stays
flat, and an error on either side is raised in the caller's thread, as if the work ran inline.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Iterate ``items`` in a background thread, keeping up to ``depth`` of them ready.

    The caller gets the same items in the same order; an exception in the producer is re-raised at the
    position it happened. Closing the iterator early stops the producer.
    """
    ready: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, (True, item), stop):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            _put(ready, (False, error), stop)
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator that holds a file (a video reader) lets go of it here
        _put(ready, (True, _DONE), stop)

    worker = threading.Thread(target=produce, name="framepred-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = ready.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _put(target: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Put ``entry`` unless the consumer has stopped; False when it has."""
    while not stop.is_set():
        try:
            target.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class WriteBehind:
    """Run write calls in one background thread, at most ``depth`` pending; wait for all on exit.

    ``submit(function, *args)`` returns at once unless ``depth`` writes are pending. The first failed
    write is raised by the next ``submit`` or on exit, so a full disk stops the job promptly.
    """

    def __init__(self, depth: int = 4) -> None:
        self.depth = max(1, depth)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="framepred-write")
        self._pending: list[Future] = []

    def submit(self, function: Callable[..., object], *args: object) -> None:
        self._collect(block=len(self._pending) >= self.depth)
        self._pending.append(self._pool.submit(function, *args))

    def _collect(self, block: bool) -> None:
        if block and self._pending:
            self._pending[0].result()
        still = []
        for future in self._pending:
            if future.done():
                future.result()  # raises the write's error here
            else:
                still.append(future)
        self._pending = still

    def wait(self) -> None:
        """Block until every submitted write is done, raising the first error."""
        for future in self._pending:
            future.result()
        self._pending = []

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.wait()
        finally:
            # On an error elsewhere, let queued writes finish (no half-written files: each write is
            # atomic), then stop the thread.
            self._pool.shutdown(wait=True)
