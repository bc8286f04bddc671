"""triage.decisions: the one table of allowed status transitions, and approval as one transaction that
composes the reply from what the store holds (never parsing the message again)."""

from __future__ import annotations

import datetime as dt
import email
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from replies import load_routes
from triage import decisions
from triage.audit import verify
from triage.decisions import TRANSITIONS, Decision
from triage.domain import Status
from triage.errors import Conflict, InvalidAction
from triage.settings import ServiceSettings
from triage.store import Store
from triage.store.tables import ItemRow, MessageRow

from .factories import make_email
from .webapp import add_item

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 2)  # the day add_item's messages arrive
SERVICE = ServiceSettings(from_address="ehc.assessment@brackenford.example.gov.uk", from_name="EHC Assessment Team")


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> Path:
    text = (ROOT / "config" / "routes.toml").read_text()
    path = tmp_path_factory.mktemp("routes") / "routes.toml"
    path.write_text(re.sub(r"\[COUNCIL TO FILL IN: ([^\]]*)\]", r"01632 960000 (\1, fictional)", text))
    return path


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'triage.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'triage.db'}")
    store.migrate()
    yield store
    store.close()


def _item(store: Store, routes: Path, **kw) -> int:
    """An item whose draft is complete as written (no placeholder, no deadline to go stale)."""
    return add_item(store, route="disagreement_resolution", routes_file=routes, **kw)


def _set(store: Store, item_id: int, **values) -> None:
    with store.db.writing() as s:
        row = s.get_one(ItemRow, item_id)
        for name, value in values.items():
            setattr(row, name, value)


def _act(store: Store, routes: Path, item_id: int, decision: Decision) -> None:
    """Take `decision` on the item with valid input: only its status can refuse it."""
    cw = "cw1"
    match decision:
        case Decision.CLAIM:
            decisions.claim(store, item_id, cw)
        case Decision.RELEASE:
            decisions.release(store, item_id, cw)
        case Decision.SAVE_DRAFT:
            decisions.save_draft(store, item_id, "Your message", "A new reply text.\n", cw)
        case Decision.CHANGE_ROUTE:
            decisions.change_route(store, load_routes(routes), item_id, "tribunal", cw, today=TODAY)
        case Decision.APPROVE:
            decisions.approve(store, SERVICE, item_id, cw, today=TODAY)
        case Decision.REJECT:
            decisions.reject(store, item_id, "A newsletter", cw)
        case Decision.HANDLED_ELSEWHERE:
            decisions.mark_handled_elsewhere(store, item_id, "answered by phone", cw)
        case Decision.RECORD_SAFEGUARDING_ACTION:
            decisions.record_safeguarding_action(store, item_id, "referral_made", "MASH referral 4411", cw)
        case Decision.CLEAR_SAFEGUARDING_FLAG:
            decisions.clear_safeguarding_flag(store, item_id, "the words were about a phone battery", cw)
        case _:
            raise AssertionError(f"no test action for {decision}")


def test_the_table_names_every_status_and_every_decision_leads_somewhere_known():
    assert set(TRANSITIONS) == set(Status)
    for row in TRANSITIONS.values():
        assert set(row) <= set(Decision)
        assert all(to is None or isinstance(to, Status) for to in row.values())
    assert decisions.statuses_allowing(Decision.APPROVE) == (Status.NEEDS_REVIEW, Status.DRAFTED)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
@pytest.mark.parametrize("decision", list(Decision), ids=lambda d: d.value)
def test_every_status_and_decision_is_allowed_or_refused_as_the_table_says(shared_store, routes, status, decision):
    store = shared_store
    item = _item(store, routes, safeguarding=True)
    # Flagged, with an action already recorded: only the status can stand in the way of any decision.
    _set(store, item, status=status.value, safeguarding_action="already_known", claimed_by="cw1")
    events_before = len(store.events.of_item(item))
    outbox_before = len(store.outbox.entries())
    if decision in TRANSITIONS[status]:
        _act(store, routes, item, decision)
        expected = TRANSITIONS[status][decision] or status
        assert store.items.detail(item).status is expected
        assert len(store.events.of_item(item)) > events_before
    else:
        with pytest.raises(InvalidAction) as refused:
            _act(store, routes, item, decision)
        assert not isinstance(refused.value, Conflict)
        assert re.fullmatch(rf"item {item} is {status.value}; only .+ items can be {re.escape(decision.words)}",
                            str(refused.value)), str(refused.value)
        assert store.items.detail(item).status is status  # nothing changed, nothing recorded
        assert len(store.events.of_item(item)) == events_before
        assert len(store.outbox.entries()) == outbox_before


