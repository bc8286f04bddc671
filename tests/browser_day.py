"""The queue of a caseworker's day (test_browser_day.py, test_browser_pages.py), served in-thread on a fixed
clock so the deadlines are the same every run: three items (one needing review, one routine, one flagged for
safeguarding whose duty alert went out) and an account of each role.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Iterator

import pytest

from classifier.safeguarding import rule_hits
from classifier.text import normalise
from triage.domain import OutboxKind, OutboxStatus, OutgoingMail, Role, now
from triage.settings import load_settings
from triage.store import Store
from triage.store.outbox import add as add_to_outbox
from triage.store.tables import ItemRow
from triage.web import create_app
from triage.web.serve import WebServer

from .test_browser import Visit
from .webapp import add_item, add_user, write_settings

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
RECEIVED = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
ALERTED = RECEIVED + dt.timedelta(days=40, minutes=1)  # the duty alert about the safeguarding message went out

NEEDS_REVIEW_BODY = """Dear SEN team,

Your decision letter dated 14 September 2026 refused to assess Sam. We are not happy with it and
want to know what we can do next. Sam's school says he is falling further behind every term.

Kind regards,
Priya Shah

On 14 Sep 2026, at 10:02, SEN Team <ehc.assessment@brackenford.example.gov.uk> wrote:
> Dear Ms Shah,
> We have decided not to carry out an EHC needs assessment for Sam.
> Please see the enclosed letter.
"""

# Trips the detector's rules ("suicidal talk"); webapp.add_item stores the sentence as the evidence.
URGENT_BODY = ("Leo's sister Mia has hardly left her room since his school place fell through. She says she wants "
               "to die. I cannot cope and nobody answers the phone about Leo's plan.")


@pytest.fixture
def day(tmp_path, filled_routes) -> Iterator[dict]:
    """A queue on 20 Nov 2026: a needs-review item quoting the council's case number, a routine one,
    a safeguarding one whose duty alert went out; a caseworker, a supervisor and an admin."""
    config = write_settings(tmp_path, routes_file=filled_routes)
    settings = load_settings(config, environ={})
    store = Store(settings.database_url)
    store.migrate()
    review = add_item(store, routes_file=filled_routes, confidence=0.45, needs_review=True,
                      received=RECEIVED, today=RECEIVED.date(), subject="Re: EHC/2026/0412 refusal to assess Sam",
                      sender="Priya Shah <priya.shah@example.com>", body=NEEDS_REVIEW_BODY)
    routine = add_item(store, routes_file=filled_routes, received=RECEIVED + dt.timedelta(days=20),
                       today=dt.date(2026, 10, 21), subject="Final plan for Ella", sender="Tom Okafor <tom@example.com>",
                       body="The final plan came with your letter dated 10 October 2026. We want mediation.")
    assert rule_hits(normalise(URGENT_BODY)) == ["suicidal talk"]  # the detector's own rules flag it
    urgent = add_item(store, routes_file=filled_routes, safeguarding=True, received=RECEIVED + dt.timedelta(days=40),
                      today=dt.date(2026, 11, 10), subject="Please help", sender="Ana Costa <ana@example.com>",
                      body=URGENT_BODY)
    _duty_alert_sent(store, urgent)
    add_user(store, "casey", Role.CASEWORKER)
    add_user(store, "sam", Role.SUPERVISOR)
    add_user(store, "ada", Role.ADMIN)
    clock = {"now": NOW}  # the test moves it (past a sign-in delay) instead of waiting
    server = WebServer(create_app(settings, store, clock=lambda: clock["now"]), "127.0.0.1", 0, 4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.port}", "store": store, "clock": clock, "review": review,
               "routine": routine, "urgent": urgent}
    finally:
        server.close()
        thread.join(timeout=10)
        store.close()


def _duty_alert_sent(store: Store, item_id: int) -> None:
    """The duty alert about the item's message, queued and sent as intake and the send job would."""
    with store.db.reading() as s:
        message = s.get_one(ItemRow, item_id).message_ref
    alert = OutgoingMail(OutboxKind.ALERT, "duty@example.gov.uk", "Safeguarding alert", b"Subject: x\r\n\r\nx")
    with store.db.writing() as s:
        add_to_outbox(store.db, s, alert, message, None, OutboxStatus.PENDING)
    [entry] = store.outbox.claim_due(now() + dt.timedelta(minutes=1))
    store.outbox.mark_sent(entry.id, ALERTED)


def visit_at(browser, base: str, viewport: dict) -> Visit:
    """A fresh browser context at this size; 5 s for anything to appear (the app is on loopback)."""
    visit = Visit(browser, base)
    visit.page.set_viewport_size(viewport)
    visit.page.set_default_timeout(5_000)
    return visit
