"""Acknowledgements, approved replies and alerts through a real Dovecot and a real SMTP server on loopback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.service import change_route, route_book
from triage.settings import load_settings
from triage.store import Store

from .factories import broken_message, make_email, varied_messages

TEAM = "ehc.assessment@brackenford.example.gov.uk"
DUTY = "duty.safeguarding@brackenford.example.gov.uk"


def run(config, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def queue(config) -> list[dict]:
    return [json.loads(l) for l in run(config, "queue", "list", "--format", "jsonl").splitlines()]


def outbox(config) -> list[dict]:
    return [json.loads(l) for l in run(config, "outbox", "list", "--format", "jsonl").splitlines()]


def acknowledgements(smtp) -> list:
    return [m for m in smtp.messages if m["Auto-Submitted"] == "auto-replied"]


def test_one_acknowledgement_per_human_message_and_none_to_automatic_or_our_own_mail(mailbox, service_config, smtp):
    messages = varied_messages()
    own = make_email(subject="internal note", sender=f"EHC Team <{TEAM}>")
    mailbox.append(*messages, own)

    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")

    acked = sorted(a for _, rcpts in smtp.envelopes for a in rcpts if a != DUTY)
    # Each human sender once (Rosa wrote several, inside the one-a-day window); no out-of-office, newsletter,
    # bounce, no-reply portal, broken message or our own mail.
    humans = sorted([f"parent{n}@example.com" for n in range(16)] + ["rosa.lindqvist@example.com", "jay.k@example.net"])
    assert acked == humans
    assert len([e for e in outbox(service_config) if e["kind"] == "acknowledgement"]) == len(humans)


def test_an_acknowledgement_is_threaded_marked_automatic_and_says_what_happens_next(mailbox, service_config, smtp):
    original = make_email(subject="Our son's EHC plan", body="We disagree with the final plan for Idris.",
                          sender="Halima Yusuf <halima.yusuf@example.com>", message_id="<orig-1@example.com>",
                          extra_headers={"References": "<older@example.com>"})
    mailbox.append(original)
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")

    [ack] = acknowledgements(smtp)
    assert ack["To"].addresses[0].addr_spec == "halima.yusuf@example.com"
    # Neither the sender's subject nor their name is repeated (issue 14: it goes to an unchecked address).
    assert ack["Subject"].startswith("Re: Your message [EHC-") and "EHC plan" not in ack["Subject"]
    assert ack["To"].addresses[0].display_name == ""
    assert ack["In-Reply-To"] == "<orig-1@example.com>"
    assert ack["References"].split() == ["<older@example.com>", "<orig-1@example.com>"]
    assert ack["Auto-Submitted"] == "auto-replied"
    text = ack.get_body(("plain",)).get_content()
    reference = queue(service_config)[0]["draft_subject"].rsplit("[", 1)[1].rstrip("]")
    assert reference in text
    assert text.startswith("Hello") and "Halima" not in text and "Our son's EHC plan" not in text
    assert "reply by" in text and "This is not a decision" in text
    assert "time limits keep running" in text
    assert "IPSEA" in text and "[COUNCIL TO FILL IN" not in text


def test_one_acknowledgement_per_sender_within_the_window(mailbox, service_config, smtp):
    mailbox.append(make_email(subject="first", sender="Ola Berg <ola@example.net>"),
                   make_email(subject="second", sender="Ola Berg <ola@example.net>"))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    assert len(acknowledgements(smtp)) == 1
    assert len(queue(service_config)) == 2


def test_acknowledgements_can_be_switched_off_for_a_route(mailbox, service_config, smtp):
    service_config.write_text(service_config.read_text() + '\n[acknowledgement]\ndisabled_routes = ["tribunal"]\n')
    mailbox.append(make_email(subject="Appeal", body="We have our mediation certificate and are appealing to the "
                                                      "SEND tribunal against the refusal to assess."))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    assert queue(service_config)[0]["label"] == "tribunal"
    assert acknowledgements(smtp) == []


def test_a_safeguarding_message_alerts_the_duty_address_without_personal_data(mailbox, service_config, smtp):
    mailbox.append(make_email(subject="Kasia Nowak - review", sender="Marta Nowak <marta.nowak@example.com>",
                              body="Kasia told me last night she wants to die and I found tablets hidden in her room."))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    [alert] = [m for m in smtp.messages if m["To"] == DUTY]
    assert alert["Subject"].startswith("Safeguarding alert: case EHC-")
    whole = alert.as_string()
    for personal in ("Kasia", "Nowak", "marta", "tablets"):
        assert personal not in whole
    assert queue(service_config)[0]["safeguarding"] is True


def test_smtp_down_then_back_retries_and_sends_each_message_once(mailbox, service_config, smtp, outbox_clock):
    mailbox.append(make_email(subject="one", sender="a@example.com"), make_email(subject="two", sender="b@example.com"))
    run(service_config, "poll", "--once")
    smtp.stop()
    assert "sent 0, retrying 2" in run(service_config, "outbox", "send")
    assert {e["status"] for e in outbox(service_config)} == {"pending"}
    assert all("cannot reach SMTP server" in e["last_error"] for e in outbox(service_config))

    smtp.start()  # the same port again
    outbox_clock.advance(1.1)  # the first retry waits retry_base_seconds
    assert "sent 2" in run(service_config, "outbox", "send")
    assert "sent 0" in run(service_config, "outbox", "send")
    assert sorted(r for _, rcpts in smtp.envelopes for r in rcpts) == ["a@example.com", "b@example.com"]


def test_a_temporary_refusal_is_retried_and_gives_up_after_max_attempts(mailbox, service_config, smtp,
                                                                       outbox_clock):
    mailbox.append(make_email(sender="c@example.com"))
    run(service_config, "poll", "--once")
    smtp.reply = "451 4.3.0 try again later"
    for _ in range(3):
        run(service_config, "outbox", "send")
        outbox_clock.advance(2.1)
    [row] = outbox(service_config)
    assert row["status"] == "failed" and row["attempts"] == 3
    assert "gave up after 3 attempts" in row["last_error"] and "451" in row["last_error"]
    assert smtp.messages == []
    failed = run(service_config, "outbox", "list", "--status", "failed")
    assert "c@example.com" in failed


def test_a_refused_recipient_fails_at_once_and_is_listed(mailbox, service_config, smtp):
    smtp.refuse.add("gone@example.com")
    mailbox.append(make_email(sender="gone@example.com"))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    [row] = outbox(service_config)
    assert row["status"] == "failed" and row["attempts"] == 1 and "refused" in row["last_error"]


def test_approve_sends_the_draft_threaded_keeps_a_copy_in_sent_and_marks_the_original_answered(
        mailbox, service_config, smtp):
    mailbox.append(make_email(subject="Refusal to assess", message_id="<refusal-1@example.com>",
                              sender="Dev Mistry <dev.mistry@example.com>",
                              body="You refused to assess Anya in your letter dated 2 October 2026. How do I "
                                   "challenge the decision?"))
    run(service_config, "poll", "--once")
    run(service_config, "outbox", "send")
    [item] = queue(service_config)

    out = run(service_config, "queue", "approve", str(item["id"]), "--as", "caseworker1")

    assert "approved: reply queued" in out and "`ehc-triage outbox send` sends it now" in out
    assert [m for m in smtp.messages if m["Auto-Submitted"] is None] == []  # approving only queues it
    assert queue(service_config)[0]["status"] == "approved"
    run(service_config, "outbox", "send")
    [reply] = [m for m in smtp.messages if m["Auto-Submitted"] is None]
    assert reply["In-Reply-To"] == "<refusal-1@example.com>"
    assert reply["Subject"] == item["draft_subject"]
    assert reply.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == item["draft_text"].strip()
    assert queue(service_config)[0]["status"] == "sent"
    c = mailbox.client()
    c.select_folder("Sent", readonly=True)
    [sent_uid] = c.search(["ALL"])
    sent_copy = c.fetch([sent_uid], ["BODY.PEEK[]"])[sent_uid][b"BODY[]"]
    c.select_folder("INBOX", readonly=True)
    flags = c.get_flags(c.search(["ALL"]))
    c.logout()
    assert b"In-Reply-To: <refusal-1@example.com>" in sent_copy
    assert all(b"\\Answered" in f for f in flags.values())


def test_approving_twice_is_refused_and_sends_nothing_more(mailbox, service_config, smtp):
    # A route whose draft is complete as written ("other" drafts wait for the caseworker's part).
    mailbox.append(make_email(body="The school is not giving Maya the support in her plan. Can someone independent "
                                   "help us sort it out with them?"))
    run(service_config, "poll", "--once")
    [item] = queue(service_config)
    run(service_config, "queue", "approve", str(item["id"]))
    result = CliRunner().invoke(cli, ["--config", str(service_config), "queue", "approve", str(item["id"])])
    assert result.exit_code == 1 and "only drafted or needs_review items can be approved" in result.output
    run(service_config, "outbox", "send")
    assert len([m for m in smtp.messages if m["Auto-Submitted"] is None]) == 1


def test_a_draft_with_an_unfilled_placeholder_cannot_be_approved(mailbox, imap_config, smtp):
    mailbox.append(make_email())
    run(imap_config, "poll", "--once")  # the repository's routes.toml still has the council's placeholders
    [item] = queue(imap_config)
    result = CliRunner().invoke(cli, ["--config", str(imap_config), "queue", "approve", str(item["id"])])
    assert result.exit_code == 1
    assert "placeholder" in result.output and "check-config" in result.output
    assert queue(imap_config)[0]["status"] in ("drafted", "needs_review")


def test_shadow_mode_records_everything_and_sends_nothing(mailbox, service_config, smtp):
    service_config.write_text(service_config.read_text().replace("[service]", '[service]\nmode = "shadow"'))
    # Safeguarding-flagged, on a route whose draft is complete as written (an "other" draft waits for the
    # caseworker's part, so it could not be approved as it is).
    mailbox.append(make_email(body="Daniel told me he wants to die. The school is not giving him the support in his "
                                   "plan. Can someone independent help us sort it out with them?"), broken_message())
    run(service_config, "poll", "--once")
    [first, *_] = queue(service_config)
    assert first["safeguarding"]  # a reply to it waits for the action taken to be recorded
    run(service_config, "queue", "safeguarding", str(first["id"]), "--action", "referral_made", "--note",
        "MASH referral made by phone")
    run(service_config, "queue", "approve", str(first["id"]))
    run(service_config, "outbox", "send")
    assert smtp.messages == []
    rows = outbox(service_config)
    assert {r["status"] for r in rows} == {"would_send"}
    assert {r["kind"] for r in rows} == {"acknowledgement", "alert", "reply"}


@pytest.mark.parametrize("route, words", [
    ("mediation", ["Prime Resolution", "2 months", "certificate"]),
    ("tribunal", ["First-tier Tribunal", "mediation certificate", "gov.uk"]),
    ("disagreement_resolution", ["independent", "free", "does not affect your right"]),
])
def test_each_route_draft_carries_its_facts(mailbox, service_config, route, words):
    bodies = {
        "mediation": "You refused to assess Eli. The decision letter was dated 5 October 2026. I want mediation.",
        "tribunal": "We have our mediation certificate and will appeal to the SEND tribunal against the refusal "
                    "to issue a plan.",
        "disagreement_resolution": "The school is not giving Maya the support in her plan. Can someone independent "
                                   "help us sort it out with them?",
    }
    mailbox.append(make_email(body=bodies[route]))
    run(service_config, "poll", "--once")
    [item] = queue(service_config)
    assert item["label"] == route
    for word in words:
        assert word in item["draft_text"]


def test_an_acknowledgement_or_alert_with_a_placeholder_is_held_pending_not_sent(mailbox, service_config, smtp,
                                                                                   tmp_path):
    # The council filled every fact but the children's services number: safeguarding acknowledgements hold it.
    routes = service_config.read_text().split('routes_file = "', 1)[1].split('"', 1)[0]
    text = open(routes).read().replace("01632 960000 (children's services phone number, and the out-of-hours "
                                       "number, fictional)", "[COUNCIL TO FILL IN: children's services number]")
    held_routes = tmp_path / "routes-held.toml"
    held_routes.write_text(text)
    service_config.write_text(service_config.read_text().replace(routes, str(held_routes)))
    mailbox.append(make_email(body="Daniel told me he wants to die."),
                   make_email(sender="Ann Other <ann@example.com>", body="When is Sam's annual review?"))
    run(service_config, "poll", "--once")

    out = run(service_config, "outbox", "send")

    assert "held 1" in out and "placeholder" in out
    sent = acknowledgements(smtp)
    assert len(sent) == 1 and "children's services" not in sent[0].get_body(("plain",)).get_content()
    rows = {(r["kind"], r["status"]) for r in outbox(service_config)}
    assert ("acknowledgement", "pending") in rows and ("alert", "sent") in rows
    [held] = [r for r in outbox(service_config) if r["status"] == "pending"]
    assert "still has a placeholder ([COUNCIL TO FILL IN: children's services number])" in held["last_error"]
    assert held["attempts"] == 0
    run(service_config, "outbox", "send")  # not due again yet: still pending, still not sent
    assert len(acknowledgements(smtp)) == 1
    assert [r["status"] for r in outbox(service_config) if r["id"] == held["id"]] == ["pending"]


def test_queue_approve_refuses_the_caseworkers_placeholder(mailbox, service_config, smtp):
    mailbox.append(make_email(body="Please send me a copy of the Local Offer booklet by post."))
    run(service_config, "poll", "--once")
    [item] = queue(service_config)
    if item["label"] != "other":  # whatever the classifier chose, a caseworker routes it to `other`
        settings = load_settings(service_config)
        store = Store(settings.database_url)
        change_route(store, route_book(settings), item["id"], "other", "cw1")
        store.close()
    result = CliRunner().invoke(cli, ["--config", str(service_config), "queue", "approve", str(item["id"])])
    assert result.exit_code == 1
    assert "its draft still has a placeholder to fill in ([Caseworker: write your reply here.])" in result.output
