"""Where mail comes from: an IMAP folder (imapclient) or a local Maildir, behind one small interface.

Intake never deletes, never moves and never sets \\Seen: staff read the same inbox in their
own mail client. It fetches with BODY.PEEK[] and, only after the database has committed a
message, adds a keyword (default $EHCTriaged) so people can see what the service has taken in.

A message over [service] max_message_bytes is not downloaded: a source reads only its first
HEAD_BYTES and hands them over with the message's whole size (FetchedMail.size), and the pipeline
stores it as a stub for review (issue 14: a 50 MB message took 700 MB in the poll).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import socket
import ssl
import zlib
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError as ImapLoginError

from .domain import FetchedMail
from .errors import LoginError, MailboxError, TriageError
from .message_bounds import HEAD_BYTES
from .oauth import refusal_hint, tokens_for
from .settings import ImapSettings


class MailSource(Protocol):
    """A folder of messages with stable UIDs; used as a context manager around one poll."""

    name: str
    folder: str
    batch_size: int  # messages fetched and committed per round trip

    def __enter__(self) -> "MailSource": ...
    def __exit__(self, *exc: object) -> None: ...
    def select(self) -> int:
        """Open the folder; return its UIDVALIDITY."""
    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than last_uid, ascending."""
    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        """The raw messages for these UIDs (missing ones are skipped); of one over the size limit, only
        its first HEAD_BYTES, with its whole size in FetchedMail.size."""
    def unmarked(self, up_to_uid: int) -> list[int]:
        """UIDs up to up_to_uid that do not carry the triaged keyword."""
    def mark(self, uids: Iterable[int]) -> None:
        """Add the triaged keyword to these UIDs."""


