"""Erasure on request (UK GDPR Art. 17): one message's personal data removed everywhere, a tombstone kept.

Everywhere means: the message (raw bytes, text, stored attachments and their text, sender, subject,
headers), its classification's evidence, every draft, the outgoing emails' rows (unsent ones deleted)
and their .eml files in the outbox directory, and the personal fields of its events (the chain still verifies:
triage.audit). The model's training data is the confirmed labels read from the database at each
retrain, so an erased message's label is simply not there at the next one. The database files are
then rewritten (SQLite VACUUM and WAL checkpoint, PostgreSQL VACUUM FULL) so no old copy is left.

Only a supervisor or an admin may erase. In the web app one asks and a second person confirms; the
command line (`ehc-triage erase`) is for someone with access to the server, named by --as.
"""

from __future__ import annotations

from ..domain import Role
from ..errors import InvalidAction
from ..settings import Settings
from ..store.personal_data import Removed
from ..store.privacy import ErasureRequest
from .outbox_files import delete_outbox_files
from .store_part import privacy_part, user_role


def check_eraser(store: object, actor: str) -> None:
    """Refuse anyone but an active supervisor or admin account."""
    role = user_role(store, actor)
    if role is None or not Role(role).at_least(Role.SUPERVISOR):
        raise InvalidAction(f"{actor!r} is not an active supervisor or admin account: only they may erase "
                            f"(name yours with --as)")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidAction("give the reason for the erasure (who asked, when, and on what ground)")
    return reason[:2000]


def erase_item(settings: Settings, store: object, item_id: int, reason: str, actor: str) -> Removed:
    """Erase an item's message at once (the command line)."""
    check_eraser(store, actor)
    removed = privacy_part(store).erase_now(item_id, _reason(reason), actor)
    return _finish(settings, store, removed)


def request_erasure(store: object, item_id: int, reason: str, actor: str) -> int:
    """The first person asks; returns the request's id."""
    check_eraser(store, actor)
    return privacy_part(store).request_erasure(item_id, _reason(reason), actor)


def confirm_erasure(settings: Settings, store: object, request_id: int, actor: str) -> tuple[ErasureRequest, Removed]:
    """A second person confirms; the message is erased."""
    check_eraser(store, actor)
    request, removed = privacy_part(store).confirm_erasure(request_id, actor)
    return request, _finish(settings, store, removed)


def cancel_erasure(store: object, request_id: int, actor: str) -> None:
    check_eraser(store, actor)
    privacy_part(store).cancel_erasure(request_id, actor)


def _finish(settings: Settings, store: object, removed: Removed) -> Removed:
    """After the transaction: the outbox files, then rewrite the database files."""
    delete_outbox_files(settings.outbox.directory, removed.outbox_files)
    privacy_part(store).compact()
    return removed


def removed_lines(item_id: int, removed: Removed) -> list[str]:
    lines = [f"item {item_id}: personal data erased ({removed.events} event(s) emptied of personal fields, "
             f"{removed.outbox} outgoing email(s) cleared or removed); a tombstone event records the erasure"]
    if removed.events_kept:
        lines.append(f"{removed.events_kept} event(s) written before hash version 2 keep their text (removing it "
                     f"would break the audit chain)")
    return lines
