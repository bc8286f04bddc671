"""Render drafts and acknowledgements from Jinja2 templates in a sandbox.

Nothing from an incoming email is ever evaluated as template code: templates come only from
replies/templates/, the message's words reach them only as data, the environment is sandboxed,
undefined names are errors (StrictUndefined), and HTML output is autoescaped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .deadlines import Deadlines, FoundDate
from .facts import ROUTES, RouteBook, RouteFacts

# Routes whose drafts state the mediation and appeal deadlines.
DEADLINE_ROUTES = ("mediation", "tribunal")

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReplyContext:
    """What a reply may say: the route, the case and the council's facts. Message text is data only."""

    route: str
    reference: str
    sender_name: str
    original_subject: str
    received_on: dt.date
    book: RouteBook
    decision: FoundDate | None = None
    deadlines: Deadlines | None = None


@dataclass(frozen=True)
class Draft:
    subject: str
    text: str
    html: str


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
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
    if ctx.route not in ROUTES:
        raise ValueError(f"unknown route {ctx.route!r}")
    data = _data(ctx, ctx.book.routes[ctx.route])
    return Draft(
        subject=reply_subject(ctx.original_subject, ctx.reference),
        text=_ENV.get_template(f"{ctx.route}.txt.j2").render(data),
        html=_ENV.get_template(f"{ctx.route}.html.j2").render(data),
    )


@dataclass(frozen=True)
class AcknowledgementContext:
    reference: str
    sender_name: str
    original_subject: str
    reply_by: dt.date
    book: RouteBook


def render_acknowledgement(ctx: AcknowledgementContext) -> Draft:
    """The automatic acknowledgement: reference, reply-by date, not a decision, time limits keep running."""
    data = {
        "greeting": greeting(ctx.sender_name), "reference": ctx.reference, "original_subject": ctx.original_subject,
        "reply_by": ctx.reply_by, "council": ctx.book.council, "advice": ctx.book.advice,
    }
    return Draft(
        subject=reply_subject(ctx.original_subject, ctx.reference),
        text=_ENV.get_template("acknowledgement.txt.j2").render(data),
        html=_ENV.get_template("acknowledgement.html.j2").render(data),
    )


def render_safeguarding_alert(reference: str, received_at: dt.datetime, reasons: tuple[str, ...]) -> Draft:
    """The alert to the duty address: no names, no message text, not even the sender, in any part."""
    data = {"reference": reference, "received_at": f"{received_at:%Y-%m-%d %H:%M} UTC", "reasons": reasons or ("model",)}
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
        "deadlines": ctx.deadlines if ctx.route in DEADLINE_ROUTES else None,
    }
