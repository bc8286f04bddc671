"""One fetched message made ready for triage: parsed, keyed, dated, and (when read by the backlog worker)
already classified. Shared by the poll (triage.pipeline) and the backlog worker (triage.backlog_worker),
so a message is read the same way in either process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .classifying import Verdict
from .domain import FetchedMail, ParsedMessage, dedupe_key
from .parsing import HEAD_BYTES, oversized, parse_message


@dataclass(frozen=True)
class Incoming:
    """One fetched message, parsed, with what decides its fate before any model runs."""

    fetched: FetchedMail
    parsed: ParsedMessage
    key: str
    received: dt.datetime
    recorded_only: bool
    verdict: Verdict | None = None  # its classification, when it was classified ahead (in the backlog worker)


def read_incoming(fetched: FetchedMail, max_bytes: int, since: dt.date | None, now: dt.datetime) -> Incoming:
    """Parse one fetched message (an oversized one is cut to its head, as it will be stored); it is
    received at the server's date, else its own Date, else `now`; older than `since`: recorded only."""
    parsed = parse_message(fetched.raw, max_bytes=max_bytes, size=fetched.size)  # a cut message: its true size
    if oversized(fetched.raw, max_bytes, fetched.size):  # a stub: its head is all that is stored
        fetched = replace(fetched, raw=fetched.raw[:HEAD_BYTES])
    received = fetched.internal_date or parsed.date or now
    return Incoming(fetched, parsed, dedupe_key(parsed.message_id, fetched.raw), received,
                    bool(since and received.date() < since))
