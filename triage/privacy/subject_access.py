"""Subject access (UK GDPR Art. 15): everything held about one person, as a zip a person can read.

Messages from the person's address are certain; messages whose text, sender name or case reference
match a name, reference or the address are candidates that a person confirms before they go in (a
name can belong to someone else). The zip holds index.html (every message with its classification
and the reasons for it, every draft, every email sent, every event), the original .eml files, the
emails sent and data.json; the export itself is an event. The clock: one month from receipt of the
request (same date next month, or that month's last day; a weekend or bank holiday moves it to the
next working day), three months when complex and the person is told within the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from replies.working_days import add_months, is_working_day, next_working_day

from ..domain import now
from ..errors import InvalidAction
from ..events import SubjectAccessExported, title_of
from ..private_files import write_private
from ..store.privacy import Found, SubjectRecord
from .store_part import privacy_part

_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))


def due_date(received: dt.date, months: int = 1) -> dt.date:
    """When the answer is due: the same date `months` later (or that month's last day), moved to the next
    working day when that is a weekend or an England and Wales bank holiday."""
    due = add_months(received, months)
    return due if is_working_day(due) else next_working_day(due)


@dataclass(frozen=True)
class Export:
    data: bytes  # the zip
    messages: tuple[int, ...]
    sha256: str
    due: dt.date
    extended_due: dt.date


def search(store: object, address: str, name: str = "", reference: str = "") -> list[Found]:
    if "@" not in address:
        raise InvalidAction(f"{address!r} is not an email address")
    return privacy_part(store).search(address, name, reference)


def make_export(store: object, address: str, message_ids: list[int], actor: str, name: str = "",
                received: dt.date | None = None) -> Export:
    """The zip for these messages (the address's own and the confirmed candidates); the export is recorded."""
    if "@" not in address:
        raise InvalidAction(f"{address!r} is not an email address")
    received = received or now().date()
    records = privacy_part(store).records(sorted(set(message_ids)))
    data = build_zip(records, address, name, actor, received)
    digest = hashlib.sha256(data).hexdigest()
    ids = tuple(r.message["id"] for r in records)
    due = due_date(received)
    privacy_part(store).record(SubjectAccessExported(address=address, person_name=name, messages=list(ids),
                                                     sha256=digest, due=due.isoformat()), actor)
    return Export(data, ids, digest, due, due_date(received, 3))


def export_to(out: Path, store: object, address: str, message_ids: list[int], actor: str, name: str = "",
              received: dt.date | None = None) -> Export:
    """make_export, written to `out` (created 0600: it is all personal data)."""
    if out.suffix.lower() != ".zip":
        raise InvalidAction(f"the export is a zip file: give a name ending .zip, not {out.name!r}")
    if not out.parent.is_dir():
        raise InvalidAction(f"no such folder for the export: {out.parent}")
    done = make_export(store, address, message_ids, actor, name, received)
    write_private(out, done.data)
    return done


def build_zip(records: list[SubjectRecord], address: str, name: str, actor: str, received: dt.date) -> bytes:
    """index.html, messages/<id>.eml, sent/<outbox id>-<kind>.eml and data.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for r in records:
            z.writestr(f"messages/{r.message['id']}.eml", r.raw)
            for o in r.outbox:
                z.writestr(f"sent/{o['id']}-{o['kind']}.eml", o["raw"])
        z.writestr("index.html", _TEMPLATES.get_template("export.html").render(
            records=records, address=address, name=name, actor=actor, made=now(), received=received,
            due=due_date(received), extended_due=due_date(received, 3), title_of=title_of))
        z.writestr("data.json", json.dumps(_plain(records), ensure_ascii=False, indent=2, default=str))
    return buffer.getvalue()


def _plain(records: list[SubjectRecord]) -> list[dict[str, Any]]:
    return [{"message": r.message, "item": r.item, "classification": r.classification, "drafts": r.drafts,
             "outbox": [{k: v for k, v in o.items() if k != "raw"} for o in r.outbox], "events": r.events}
            for r in records]
