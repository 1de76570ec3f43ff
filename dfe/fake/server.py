"""The fake served over real HTTP on 127.0.0.1 from a thread (standard library only)."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .api import FakeDfe


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # tests and the demo stay quiet
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class FakeDfeServer:
    """The fake served on 127.0.0.1 from a thread: ``with FakeDfeServer() as server: server.url``."""

    def __init__(self, fake: FakeDfe | None = None, port: int = 0) -> None:
        self.fake = fake or FakeDfe()
        self.httpd = make_server(
            "127.0.0.1", port, self.fake, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def start(self) -> FakeDfeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeDfeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
