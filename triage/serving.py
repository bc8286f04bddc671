"""Serving the web app from a command (`web`, `run`, `demo --serve`): bind, then stop cleanly on a signal."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from .errors import ListenError

if TYPE_CHECKING:
    from .settings import Settings, WebSettings
    from .store import Store

log = logging.getLogger("triage")


def web_server(app: Any, host: str, port: int, threads: int, web: WebSettings | None = None) -> Any:
    """A bound (not yet running) waitress server; ListenError when the address cannot be had.
    With `web`, its proxy settings say whose X-Forwarded-For to believe (triage.web.serve)."""
    from .web.serve import WebServer

    try:
        return WebServer(app, host, port, threads, web)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve_until_stopped(server: Any) -> None:
    """Run the server until SIGTERM or SIGINT; it closes from another thread so the request in hand finishes."""

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping the web app", signal.Signals(signum).name)
        threading.Thread(target=server.close, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.run()
    log.info("web app stopped")


def app_server(settings: Settings, store: Store, host: str | None = None, port: int | None = None) -> Any:
    """The caseworkers' app bound where asked, else where [web] says (else 127.0.0.1:8000)."""
    from .settings import WebSettings
    from .web import create_app

    conf = settings.web or WebSettings()
    return web_server(create_app(settings, store), host or conf.host, conf.port if port is None else port, conf.threads,
                      conf)
