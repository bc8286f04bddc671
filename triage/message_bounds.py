"""How much of one message intake reads: the limits that keep every message's parsing bounded.

One message must not stall intake (issue 14). The email parser costs a few microseconds a line, and the
standard library reads some headers in time that grows with the square of their length, so a message
is read only when it is within these bounds; one that is not is stored as a stub for review (its
headers, from its first HEAD_BYTES, and the reason), never dropped and never left blocking the poll.
"""

from __future__ import annotations

import email.policy

HEAD_BYTES = 65_536  # an oversized message's stub is read from, and stored as, its first bytes
# The email parser costs about a microsecond a line (ten for a header line), and a hostile body can be
# nothing but line breaks (5 MB of them: 25 s). Real mail has far fewer: 25 MB of base64 is 330,000 lines.
MAX_LINES = 500_000
MAX_HEADER_BLOCK = 1_000_000  # bytes of a message's own headers
MAX_HEADER_CHARS = 64_000  # of one header field's value, in every MIME part (see BoundedHeaders)
MAX_CONTENT_HEADER_CHARS = 4_000  # of a Content-* field's value: its parameters are read in quadratic time


class BoundedHeaders(email.policy.Compat32):
    """compat32, with each header field's value cut to MAX_HEADER_CHARS as the parser reads it.

    The standard library reads some headers in time that grows with the square of their length: a
    Content-Type or Content-Disposition of 2 MB of parameters took 170 s (email.message._parseparam, used
    for the charset, the filename and the MIME boundary; 64 KB of quoted semicolons still took 20 s), a
    From of 2 MB of encoded words 90 s. Real headers are far shorter (64,000 characters is over a
    thousand recipients, 4,000 a long RFC 2231 filename); the raw bytes are kept whole.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        limit = MAX_CONTENT_HEADER_CHARS if name.strip().lower().startswith("content-") else MAX_HEADER_CHARS
        return name, value[:limit]


POLICY = BoundedHeaders()


def oversized(raw: bytes, max_bytes: int | None, size: int | None = None) -> bool:
    """Whether a message is over the size limit ([service] max_message_bytes). Intake then stores only
    its first HEAD_BYTES; the whole message stays in the mailbox, where intake never deletes anything.
    `size` is the message's whole size when raw is only its head (the source fetched no more of it)."""
    return max_bytes is not None and (len(raw) if size is None else size) > max_bytes


def header_block_end(raw: bytes) -> int:
    """Where the message's own headers end (just after the line before the first blank line), or its
    length if no blank line comes."""
    ends = [i for i in (raw.find(b"\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return min(ends) + 1 if ends else len(raw)


def unread_reason(raw: bytes, max_bytes: int | None, size: int | None = None) -> str:
    """Why a message is not read ('' when it is read), in words for the caseworker. `size` is the
    message's whole size when raw is only its head (see oversized)."""
    whole = len(raw) if size is None else size
    if oversized(raw, max_bytes, size):
        return f"message larger than {megabytes(max_bytes or 0)} MB ({megabytes(whole)} MB)"
    if whole > len(raw):  # cut by a source under another limit: what came is not the whole message
        return f"only the first {megabytes(len(raw))} MB of the message's {megabytes(whole)} MB was fetched"
    lines = raw.count(b"\n")
    if lines > MAX_LINES:
        return f"message of {lines:,} lines, over the {MAX_LINES:,} read"
    header_bytes = header_block_end(raw)
    if header_bytes > MAX_HEADER_BLOCK:
        return f"headers of {megabytes(header_bytes)} MB, over the {megabytes(MAX_HEADER_BLOCK)} MB read"
    return ""


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f}".removesuffix(".0")
