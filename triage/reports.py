"""What the CLI prints about the service: tables, JSON lines and text blocks, built from the service's records.

Rendering lives here so the commands only parse options, call the service and print. Text that came
in a message (subjects, names, addresses, server errors) can hold terminal escape sequences, so every
table cell and text line passes through `visible` first: a subject cannot recolour or rewrite the
caseworker's terminal.
"""

from __future__ import annotations

import html
import json
from typing import Any, Iterable, Mapping

from replies import RouteBook
from replies.drafting import placeholders_in, sample_renders

from .domain import PollReport, QueueEntry
from .health import HealthReport
from .outbox import SendReport
from .settings import Settings
from .domain import OutboxEntry
from .store.records import User

# Bidirectional-text controls can reorder what a terminal shows without being control characters.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_VISIBLE = {c: _NAMED.get(chr(c), f"\\x{c:02x}") for c in (*range(0x20), *range(0x7F, 0xA0))}
_VISIBLE.update({ord(c): f"\\u{ord(c):04x}" for c in _BIDI})
# In JSON, C0 controls are escaped by json.dumps already; the rest get JSON's own \u escapes (same value).
_JSON_SAFE = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), *map(ord, _BIDI))}


def visible(text: str) -> str:
    """The text with control characters (ESC, CR, ...) and bidi controls shown as `\\x1b`-style escapes."""
    return text.translate(_VISIBLE)


def json_line(obj: Mapping[str, Any]) -> str:
    """One JSON object on one line, non-ASCII kept readable, nothing a terminal would act on left raw."""
    return json.dumps(obj, ensure_ascii=False).translate(_JSON_SAFE)


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns two spaces apart; the first row is the heading."""
    rows = [tuple(visible(cell) for cell in row) for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def cut(text: str, width: int) -> str:
    """The text on one line, shortened with an ellipsis to fit the column."""
    text = visible(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# -- queue, outbox, accounts -------------------------------------------------------------------------

def queue_json(e: QueueEntry) -> dict[str, Any]:
    """One item as `queue list --format jsonl` gives it (the README lists the keys)."""
    return {
        "id": e.id, "message_id": e.message_id, "from": e.from_address, "from_name": e.from_name,
        "subject": e.subject, "received_at": e.received_at.isoformat(), "label": e.route,
        "confidence": round(e.confidence, 4), "needs_review": e.needs_review, "safeguarding": e.safeguarding,
        "status": e.status.value, "draft_subject": e.draft_subject, "draft_text": e.draft_text,
        "parse_error": e.parse_error,
    }


def queue_table(entries: Iterable[QueueEntry]) -> str:
    rows = [("ID", "RECEIVED", "FROM", "SUBJECT", "ROUTE", "CONF", "FLAGS", "STATUS")]
    for e in entries:
        flags = ",".join(f for f, on in (("SAFEGUARDING", e.safeguarding), ("review", e.needs_review),
                                          ("broken", bool(e.parse_error))) if on)
        rows.append((str(e.id), f"{e.received_at:%Y-%m-%d %H:%M}", cut(e.from_address, 30), cut(e.subject, 40),
                     e.route, f"{e.confidence:.2f}", flags or "-", e.status.value))
    return table(rows)


def outbox_json(e: OutboxEntry) -> dict[str, Any]:
    return {
        "id": e.id, "kind": e.kind, "to": e.to_address, "subject": e.subject, "status": e.status,
        "attempts": e.attempts, "last_error": e.last_error, "item_id": e.item_id,
        "created_at": e.created_at.isoformat(), "sent_at": e.sent_at.isoformat() if e.sent_at else None,
    }


def outbox_table(entries: Iterable[OutboxEntry]) -> str:
    rows = [("ID", "KIND", "TO", "SUBJECT", "STATUS", "TRIES", "LAST ERROR")]
    for e in entries:
        rows.append((str(e.id), e.kind, cut(e.to_address, 30), cut(e.subject, 40), e.status, str(e.attempts),
                     cut(e.last_error, 50) or "-"))
    return table(rows)


def users_table(accounts: Iterable[User]) -> str:
    rows = [("USERNAME", "ROLE", "STATUS", "CREATED")]
    for u in accounts:
        rows.append((u.username, u.role.value, "active" if u.active else f"disabled {u.disabled_at:%Y-%m-%d}",
                     f"{u.created_at:%Y-%m-%d %H:%M}"))
    return table(rows)


# -- polling and sending -------------------------------------------------------------------------------

def poll_lines(results: Mapping[str, PollReport | Exception]) -> list[tuple[str, bool]]:
    """`poll --once`'s output: one (line, is_error) per mailbox, named when there are several."""
    several = len(results) > 1
    lines = []
    for name, result in results.items():
        prefix = f"{name}: " if several else ""
        if isinstance(result, PollReport):
            lines.append((f"{prefix}fetched {result.fetched}, queued {result.queued}, duplicates {result.duplicates}, "
                          f"recorded only {result.recorded_only}, failed to parse {result.failed_parse}", False))
        else:
            lines.append((visible(f"Error: {prefix}{result}"), True))
    return lines


