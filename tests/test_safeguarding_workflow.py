"""The safeguarding workflow: the duty alert's fate on the item page, an action recorded (or a false flag
cleared with a reason) before any reply can be approved, the supervisor's list of those decisions, and
the log's safeguarding filter finding who viewed or downloaded from a flagged message."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from replies import Draft, load_routes
from triage import decisions
from triage.alerts import AlertWindow, with_count
from triage.cli import cli
from triage.domain import FetchedMail, OutboxKind, OutboxStatus, OutgoingMail, Role, Status, now
from triage.errors import InvalidAction
from triage.events import SafeguardingAlertNotSent
from triage.pipeline import Triage, process_batch
from triage.settings import SafeguardingSettings, ServiceSettings, load_settings
from triage.store import Store
from triage.store.outbox import add as add_to_outbox
from triage.store.tables import ItemRow

from .factories import make_email
from .webapp import add_item, add_user, form_fields, make_app, signed_in, write_settings

TODAY = dt.date(2026, 11, 2)
SENT_AT = dt.datetime(2026, 11, 2, 9, 31, tzinfo=dt.timezone.utc)


@pytest.fixture
def web(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    add_user(store, "sam", Role.SUPERVISOR)
    yield app, store, settings
    store.close()


def _flagged(web, **kw) -> int:
    _, store, settings = web
    return add_item(store, route="disagreement_resolution", routes_file=settings.service.routes_file,
                    safeguarding=True, **kw)


def _message_of(store, item_id: int) -> int:
    with store.db.reading() as s:
        return s.get_one(ItemRow, item_id).message_ref


def _alert_sent(store, item_id: int) -> None:
    """The duty alert for the item's message, queued and sent as the send job would."""
    message = _message_of(store, item_id)
    alert = OutgoingMail(OutboxKind.ALERT, "duty@example.gov.uk", "Safeguarding alert", b"Subject: x\r\n\r\nx")
    with store.db.writing() as s:
        add_to_outbox(store.db, s, alert, message, None, OutboxStatus.PENDING)
    [entry] = store.outbox.claim_due(now() + dt.timedelta(minutes=1))
    store.outbox.mark_sent(entry.id, SENT_AT)


def _page(client, item_id: int) -> str:
    return html.unescape(client.get(f"/items/{item_id}").get_data(as_text=True))


