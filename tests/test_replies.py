"""Drafts and acknowledgements: the right facts, the message's words only ever as data, plain HTML-safe output."""

from __future__ import annotations

import datetime as dt

import pytest

from replies import (
    PLACEHOLDER,
    AcknowledgementContext,
    ReplyContext,
    compute_deadlines,
    greeting,
    load_routes,
    render_acknowledgement,
    render_draft,
    render_safeguarding_alert,
    reply_subject,
)
from replies.deadlines import FoundDate

BOOK = load_routes()


def _ctx(route: str, **overrides) -> ReplyContext:
    values = dict(route=route, reference="EHC-261102-ABCDE", sender_name="Rosa Lindqvist",
                  original_subject="About my son", received_on=dt.date(2026, 11, 2), book=BOOK)
    values.update(overrides)
    return ReplyContext(**values)


@pytest.mark.parametrize("route", ["disagreement_resolution", "mediation", "tribunal", "other"])
def test_every_route_renders_text_and_html_with_reference_greeting_and_advice(route):
    draft = render_draft(_ctx(route))
    for part in (draft.text, draft.html):
        assert "EHC-261102-ABCDE" in part
        assert "Dear Rosa Lindqvist" in part
        assert "IPSEA" in part
    assert draft.subject == "Re: About my son [EHC-261102-ABCDE]"
    if route != "other":
        assert BOOK.routes[route].how in draft.text


def test_template_code_in_a_message_is_never_run():
    draft = render_draft(_ctx("mediation", sender_name="{{ 7*7 }} {% for x in ().__class__ %}",
                              original_subject="{{ config }} {{ ''.__class__.__mro__ }}"))
    assert "{{ 7*7 }}" in draft.text and "49" not in draft.text
    assert "{{ config }}" in draft.text


def test_html_escapes_the_senders_words():
    draft = render_draft(_ctx("other", original_subject='<script>alert("x")</script><img src=x onerror=y>'))
    assert "<script>" not in draft.html and "&lt;script&gt;" in draft.html
    assert "<img" not in draft.html


def test_a_known_decision_date_gives_dated_deadlines_and_the_rule():
    found = FoundDate(dt.date(2026, 9, 14), "the letter dated 14 September", False, "dated")
    deadlines = compute_deadlines(found.date, today=dt.date(2026, 9, 20))
    text = render_draft(_ctx("tribunal", decision=found, deadlines=deadlines)).text
    assert "Saturday 14 November 2026" not in text  # a Saturday: the appeal moves to Monday
    assert "5pm on Monday 16 November 2026" in text
    assert "Friday 13 November 2026" in text  # contact the adviser by the working day before
    assert "How we counted:" in text


def test_no_decision_date_explains_the_rule_and_invents_no_date():
    text = render_draft(_ctx("mediation", deadlines=compute_deadlines(None))).text
    deadline_part = text.split("Your deadlines", 1)[1].split("Free, independent advice")[0]
    assert "decision letter" in deadline_part
    assert not any(ch.isdigit() for ch in deadline_part.replace("2 months", "").replace("1 month", "")
                   .replace("5pm", "").replace("25 December", "").replace("31 August", "")
                   .replace("1 January", "").replace("3 working days", ""))


def test_disagreement_resolution_drafts_carry_no_deadlines():
    text = render_draft(_ctx("disagreement_resolution", deadlines=compute_deadlines(dt.date(2026, 9, 1)))).text
    assert "Your deadlines" not in text


def test_acknowledgement_says_it_is_not_a_decision_and_that_time_limits_run():
    ack = render_acknowledgement(AcknowledgementContext("EHC-261102-ABCDE", "", "Help", dt.date(2026, 11, 16), BOOK))
    assert ack.text.startswith("Hello,")
    assert "reply by Monday 16 November 2026" in ack.text
    assert "not a decision" in ack.text and "time limits keep running" in ack.text
    assert ack.subject == "Re: Help [EHC-261102-ABCDE]"


def test_safeguarding_alert_holds_only_the_reference_and_reasons():
    alert = render_safeguarding_alert("EHC-261102-ABCDE", dt.datetime(2026, 11, 2, 9, 30), ("self-harm",))
    assert alert.subject == "Safeguarding alert: case EHC-261102-ABCDE needs a person now"
    assert "self-harm" in alert.text


@pytest.mark.parametrize("name, expected", [
    ("Rosa Lindqvist", "Dear Rosa Lindqvist"),
    ("", "Hello"),
    ("rosa@example.com", "Hello"),
    ('"Lindqvist, Rosa"', "Dear Lindqvist, Rosa"),
    ("12345", "Hello"),
])
def test_greeting(name, expected):
    assert greeting(name) == expected


def test_reply_subject_does_not_stack_prefixes_or_references():
    assert reply_subject("RE: Plan [EHC-1]", "EHC-1") == "RE: Plan [EHC-1]"
    assert reply_subject("", "EHC-1") == "Re: Your message [EHC-1]"


def test_placeholders_are_listed_for_check_config():
    assert "routes.mediation.provider_contact" in BOOK.placeholders()
    assert all(PLACEHOLDER not in name for name in BOOK.placeholders())