def test_the_refusal_names_the_statuses_that_allow_it(store, routes):
    item = _item(store, routes)
    _set(store, item, status=Status.SENT.value)
    with pytest.raises(InvalidAction, match=f"item {item} is sent; only drafted or needs_review items can be approved"):
        decisions.approve(store, SERVICE, item, "cw1", today=TODAY)


def test_approve_composes_the_reply_from_the_stored_message_and_never_parses_it(store, routes, monkeypatch):
    raw = make_email(sender="Dev Mistry <dev.mistry@example.com>", message_id="<orig-7@example.com>",
                     extra_headers={"References": "<first@example.com> <second@example.com>"})
    item = add_item(store, raw=raw, route="disagreement_resolution", routes_file=routes)
    with store.db.writing() as s:  # the raw bytes are now unreadable: only the stored fields can be used
        s.scalar(select(MessageRow).where(MessageRow.id == s.get_one(ItemRow, item).message_ref)).raw = b"\x00garbage"

    def no_parsing(*_a, **_k):
        raise AssertionError("approve parsed the message")

    monkeypatch.setattr("triage.parsing.parse_message", no_parsing)
    monkeypatch.setattr("triage.decisions.caseworker.parse_message", no_parsing)
    decisions.approve(store, SERVICE, item, "cw1", today=TODAY)

    [reply] = [e for e in store.outbox.entries() if e.kind == "reply"]
    sent = email.message_from_bytes(reply.raw)
    assert reply.to_address == "dev.mistry@example.com" and "Dev Mistry" in sent["To"]
    assert sent["In-Reply-To"] == "<orig-7@example.com>"
    assert sent["References"].split() == ["<first@example.com>", "<second@example.com>", "<orig-7@example.com>"]
    assert sent["Subject"] == store.items.detail(item).draft.subject
    assert store.items.detail(item).status is Status.APPROVED


def test_approve_is_one_transaction_a_failure_between_its_steps_leaves_nothing(store, routes, monkeypatch):
    item = _item(store, routes)
    events_before = store.events.of_item(item)
    draft_before = store.items.detail(item).draft

    def outbox_fails(*_a, **_k):  # after the edit, the status change and the approved event were written
        raise RuntimeError("disk full")

    monkeypatch.setattr("triage.store.items.add_to_outbox", outbox_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        decisions.approve(store, SERVICE, item, "cw1", today=TODAY, edit=("Re: help", "My edited reply.\n"))
    detail = store.items.detail(item)
    assert detail.status is Status.DRAFTED and detail.draft == draft_before  # the edit is not kept either
    assert store.events.of_item(item) == events_before and store.outbox.entries() == []
    assert verify(store.events.chain()).ok

    monkeypatch.undo()
    version = decisions.approve(store, SERVICE, item, "cw1", today=TODAY, edit=("Re: help", "My edited reply.\n"))
    detail = store.items.detail(item)
    assert detail.status is Status.APPROVED and version == draft_before.version + 1
    assert [e["name"] for e in store.events.of_item(item)][-3:] == ["draft_edited", "approved", "reply_queued"]
    [reply] = store.outbox.entries()
    assert b"My edited reply." in reply.raw


def test_a_refused_approval_keeps_no_edit(store, routes):
    item = _item(store, routes)
    before = store.items.detail(item)
    with pytest.raises(InvalidAction, match="placeholder"):
        decisions.approve(store, SERVICE, item, "cw1", today=TODAY,
                          edit=(before.draft.subject, "[Caseworker: write your reply here.]"))
    after = store.items.detail(item)
    assert after.drafts == before.drafts and after.status is Status.DRAFTED and store.outbox.entries() == []


def test_approve_refuses_a_stale_form_and_a_sender_address_that_cannot_be_written_to(store, routes):
    item = _item(store, routes)
    version = store.items.detail(item).version
    decisions.save_draft(store, item, "Re: help", "Robin's text.\n", "robin", version)
    with pytest.raises(Conflict, match="changed by robin"):
        decisions.approve(store, SERVICE, item, "casey", expected_version=version, today=TODAY)
    bad = _item(store, routes, sender="Someone <someone@[192.0.2.1]>")
    with pytest.raises(InvalidAction, match="cannot be written to"):
        decisions.approve(store, SERVICE, bad, "casey", today=TODAY)
    assert store.outbox.entries() == []


def test_shadow_mode_approval_is_recorded_as_would_send(store, routes):
    item = _item(store, routes)
    decisions.approve(store, ServiceSettings(from_address=SERVICE.from_address, mode="shadow"), item, "cw1",
                      today=TODAY)
    [reply] = store.outbox.entries()
    assert reply.status == "would_send"
