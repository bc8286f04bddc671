"""send_due(): drain the outbox over SMTP (or into files), retry with backoff, mark what was sent.

The only module that talks to SMTP. Each row is claimed before it is sent and marked after, so
two senders never send the same row; a row left half-sent by a crash is failed for a person to
check rather than sent again, because the SMTP server may already have taken it.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Callable, Protocol

from replies.facts import placeholder_line

from .domain import OutboxEntry, OutboxKind, SendOutcome, now
from .errors import SendError, TriageError
from .oauth import refusal_hint, tokens_for
from .private_files import private_dir, write_private
from .settings import OAuth2Settings, OutboxSettings, SmtpSettings
from .store import Store

log = logging.getLogger("triage.outbox")

# Automatic mail (no person approves it) that still holds a placeholder waits this long between checks.
# At most this many rows are claimed (one at a time) by one send_due call.
CLAIMS_PER_RUN = 100
HOLD_MINUTES = 60
_AUTOMATIC = frozenset({OutboxKind.ACKNOWLEDGEMENT, OutboxKind.ALERT})


class TemporaryFailure(Exception):
    """The server could not take the message now; try again later."""


class PermanentFailure(Exception):
    """The server refused the message for good (bad recipient, policy); retrying will not help."""


class Transport(Protocol):
    def __enter__(self) -> "Transport": ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, entry: OutboxEntry, from_address: str) -> None: ...


class SmtpTransport:
    """One SMTP connection for a batch: implicit TLS or STARTTLS, then login when a username is set,
    with the password or an OAuth2 token (XOAUTH2 or OAUTHBEARER)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        s = self.settings
        try:
            if s.ssl:
                self._smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                              context=ssl.create_default_context())
            else:
                self._smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
                if s.starttls:
                    self._smtp.starttls(context=ssl.create_default_context())
            if s.oauth2 is not None:
                self._authenticate(self._smtp, s.oauth2)
            elif s.username:
                self._smtp.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            self._close()
            raise TemporaryFailure(self._refusal(exc)) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise TemporaryFailure(f"cannot reach SMTP server {s.host}:{s.port}: {exc}") from None
        except TriageError as exc:  # no token to sign in with, or the server does not offer the mechanism
            self._close()
            raise TemporaryFailure(str(exc)) from None
        return self

    def _authenticate(self, smtp: smtplib.SMTP, oauth2: OAuth2Settings) -> None:
        """SMTP AUTH with an OAuth2 token, the SASL initial response sent with the command."""
        s = self.settings
        mechanism = oauth2.mechanism.upper()
        smtp.ehlo_or_helo_if_needed()
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if mechanism not in offered:
            raise SendError(f"SMTP server {s.host}:{s.port} does not offer {mechanism} sign-in; set "
                            f"[smtp] oauth2_mechanism to one it offers ({' '.join(offered) or 'none'})")
        tokens = tokens_for(oauth2)
        token = tokens.access_token()
        if mechanism == "OAUTHBEARER":
            initial = _oauthbearer_response(s.username, token, s.host, s.port)
        else:
            initial = _xoauth2_response(s.username, token)
        try:
            # On refusal the server sends a JSON error challenge; the SASL reply to it is empty, then 535.
            smtp.auth(mechanism, lambda challenge=None: initial if challenge is None else "")
        except smtplib.SMTPAuthenticationError:
            tokens.forget()  # expired or revoked: the next batch asks for a new one
            raise

    def _refusal(self, exc: smtplib.SMTPAuthenticationError) -> str:
        s = self.settings
        if s.oauth2 is None:
            return f"SMTP login refused for {s.username!r}; check [smtp] username and password_env ({exc.smtp_code})"
        return f"SMTP login refused the OAuth2 token for {s.username!r}; {refusal_hint(s.oauth2)} ({exc.smtp_code})"

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._close()

    def _close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    def send(self, entry: OutboxEntry, from_address: str) -> None:
        assert self._smtp is not None
        message = message_from_bytes(entry.raw, policy=policy.SMTP)
        try:
            refused = self._smtp.send_message(message, from_addr=from_address, to_addrs=[entry.to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"{exc.smtp_code} {text}") from None
            raise PermanentFailure(f"{exc.smtp_code} {text}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
        if refused:
            raise PermanentFailure(f"recipient refused: {refused}")


def _xoauth2_response(user: str, token: str) -> str:
    """The XOAUTH2 initial response (Google's and Microsoft's SASL mechanism for bearer tokens)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _oauthbearer_response(user: str, token: str, host: str, port: int) -> str:
    """The OAUTHBEARER initial response (RFC 7628): a GS2 header naming the user, then key=value pairs."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


class FileTransport:
    """Writes each message as an .eml file: the embedded demo's 'SMTP server'."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> "FileTransport":
        private_dir(self.directory)  # the files are whole emails: the service's user only
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, entry: OutboxEntry, from_address: str) -> None:
        write_private(self.directory / f"{entry.id:06d}-{OutboxKind(entry.kind).value}.eml", entry.raw)


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0
    errors: tuple[str, ...] = field(default=())
    held: int = 0  # acknowledgements and alerts kept pending: they still hold a placeholder


def send_due(
    store: Store,
    transport: Transport,
    settings: OutboxSettings,
    from_address: str,
    after_sent: Callable[[OutboxEntry], None] | None = None,
    clock: Callable[[], dt.datetime] = now,
    hold_placeholders: bool = True,
) -> SendReport:
    """Send every outbox row that is due, once; the same function the scheduler's job calls.

    With `hold_placeholders`, an acknowledgement or alert that still holds a placeholder
    ("[COUNCIL TO FILL IN ...]") is not sent: it stays pending, checked again in HOLD_MINUTES, and
    the reason is logged in one line and kept as the row's last error (`outbox list`).
    """
    started = clock()
    interrupted = store.outbox.fail_stale_sends(started - dt.timedelta(minutes=settings.stale_sending_minutes))
    outcomes: dict[int, SendOutcome] = {}
    errors: list[str] = []
    held = 0

    def next_due() -> OutboxEntry | None:
        """Claim one due row just before it goes on the wire: a crash mid-send leaves at most that one
        row 'sending' (in doubt, failed for a person to check), never a whole claimed batch."""
        nonlocal held
        while len(outcomes) + held < CLAIMS_PER_RUN:
            claimed = store.outbox.claim_due(started, limit=1)
            if not claimed:
                return None
            entry = claimed[0]
            reason = _unfinished(entry) if hold_placeholders else ""
            if not reason:
                return entry
            store.outbox.hold(entry.id, reason, started + dt.timedelta(minutes=HOLD_MINUTES))
            log.warning("outbox: %s %d not sent, kept pending: %s", entry.kind, entry.id, reason)
            held += 1
        return None

    first = next_due()
    if first is None:
        return SendReport(interrupted=len(interrupted), held=held)
    try:
        with transport:
            entry: OutboxEntry | None = first
            while entry is not None:
                outcomes[entry.id] = _send_one(store, transport, settings, from_address, entry, clock)
                if outcomes[entry.id] is SendOutcome.SENT and after_sent is not None:
                    _after(after_sent, entry)
                entry = next_due()
    except TemporaryFailure as exc:  # the server could not be reached at all: every due row waits
        errors.append(str(exc))
        log.warning("outbox: %s", exc)
        waiting = [first] if first.id not in outcomes else []
        waiting += [e for e in store.outbox.claim_due(started, limit=CLAIMS_PER_RUN) if e.id not in outcomes]
        for entry in waiting:
            outcomes[entry.id] = _unsent(store, settings, entry, str(exc), clock)
    counts = [sum(o is outcome for o in outcomes.values())
              for outcome in (SendOutcome.SENT, SendOutcome.RETRY, SendOutcome.FAILED)]
    log.info("outbox: %d sent, %d to retry, %d failed", *counts)
    return SendReport(*counts, interrupted=len(interrupted), errors=tuple(errors), held=held)


def _unfinished(entry: OutboxEntry) -> str:
    """Why an automatic message must not leave yet ('' if it may): a placeholder in its text."""
    if OutboxKind(entry.kind) not in _AUTOMATIC:
        return ""
    message = message_from_bytes(entry.raw, policy=policy.default)
    for part in message.walk():
        if part.get_content_maintype() == "text":
            line = placeholder_line(part.get_content())
            if line:
                return (f"it still has a placeholder ({line[:100]}); fill in the route facts "
                        f"(`ehc-triage check-config`)")
    return ""


def _send_one(store: Store, transport: Transport, settings: OutboxSettings, from_address: str,
              entry: OutboxEntry, clock: Callable[[], dt.datetime]) -> SendOutcome:
    try:
        transport.send(entry, from_address)
    except TemporaryFailure as exc:
        return _unsent(store, settings, entry, str(exc), clock)
    except PermanentFailure as exc:
        store.outbox.mark_unsent(entry.id, str(exc), retry_at=None)
        return SendOutcome.FAILED
    except (socket.timeout, OSError) as exc:
        return _unsent(store, settings, entry, f"{type(exc).__name__}: {exc}", clock)
    store.outbox.mark_sent(entry.id, clock())
    return SendOutcome.SENT


def _unsent(store: Store, settings: OutboxSettings, entry: OutboxEntry, error: str,
            clock: Callable[[], dt.datetime]) -> SendOutcome:
    if entry.attempts >= settings.max_attempts:
        store.outbox.mark_unsent(entry.id, f"gave up after {entry.attempts} attempts: {error}", retry_at=None)
        return SendOutcome.FAILED
    delay = settings.retry_base_seconds * 2 ** (entry.attempts - 1)
    store.outbox.mark_unsent(entry.id, error, retry_at=clock() + dt.timedelta(seconds=delay))
    return SendOutcome.RETRY


def _after(after_sent: Callable[[OutboxEntry], None], entry: OutboxEntry) -> None:
    """Follow-up work (a copy in Sent, \\Answered on the original) must never undo a send."""
    try:
        after_sent(entry)
    except Exception:
        log.exception("outbox row %d was sent, but the follow-up on the mail server failed", entry.id)