class ImapSource:
    """One IMAP folder, read with imapclient."""

    def __init__(self, settings: ImapSettings, max_message_bytes: int | None = None) -> None:
        self.settings = settings
        self.max_message_bytes = max_message_bytes  # [service] max_message_bytes; None: no limit
        self.name = settings.name  # settings name every mailbox (see settings._imap)
        self.folder = settings.folder
        self.batch_size = settings.batch_size
        self._client: IMAPClient | None = None
        self._keywords_allowed = True
        self._uidvalidity = 0

    def __enter__(self) -> "ImapSource":
        s = self.settings
        try:
            context = ssl.create_default_context() if s.ssl else None
            self._client = IMAPClient(s.host, port=s.port, ssl=s.ssl, ssl_context=context, timeout=s.timeout_seconds)
        except (OSError, socket.timeout, IMAPClientError) as exc:
            raise MailboxError(f"cannot connect to IMAP server {s.host}:{s.port}: {exc}") from None
        try:
            self._sign_in(self._client)
        except ImapLoginError as exc:
            self._close()
            raise LoginError(self._refusal(exc)) from None
        except (OSError, IMAPClientError) as exc:
            self._close()
            raise MailboxError(f"IMAP login to {s.host}:{s.port} failed: {exc}") from None
        except TriageError:  # no token to sign in with, or the server does not offer the mechanism
            self._close()
            raise
        return self

    def _sign_in(self, client: IMAPClient) -> None:
        """Log in with the password, or authenticate with an OAuth2 token (XOAUTH2 or OAUTHBEARER)."""
        s = self.settings
        if s.oauth2 is None:
            client.login(s.username, s.password)
            return
        mechanism = s.oauth2.mechanism.upper()
        if not client.has_capability(f"AUTH={mechanism}"):
            offered = " ".join(sorted(c.decode()[5:] for c in client.capabilities() if c.startswith(b"AUTH=")))
            raise MailboxError(f"IMAP server {s.host}:{s.port} does not offer {mechanism} sign-in; set "
                               f"[imap] oauth2_mechanism to one it offers ({offered or 'none'})")
        tokens = tokens_for(s.oauth2)
        token = tokens.access_token()
        try:
            if mechanism == "OAUTHBEARER":
                client.oauthbearer_login(s.username, token)
            else:
                client.oauth2_login(s.username, token)
        except ImapLoginError:
            tokens.forget()  # expired or revoked: the next sign-in asks for a new one
            raise

    def _refusal(self, exc: Exception) -> str:
        s = self.settings
        if s.oauth2 is None:
            return (f"IMAP login refused for {s.username!r} at {s.host}:{s.port}; check [imap] username and the "
                    f"password in the environment variable named by password_env ({_reason(exc)})")
        return (f"IMAP login refused the OAuth2 token for {s.username!r} at {s.host}:{s.port}; "
                f"{refusal_hint(s.oauth2)} ({_reason(exc)})")

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # the connection may already be gone; nothing to save
                pass
            self._close()

    def _close(self) -> None:
        if self._client is not None:
            try:
                self._client.shutdown()
            except Exception:
                pass
        self._client = None

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError("IMAP source used outside its 'with' block")
        return self._client

    def select(self) -> int:
        try:
            info = self.client.select_folder(self.folder)
        except IMAPClientError as exc:
            raise MailboxError(f"cannot open IMAP folder {self.folder!r}: {exc}") from None
        flags = info.get(b"PERMANENTFLAGS", ())
        self._keywords_allowed = b"\\*" in flags or self.settings.keyword.encode() in flags
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        return self._uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        # "n:*" always matches the highest UID, even when it is below n (RFC 3501 6.4.8).
        return sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        if not uids:
            return
        if self.max_message_bytes is None:
            data = self.client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
            mails = {uid: (parts.get(b"BODY[]"), parts.get(b"INTERNALDATE"), None) for uid, parts in data.items()}
        else:
            mails = self._fetch_within(uids, self.max_message_bytes)
        for uid in sorted(mails):
            raw, internal, size = mails[uid]
            if raw is None:  # expunged meanwhile
                continue
            if isinstance(internal, dt.datetime) and internal.tzinfo is None:
                internal = internal.astimezone(dt.timezone.utc)  # imapclient gives local time
            yield FetchedMail(self.name, self.folder, self._uidvalidity, uid, bytes(raw), internal, size=size)

    def _fetch_within(self, uids: list[int], limit: int) -> dict[int, tuple[bytes | None, object, int | None]]:
        """Each message's (raw, INTERNALDATE, size if cut): sizes and dates first, then each message within
        the limit whole and, of each larger one, only its first HEAD_BYTES (the pipeline stores its stub)."""
        info = self.client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        asked = set(uids) & set(info)  # a UID expunged meanwhile is not in the answer
        sizes = {uid: int(info[uid][b"RFC822.SIZE"]) for uid in asked if b"RFC822.SIZE" in info[uid]}
        over = sorted(uid for uid, size in sizes.items() if size > limit)
        within = sorted(asked - set(over))
        whole = self.client.fetch(within, ["BODY.PEEK[]"]) if within else {}
        heads = self.client.fetch(over, [f"BODY.PEEK[]<0.{HEAD_BYTES}>"]) if over else {}
        mails = {uid: (whole.get(uid, {}).get(b"BODY[]"), info[uid].get(b"INTERNALDATE"), None) for uid in within}
        mails.update({uid: (heads.get(uid, {}).get(b"BODY[]<0>"), info[uid].get(b"INTERNALDATE"), sizes[uid])
                      for uid in over})
        return mails

    def unmarked(self, up_to_uid: int) -> list[int]:
        if not self._keywords_allowed or up_to_uid < 1:
            return []
        return sorted(self.client.search(["UID", f"1:{up_to_uid}", "UNKEYWORD", self.settings.keyword]))

    def mark(self, uids: Iterable[int]) -> None:
        uids = list(uids)
        if uids and self._keywords_allowed:
            self.client.add_flags(uids, [self.settings.keyword.encode()], silent=True)


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.decode() if isinstance(text, bytes) else text


