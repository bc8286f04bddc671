"""Outgoing mail written directly (triage.mime_writing) is the message EmailMessage wrote before.

The reference below is compose()'s previous body, word for word: EmailMessage with policy.default, its
headers set one by one, set_content and add_alternative. For each input both are built, and the bytes
must be equal once the two random parts (the Message-ID's number and the multipart boundary) are made
the same; then both are parsed back with the email package and their headers and decoded parts compared.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import string
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from hypothesis import given, settings, strategies as st

from replies import Draft
from triage.composing import _header_safe, _safe_name, compose
from triage.domain import OutboxKind
from triage.mime_writing import encoded_text, header_field

NOW = dt.datetime(2026, 12, 3, 14, 5, 9, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Answered:
    message_id: str
    references: tuple[str, ...] = ()


def reference_bytes(kind: OutboxKind, draft: Draft, to_address: str, to_name: str, from_address: str,
                    from_name: str, reply_to: Answered | None, now: dt.datetime, message_id: str) -> bytes:
    """compose() as it was before triage.mime_writing (with the Message-ID given, to compare)."""
    threaded = reply_to is not None and bool(reply_to.message_id)
    msg = EmailMessage()
    msg["From"] = Address(display_name=from_name, addr_spec=from_address)
    msg["To"] = Address(display_name=_safe_name(to_name), addr_spec=to_address) if to_name else to_address
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if threaded:
        msg["In-Reply-To"] = reply_to.message_id
        references = [r for r in reply_to.references if _header_safe(r)]
        msg["References"] = " ".join((*references, reply_to.message_id)[-20:])
    if kind is OutboxKind.ACKNOWLEDGEMENT:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    elif kind is OutboxKind.ALERT:
        msg["Auto-Submitted"] = "auto-generated"
        msg["Importance"] = "high"
    msg.set_content(draft.text)
    if draft.html:
        msg.add_alternative(draft.html, subtype="html")
    return bytes(msg)


_BOUNDARY = re.compile(rb'boundary="([^"]+)"')


def _same_boundary(raw: bytes) -> bytes:
    found = _BOUNDARY.search(raw)
    return raw.replace(found.group(1), b"BOUNDARY") if found else raw


def assert_same(kind: OutboxKind, draft: Draft, to_address: str, to_name: str = "",
                from_address: str = "ehc.assessment@brackenford.example.gov.uk",
                from_name: str = "EHC Assessment Team", reply_to: Answered | None = None,
                now: dt.datetime = NOW) -> None:
    new = compose(kind, draft, to_address, to_name, from_address, from_name, reply_to=reply_to, now=now)
    old = reference_bytes(kind, draft, to_address, to_name, from_address, from_name, reply_to, now, new.message_id)
    assert _same_boundary(new.raw) == _same_boundary(old)
    # And what a mail client reads back is the draft: its headers and each part's decoded text.
    parsed = email.message_from_bytes(new.raw, policy=email.policy.default)
    assert parsed["Message-ID"].strip() == new.message_id  # (folded onto a second line when long, as before)
    parts = {p.get_content_type(): p.get_content() for p in parsed.walk() if not p.is_multipart()}
    assert parts == {"text/plain": _lines(draft.text), **({"text/html": _lines(draft.html)} if draft.html else {})}


def _lines(text: str) -> str:
    """A text as set_content stores it: each line ended by one line feed."""
    return (b"\n".join(text.encode().splitlines()) + b"\n").decode()

ACK = Draft("Re: Your message [EHC-261203-K3M9Q]",
            "Hello,\n\nWe have got your email. Your case number is EHC-261203-K3M9Q. Please use it if you contact "
            "us.\n\nWhat happens next\nSomeone will read it.\n",
            '<!DOCTYPE html>\n<html lang="en">\n<p>Hello,</p>\n<p>We have got your email. Your case number is '
            "<strong>EHC-261203-K3M9Q</strong>. Please use it if you contact us.</p>\n</html>\n")
LONG_REFERENCES = tuple(f"<thread.{n:03d}.a1b2c3d4e5@mail.school{n}.example.org>" for n in range(25))

TEXTS = [
    "",
    "Short lines only.\nAll ASCII.\n",
    "A line with no end",
    "Dear Mrs Ní Bhriain,\n\nDiolch am eich neges. Café, naïve, £30.\n",  # 8bit: short non-ASCII lines
    "x" * 200 + "\nthen short\n",  # quoted-printable: a long ASCII line
    ("A long line, then more: " * 8 + "\n") * 12,  # quoted-printable, more than ten lines
    "Ελληνικά κείμενα και πολλά ακόμα γράμματα που δεν είναι ASCII καθόλου, ούτε ένα " * 3 + "\n",  # base64
    ("Ελληνικά " * 20 + "\n") * 14,  # base64, long
    "Windows\r\nline ends\r\nand a lone\rcarriage return\n",
    "--===============1234567890123456789==\nA boundary-like line in the text\n",
    "Trailing spaces   \nand tabs\t\n" + "y" * 90 + " \n",
    "From the start of a line\nFrom here too\n",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("html", ["", ACK.html, "<p>" + "é" * 300 + "</p>\n"])
def test_bodies_are_written_as_email_message_writes_them(text: str, html: str) -> None:
    assert_same(OutboxKind.REPLY, Draft("Re: Sample [EHC-261203-K3M9Q]", text, html), "parent@example.org",
                "Sam Parent", reply_to=Answered("<a1@mail.example.org>"))


@pytest.mark.parametrize("subject", [
    "Re: Your message [EHC-261203-K3M9Q]",
    "Re: Ymholiad am gynllun EHC fy mab – Siôn [EHC-261203-K3M9Q]",
    "Re: " + "a very long subject that goes on " * 5 + "[EHC-261203-K3M9Q]",
    "Re: =?utf-8?q?encoded=20looking?= [EHC-261203-K3M9Q]",
    "Re: two  spaces and\ta tab [EHC-261203-K3M9Q]",
    " leading and trailing ",
    "",
    "Re: 日本語の件名 [EHC-261203-K3M9Q]",
    "Re: (comments) \"quotes\" <angles>, commas; and: colons [EHC-261203-K3M9Q]",
])
def test_subjects(subject: str) -> None:
    assert_same(OutboxKind.REPLY, Draft(subject, "Text.\n", ""), "parent@example.org", "Sam Parent")
    raw = compose(OutboxKind.REPLY, Draft(subject, "Text.\n", ""), "parent@example.org", "Sam Parent",
                  "ehc@x.example", "EHC").raw
    read = str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])
    assert " ".join(read.split()) == " ".join(subject.split()) or "=?" in subject


@pytest.mark.parametrize("to_address,to_name", [
    ("parent@example.org", ""),
    ("parent+ehc@example.org", "Sam Parent"),
    ("o'brien@example.org", "Siobhán O'Brien"),
    ("parent@example.org", "Smith, Jo"),
    ("parent@example.org", "Dr. J. Smith"),
    ("parent@example.org", "Jo \"JJ\" Smith"),
    ("parent@example.org", "Émilie Dupont-Lefèvre"),
    ("parent@example.org", "A name far too long to fit in any header line without folding it over twice"),
    ("very.long.local.part.for.a.parent.who.likes.dots@a-very-long-subdomain.schools.example.org", "Sam"),
    ("parent@example.org", "張偉"),
])
def test_recipients(to_address: str, to_name: str) -> None:
    assert_same(OutboxKind.REPLY, ACK, to_address, to_name)


@pytest.mark.parametrize("from_address,from_name", [
    ("ehc.assessment@brackenford.example.gov.uk", "EHC Assessment Team"),
    ("ehc@brackenford.example.gov.uk", ""),
    ("ehc@brackenford.example.gov.uk", "Brackenford Council, EHC Team"),
    ("ehc@brackenford.example.gov.uk", "Tîm AGIC Cyngor Brackenford"),
])
@pytest.mark.parametrize("kind", list(OutboxKind))
def test_senders_and_kinds(from_address: str, from_name: str, kind: OutboxKind) -> None:
    assert_same(kind, ACK, "parent@example.org", "", from_address, from_name,
                reply_to=Answered("<x@example.org>", ("<w@example.org>",)))


@pytest.mark.parametrize("reply_to", [
    None,
    Answered(""),
    Answered("<a1@mail.example.org>"),
    Answered("<a1@mail.example.org>", LONG_REFERENCES),
    Answered("<" + "z" * 200 + "@mail.example.org>", LONG_REFERENCES[:3]),
    Answered("not-an-angle-id@example.org", ("<bad\nid@x>", "<ok@x>")),
    Answered("<CAK=9x+Q_aB-cD.eF@mail.gmail.example>", ("<[weird]@x>", "<a@[127.0.0.1]>")),
])
def test_threading(reply_to: Answered | None) -> None:
    assert_same(OutboxKind.ACKNOWLEDGEMENT, ACK, "parent@example.org", reply_to=reply_to)


@pytest.mark.parametrize("now", [NOW, dt.datetime(2026, 7, 1, 9, 0), dt.datetime(
    2026, 7, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))])
def test_dates(now: dt.datetime) -> None:
    assert_same(OutboxKind.ACKNOWLEDGEMENT, ACK, "parent@example.org", now=now)


def _texts(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any text, or the plain ASCII (letters, digits, spaces, punctuation) that is written without parsing."""
    return st.one_of(st.text(min_size=min_size, max_size=max_size),
                     st.text(string.ascii_letters + string.digits + string.punctuation + " ",
                             min_size=min_size, max_size=max_size))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400), html=st.text(max_size=200), subject=_texts(120), name=_texts(60),
       references=st.lists(_texts(60, min_size=1), max_size=25))
