"""`ehc-triage demo`: one poll of the bundled sample mailbox, the acknowledgements sent as files, and
(with --serve) the web app on loopback with a demo login. The CLI only prints what this returns.

The sample mailbox is copied, never read in place (service.mail_sources does that on the embedded
default), so the demo leaves the repository's files as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .accounts import DEMO_USER, demo_login
from .domain import PollReport
from .outbox import SendReport
from .reports import queue_table
from .running import poll_each
from .service import build_triage, open_store, send_outbox
from .serving import web_server
from .settings import Settings
from .store import Store


@dataclass(frozen=True)
class DemoRun:
    """What the demo did: each mailbox's poll, the sending, and the store to show (or serve) afterwards."""

    settings: Settings
    store: Store
    polls: dict[str, PollReport]
    sent: SendReport


def run_demo(settings: Settings) -> DemoRun:
    """Poll every mailbox once and send what is due; the first mailbox that failed is raised."""
    store = open_store(settings)
    results = poll_each(settings, store, build_triage(settings, store))
    failed = next((r for r in results.values() if isinstance(r, Exception)), None)
    if failed is not None:
        raise failed
    polls = {name: r for name, r in results.items() if isinstance(r, PollReport)}
    return DemoRun(settings, store, polls, send_outbox(settings, store))


def summary(run: DemoRun) -> str:
    """What was read and sent, the queue as it now stands, and where everything lives."""
    s = run.settings
    lines = [f"Read {r.fetched} new message(s) from {source}: queued {r.queued}, "
             f"{r.failed_parse} flagged as broken, {r.duplicates} already seen." for source, r in run.polls.items()]
    lines += [f"Sent {run.sent.sent} acknowledgement(s) (as files: no mail leaves this machine in the demo).\n",
              queue_table(run.store.items.list_queue()),
              f"\nDatabase:        {s.database_url}",
              f"Mailbox:         {s.maildir or ', '.join(run.polls)}",
              f"Outgoing mail:   {s.outbox.directory} (.eml files instead of SMTP)"]
    return "\n".join(lines)


NEXT_STEP = "Next: `.venv/bin/ehc-triage queue list --format jsonl` shows the drafts."


def demo_server(run: DemoRun, port: int) -> tuple[Any, str]:
    """The web app bound on 127.0.0.1:port over plain HTTP, and the text naming its address and login.

    The `demo` supervisor gets a new password each run. Plain HTTP on this machine only, so the cookie
    cannot be marked Secure.
    """
    from .settings import WebSettings
    from .web import create_app

    password = demo_login(run.store)
    web = WebSettings(host="127.0.0.1", port=port, secure_cookies=False)
    server = web_server(create_app(run.settings, run.store, web), web.host, web.port, web.threads)
    return server, (f"\nWeb app:         {server.url}\n"
                    f"Demo login:      {DEMO_USER} / {password}   (Ctrl-C to stop)")
