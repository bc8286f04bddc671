"""Grouping safeguarding alerts: one alert per sender per hour, with a count; never fewer than one per
new sender.

The duty team must hear at once about every sender whose mail is flagged, but a parent writing five
distressed messages in ten minutes should not bury the duty inbox in five alerts. So:

- A flagged message from a sender with no alert queued in the last hour gets an alert at once.
- A flagged message from a sender whose alert was queued less than an hour ago gets none: it is
  *grouped* into that alert (a `safeguarding_alert_grouped` event with the alert's time and how many
  flagged messages from the sender that alert now covers; the item page shows it).
- The sender's next alert (after the hour) counts the messages grouped since their previous alert and
  names their case references, so the duty team learns the number by email too. Flagged items are at
  the top of the queue whatever happens to alerts.

Senders are compared as the acknowledgement window compares them (triage.addresses.normalise). Alerts
never name the sender: the count line gives case references only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable

from replies import Draft

from .addresses import normalise

if TYPE_CHECKING:
    from .store import Store

WINDOW = dt.timedelta(hours=1)
LOOKBACK = dt.timedelta(days=2)  # how far back a sender's previous alert is looked for (for its count)


@dataclass
class _Sender:
    alert_at: dt.datetime  # when the sender's latest alert was queued
    grouped: list[str] = field(default_factory=list)  # case references grouped into it since


@dataclass(frozen=True)
class AlertDecision:
    """`send`: queue an alert now (its text gains `earlier`, the references grouped into the sender's
    previous alert); otherwise the message is grouped into the alert of `alert_at`, which now covers
    `count` flagged messages from the sender."""

    send: bool
    alert_at: dt.datetime
    count: int = 1
    earlier: tuple[str, ...] = ()


class AlertWindow:
    """The senders alerted lately, read (on the batch's first flagged message) once per intake batch and
    carried along it like the acknowledgement window, so two flagged messages from one sender in one
    batch make one alert."""

    def __init__(self, load: Callable[[], dict[str, _Sender]] | None = None) -> None:
        self._load = load
        self._senders: dict[str, _Sender] = {}

    @classmethod
    def of(cls, store: Store, at: dt.datetime) -> "AlertWindow":
        """The window as the store has it at `at`, read only when first needed."""
        return cls(lambda: _senders(store, at))

    def decide(self, address: str, reference: str, at: dt.datetime) -> AlertDecision:
        """Alert now, or group into the sender's alert of the last hour; remembers the outcome."""
        if self._load is not None:
            self._senders, self._load = self._load(), None
        key = normalise(address) if address else ""
        last = self._senders.get(key) if key else None
        if last is not None and at - last.alert_at < WINDOW:
            last.grouped.append(reference)
            return AlertDecision(False, last.alert_at, 1 + len(last.grouped))
        earlier = tuple(last.grouped) if last is not None else ()
        if key:  # a message with no sender address is never grouped: each gets its alert
            self._senders[key] = _Sender(at)
        return AlertDecision(True, at, 1, earlier)


def _senders(store: Store, at: dt.datetime) -> dict[str, _Sender]:
    """Each sender's latest alert before `at` (within LOOKBACK) and the references grouped into it."""
    senders: dict[str, _Sender] = {}
    for address, queued_at in store.safeguarding.recent_alerts(at - LOOKBACK):
        key = normalise(address)
        if key and (key not in senders or queued_at > senders[key].alert_at):
            senders[key] = _Sender(queued_at)
    for address, alert_at, reference in store.safeguarding.grouped_alerts(at - LOOKBACK):
        sender = senders.get(normalise(address))
        if sender is not None and alert_at is not None and abs((alert_at - sender.alert_at).total_seconds()) < 1:
            sender.grouped.append(reference)
    return senders


def with_count(alert: Draft, earlier: tuple[str, ...], previous_at: dt.datetime | None = None) -> Draft:
    """The alert with a line counting the messages grouped into the sender's previous alert (if any)."""
    if not earlier:
        return alert
    n = len(earlier)
    line = (f"Also: {n} more flagged message{'' if n == 1 else 's'} from the same sender arrived within the hour "
            f"after their previous alert and {'was' if n == 1 else 'were'} grouped into it, not alerted "
            f"separately: case{'' if n == 1 else 's'} {', '.join(earlier)}.")
    return replace(alert, text=f"{alert.text.rstrip()}\n\n{line}\n",
                   html=f"{alert.html}<p>{line}</p>" if alert.html else alert.html)
