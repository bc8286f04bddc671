"""Render drafts and acknowledgements from Jinja2 templates in a sandbox.

Nothing from an incoming email is ever evaluated as template code: templates come only from
replies/templates/, the message's words reach them only as data, the environment is sandboxed,
undefined names are errors (StrictUndefined), and HTML output is autoescaped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from classifier.labels import Route, is_route

from .deadline_rules import Deadlines, compute_deadlines
from .decision_dates import FoundDate
from .facts import PLACEHOLDER_PATTERN, RouteBook, RouteFacts

LONDON = ZoneInfo("Europe/London")

# Routes whose drafts state the mediation and appeal deadlines.
DEADLINE_ROUTES: frozenset[Route] = frozenset({Route.MEDIATION, Route.TRIBUNAL})

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReplyContext:
    """What a reply may say: the route, the case and the council's facts. Message text is data only."""

    route: Route  # or its plain string, as the store keeps it
    reference: str
    sender_name: str
    original_subject: str
    received_on: dt.date
    book: RouteBook
    decision: FoundDate | None = None
    deadlines: Deadlines | None = None
    certificate: FoundDate | None = None


@dataclass(frozen=True)
class Draft:
    subject: str
    text: str
    html: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, remembering its verdict on each attribute a template reads.

    Jinja2's verdict (is_safe_attribute: not private, not a Python internal, not a method that changes
    a list, dict, set or deque) depends only on the object's type and the attribute's name, never on
    the value, so it is worked out once per (type, name) instead of on each of the ~70 reads a draft
    makes (half of a draft's rendering time). The names are the templates' own, never message data.
    """

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


def _environment() -> ImmutableSandboxedEnvironment:
    env = _Sandbox(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the code: compiled once, never looked for on disk again (checking
        # them cost a stat per template per draft, included ones too). A changed template needs a restart.
        auto_reload=False,
    )
    env.filters["longdate"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}"
    return env


_ENV = _environment()


def reply_subject(original_subject: str, reference: str) -> str:
    """'Re: <subject> [reference]', without stacking Re: prefixes or repeating the reference."""
    subject = " ".join((original_subject or "").split()) or "Your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    if reference not in subject:
        subject = f"{subject} [{reference}]"
    return subject


def greeting(sender_name: str) -> str:
    """'Dear <name>' when the message gives a usable name, else 'Hello'."""
    name = " ".join(sender_name.replace('"', "").split())
    if not name or "@" in name or not any(c.isalpha() for c in name) or len(name) > 60:
        return "Hello"
    return f"Dear {name}"


def render_draft(ctx: ReplyContext) -> Draft:
    """The draft reply for a route, in text and HTML from the same data."""
    if not is_route(ctx.route):
        raise ValueError(f"unknown route {ctx.route!r}")
    route = Route(ctx.route)
    data = _data(ctx, ctx.book.routes[route])
    return Draft(
        subject=reply_subject(ctx.original_subject, ctx.reference),
        text=_ENV.get_template(f"{route.value}.txt.j2").render(data),
        html=_ENV.get_template(f"{route.value}.html.j2").render(data),
    )


@dataclass(frozen=True)
class AcknowledgementContext:
    reference: str
    sender_name: str
    original_subject: str
    reply_by: dt.date
    book: RouteBook
    safeguarding: bool = False  # the message raised a safeguarding flag: say where to get help now


def render_acknowledgement(ctx: AcknowledgementContext) -> Draft:
    """The automatic acknowledgement: reference, reply-by date, not a decision, time limits keep running."""
    if ctx.sender_name or ctx.original_subject or not _REFERENCE.fullmatch(ctx.reference):
        return _render_acknowledgement(ctx)
    # Intake's acknowledgement names neither the sender nor their subject, so its words depend only on the
    # reply-by date and the safeguarding variant: rendered once for each, with the reference put in after.
    key = (id(ctx.book), ctx.reply_by, ctx.safeguarding)
    cached = _ACKNOWLEDGEMENTS.get(key)
    if cached is None or cached[0] is not ctx.book:
        if len(_ACKNOWLEDGEMENTS) >= 64:
            _ACKNOWLEDGEMENTS.clear()
        cached = _ACKNOWLEDGEMENTS[key] = (ctx.book, _render_acknowledgement(replace(ctx, reference=_MARKER)))
    marked = cached[1]
    return Draft(*(part.replace(_MARKER, ctx.reference) for part in (marked.subject, marked.text, marked.html)))


# Case references are ours (triage.triaging.case_reference): capitals, digits and hyphens, which read the
# same in text, in HTML and in a subject; the marker (private-use characters) is in no template or fact.
_REFERENCE = re.compile(r"[A-Z0-9-]{1,40}")
_MARKER = "\ue000reference\ue000"
_ACKNOWLEDGEMENTS: dict[tuple[int, dt.date, bool], tuple[RouteBook, Draft]] = {}


def _render_acknowledgement(ctx: AcknowledgementContext) -> Draft:
    data = {
        "greeting": greeting(ctx.sender_name), "reference": ctx.reference, "original_subject": ctx.original_subject,
        "reply_by": ctx.reply_by, "council": ctx.book.council, "advice": ctx.book.advice,
        "rules": ctx.book.deadlines, "terms": ctx.book.terms, "safeguarding": ctx.safeguarding,
    }
    return Draft(
        subject=reply_subject(ctx.original_subject, ctx.reference),
        text=_ENV.get_template("acknowledgement.txt.j2").render(data),
        html=_ENV.get_template("acknowledgement.html.j2").render(data),
    )


def render_safeguarding_alert(reference: str, received_at: dt.datetime, reasons: tuple[str, ...]) -> Draft:
    """The alert to the duty address: no names, no message text, not even the sender, in any part."""
    data = {"reference": reference, "received_at": f"{london(received_at):%Y-%m-%d %H:%M} UK time",
            "reasons": reasons or ("model",)}
    return Draft(
        subject=f"Safeguarding alert: case {reference} needs a person now",
        text=_ENV.get_template("safeguarding_alert.txt.j2").render(data),
        html=_ENV.get_template("safeguarding_alert.html.j2").render(data),
    )


def _data(ctx: ReplyContext, facts: RouteFacts) -> dict:
    return {
        "greeting": greeting(ctx.sender_name),
        "reference": ctx.reference,
        "original_subject": ctx.original_subject,
        "received_on": ctx.received_on,
        "facts": facts,
        "council": ctx.book.council,
        "advice": ctx.book.advice,
        "decision": ctx.decision,
        "certificate": ctx.certificate,
        "deadlines": ctx.deadlines if ctx.route in DEADLINE_ROUTES else None,
        "deadline_route": ctx.route in DEADLINE_ROUTES,
        "rules": ctx.book.deadlines,
        "terms": ctx.book.terms,
    }


def london(moment: dt.datetime) -> dt.datetime:
    """A moment in Europe/London time (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(LONDON)


def london_today(moment: dt.datetime) -> dt.date:
    """The day it is in England at that moment: the day deadlines are judged on."""
    return london(moment).date()


def placeholders_in(text: str) -> list[str]:
    """Every placeholder a rendered text still holds, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER_PATTERN.findall(text)))


# Sample cases for `check-config`: every template, rendered as a parent would get it.
_SAMPLE_DECISION = FoundDate(dt.date(2026, 9, 14), "your letter dated 14 September 2026", False, "dated")


def sample_renders(book: RouteBook, today: dt.date = dt.date(2026, 10, 1)) -> dict[str, Draft]:
    """Each template rendered with sample data (name -> draft), for listing the placeholders left."""
    base = ReplyContext(route=Route.OTHER, reference="EHC-260101-SAMPL", sender_name="Sam Sample",
                        original_subject="Sample", received_on=today, book=book)
    drafts: dict[str, Draft] = {}
    for route in Route:
        if route in DEADLINE_ROUTES:
            dated = compute_deadlines(_SAMPLE_DECISION.date, today=today)
            drafts[f"{route} (decision date found)"] = render_draft(
                replace(base, route=route, decision=_SAMPLE_DECISION, deadlines=dated))
            drafts[f"{route} (no date found)"] = render_draft(
                replace(base, route=route, deadlines=compute_deadlines(None, today=today)))
        else:
            drafts[route] = render_draft(replace(base, route=route))
    ack = AcknowledgementContext("EHC-260101-SAMPL", "Sam Sample", "Sample", today, book)
    drafts["acknowledgement"] = render_acknowledgement(ack)
    drafts["acknowledgement (safeguarding)"] = render_acknowledgement(replace(ack, safeguarding=True))
    drafts["safeguarding alert"] = render_safeguarding_alert("EHC-260101-SAMPL",
                                                             dt.datetime(2026, 1, 1, 9, 0), ("sample",))
    return drafts
