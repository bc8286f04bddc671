"""Slowing down password guessing without letting a stranger lock a real user out.

After each failed sign-in the address it came from waits 1 s, 2 s, 4 s ... (up to [web]
login_delay_max_seconds) before its next attempt, counting the failures of the last
login_window_minutes; the account does the same, but only for addresses that have already failed
on it. So a guesser is slowed per address and per account, while the account's owner, signing in
from an address that never failed on it, is let through at once: failing on purpose against
someone's name cannot keep them out.

A refused attempt is answered before any password is hashed (argon2 costs ~0.4 s of CPU, which an
anonymous flood must not get to spend), and goes into the event chain at most once per address per
minute, with a count of the refusals folded into it.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass

from ..store.accounts import LoginFailures

RECORD_EVERY_SECONDS = 60.0
_FORGET_AFTER = 10_000  # remembered addresses before the idle ones are dropped


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in attempt is refused, and for how many more seconds."""

    wait_seconds: int
    reason: str


def delay(failures: int, max_seconds: int) -> dt.timedelta:
    """The wait after this many remembered failures: none, then 1 s, 2 s, 4 s ... up to max_seconds."""
    if failures <= 0:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(2 ** min(failures - 1, 30), max_seconds))


def refusal(failures: LoginFailures, now: dt.datetime, max_seconds: int) -> Refusal | None:
    """Whether this attempt must wait: its address's delay, or the account's when this address failed on it."""
    waits = []
    if failures.address_last is not None:
        waits.append((failures.address_last + delay(failures.address_count, max_seconds) - now,
                      "failed attempts from this address"))
    if failures.pair_count and failures.account_last is not None:
        waits.append((failures.account_last + delay(failures.account_count, max_seconds) - now,
                      "failed attempts on this account"))
    left, reason = max(waits, key=lambda wait: wait[0], default=(dt.timedelta(0), ""))  # ties: the address
    if left <= dt.timedelta(0):
        return None
    return Refusal(max(1, math.ceil(left.total_seconds())), reason)


class RefusalLog:
    """Which refusals go into the event chain: the first from an address in each minute, with the count
    of those left out since. Kept in memory: it only spaces out log entries, it protects nothing."""

    def __init__(self, every_seconds: float = RECORD_EVERY_SECONDS) -> None:
        self._every = every_seconds
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}  # address -> (when last recorded, refusals left out since)

    def note(self, address: str, clock: float | None = None) -> int | None:
        """A refusal from this address: the number left out before it when it is to be recorded, else None."""
        at = time.monotonic() if clock is None else clock
        with self._lock:
            last = self._seen.get(address)
            if last is not None and at - last[0] < self._every:
                self._seen[address] = (last[0], last[1] + 1)
                return None
            self._seen[address] = (at, 0)
            if len(self._seen) > _FORGET_AFTER:
                self._seen = {a: v for a, v in self._seen.items() if at - v[0] < self._every}
            return 0 if last is None else last[1]
