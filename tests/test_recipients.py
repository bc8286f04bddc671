"""Issue 14, items 1, 5 and 9: who a reply and an acknowledgement reach, each original finding reproduced.

Our choice (README, "Who replies go to"): the approved reply and the acknowledgement go to the From address
only, checked (triage.addresses); a different Reply-To is shown on the item page as a warning, never used;
the acknowledgement repeats neither the sender's subject nor their name; the once-per-window limit compares
normalised addresses. End-to-end findings run through the real Dovecot and SMTP fixtures.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from click.testing import CliRunner

from triage.addresses import first_mailbox, normalise, problem, reply_recipient
from triage.cli import cli
from triage.parsing import parse_message

from .factories import make_email
from .webapp import add_item, add_user, form_fields, make_app, signed_in

TEAM = "ehc.assessment@brackenford.example.gov.uk"
DUTY = "duty.safeguarding@brackenford.example.gov.uk"


def raw_email(*headers: tuple[str, str], body: str = "We disagree with the final EHC plan for our son.") -> bytes:
    """An email written header by header, exactly as given (no library tidies a hostile header up)."""
    given = {name.lower() for name, _ in headers}
    defaults = [(n, v) for n, v in (("To", TEAM), ("Subject", "Final plan"),
                                    ("Date", "Mon, 02 Nov 2026 09:30:00 +0000")) if n.lower() not in given]
    lines = [f"{name}: {value}" for name, value in (*defaults, *headers)]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def run(config, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def queue(config) -> list[dict]:
    return [json.loads(line) for line in run(config, "queue", "list", "--format", "jsonl").splitlines()]


def recipients(smtp) -> list[str]:
    """Everyone the SMTP server was asked to deliver to, except the duty address."""
    return sorted(r for _, rcpts in smtp.envelopes for r in rcpts if r != DUTY)


# -- finding 1: the approved reply went to a hidden, sender-chosen Reply-To ----------------------------------

def test_the_approved_reply_goes_to_the_from_address_never_to_reply_to(mailbox, service_config, smtp):
    mailbox.append(make_email(sender="Jane Parent <jane.parent@example.org>", subject="Final plan for Sam",
                              extra_headers={"Reply-To": "collector@elsewhere.example.net"},
                              body="We disagree with the final EHC plan for Sam and want to appeal."))
    run(service_config, "poll", "--once")
    [item] = queue(service_config)
    run(service_config, "queue", "approve", str(item["id"]), "--as", "caseworker1")
    run(service_config, "outbox", "send")

    assert recipients(smtp) == ["jane.parent@example.org", "jane.parent@example.org"]  # acknowledgement, reply
    assert all(b"collector@" not in m.as_bytes() for m in smtp.messages)


def test_a_display_name_cannot_pose_as_the_address():
    """Encoded words were decoded before the address was parsed: this display name became the address."""
    raw = raw_email(("From", "=?utf-8?q?jane.parent=40example.org?= <collector@elsewhere.example.net>"),
                    ("Message-ID", "<pose-1@example.org>"))
    parsed = parse_message(raw)
    assert parsed.from_address == "collector@elsewhere.example.net"
    assert parsed.from_name == "jane.parent@example.org"  # shown as a name only, beside the real address
    assert reply_recipient(parsed.from_address, parsed.reply_to).address == "collector@elsewhere.example.net"
    # The same in Reply-To: a name holding "<address>" never stands in for the address.
    tricky = first_mailbox("=?utf-8?q?Jane_=3Cjane=40example.org=3E?= <other@elsewhere.example.net>")
    assert tricky.address == "other@elsewhere.example.net" and tricky.name == "Jane <jane@example.org>"


def test_the_item_page_shows_where_the_reply_goes_beside_approve_and_warns_of_a_reply_to(tmp_path, filled_routes):
    app, store, _ = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    asked_elsewhere = add_item(store, routes_file=filled_routes, raw=raw_email(
        ("From", "Jane Parent <jane.parent@example.org>"), ("Reply-To", "collector@elsewhere.example.net"),
        ("Message-ID", "<page-1@example.org>")))
    plain = add_item(store, routes_file=filled_routes, raw=raw_email(
        ("From", "Jane Parent <jane.parent@example.org>"), ("Reply-To", "Jane.Parent@Example.org"),
        ("Message-ID", "<page-2@example.org>")))
    client = signed_in(app, "casey")

    page = html.unescape(client.get(f"/items/{asked_elsewhere}").get_data(as_text=True))
    block = page[page.index('id="recipient"'):page.index('value="approve"')]  # the block comes just before Approve
    assert "This reply goes to jane.parent@example.org (the From address)" in " ".join(
        block.replace("<strong class=\"recipient-address\">", "").replace("</strong>", "").split())
    assert ("The sender asked for replies to collector@elsewhere.example.net; this reply goes to "
            "jane.parent@example.org.") in block

    page = html.unescape(client.get(f"/items/{plain}").get_data(as_text=True))
    assert 'id="recipient"' in page and "asked for replies to" not in page  # the same address: no warning
    store.close()


# -- finding 5: the acknowledgement could be turned on a third party -----------------------------------------

def test_the_acknowledgement_goes_to_from_only_and_repeats_neither_subject_nor_name(mailbox, service_config, smtp):
    mailbox.append(make_email(sender="Cheap Pills Online <spammer@elsewhere.example.net>",
                              subject="BUY CHEAP PILLS AT pills.example",
                              extra_headers={"Reply-To": "victim@example.org"},
                              body="I want to appeal the decision about my son's EHC plan."))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")

    [ack] = [m for m in smtp.messages if m["Auto-Submitted"] == "auto-replied"]
    assert recipients(smtp) == ["spammer@elsewhere.example.net"]
    whole = ack.as_string()
    assert "PILLS" not in whole.upper() and "Cheap" not in whole and "victim" not in whole
    assert ack.get_body(("plain",)).get_content().startswith("Hello,")


def test_one_acknowledgement_per_window_for_every_spelling_of_one_address(mailbox, service_config, smtp):
    spellings = ["victim+1@example.org", '"victim"@example.org', "Victim@Example.org", "victim+news@example.org"]
    gmail = ["v.ic.tim@gmail.com", "victim+x@googlemail.com", "VICTIM@gmail.com"]
    mailbox.append(*(make_email(sender=s, subject=f"message {n}") for n, s in enumerate(spellings[:1] + gmail[:1])))
    run(service_config, "poll", "--once")  # the first of each is acknowledged ...
    mailbox.append(*(make_email(sender=s, subject=f"later {n}") for n, s in enumerate(spellings[1:] + gmail[1:])))
    run(service_config, "poll", "--once")  # ... and the window, read back from the outbox, holds the rest
    run(service_config, "outbox", "send")

    assert recipients(smtp) == ["v.ic.tim@gmail.com", "victim+1@example.org"]
    assert len(queue(service_config)) == len(spellings) + len(gmail)  # every message is still queued


@pytest.mark.parametrize("address", ["parent@[192.0.2.1]", "parent@192.0.2.1", "parent@localhost"])
def test_no_mail_to_an_ip_literal_or_a_bare_host(mailbox, service_config, smtp, address):
    mailbox.append(raw_email(("From", f"Parent <{address}>"), ("Message-ID", "<ip-1@example.org>")))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    assert recipients(smtp) == []
    [item] = queue(service_config)
    result = CliRunner().invoke(cli, ["--config", str(service_config), "queue", "approve", str(item["id"]),
                                      "--as", "caseworker1"])
    assert result.exit_code != 0 and "cannot be written to" in result.output and "Traceback" not in result.output


# -- finding 9: unhandled 500s on approval ---------------------------------------------------------------------

@pytest.fixture
def web(tmp_path, filled_routes):
    app, store, _ = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    yield app, store, filled_routes
    store.close()


def _approve(client, item: int, store):
    draft = store.items.detail(item).draft
    page = client.get(f"/items/{item}").get_data(as_text=True)
    fields = form_fields(page, f"/items/{item}/draft")
    return client.post(f"/items/{item}/draft", data={**fields, "subject": draft.subject, "text": draft.text,
                                                      "action": "approve"}, follow_redirects=True)


def test_a_reply_to_of_a_at_b_at_evil_is_no_longer_a_500_the_reply_goes_to_from(web):
    app, store, routes = web
    item = add_item(store, routes_file=routes, raw=raw_email(
        ("From", "Jane Parent <jane.parent@example.org>"), ("Reply-To", "a@b@evil.example"),
        ("Message-ID", "<atat-1@example.org>")))
    client = signed_in(app, "casey")
    response = _approve(client, item, store)
    assert response.status_code == 200
    [reply] = [e for e in store.outbox.entries() if e.kind == "reply"]
    assert reply.to_address == "jane.parent@example.org"


def test_a_from_of_a_at_b_at_evil_is_refused_clearly(web):
    app, store, routes = web
    item = add_item(store, routes_file=routes, raw=raw_email(
        ("From", "a@b@evil.example"), ("Message-ID", "<atat-2@example.org>")))
    client = signed_in(app, "casey")
    page = html.unescape(client.get(f"/items/{item}").get_data(as_text=True))
    assert "This reply cannot be sent from here" in page
    response = _approve(client, item, store)
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "Not approved" in text and "cannot be written to" in text
    assert store.outbox.entries() == [] and store.items.detail(item).status.value != "approved"


@pytest.mark.parametrize("message_id", ["<crlf-1@example.org\r\n Bcc: x@elsewhere.example>",
                                        "=?utf-8?q?=3Ccrlf-2=40example.org=0D=0ABcc=3A_x=40elsewhere.example=3E?="])
def test_a_message_id_holding_cr_lf_is_refused_clearly_not_a_500(web, message_id):
    app, store, routes = web
    item = add_item(store, routes_file=routes, raw=raw_email(
        ("From", "Jane Parent <jane.parent@example.org>"), ("Message-ID", message_id)))
    assert "\n" in parse_message(store.messages.raw(item)).message_id  # the finding's message, as stored
    client = signed_in(app, "casey")
    response = _approve(client, item, store)
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "Not approved" in text and "Message-ID" in text
    assert store.outbox.entries() == []


# -- the rules themselves --------------------------------------------------------------------------------------

@pytest.mark.parametrize("address, reason", [
    ("", "there is no address"),
    ("a@b@evil.example", "exactly one @"),
    ("@evil.example", "nothing before the @"),
    ("x" * 65 + "@example.org", "longer than 64"),
    ("a@" + ".".join([c * 60 for c in "bcde"]) + ".example.org", "longer than 254"),
    ("parent@[192.0.2.1]", "IP address"),
    ("parent@192.0.2.1", "IP address"),
    ("parent@localhost", "not a mail domain"),
    ("par ent@example.org", "spaces or control characters"),
    ("parent\r\n@example.org", "spaces or control characters"),
    ("parent\x00@example.org", "spaces or control characters"),
    ("jörg@example.org", "not plain ASCII"),
    ('"a b"@example.org', "spaces or control characters"),
    ('"a,b"@example.org', "cannot carry unquoted"),
    ("a..b@example.org", "cannot carry unquoted"),
    ("parent@-example.org", "not a mail domain"),
])
def test_addresses_that_are_refused_and_why(address, reason):
    assert reason in problem(address)


@pytest.mark.parametrize("address", ["jane.parent@example.org", "o'neill+ehc@example.co.uk", "a@b-c.example"])
def test_ordinary_addresses_pass(address):
    assert problem(address) == ""


def test_normalised_for_the_window():
    same = ["victim@example.org", "Victim+1@EXAMPLE.org", '"victim"@example.org', "victim+a+b@example.org"]
    assert {normalise(a) for a in same} == {"victim@example.org"}
    assert {normalise(a) for a in ["v.i.c.t.i.m@gmail.com", "victim+x@googlemail.com"]} == {"victim@gmail.com"}
    assert normalise("v.ictim@example.org") != normalise("victim@example.org")  # dots matter outside Gmail
    assert first_mailbox('"victim"@example.org').address == "victim@example.org"


def test_a_reply_to_that_is_the_same_mailbox_raises_no_warning():
    assert reply_recipient("jane@example.org", "Jane+ehc@Example.org").warning == ""
    warned = reply_recipient("jane@example.org", "other@example.org")
    assert warned.address == "jane@example.org" and "other@example.org" in warned.warning


def test_an_unverified_subject_and_name_never_reach_the_acknowledgement_template(tmp_path, loaded_model, filled_routes):
    """The same rule without servers: the acknowledgement intake composes has only our words in it."""
    from replies import load_routes
    from triage.domain import FetchedMail
    from triage.pipeline import Triage, process
    from triage.settings import ServiceSettings
    from triage.store import Store

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    store.migrate()
    raw = raw_email(("From", "=?utf-8?q?Visit_pills=2Eexample?= <someone@example.org>"),
                    ("Subject", "=?utf-8?q?Cheap_pills_at_pills=2Eexample?="), ("Message-ID", "<ack-1@example.org>"))
    triage = Triage(store, loaded_model, load_routes(filled_routes),
                    service=ServiceSettings(from_address=TEAM, from_name="EHC Team"),
                    clock=lambda: dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc))
    process(FetchedMail("t", "INBOX", 1, 1, raw), triage)
    [ack] = [e for e in store.outbox.entries() if e.kind == "acknowledgement"]
    assert ack.to_address == "someone@example.org" and b"pills" not in ack.raw.lower()
    store.close()
