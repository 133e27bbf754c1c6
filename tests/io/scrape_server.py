"""A small real web site on 127.0.0.1 for the scrape tests: videos, pages and misbehaving URLs.

Routes (everything else is a 404):
  /v/walk.mkv, /v/cockatoo.mp4  real video files from ../shared/data (Content-Length sent)
  /page.html                    an HTML page with <video src="/v/walk.mkv">
  /long.html                    a page whose JSON-LD says its video (cockatoo) lasts 14 s
  /notes.txt                    plain text
  /fake.mp4                     served as video/mp4 but random bytes
  /stall                        accepts the connection and never answers
  /slowbody/walk.mkv            sends the headers and the first 4 KiB, then stalls
  /flaky/walk.mkv               503 on the first request, then the video
  /nolength/walk.mkv            the video without Content-Length
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from tests.io.local_server import running

VIDEOS = {
    "walk.mkv": Path("intel_asl_walk") / "walk.mkv",  # 640x480, 30 fps, 89 frames, 2.97 s
    "cockatoo.mp4": Path("imageio_cockatoo") / "cockatoo.mp4",  # 1280x720, 20 fps, 14 s
}
WALK_FRAMES = 89
WALK_SECONDS = 2.97


class VideoSite:
    """The running site: ``url(path)`` builds addresses, ``hits(path)`` counts requests to a path."""

    def __init__(self, data: Path) -> None:
        self.files = {name: data / rel for name, rel in VIDEOS.items()}
        self.requests: list[str] = []
        self.times: list[float] = []  # time.monotonic() of each request, beside self.requests
        self.release = threading.Event()  # set at teardown so stalled handlers end
        self._lock = threading.Lock()
        self._flaky_failures = 1
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p in self.requests if p == path)

    def _page(self, name: str) -> bytes:
        if name == "page.html":
            return b'<html><head><title>Walk page</title></head><body><video src="/v/walk.mkv"></video>'
        video = {
            "@context": "https://schema.org",
            "@type": "VideoObject",
            "name": "Cockatoo",
            "duration": "PT14S",
            "contentUrl": self.url("/v/cockatoo.mp4"),
        }
        return (
            "<html><head><title>Long page</title>"
            f'<script type="application/ld+json">{json.dumps(video)}</script></head><body>bird</body></html>'
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, content_type: str, length: bool = True) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    # yt-dlp reads only the head of a file while probing it, then hangs up.
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with site._lock:
                    site.requests.append(path)
                    site.times.append(time.monotonic())
                if path == "/stall":
                    site.release.wait(10)
                    self.close_connection = True
                    return
                if path == "/slowbody/walk.mkv":
                    body = site.files["walk.mkv"].read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", "video/x-matroska")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body[:4096])
                        self.wfile.flush()
                    site.release.wait(10)
                    self.close_connection = True
                    return
                if path == "/flaky/walk.mkv":
                    with site._lock:
                        fail, site._flaky_failures = site._flaky_failures > 0, site._flaky_failures - 1
                    if fail:
                        self._send(503, b"busy", "text/plain")
                        return
                name = path.rsplit("/", 1)[-1]
                if path.startswith(("/v/", "/flaky/", "/nolength/")) and name in site.files:
                    content_type = "video/x-matroska" if name.endswith(".mkv") else "video/mp4"
                    body = site.files[name].read_bytes()
                    self._send(200, body, content_type, length=not path.startswith("/nolength/"))
                elif path in ("/page.html", "/long.html"):
                    self._send(200, site._page(path[1:]), "text/html; charset=utf-8")
                elif path == "/notes.txt":
                    self._send(200, b"not a video\n", "text/plain")
                elif path == "/fake.mp4":
                    noise = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
                    self._send(200, noise, "video/mp4")
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler


@contextmanager
def serve(data: Path) -> Iterator[VideoSite]:
    """Run the site in a background thread for the duration of the block."""
    with running(VideoSite(data)) as site:
        yield site
