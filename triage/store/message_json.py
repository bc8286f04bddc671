"""How a parsed message's headers and attachment texts are kept in the messages table, and read back."""

from __future__ import annotations

from typing import Any

from ..domain import AttachmentText, ParsedMessage


def headers_json(p: ParsedMessage) -> dict[str, Any]:
    return {
        "to": list(p.to), "cc": list(p.cc), "reply_to": p.reply_to, "in_reply_to": p.in_reply_to,
        "references": list(p.references),
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in p.attachments],
        "auto": {"auto_submitted": p.auto.auto_submitted, "precedence": p.auto.precedence, "list_id": p.auto.list_id,
                 "list_unsubscribe": p.auto.list_unsubscribe, "delivery_report": p.auto.delivery_report,
                 "robot_sender": p.auto.robot_sender, "null_return_path": p.auto.null_return_path,
                 "autoreply_header": p.auto.autoreply_header},
        "defects": list(p.defects),
        # Where each attachment's text is in messages.attachment_text, and what reading it found.
        "attachment_texts": _attachment_text_index(p),
    }


def attachment_text(p: ParsedMessage) -> str:
    """The attachments' texts joined, each under its heading line ('--- letter.pdf (PDF, 2 pages) ---')."""
    return "".join(f"{a.heading}\n{a.text}\n\n" for a in p.attachment_texts).rstrip("\n")


def _attachment_text_index(p: ParsedMessage) -> list[dict[str, Any]]:
    index, at = [], 0
    for a in p.attachment_texts:
        start = at + len(a.heading) + 1
        index.append({"filename": a.filename, "kind": a.kind, "pages": a.pages, "truncated": a.truncated,
                      "error": a.error, "start": start, "end": start + len(a.text)})
        at = start + len(a.text) + 2
    return index


def attachment_texts(joined: str, index: Any) -> tuple[AttachmentText, ...]:
    """Each attachment's text, cut back out of messages.attachment_text by the offsets kept in headers."""
    texts = []
    for a in index if isinstance(index, list) else ():
        try:
            start, end = int(a.get("start", 0)), int(a.get("end", 0))
            texts.append(AttachmentText(str(a.get("filename", "")), str(a.get("kind", "")), joined[start:end],
                                        bool(a.get("truncated")), str(a.get("error", "")), int(a.get("pages", 0))))
        except (AttributeError, TypeError, ValueError):
            continue
    return tuple(texts)