def send_line(report: SendReport) -> str:
    return (f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
            + (f", interrupted {report.interrupted}" if report.interrupted else "")
            + (f", held {report.held} (a placeholder is still in them: see `outbox list`)" if report.held else ""))


def approved_line(item_id: int, shadow: bool, send_interval_seconds: int) -> str:
    """What `queue approve` prints: approving only queues the reply; the send job sends it."""
    if shadow:
        return f"item {item_id} approved: reply recorded as would-send (shadow mode: nothing is sent)"
    return (f"item {item_id} approved: reply queued; `ehc-triage run` sends it within {send_interval_seconds} "
            f"seconds, `ehc-triage outbox send` sends it now")


# -- health, configuration ------------------------------------------------------------------------------

def status_json(report: HealthReport) -> dict[str, Any]:
    w = report.work
    return {
        "healthy": report.healthy, "at": report.at.isoformat(), "model_version": report.model_version,
        "mailboxes": [{"source": p.source, "last_success_at": p.last_success_at.isoformat() if p.last_success_at else None,
                       "last_attempt_at": p.last_attempt_at.isoformat(), "consecutive_failures": p.consecutive_failures,
                       "last_error": p.last_error} for p in report.polls],
        "items_waiting": w.open_items, "items_past_due": w.past_due, "outbox_pending": w.outbox_pending,
        "outbox_oldest_pending_at": w.oldest_pending_at.isoformat() if w.oldest_pending_at else None,
        "outbox_failed": w.outbox_failed, "parse_failures_last_hour": w.parse_failures_last_hour,
        "problems": [p.text for p in report.problems],
    }


def status_text(report: HealthReport) -> str:
    w = report.work
    lines = [f"{'healthy' if report.healthy else 'UNHEALTHY'} at {report.at:%Y-%m-%d %H:%M} UTC"]
    for p in report.polls:
        last = f"{p.last_success_at:%Y-%m-%d %H:%M} UTC" if p.last_success_at else "never"
        failing = f" ({p.consecutive_failures} failure(s) since: {p.last_error})" if p.consecutive_failures else ""
        lines.append(f"mailbox {p.source}: last successful poll {last}{failing}")
    lines += [
        f"items waiting: {w.open_items} ({w.past_due} past their reply-by date)",
        f"outbox: {w.outbox_pending} waiting, {w.outbox_failed} failed",
        f"parse failures in the last hour: {w.parse_failures_last_hour}",
        f"model: {report.model_version}",
    ]
    lines += [f"problem: {p.text}" for p in report.problems]
    return "\n".join(visible(line) for line in lines)


def chain_text(ok: bool, checked: int, first_broken: int | None, reason: str) -> str:
    if ok:
        return f"event log intact: {checked} events verified"
    return visible(f"event log BROKEN at event {first_broken}: {reason} ({checked - 1} events before it verified)")


def config_text(settings: Settings, book: RouteBook) -> str:
    """`check-config`'s report: the settings used, route facts still to fill in, placeholders per template."""
    missing = book.placeholders()
    lines = [f"settings: {settings.source_file or 'embedded demo default'} (mode {settings.service.mode})"]
    if not settings.safeguarding.duty_address:
        lines.append("warning: [safeguarding] duty_address is not set: safeguarding alerts will not be emailed")
    if missing:
        lines.append(f"{len(missing)} route fact(s) still to fill in (drafts using them cannot be approved, "
                     f"acknowledgements using them are held):")
        lines += [f"  {name}" for name in missing]
    lines.append("placeholders left in each template, rendered with sample data:")
    for name, draft in sample_renders(book).items():
        left = placeholders_in(draft.text + "\n" + html.unescape(draft.html))
        lines.append(f"  {name}: {'; '.join(left) if left else 'none'}")
    if not missing:
        lines.append("route facts: complete")
    return "\n".join(visible(line) for line in lines)
