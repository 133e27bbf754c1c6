"""Running a test site (an object with ``server``, a ThreadingHTTPServer on 127.0.0.1, and
``release``, an event its stalling routes wait on) in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running(site: Any) -> Iterator[Any]:
    """Serve ``site`` for the duration of the block; stalled requests are released before shutdown."""
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        site.server.shutdown()
        site.server.server_close()
        thread.join(5)