def _words(page: str) -> str:
    """The page's text without its tags, spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def _post(client, item_id: int, form: str, **fields):
    hidden = form_fields(client.get(f"/items/{item_id}").get_data(as_text=True), f"/items/{item_id}/{form}")
    return client.post(f"/items/{item_id}/{form}", data={**hidden, **fields})


def _approve(client, item_id: int, store):
    draft = store.items.detail(item_id).draft
    return _post(client, item_id, "draft", subject=draft.subject, text=draft.text, action="approve")


# -- the decisions ---------------------------------------------------------------------------------

def test_a_flagged_item_cannot_be_approved_until_an_action_is_recorded(web):
    _, store, settings = web
    item = _flagged(web)
    with pytest.raises(InvalidAction, match="flagged for safeguarding and no action is recorded yet"):
        decisions.approve(store, settings.service, item, "casey", today=TODAY)
    assert store.outbox.entries() == [] and store.items.detail(item).status is Status.DRAFTED
    decisions.record_safeguarding_action(store, item, "referral_made", "MASH referral 4411, spoke to J. Okafor",
                                         "casey")
    decisions.approve(store, settings.service, item, "casey", today=TODAY)
    assert store.items.detail(item).status is Status.APPROVED
    [event] = [e for e in store.events.of_item(item) if e["name"] == "safeguarding_action_recorded"]
    assert event["actor"] == "casey" and event["data"] == {"action": "referral_made",
                                                          "note": "MASH referral 4411, spoke to J. Okafor"}


def test_an_action_is_one_of_three_and_a_referral_needs_a_note(web):
    _, store, _ = web
    item = _flagged(web)
    with pytest.raises(InvalidAction, match="unknown safeguarding action 'ignored'"):
        decisions.record_safeguarding_action(store, item, "ignored", "x", "casey")
    with pytest.raises(InvalidAction, match="add a note"):
        decisions.record_safeguarding_action(store, item, "already_known", "  ", "casey")
    decisions.record_safeguarding_action(store, item, "not_safeguarding", "", "casey")  # the note is optional here
    assert store.safeguarding.state(item).action == "not_safeguarding"
    plain = add_item(store, route="disagreement_resolution", routes_file=web[2].service.routes_file)
    with pytest.raises(InvalidAction, match=f"item {plain} is not flagged for safeguarding"):
        decisions.record_safeguarding_action(store, plain, "referral_made", "x", "casey")


def test_clearing_a_false_flag_needs_a_reason_and_lets_the_reply_be_approved(web):
    _, store, settings = web
    item = _flagged(web)
    with pytest.raises(InvalidAction, match="give a reason"):
        decisions.clear_safeguarding_flag(store, item, " ", "casey")
    assert store.items.detail(item).safeguarding
    decisions.clear_safeguarding_flag(store, item, "'dying to hear back' is a figure of speech", "casey")
    state = store.safeguarding.state(item)
    assert state.cleared and not state.flagged and not store.items.detail(item).safeguarding
    with pytest.raises(InvalidAction, match="not flagged for safeguarding \\(its flag was cleared\\)"):
        decisions.clear_safeguarding_flag(store, item, "again", "casey")
    decisions.approve(store, settings.service, item, "casey", today=TODAY)
    [decision] = store.safeguarding.decisions()
    assert (decision.actor, decision.item_id, decision.action, decision.note) == (
        "casey", item, "flag_cleared", "'dying to hear back' is a figure of speech")


# -- the item page -----------------------------------------------------------------------------------

def test_the_box_says_when_the_duty_team_was_alerted_or_why_not(web):
    app, store, _ = web
    alerted, unsent, unknown = _flagged(web), _flagged(web), _flagged(web)
    _alert_sent(store, alerted)
    store.events.record(SafeguardingAlertNotSent(reason="no [safeguarding] duty_address configured"),
                        message=_message_of(store, unsent))
    client = signed_in(app, "casey")
    assert "The duty team was alerted at 2 Nov 2026 09:31 UTC" in _words(_page(client, alerted))
    assert "No duty alert was sent: no [safeguarding] duty_address configured" in _words(_page(client, unsent))
    assert "No duty alert is recorded for this message" in _words(_page(client, unknown))
    page = _page(client, alerted)
    assert "Record what was done before approving a reply" in page
    plain = add_item(store, route="disagreement_resolution", routes_file=web[2].service.routes_file)
    assert 'id="safeguarding"' not in _page(client, plain)


def test_a_caseworker_records_the_action_in_the_page_then_approves(web):
    app, store, _ = web
    item = _flagged(web)
    client = signed_in(app, "casey")
    refused = _approve(client, item, store)
    assert refused.status_code == 400
    assert "Not approved: it is flagged for safeguarding" in html.unescape(refused.get_data(as_text=True))
    missing = _post(client, item, "safeguarding/action", action="referral_made", note="")
    page = html.unescape(missing.get_data(as_text=True))
    assert missing.status_code == 400 and "Add a note to “Referral made”" in page
    recorded = _post(client, item, "safeguarding/action", action="referral_made", note="MASH referral 4411")
    assert recorded.status_code == 303 and recorded.headers["Location"].endswith(f"/items/{item}#safeguarding")
    page = _page(client, item)
    assert re.search(r"Action recorded: <strong>Referral made</strong> by casey on .*: “MASH referral 4411”", page)
    assert _approve(client, item, store).status_code == 303
    assert store.items.detail(item).status is Status.APPROVED


def test_clearing_in_the_page_needs_a_reason_and_the_supervisor_sees_every_decision(web):
    app, store, _ = web
    cleared, referred = _flagged(web), _flagged(web)
    casey = signed_in(app, "casey")
    assert _post(casey, cleared, "safeguarding/clear", reason="").status_code == 400
    assert _post(casey, cleared, "safeguarding/clear", reason="About a phone battery dying").status_code == 303
    assert "The flag was cleared as false by casey" in _page(casey, cleared)
    _post(casey, referred, "safeguarding/action", action="already_known", note="Open case with the CIN team")
    assert casey.get("/supervisor/safeguarding").status_code == 403
    page = html.unescape(signed_in(app, "sam").get("/supervisor/safeguarding").get_data(as_text=True))
    rows = re.findall(r"<tr[^>]*>\s*<td class=\"nowrap\">[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>.*?"
                      r"<td>([^<]*)</td>\s*</tr>", page, re.S)
    assert rows == [("casey", "Already known to children's services", "Open case with the CIN team"),
                    ("casey", "Flag cleared as false", "About a phone battery dying")]


# -- the supervisor's log ------------------------------------------------------------------------------

def test_the_safeguarding_filter_finds_who_viewed_or_downloaded_from_a_flagged_message(web):
    app, store, _ = web
    attached = make_email(attachment=("letter.pdf", "application/pdf", b"%PDF-1.4 fictional"))
    flagged = _flagged(web, raw=attached)
    plain = add_item(store, route="disagreement_resolution", routes_file=web[2].service.routes_file)
    cleared = _flagged(web)
    casey = signed_in(app, "casey")
    casey.get(f"/items/{flagged}")
    assert casey.get(f"/items/{flagged}/attachments/0").status_code == 200
    casey.get(f"/items/{plain}")
    casey.get(f"/items/{cleared}")
    decisions.clear_safeguarding_flag(store, cleared, "not a concern", "casey")
    page = signed_in(app, "sam").get("/supervisor/log", query_string={"safeguarding": "yes", "user": "casey"})
    text = page.get_data(as_text=True)
    rows = re.findall(r"<td>casey</td>\s*<td>([^<]*)</td>\s*<td class=\"nowrap\"><a href=\"/supervisor/items/(\d+)/",
                      text)
    assert ("viewed", str(flagged)) in rows and ("attachment downloaded", str(flagged)) in rows
    assert ("viewed", str(cleared)) in rows  # a flag cleared as false still counts as flagged here
    assert all(item != str(plain) for _, item in rows)
    with store.db.reading() as s:
        assert s.scalar(select(ItemRow.safeguarding).where(ItemRow.id == cleared)) is False


# -- grouped duty alerts (triage.alerts) ---------------------------------------------------------------

def test_one_alert_per_sender_per_hour_never_fewer_than_one_per_new_sender():
    window = AlertWindow()
    start = dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc)
    first = window.decide("Rosa.Lindqvist+school@example.com", "EHC-A", start)
    other = window.decide("dev.mistry@example.com", "EHC-B", start + dt.timedelta(minutes=1))
    again = window.decide("rosa.lindqvist@example.com", "EHC-C", start + dt.timedelta(minutes=20))
    third = window.decide("rosa.lindqvist@example.com", "EHC-D", start + dt.timedelta(minutes=59))
    later = window.decide("rosa.lindqvist@example.com", "EHC-E", start + dt.timedelta(minutes=61))
    nobody = [window.decide("", f"EHC-N{n}", start) for n in range(2)]
    assert first.send and other.send and all(d.send for d in nobody)  # every new sender, and no sender, alerts
    assert (again.send, again.alert_at, again.count) == (False, start, 2)
    assert (third.send, third.count) == (False, 3)
    assert later.send and later.earlier == ("EHC-C", "EHC-D")
    text = with_count(Draft("Safeguarding alert", "Case EHC-E needs a person now.", ""), later.earlier).text
    assert "2 more flagged messages from the same sender" in text and "cases EHC-C, EHC-D" in text
    assert "rosa" not in text.lower()  # an alert never names the sender


def test_intake_groups_a_senders_flagged_messages_into_one_alert_with_a_count(tmp_path, loaded_model, filled_routes,
                                                                             monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    store.migrate()
    clock = {"at": dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr("triage.store.database.now", lambda: clock["at"])
    triage = Triage(store, loaded_model, load_routes(filled_routes),
                    service=ServiceSettings(from_address="ehc@brackenford.example.gov.uk"),
                    safeguarding=SafeguardingSettings(duty_address="duty@brackenford.example.gov.uk"),
                    clock=lambda: clock["at"])
    uids = iter(range(1, 100))

    def mail(sender: str) -> FetchedMail:
        raw = make_email(sender=sender, body="Daniel told me he wants to die. Please help us.")
        return FetchedMail("t", "INBOX", 1, next(uids), raw, clock["at"])

    rosa, dev = "Rosa Lindqvist <rosa.lindqvist@example.com>", "Dev Mistry <dev.mistry@example.com>"
    process_batch([mail(rosa), mail(rosa), mail(dev), mail(rosa)], triage)
    clock["at"] += dt.timedelta(minutes=30)
    process_batch([mail(rosa)], triage)  # a later batch: the window is read back from the store
    alerts = [e for e in store.outbox.entries() if e.kind == "alert"]
    assert len(alerts) == 2  # one for each sender
    grouped = [e["data"]["count"] for e in store.events.all() if e["name"] == "safeguarding_alert_grouped"]
    assert grouped == [2, 3, 4]
    queue = {e.id: e for e in store.items.list_queue()}
    rosas = sorted(i for i, e in queue.items() if e.from_address == "rosa.lindqvist@example.com")
    assert store.safeguarding.state(rosas[-1]).alert.state == "grouped"
    assert store.safeguarding.state(rosas[-1]).alert.count == 4
    clock["at"] += dt.timedelta(hours=1)
    process_batch([mail(rosa)], triage)
    [*_, newest] = [e for e in store.outbox.entries() if e.kind == "alert"]
    body = email.message_from_bytes(newest.raw, policy=email.policy.default).get_body(("plain",)).get_content()
    assert "3 more flagged messages from the same sender" in body
    assert all(queue[i].reference in body for i in rosas[1:])
    assert "rosa" not in body.lower()
    store.close()


# -- the command line ------------------------------------------------------------------------------------

def test_the_cli_records_an_action_clears_a_flag_and_approve_only_queues(tmp_path, filled_routes):
    config = write_settings(tmp_path, filled_routes)
    store = Store(load_settings(config, environ={}).database_url)
    store.migrate()
    referred, cleared = (add_item(store, route="disagreement_resolution", routes_file=filled_routes,
                                  safeguarding=True) for _ in range(2))

    def run(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), *args])

    refused = run("queue", "approve", str(referred))
    assert refused.exit_code == 1 and "no action is recorded yet" in refused.output
    assert run("queue", "safeguarding", str(referred), "--action", "already_known").exit_code == 1
    done = run("queue", "safeguarding", str(referred), "--action", "already_known", "--note", "Open CIN case",
               "--as", "casey")
    assert done.exit_code == 0, done.output
    assert run("queue", "clear-flag", str(cleared), "--reason", "a figure of speech").exit_code == 0
    approved = run("queue", "approve", str(referred), "--as", "casey")
    assert approved.exit_code == 0, approved.output
    assert approved.output == (f"item {referred} approved: reply queued; `ehc-triage run` sends it within 30 seconds, "
                               f"`ehc-triage outbox send` sends it now\n")
    [reply] = store.outbox.entries()
    assert reply.status == "pending" and reply.attempts == 0  # queued, not sent
    assert [(d.actor, d.action) for d in store.safeguarding.decisions()] == [("cli", "flag_cleared"),
                                                                             ("casey", "already_known")]
    store.close()
