"""Mutated messages from the shared MIME corpus (../shared/corpus/mime), for the fault-injection suite.

Each mutation is deterministic (a seed per case) and marked with an `X-Fault-Case` header put first,
so a stored message is matched to its case whatever the mutation did to the rest: truncated, bytes
flipped, headers duplicated, NULs, bogus charsets and boundaries, header fields longer than their
columns (a Reply-To over 320 characters, a 1,000-character non-ASCII Message-ID), dates past year
9999 or before year 1, and two or three of these at once.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable, Iterator

from .faults import MIME_CORPUS, with_case


def corpus() -> list[bytes]:
    """The shared corpus's messages; a clear error when ../shared is not there (CI always has it)."""
    files = sorted(MIME_CORPUS.glob("*.eml")) if MIME_CORPUS.is_dir() else []
    if not files:
        raise FileNotFoundError(f"the shared MIME corpus is missing: expected .eml files in {MIME_CORPUS} "
                                "(the repository's sibling ../shared, present in CI)")
    return [f.read_bytes() for f in files]


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(headers, separator, body) at the first blank line."""
    m = re.search(rb"\r?\n\r?\n", raw)
    return (raw, b"", b"") if m is None else (raw[: m.start()], raw[m.start(): m.end()], raw[m.end():])


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randint(1, max(1, len(raw) - 1))]


def flip_bytes(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 40)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def duplicate_headers(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = _split(raw)
    lines = head.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        line = rng.choice(lines)
        if b":" in line:
            name = line.split(b":", 1)[0]
            lines.insert(rng.randrange(len(lines) + 1), name + b": " + rng.choice(
                [line.split(b":", 1)[1].strip(), b"<dup-%d@example.org>" % rng.randrange(10**6), b"", b"=?utf-8?q?d=FCp?="]))
    return b"\n".join(lines) + sep + body


def nuls(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 30)):
        data.insert(rng.randrange(len(data) + 1), 0)
    return bytes(data)


_CHARSETS = [b"x-bogus", b"utf-7", b"unicode-1-1-utf-7", b"iso-8859-99", b"\"\"", b"utf-8\x00", b"%s" % (b"x" * 300),
             b"cp65001", b"utf-32", b"latin-1'en'"]


def bogus_charset(raw: bytes, rng: random.Random) -> bytes:
    charset = rng.choice(_CHARSETS)
    out, n = re.subn(rb"charset=\"?[^\s;\"]+\"?", b"charset=" + charset, raw, flags=re.IGNORECASE)
    if n == 0:
        head, sep, body = _split(raw)
        out = head + b"\r\nSubject: =?" + charset + b"?Q?caf=E9_=FC?=\r\nContent-Type: text/plain; charset=" \
            + charset + sep + body
    return out


def bogus_boundary(raw: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:  # a boundary that never appears
        return re.sub(rb"boundary=\"?[^\s;\"]+\"?", b'boundary="not-in-the-body"', raw, flags=re.IGNORECASE)
    if choice == 1:  # no boundary parameter at all
        return re.sub(rb";\s*boundary=\"?[^\s;\"]+\"?", b"", raw, flags=re.IGNORECASE)
    if choice == 2:  # a 5,000-character boundary
        return re.sub(rb"boundary=\"?[^\s;\"]+\"?", b'boundary="' + b"b" * 5000 + b'"', raw, flags=re.IGNORECASE)
    head, sep, body = _split(raw)  # multipart with unterminated, nested parts
    return (re.sub(rb"(?im)^content-type:.*$", b"", head) + b"\r\nContent-Type: multipart/mixed; boundary=x" + sep
            + b"--x\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\n" + body)


def long_fields(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = _split(raw)
    local = "r" * rng.randint(321, 700)
    extra = rng.choice([
        b"Reply-To: " + local.encode() + b"@example.org",
        b"From: " + b"N" * 400 + b" <" + local.encode() + b"@example.org>",
        b"Message-ID: <" + ("\u00e9" * 1000).encode() + b"@example.org>",
        b"Subject: " + b"S" * 20000,
        b"To: " + b", ".join(b"p%d@example.org" % i for i in range(3000)),
    ])
    return extra + b"\r\n" + head + sep + body


def extreme_date(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = _split(raw)
    date = rng.choice([b"Fri, 31 Dec 9999 23:59:59 -1200", b"Mon, 1 Jan 0001 00:00:00 +1400",
                       b"Sat, 30 Feb 2026 25:61:61 +9999", b"31 Dec 9999 23:59:60 -2359", b"yesterday"])
    head = re.sub(rb"(?im)^date:.*$", b"X-Old-Date: gone", head)
    return b"Date: " + date + b"\r\n" + head + sep + body


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncated": truncate, "bytes flipped": flip_bytes, "headers duplicated": duplicate_headers, "NULs": nuls,
    "bogus charset": bogus_charset, "bogus boundary": bogus_boundary, "over-long fields": long_fields,
    "extreme date": extreme_date,
}


def mutated(count: int, seed: int = 14) -> Iterator[tuple[str, str, bytes]]:
    """(case, what was done, message) for `count` mutations of the corpus, one to three mutations each."""
    messages = corpus()
    rng = random.Random(seed)
    names = list(MUTATIONS)
    for n in range(count):
        raw = messages[n % len(messages)]
        done = [names[n % len(names)]] + rng.sample(names, rng.choice([0, 0, 1, 2]))
        for name in done:
            raw = MUTATIONS[name](raw, rng) or raw
        case = f"m{n}"
        yield case, "+".join(done), with_case(case, raw)
