"""An email body cut into the writer's new text, our own quoted emails and other people's quoted text.

Decision dates (replies.decision_dates) are read only from the first two: other people's words are
never read, and a quoted email is ours when its header names the council (or, with no foreign
address, when it carries our case reference). Every pattern has bounded repetition.
"""

from __future__ import annotations

import re
from typing import Sequence

_CASE_REF = re.compile(r"\bEHC-\d{6}-[A-Z0-9]{5}(?:[A-Z0-9]{3})?\b")  # 5 characters before December 2026, 8 since
_WEBMAIL = ("gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "outlook.com", "live.co.uk",
            "yahoo.com", "yahoo.co.uk", "icloud.com", "btinternet.com", "aol.com")
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]{0,4}>)+")
_ON_WROTE = re.compile(r"^\s{0,4}on\b.{0,300}\bwrote:\s*$", re.I)
_ON_START = re.compile(r"^\s{0,4}on\s.{0,200}\d", re.I)
_WROTE_END = re.compile(r"\bwrote:\s*$", re.I)
_SEPARATOR = re.compile(r"^\s{0,4}(?:-{2,}\s{0,3}(?:original\s{1,3}message|forwarded\s{1,3}message)\s{0,3}-{2,}|"
                        r"_{8,}|begin\s{1,3}forwarded\s{1,3}message:?)\s*$", re.I)
_HEADER_FIELD = re.compile(r"^\s{0,4}(?:from|sent|date|to|cc|bcc|subject|reply-to|importance):", re.I)
_FROM_FIELD = re.compile(r"^\s{0,4}from:", re.I)
_ADDRESS = re.compile(r"[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63}){1,8})")


def _names_us(header: str, ours: Sequence[str]) -> bool:
    low = header.lower()
    for name in ours:
        name = name.strip().lower()
        if len(name) >= 4 and name in low:
            return True
        if "@" in name:
            domain = name.rsplit("@", 1)[1]
            if domain not in _WEBMAIL and any(m.group(1).lower() == domain for m in _ADDRESS.finditer(low)):
                return True
    return False


def split_by_writer(text: str, ours: Sequence[str]) -> list[tuple[str, str]]:
    """(source, text) parts: 'message' (the writer's new text), 'our_email', or 'other' (not read)."""
    lines = text.split("\n")
    depth_of = []
    content = []
    for line in lines:
        m = _QUOTE_PREFIX.match(line)
        depth_of.append(m.group(0).count(">") if m else 0)
        content.append(line[m.end():] if m else line)
    # owner per quote depth: a block number, into blocks[] of (header text, [line indexes])
    blocks: list[tuple[list[str], list[int]]] = [([], [])]  # block 0: the new text
    owner: dict[int, int] = {}
    pending: tuple[int, int] | None = None  # (depth of the header, its block) until its first body line
    i, n = 0, len(lines)
    while i < n:
        depth, line = depth_of[i], content[i]
        header: list[str] = []
        if _ON_WROTE.match(line):
            header = [line]
        elif _ON_START.match(line) and i + 1 < n and depth_of[i + 1] == depth and _WROTE_END.search(content[i + 1]):
            header = [line, content[i + 1]]
        elif _SEPARATOR.match(line) or (_FROM_FIELD.match(line) and any(
                _HEADER_FIELD.match(content[j]) and not _FROM_FIELD.match(content[j])
                for j in range(i + 1, min(n, i + 3)))):
            header = [line]
            j = i + 1
            while j < n and j < i + 12 and (_HEADER_FIELD.match(content[j]) or
                                            (not content[j].strip() and j == i + 1 and _SEPARATOR.match(line))):
                header.append(content[j])
                j += 1
            header_len = j - i
        if header:
            blocks.append((header, []))
            pending = (depth, len(blocks) - 1)
            i += len(header) if not (_SEPARATOR.match(line) or _FROM_FIELD.match(line)) else header_len
            continue
        if pending is not None and line.strip():
            h_depth, block = pending
            for d in [d for d in owner if d >= h_depth]:
                del owner[d]
            owner[h_depth + 1 if depth > h_depth else h_depth] = block
            pending = None
        block = max(((d, b) for d, b in owner.items() if d <= depth), default=(0, 0))[1] if depth or owner else 0
        if depth and not any(d <= depth and d > 0 for d in owner) and not (0 in owner):
            block = -depth  # quoted lines with no header: someone's, we cannot tell whose
        blocks_index = block
        if blocks_index < 0:
            blocks.append((["(no header)"], [i]))
            owner[depth] = len(blocks) - 1
        else:
            blocks[blocks_index][1].append(i)
        i += 1
    parts = []
    for b, (header, indexes) in enumerate(blocks):
        if not indexes:
            continue
        body = "\n".join(content[k] for k in indexes)
        if b == 0:
            source = "message"
        else:
            head = "\n".join(header)
            foreign = bool(_ADDRESS.search(head)) and any("@" in o for o in ours)
            source = "our_email" if _names_us(head, ours) or (not foreign and _CASE_REF.search(body)) else "other"
        parts.append((source, body))
    return parts

