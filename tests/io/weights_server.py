"""A file server on 127.0.0.1 for the download tests: a weights mirror that can misbehave.

Routes (``NAME`` is a key of ``files``; everything else is a 404):
  /files/NAME     the file, with Content-Length; honours ``Range: bytes=N-`` (206)
  /cut/NAME       like /files, but the first answer stops half way (connection closed)
  /short/NAME     always announces the whole file and sends half of what was asked for
  /norange/NAME   ignores Range: always 200 and the whole file
  /html/NAME      a quota page as text/html
  /htmlbytes/NAME the same page served as application/octet-stream (as some hosts do)
  /stall/NAME     accepts the connection and never answers
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.io.local_server import running

QUOTA_PAGE = (
    b"<!DOCTYPE html><html><head><title>Quota exceeded</title></head>"
    b"<body>Too many users have viewed or downloaded this file recently.</body></html>"
)


class WeightsServer:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.release = threading.Event()
        self._cut_done: set[str] = set()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, route: str, name: str) -> str:
        return f"{self.base}/{route}/{name}"

    def ranges(self, route: str, name: str) -> list[str | None]:
        with self._lock:
            return [r for p, r in self.requests if p == f"/{route}/{name}"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                with site._lock:
                    site.requests.append((self.path, self.headers.get("Range")))
                parts = self.path.strip("/").split("/", 1)
                if len(parts) != 2 or parts[1] not in site.files:
                    self.send_error(404)
                    return
                route, name = parts
                body = site.files[name]
                if route == "stall":
                    site.release.wait(30)
                    return
                if route in ("html", "htmlbytes"):
                    kind = "text/html; charset=utf-8" if route == "html" else "application/octet-stream"
                    self._headers(200, kind, len(QUOTA_PAGE))
                    self.wfile.write(QUOTA_PAGE)
                    return
                start = 0
                wanted = self.headers.get("Range")
                if wanted and route != "norange":
                    start = int(wanted.split("=")[1].split("-")[0])
                self._headers(206 if start else 200, "application/octet-stream", len(body) - start)
                rest = body[start:]
                with site._lock:
                    first_cut = route == "cut" and name not in site._cut_done
                    if first_cut:
                        site._cut_done.add(name)
                if first_cut or route == "short":
                    self.wfile.write(rest[: max(len(rest) // 2, 1)])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(rest)

            def _headers(self, status: int, kind: str, length: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                if status == 206:
                    total = len(site.files[self.path.strip("/").split("/", 1)[1]])
                    self.send_header("Content-Range", f"bytes {total - length}-{total - 1}/{total}")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

        return Handler


@contextmanager
def weights_server(files: dict[str, bytes]) -> Iterator[WeightsServer]:
    with running(WeightsServer(files)) as site:
        yield site