def test_any_text_subject_name_and_references(text: str, html: str, subject: str, name: str,
                                              references: list[str]) -> None:
    """Whatever a caseworker or a sender could put in them, both ways write the same message, or both
    refuse it with the same error."""
    text, html = text.replace("\x00", ""), html.replace("\x00", "")
    args = (OutboxKind.REPLY, Draft(subject, text, html), "parent@example.org", name)
    reply_to = Answered("<a1@mail.example.org>", tuple(references))
    try:
        reference_bytes(*args, "ehc@x.example", "EHC", reply_to, NOW, "<1.2.reply@x.example>")
    except Exception as exc:
        with pytest.raises(type(exc)):
            compose(*args, "ehc@x.example", "EHC", reply_to=reply_to, now=NOW)
        return
    assert_same(*args, "ehc@x.example", "EHC", reply_to=reply_to)


@pytest.mark.parametrize("name", ["Bcc", "Cc", "Reply-To", "Sender", "Resent-Date", "Date", "Message-ID",
                                  "In-Reply-To", "MIME-Version", "Content-Type", "X-Custom", "Subject"])
@pytest.mark.parametrize("value", ["a@b.example", "Sam <a@b.example>", "Thu, 03 Dec 2026 14:05:09 +0000",
                                   "Thu, 3 Dec 2026 14:05:09 GMT", "<1.2@x.example>", "1.0", "text/plain",
                                   "plain words", "not a date", ""])
def test_any_header_is_written_as_the_policy_writes_it(name: str, value: str) -> None:
    """Whatever the header (address, date, message ID, MIME, free text), the field is the policy's own."""
    policy = email.policy.default
    assert header_field(name, value) == policy.fold_binary(*policy.header_store_parse(name, value))


def test_header_with_a_line_break_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="linefeed"):
        header_field("Subject", "one\ntwo")


def test_transfer_encodings_are_the_content_managers() -> None:
    assert encoded_text("short\n")[0] == "7bit"
    assert encoded_text("café\n")[0] == "8bit"
    assert encoded_text("x" * 100)[0] == "quoted-printable"
    assert encoded_text("Ελληνικά " * 20)[0] == "base64"