class MaildirSource:
    """A local Maildir read like an IMAP folder: UIDs and the triaged keyword live in a state file.

    Used by the embedded demo and for councils that deliver mail to disk. Message files are
    never changed; the state file `ehc-triage-uids.json` sits beside cur/, new/ and tmp/.
    """

    STATE_FILE = "ehc-triage-uids.json"

    def __init__(self, path: Path, batch_size: int = 50, max_message_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.max_message_bytes = max_message_bytes  # [service] max_message_bytes; None: no limit
        self.name = f"maildir:{self.path}"
        self.folder = "INBOX"
        self.batch_size = batch_size
        self._state: dict = {}
        self._files: dict[str, Path] = {}

    def __enter__(self) -> "MaildirSource":
        if not (self.path / "cur").is_dir() or not (self.path / "new").is_dir():
            raise MailboxError(f"{self.path} is not a Maildir (it needs cur/ and new/ folders)")
        return self

    def __exit__(self, *exc: object) -> None:
        self._save()

    def select(self) -> int:
        state_path = self.path / self.STATE_FILE
        if state_path.exists():
            self._state = json.loads(state_path.read_text())
        else:
            validity = zlib.crc32(str(self.path.resolve()).encode()) or 1
            self._state = {"uidvalidity": validity, "next_uid": 1, "uids": {}, "marked": []}
        self._files = {}
        for sub in ("new", "cur"):
            for file in (self.path / sub).iterdir():
                if file.is_file() and not file.name.startswith("."):
                    self._files[file.name.split(":", 1)[0]] = file
        uids = self._state["uids"]
        for key in sorted(self._files, key=lambda k: (self._files[k].stat().st_mtime_ns, k)):
            if key not in uids:
                uids[key] = self._state["next_uid"]
                self._state["next_uid"] += 1
        self._save()
        return int(self._state["uidvalidity"])

    def _save(self) -> None:
        if not self._state:
            return
        state_path = self.path / self.STATE_FILE
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state, indent=1, sort_keys=True))
        os.replace(tmp, state_path)

    def _by_uid(self) -> dict[int, str]:
        return {uid: key for key, uid in self._state["uids"].items() if key in self._files}

    def uids_after(self, last_uid: int) -> list[int]:
        return sorted(uid for uid in self._by_uid() if uid > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        by_uid = self._by_uid()
        for uid in uids:
            key = by_uid.get(uid)
            if key is None:
                continue
            file = self._files[key]
            try:
                with file.open("rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    over = self.max_message_bytes is not None and size > self.max_message_bytes
                    raw = f.read(HEAD_BYTES) if over else f.read()  # over the limit: only its stub's head
            except FileNotFoundError:  # moved by a mail client between scan and read
                continue
            yield FetchedMail(self.name, self.folder, int(self._state["uidvalidity"]), uid, raw, _header_date(raw),
                              size=size if over else None)

    def unmarked(self, up_to_uid: int) -> list[int]:
        marked = set(self._state["marked"])
        return sorted(uid for uid in self._by_uid() if uid <= up_to_uid and uid not in marked)

    def mark(self, uids: Iterable[int]) -> None:
        marked = set(self._state["marked"]) | set(uids)
        self._state["marked"] = sorted(marked)
        self._save()


def _header_date(raw: bytes) -> dt.datetime | None:
    """A Maildir has no INTERNALDATE: use the Date header, as a mail client would show it."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    for line in head.decode("latin-1").splitlines():
        if line.lower().startswith("date:"):
            try:
                parsed = email.utils.parsedate_to_datetime(line[5:].strip())
            except (TypeError, ValueError, IndexError):
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def open_sources(mailboxes: Iterable[ImapSettings], maildir: Path | None,
                 max_message_bytes: int | None = None) -> list[MailSource]:
    """The configured mail sources: each IMAP mailbox, else the Maildir; a message over
    max_message_bytes ([service]) is fetched only as far as its stub needs."""
    sources: list[MailSource] = [ImapSource(m, max_message_bytes) for m in mailboxes]
    if not sources and maildir is not None:
        sources.append(MaildirSource(maildir, max_message_bytes=max_message_bytes))
    return sources


__all__ = ["MailSource", "ImapSource", "MaildirSource", "open_sources"]


def record_reply(settings: ImapSettings, sent_folder: str, folder: str, uidvalidity: int, uid: int,
                 raw: bytes) -> None:
    """After a reply is sent: keep a copy in the Sent folder and mark the original \\Answered."""
    with ImapSource(settings) as source:
        client = source.client
        if not client.folder_exists(sent_folder):
            client.create_folder(sent_folder)
        client.append(sent_folder, raw, flags=[b"\\Seen"])
        info = client.select_folder(folder)
        if int(info[b"UIDVALIDITY"]) == uidvalidity:  # else the UID names another message now
            client.add_flags([uid], [b"\\Answered"], silent=True)
