"""The one exporter of the event log: `ehc-triage audit export` (the whole chain, JSON lines or CSV) and the
supervisor's log download (the filtered log, CSV) both write their rows with it.

CSV cells are made safe to open in a spreadsheet: a text cell that starts like a formula (=, +, -, @, tab,
carriage return) is written with a leading apostrophe, so a spreadsheet shows it and never runs it. Nested
values (an event's data) are written as JSON with sorted keys, in UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Iterator, Sequence

from .audit import ChainEvent, redact
from .store.report_records import LogRow

# The columns of the whole chain (audit export) and of the supervisor's filtered log.
CHAIN_FIELDS = ("id", "at", "actor", "name", "message", "item", "data", "prev_hash", "hash")
LOG_FIELDS = ("id", "at", "actor", "event", "item", "reference", "data")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def chain_rows(events: Iterable[ChainEvent], redacted: bool) -> Iterator[dict[str, Any]]:
    """Each event of the chain as exported; `redacted` drops names, addresses and message text."""
    for e in events:
        yield {
            "id": e.id, "at": e.at.isoformat(),
            "actor": "[redacted]" if redacted and e.actor not in ("system",) else e.actor,
            "name": e.name, "message": e.message, "item": e.item,
            "data": redact(e.data, e.digests or {}) if redacted else e.data, "prev_hash": e.prev_hash, "hash": e.hash,
        }


def log_rows(rows: Iterable[LogRow]) -> Iterator[dict[str, Any]]:
    """Each row of the supervisor's log, with the case reference of its item."""
    for r in rows:
        yield {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "event": r.name, "item": r.item_id,
               "reference": r.reference, "data": r.data}


def to_jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


def to_csv(rows: Iterable[dict[str, Any]], fields: Sequence[str] = CHAIN_FIELDS) -> Iterator[str]:
    """A header line, then one line per row (streamed: a long log never sits in memory whole)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row.get(name)) for name in fields])
        yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return value
