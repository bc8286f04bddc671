"""Push instead of waiting for the next poll: IMAP IDLE (RFC 2177) on each mailbox whose server offers it.

A Watcher holds one extra connection per mailbox, selected read-only and idling. When the server
reports new mail (an untagged EXISTS or RECENT) it calls `wake`, which asks that mailbox's poll to
run now; it never fetches or stores anything itself, so the poll stays the only way mail comes in and
exactly-once is the poll's business. IDLE is ended and re-issued every idle_renew_seconds, because a
server may log out a client that has idled for 29 minutes. A server without IDLE, or a connection
that fails, leaves the scheduled poll (the safety net) to do the work; the watcher reconnects after
a back-off of 1, 2, 4 ... seconds, at most five minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from imapclient.exceptions import IMAPClientError

from .errors import TriageError
from .intake import ImapSource
from .settings import ImapSettings

log = logging.getLogger("triage.watching")
CHECK_SECONDS = 1.0  # how often an idling watcher looks up to see whether it should stop or renew
MAX_BACKOFF_SECONDS = 300.0


class Watcher:
    """Waits in IDLE on one mailbox in a thread of its own and calls `wake` when mail arrives."""

    def __init__(self, mailbox: ImapSettings, wake: Callable[[], None]) -> None:
        self.mailbox = mailbox
        self.wake = wake
        self.idles = 0  # IDLE commands issued (renewals included): for tests and the logs
        self.supported: bool | None = None  # None until the server has said whether it offers IDLE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"idle {self.mailbox.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self._watch()
                return  # stopped, or the server has no IDLE
            except (OSError, IMAPClientError, TriageError) as exc:
                log.warning("IDLE on %s failed (%s): polling covers it; reconnecting in %.0fs", self.mailbox.name,
                            _reason(exc), backoff)
            except Exception:
                log.exception("IDLE on %s failed unexpectedly; reconnecting in %.0fs", self.mailbox.name, backoff)
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _watch(self) -> None:
        with ImapSource(self.mailbox) as source:
            client = source.client
            self.supported = client.has_capability("IDLE")
            if not self.supported:
                log.info("%s does not offer IMAP IDLE: new mail is picked up by the poll every interval",
                         self.mailbox.name)
                return
            client.select_folder(self.mailbox.folder, readonly=True)
            log.info("waiting for new mail in %s/%s with IDLE", self.mailbox.name, self.mailbox.folder)
            self.wake()  # mail that came while nobody was watching
            while not self._stop.is_set():
                if self._idle_once(client):
                    self.wake()

    def _idle_once(self, client) -> bool:  # type: ignore[no-untyped-def]  (imapclient is untyped)
        """One IDLE command, until new mail, the renewal time or stop; True when new mail was announced."""
        client.idle()
        self.idles += 1
        renew_at = time.monotonic() + self.mailbox.idle_renew_seconds
        arrived = False
        try:
            while not arrived and not self._stop.is_set():
                remaining = renew_at - time.monotonic()
                if remaining <= 0:
                    break
                responses = client.idle_check(timeout=min(CHECK_SECONDS, remaining))
                arrived = any(_announces_mail(r) for r in responses)
        finally:
            done = client.idle_done()
        # Responses that came with the end of IDLE count too: mail that arrived in the last instant.
        return arrived or any(_announces_mail(r) for r in done[1])


def _announces_mail(response: tuple) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def watchers_for(mailboxes: tuple[ImapSettings, ...], wake: Callable[[str], Callable[[], None]]) -> list[Watcher]:
    """A watcher for each mailbox with `idle = true`; `wake(name)` gives the function that polls that one."""
    return [Watcher(m, wake(m.name)) for m in mailboxes if m.idle]
