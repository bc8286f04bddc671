"""The catalogue of events: every kind of thing the event log records, declared once.

Each event is a small frozen dataclass: `name` is what the log stores, `title` what the log and the
timeline show (the `event` template filter; the words the pages have always used), `personal` the fields that hold personal data (their text is
hashed into the chain as a salted digest, so retention and erasure can delete it: triage.audit).
`data()` is the JSON dict stored. A field whose name ends in "_" is stored without it (`from_`
is "from"). The four outbox kinds share event classes whose name is a template ("{kind}_sent").

Code records an event with `store.events.record(Approved(...), actor, item=...)`, or inside a store
transaction with `db.append(s, event, actor, ...)`; it never spells an event's name as a string.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from .domain import OutboxKind, OutboxStatus


@dataclass(frozen=True)
class Event:
    name: ClassVar[str]
    title: ClassVar[str]
    personal: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()  # fields left out of data() when None
    not_data: ClassVar[tuple[str, ...]] = ()  # fields that only make the name (an outbox kind)

    @property
    def event_name(self) -> str:
        """The name stored in the log (an outbox family's template filled in with its kind)."""
        name = type(self).name
        return name.format(kind=getattr(self, "kind").value) if "{" in name else name

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.not_data or (f.name in self.optional and value is None):
                continue
            out[f.name.rstrip("_")] = value
        return out

    def personal_keys(self) -> tuple[str, ...]:
        """The stored keys (of data()) that hold personal data."""
        return tuple(k.rstrip("_") for k in self.personal)


# -- intake --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Received(Event):
    name: ClassVar[str] = "received"
    title: ClassVar[str] = "received"
    personal: ClassVar[tuple[str, ...]] = ("message_id",)
    source: str
    folder: str
    uid: int
    message_id: str


@dataclass(frozen=True)
class Parsed(Event):
    name: ClassVar[str] = "parsed"
    title: ClassVar[str] = "parsed"
    automatic: bool
    defects: list[str]
    attachments: int


@dataclass(frozen=True)
class ParseFailed(Event):
    name: ClassVar[str] = "parse_failed"
    title: ClassVar[str] = "parse failed"
    personal: ClassVar[tuple[str, ...]] = ("error",)
    error: str


@dataclass(frozen=True)
class RecordedOnly(Event):
    name: ClassVar[str] = "recorded_only"
    title: ClassVar[str] = "recorded only"
    reason: str


@dataclass(frozen=True)
class Classified(Event):
    name: ClassVar[str] = "classified"
    title: ClassVar[str] = "classified"
    model_version: str
    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    threshold: float | None


@dataclass(frozen=True)
class ClassificationFailed(Event):
    name: ClassVar[str] = "classification_failed"
    title: ClassVar[str] = "classification failed"
    personal: ClassVar[tuple[str, ...]] = ("error",)  # may quote an address
    error: str


@dataclass(frozen=True)
class SafeguardingFlagged(Event):
    name: ClassVar[str] = "safeguarding_flagged"
    title: ClassVar[str] = "safeguarding flagged"
    personal: ClassVar[tuple[str, ...]] = ("reasons",)
    reasons: list[str]


@dataclass(frozen=True)
class Drafted(Event):
    name: ClassVar[str] = "drafted"
    title: ClassVar[str] = "drafted"
    route: str
    version: int
    flags: list[str]


@dataclass(frozen=True)
class Queued(Event):
    name: ClassVar[str] = "queued"
    title: ClassVar[str] = "queued"
    status: str
    reference: str


@dataclass(frozen=True)
class TriageFailed(Event):
    name: ClassVar[str] = "triage_failed"
    title: ClassVar[str] = "triage failed"
    personal: ClassVar[tuple[str, ...]] = ("error",)  # may quote an address
    error: str


@dataclass(frozen=True)
class AcknowledgementSuppressed(Event):
    name: ClassVar[str] = "acknowledgement_suppressed"
    title: ClassVar[str] = "acknowledgement suppressed"
    personal: ClassVar[tuple[str, ...]] = ("reason",)  # may quote an address
    reason: str


@dataclass(frozen=True)
class AcknowledgementNotComposed(Event):
    """Composing the acknowledgement failed (no outbox row); stored under the outbox failure's name."""

    name: ClassVar[str] = "acknowledgement_failed"
    title: ClassVar[str] = "acknowledgement failed"
    personal: ClassVar[tuple[str, ...]] = ("error",)  # may quote an address
    error: str


@dataclass(frozen=True)
class SafeguardingAlertNotSent(Event):
    name: ClassVar[str] = "safeguarding_alert_not_sent"
    title: ClassVar[str] = "safeguarding alert not sent"
    reason: str


@dataclass(frozen=True)
class UidValidityChanged(Event):
    name: ClassVar[str] = "uidvalidity_changed"
    title: ClassVar[str] = "uidvalidity changed"
    folder: str
    old: int
    new: int


# -- the outbox (one class per outcome, for every kind) ---------------------------------------------

@dataclass(frozen=True)
class OutboxQueued(Event):
    """An email written to the outbox: queued to send, or (shadow mode) recorded as would-send."""

    name: ClassVar[str] = "{kind}_queued"
    title: ClassVar[str] = "queued"
    personal: ClassVar[tuple[str, ...]] = ("to",)
    not_data: ClassVar[tuple[str, ...]] = ("kind", "status")
    kind: OutboxKind
    to: str
    status: OutboxStatus = OutboxStatus.PENDING

    @property
    def event_name(self) -> str:
        suffix = "would_send" if self.status is OutboxStatus.WOULD_SEND else "queued"
        return f"{self.kind.value}_{suffix}"


@dataclass(frozen=True)
class Sent(Event):
    name: ClassVar[str] = "{kind}_sent"
    title: ClassVar[str] = "sent"
    personal: ClassVar[tuple[str, ...]] = ("to", "message_id")
    not_data: ClassVar[tuple[str, ...]] = ("kind",)
    kind: OutboxKind
    outbox: int
    to: str
    attempts: int
    message_id: str


@dataclass(frozen=True)
class SendFailed(Event):
    name: ClassVar[str] = "{kind}_failed"
    title: ClassVar[str] = "failed"
    personal: ClassVar[tuple[str, ...]] = ("error",)  # may quote an address
    not_data: ClassVar[tuple[str, ...]] = ("kind",)
    kind: OutboxKind
    outbox: int
    attempts: int
    error: str


@dataclass(frozen=True)
class Held(Event):
    name: ClassVar[str] = "{kind}_held"
    title: ClassVar[str] = "held"
    not_data: ClassVar[tuple[str, ...]] = ("kind",)
    kind: OutboxKind
    outbox: int
    reason: str
    until: str


@dataclass(frozen=True)
class SendInterrupted(Event):
    name: ClassVar[str] = "send_interrupted"
    title: ClassVar[str] = "send interrupted"
    outbox: int
    kind: str


@dataclass(frozen=True)
class SendRetryScheduled(Event):
    name: ClassVar[str] = "send_retry_scheduled"
    title: ClassVar[str] = "send retry scheduled"
    personal: ClassVar[tuple[str, ...]] = ("error",)  # may quote an address
    outbox: int
    attempts: int
    retry_at: str
    error: str


@dataclass(frozen=True)
class SendRetryRequested(Event):
    name: ClassVar[str] = "send_retry_requested"
    title: ClassVar[str] = "send retry requested"
    outbox: int


@dataclass(frozen=True)
class HealthAlert(Event):
    name: ClassVar[str] = "health_alert"
    title: ClassVar[str] = "health alert"
    condition: str
    problem: str


# -- caseworker decisions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewed(Event):
    name: ClassVar[str] = "viewed"
    title: ClassVar[str] = "viewed"


@dataclass(frozen=True)
class AttachmentDownloaded(Event):
    name: ClassVar[str] = "attachment_downloaded"
    title: ClassVar[str] = "attachment downloaded"
    attachment: int


@dataclass(frozen=True)
class Claimed(Event):
    name: ClassVar[str] = "claimed"
    title: ClassVar[str] = "claimed"
    from_: str | None
    to: str | None


@dataclass(frozen=True)
class Released(Claimed):
    name: ClassVar[str] = "released"
    title: ClassVar[str] = "released"


@dataclass(frozen=True)
class DraftEdited(Event):
    name: ClassVar[str] = "draft_edited"
    title: ClassVar[str] = "draft edited"
    personal: ClassVar[tuple[str, ...]] = ("diff", "subject")
    optional: ClassVar[tuple[str, ...]] = ("subject",)
    from_version: int
    version: int
    diff: str
    diff_truncated: bool
    subject: dict[str, str] | None = None


@dataclass(frozen=True)
class RouteChanged(Event):
    name: ClassVar[str] = "route_changed"
    title: ClassVar[str] = "route changed"
    from_: str
    to: str
    draft_version: int
    replaced_version: int
    flags: list[str]


@dataclass(frozen=True)
class Rejected(Event):
    name: ClassVar[str] = "rejected"
    title: ClassVar[str] = "rejected"
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    from_: str
    reason: str


@dataclass(frozen=True)
class HandledElsewhere(Event):
    name: ClassVar[str] = "handled_elsewhere"
    title: ClassVar[str] = "handled elsewhere"
    personal: ClassVar[tuple[str, ...]] = ("note",)
    from_: str
    note: str


@dataclass(frozen=True)
class Approved(Event):
    name: ClassVar[str] = "approved"
    title: ClassVar[str] = "approved"
    personal: ClassVar[tuple[str, ...]] = ("to",)
    optional: ClassVar[tuple[str, ...]] = ("deadlines_confirmed",)
    route: str
    draft_version: int
    to: str
    deadlines_confirmed: Any = None  # the statutory deadlines the approver confirmed were stale


# -- safeguarding decisions (triage.decisions.safeguarding) ------------------------------------------

@dataclass(frozen=True)
class SafeguardingActionRecorded(Event):
    """What a caseworker did about a flagged message: referral_made, already_known or not_safeguarding."""

    name: ClassVar[str] = "safeguarding_action_recorded"
    title: ClassVar[str] = "safeguarding action recorded"
    personal: ClassVar[tuple[str, ...]] = ("note",)
    action: str
    note: str


@dataclass(frozen=True)
class SafeguardingFlagCleared(Event):
    """A flag judged false, cleared with the reason (supervisors review every one)."""

    name: ClassVar[str] = "safeguarding_flag_cleared"
    title: ClassVar[str] = "safeguarding flag cleared"
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str


@dataclass(frozen=True)
class SafeguardingAlertGrouped(Event):
    """No new duty alert: the sender's alert of the last hour covers this message too (triage.alerts)."""

    name: ClassVar[str] = "safeguarding_alert_grouped"
    title: ClassVar[str] = "safeguarding alert grouped"
    alert_at: str
    count: int


# -- accounts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserAdded(Event):
    name: ClassVar[str] = "user_added"
    title: ClassVar[str] = "user added"
    username: str
    role: str


@dataclass(frozen=True)
class UserDisabled(Event):
    name: ClassVar[str] = "user_disabled"
    title: ClassVar[str] = "user disabled"
    username: str


@dataclass(frozen=True)
class PasswordChanged(Event):
    name: ClassVar[str] = "password_changed"
    title: ClassVar[str] = "password changed"
    username: str


@dataclass(frozen=True)
class LoginFailed(Event):
    name: ClassVar[str] = "login_failed"
    title: ClassVar[str] = "login failed"
    personal: ClassVar[tuple[str, ...]] = ("username", "address")
    username: str
    address: str
    reason: str


@dataclass(frozen=True)
class LoginRefused(LoginFailed):
    name: ClassVar[str] = "login_refused"
    title: ClassVar[str] = "login refused"
    repeats: int = 0  # refusals from the same address left out of the log since the last one recorded


@dataclass(frozen=True)
class LoggedIn(Event):
    name: ClassVar[str] = "logged_in"
    title: ClassVar[str] = "logged in"
    personal: ClassVar[tuple[str, ...]] = ("address",)
    address: str


@dataclass(frozen=True)
class LoggedOut(Event):
    name: ClassVar[str] = "logged_out"
    title: ClassVar[str] = "logged out"


# -- the model -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelTrained(Event):
    name: ClassVar[str] = "model_trained"
    title: ClassVar[str] = "model trained"
    candidate: dict[str, Any]
    current: dict[str, Any] | None
    decision: str
    reasons: list[str]
    confirmed_labels: int
    holdout: int


@dataclass(frozen=True)
class ModelPromoted(Event):
    name: ClassVar[str] = "model_promoted"
    title: ClassVar[str] = "model promoted"
    version: str
    previous: str | None


@dataclass(frozen=True)
class ModelKept(Event):
    name: ClassVar[str] = "model_kept"
    title: ClassVar[str] = "model kept"
    version: str | None
    candidate: str
    reasons: list[str]


@dataclass(frozen=True)
class ModelRolledBack(Event):
    name: ClassVar[str] = "model_rolled_back"
    title: ClassVar[str] = "model rolled back"
    from_: str
    to: str


# -- privacy (triage.privacy: retention, subject access, erasure) ----------------------------------

@dataclass(frozen=True)
class RetentionPurged(Event):
    """Closed items' personal data deleted after [retention] closed_months; the rows stay as stubs."""

    name: ClassVar[str] = "retention_purged"
    title: ClassVar[str] = "retention purged"
    messages: list[int]
    items: list[int]
    cutoff: str
    months: int
    events: int
    outbox: int
    files: int


@dataclass(frozen=True)
class SubjectAccessExported(Event):
    name: ClassVar[str] = "subject_access_exported"
    title: ClassVar[str] = "subject access exported"
    personal: ClassVar[tuple[str, ...]] = ("address", "person_name")
    address: str
    person_name: str
    messages: list[int]
    sha256: str
    due: str


@dataclass(frozen=True)
class ErasureRequested(Event):
    name: ClassVar[str] = "erasure_requested"
    title: ClassVar[str] = "erasure requested"
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    request: int
    reason: str


@dataclass(frozen=True)
class ErasureCancelled(Event):
    name: ClassVar[str] = "erasure_cancelled"
    title: ClassVar[str] = "erasure cancelled"
    request: int


@dataclass(frozen=True)
class Erased(Event):
    """The tombstone: a message's personal data was erased on request (Art. 17) by these two people."""

    name: ClassVar[str] = "erased"
    title: ClassVar[str] = "erased"
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    request: int | None
    reason: str
    requested_by: str
    status_before: str
    events: int
    outbox: int
    files: int


# -- looking events up by their stored name --------------------------------------------------------

_OUTBOX_FAMILIES = (OutboxQueued, Sent, SendFailed, Held)


def _catalogue() -> dict[str, str]:
    """Every stored name -> its title."""
    titles: dict[str, str] = {}
    pending: list[type[Event]] = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls not in _OUTBOX_FAMILIES:
            titles.setdefault(cls.name, cls.title)
    for kind in OutboxKind:
        for suffix in ("queued", "would_send", "sent", "failed", "held"):
            name = f"{kind.value}_{suffix}"
            titles.setdefault(name, name.replace("_", " "))
    return titles


TITLES: dict[str, str] = _catalogue()
NAMES: tuple[str, ...] = tuple(sorted(TITLES))


def title_of(name: str) -> str:
    """What the log, timeline and dashboard call an event (its stored name, readable, when unknown)."""
    return TITLES.get(name) or name.replace("_", " ").capitalize()


def acknowledgement_outcome(name: str) -> str | None:
    """What the dashboard counts an acknowledgement event as: sent, suppressed or would_send."""
    return {Sent.name.format(kind="acknowledgement"): "sent",
            AcknowledgementSuppressed.name: "suppressed",
            "acknowledgement_would_send": "would_send"}.get(name)


def sent_name(kind: OutboxKind) -> str:
    return Sent.name.format(kind=kind.value)


# The names of the events that made a draft version, and the data key holding its number.
DRAFT_VERSION_KEYS = {Drafted.name: "version", DraftEdited.name: "version", RouteChanged.name: "draft_version"}
# Events a person causes that change nothing (an item's version check ignores them).
READ_ONLY = (Viewed.name, AttachmentDownloaded.name)
# What the supervisor's safeguarding page lists: every decision taken about a flag.
SAFEGUARDING_DECISIONS = (SafeguardingActionRecorded.name, SafeguardingFlagCleared.name)
# Decisions that confirm an item's route for retraining.
DECISIONS = (Approved.name, Rejected.name)
