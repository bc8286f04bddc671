"""Serving the app with waitress, alone (`ehc-triage web`) or in a thread beside the scheduler (`run`).

Behind a reverse proxy ([web] proxy_count > 0) waitress itself believes X-Forwarded-For and
X-Forwarded-Proto, but only on connections from [web] trusted_proxy, and takes the client address
proxy_count hops from the right: REMOTE_ADDR is then the client's, so sign-in delays and the event
log see each client rather than the proxy. From any other address the headers are dropped, so a
client that reaches the port directly cannot pose as someone else.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from waitress import create_server, wasyncore

from ..settings import WebSettings

log = logging.getLogger("triage.web")


class WebServer:
    """A waitress server bound at construction (so the port is known); run() blocks, close() stops it."""

    def __init__(self, app: Flask, host: str, port: int, threads: int, web: WebSettings | None = None) -> None:
        self._server: Any = create_server(app, host=host, port=port, threads=threads, ident="ehc-triage",
                                          **proxy_options(web))
        self.host, self.port = host, int(self._server.effective_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        log.info("web app listening on %s", self.url)
        try:
            self._server.run()
        except OSError:  # the socket closed under asyncore's loop when we were stopped
            pass

    def close(self) -> None:
        """Finish the requests being served (up to 5 s), then close every connection and the listener."""
        self._server.task_dispatcher.shutdown(timeout=5)
        # Closing every channel, not just the listener, so kept-alive connections do not hold run() open.
        wasyncore.close_all(self._server._map)


def proxy_options(web: WebSettings | None) -> dict[str, Any]:
    """waitress's settings for believing the reverse proxy's X-Forwarded-For/-Proto (none without one)."""
    if web is None or not web.proxy_count:
        return {}
    return {"trusted_proxy": web.trusted_proxy, "trusted_proxy_count": web.proxy_count,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
