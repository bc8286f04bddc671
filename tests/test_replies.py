"""Drafts and acknowledgements: the right facts, the message's words only ever as data, plain HTML-safe output."""

from __future__ import annotations

import dataclasses
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
from replies.decision_dates import FoundDate
from replies.drafting import placeholders_in, sample_renders

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
    # How it was counted, once, in plain words: why the appeal date moved, and the later-of rule.
    assert "because the last day is a Saturday" in text
    assert "1 month after the date on it, if that is later" in text
    assert text.count("within 2 months") <= 1  # the rule is stated once, with the dates


def _dated(route: str, today: dt.date, certificate: dt.date | None = None, **overrides):
    found = FoundDate(dt.date(2026, 9, 14), "the letter dated 14 September", False, "dated")
    deadlines = compute_deadlines(found.date, certificate, today=today)
    return render_draft(_ctx(route, decision=found, deadlines=deadlines, **overrides))


@pytest.mark.parametrize("route", ["mediation", "tribunal"])
def test_a_passed_deadline_is_said_with_what_to_do_now(route):
    draft = _dated(route, today=dt.date(2026, 11, 20))
    for part in (draft.text, draft.html):
        assert "It has passed" in part
        assert "The tribunal can still accept a late appeal if it agrees to" in part
        assert "act now" in part and "free advice today" in part
    assert "If you appeal, the tribunal must get your appeal by" not in draft.text


def test_a_deadline_still_open_says_nothing_of_late_appeals():
    text = _dated("mediation", today=dt.date(2026, 10, 1)).text
    assert "It has passed" not in text and "late appeal" not in text


def test_a_certificate_held_drops_the_adviser_bullet_and_gives_the_later_of_rule():
    draft = _dated("tribunal", today=dt.date(2026, 10, 1), certificate=dt.date(2026, 11, 2))
    for part in (draft.text, draft.html):
        assert "to contact the mediation adviser" not in part and "contact them by" not in part
        assert "mediation certificate dated Monday 2 November 2026" in part
        assert "2 months from our decision letter or 1 month from your mediation certificate, whichever is later" in part
    assert "5pm on Wednesday 2 December 2026" in draft.text


def test_without_a_certificate_the_appeal_bullet_gives_the_later_of_rule():
    draft = _dated("mediation", today=dt.date(2026, 10, 1))
    for part in (draft.text, draft.html):
        assert "If you get a mediation certificate, you can appeal up to 1 month after the date on it, if that is later" in part


@pytest.mark.parametrize("route, about", [
    ("mediation", "a decision we made that you are not happy with"),
    ("tribunal", "an appeal against one of our decisions"),
    ("disagreement_resolution", "a disagreement about the help your child gets"),
])
def test_a_draft_says_what_we_think_the_email_is_about_not_what_the_parent_said(route, about):
    draft = render_draft(_ctx(route))
    for part in (draft.text, draft.html):
        assert f"We think your email is about {about}. If we have got this wrong, please tell us." in part
        assert "You told us" not in part


def test_every_fact_the_issue_named_is_in_the_drafts():
    mediation = render_draft(_ctx("mediation")).text
    tribunal = render_draft(_ctx("tribunal")).text
    resolution = render_draft(_ctx("disagreement_resolution")).text
    assert "It is voluntary" in resolution and "keep running while it happens" in resolution
    assert "only about the school or type of school named, or that no school is named" in mediation
    assert "only about the school or type of school named, or that no school is named" in tribunal
    assert "SEND35" in tribunal and "SEND35a" in tribunal
    assert BOOK.routes["tribunal"].provider_contact in tribunal
    assert "decision letter and the EHC plan" in tribunal
    assert "what you want the mediation to cover" in mediation and "within 30 days" in mediation
    assert "after the mediation" in mediation and "cannot arrange mediation within 30 days" in mediation
    assert "not to change a plan after a review" in mediation
    assert "refusal to change a plan after a review" in tribunal
    assert "over compulsory school age and under 25" in tribunal and "16 to 25" not in tribunal


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
    assert "999" not in ack.text and "danger" not in ack.text  # no safeguarding words without the flag


def test_a_safeguarding_acknowledgement_says_where_to_get_help_now_without_alarm():
    ack = render_acknowledgement(AcknowledgementContext("EHC-261102-ABCDE", "", "Help", dt.date(2026, 11, 16), BOOK,
                                                        safeguarding=True))
    for part in (ack.text, ack.html):
        assert "If you are worried that a child is in danger now, call" in part
        assert BOOK.council.emergency_number in part
        assert "children" in part and "services" in part
    assert BOOK.council.children_services_contact in ack.text
    assert "reply by Monday 16 November 2026" in ack.text  # the rest is as for anyone
    for alarming in ("your child is in danger", "we are worried", "safeguarding", "at risk"):
        assert alarming not in ack.text.lower()


@pytest.mark.parametrize("safeguarding", [False, True])
def test_an_acknowledgement_rendered_once_per_date_reads_as_one_rendered_for_its_own_reference(safeguarding):
    """Intake's acknowledgements (no name, no subject) share one rendering per reply-by date and variant,
    with each reference put in: every part must be what rendering it for that reference gives."""
    from replies.drafting import _render_acknowledgement

    for day in (dt.date(2026, 11, 16), dt.date(2026, 12, 24)):
        for reference in ("EHC-261102-ABCDE", "EHC-261103-Q2Z7K", "EHC-261103-Q2Z7K", "X-1"):
            ctx = AcknowledgementContext(reference, "", "", day, BOOK, safeguarding=safeguarding)
            shared, rendered = render_acknowledgement(ctx), _render_acknowledgement(ctx)
            assert shared == rendered
            assert reference in shared.subject and reference in shared.text and reference in shared.html
    # A book loaded again (other facts) is never answered from the first one's rendering.
    other = dataclasses.replace(BOOK, council=dataclasses.replace(BOOK.council, team_name="Other Team"))
    ctx = AcknowledgementContext("EHC-261102-ABCDE", "", "", dt.date(2026, 11, 16), other, safeguarding=safeguarding)
    assert "Someone from the Other Team will read" in render_acknowledgement(ctx).text


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
    assert "council.children_services_contact" in BOOK.placeholders()


def test_every_template_rendered_with_sample_data_lists_its_placeholders():
    renders = sample_renders(BOOK)
    assert {"acknowledgement", "acknowledgement (safeguarding)", "other", "safeguarding alert"} <= set(renders)
    assert placeholders_in(renders["other"].text)[0] == "[Caseworker: write your reply here.]"
    assert any("children's services" in p for p in placeholders_in(renders["acknowledgement (safeguarding)"].text))
    assert placeholders_in(renders["safeguarding alert"].text) == []
