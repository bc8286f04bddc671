"""The event catalogue: every event declared once, with the fields it stores and which of them are personal."""

from __future__ import annotations

import dataclasses
import json

from triage import events
from triage.domain import OutboxKind, OutboxStatus
from triage.event_export import CHAIN_FIELDS, to_csv


def _catalogue() -> list[type[events.Event]]:
    found, pending = [], list(events.Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        found.append(cls)
    return found


def test_every_event_names_a_title_and_only_personal_fields_it_has():
    for cls in _catalogue():
        stored = {f.name.rstrip("_") for f in dataclasses.fields(cls)}
        assert cls.name and cls.title, cls
        assert set(cls.personal) <= {f.name for f in dataclasses.fields(cls)}, cls
        assert set(cls.optional) <= stored | {f.name for f in dataclasses.fields(cls)}, cls
        if "{" not in cls.name:
            assert cls.name in events.NAMES and events.title_of(cls.name) == cls.title


def test_outbox_events_are_named_by_their_kind_and_keep_the_data_they_always_had():
    queued = events.OutboxQueued(OutboxKind.ACKNOWLEDGEMENT, "parent@example.org", OutboxStatus.WOULD_SEND)
    assert queued.event_name == "acknowledgement_would_send" and queued.data() == {"to": "parent@example.org"}
    sent = events.Sent(OutboxKind.REPLY, 7, "parent@example.org", 1, "<r@example.org>")
    assert sent.event_name == "reply_sent" and sent.personal_keys() == ("to", "message_id")
    assert sent.data() == {"outbox": 7, "to": "parent@example.org", "attempts": 1, "message_id": "<r@example.org>"}
    assert events.title_of("health_failed") == "health failed"


def test_a_field_named_like_a_keyword_is_stored_under_the_word_and_an_absent_optional_is_left_out():
    assert events.RouteChanged("mediation", "tribunal", 2, 1, []).data()["from"] == "mediation"
    assert "deadlines_confirmed" not in events.Approved("tribunal", 2, "parent@example.org").data()
    json.dumps([cls.__name__ for cls in _catalogue()])  # every class is importable from the one module


def test_a_csv_cell_that_starts_like_a_formula_is_written_as_text():
    lines = list(to_csv([{"id": 1, "actor": "=HYPERLINK(\"http://x\")", "data": {"to": "a@example.org"},
                          "message": None}], CHAIN_FIELDS))
    assert lines[0].strip() == ",".join(CHAIN_FIELDS)
    assert "'=HYPERLINK" in lines[1] and ',"{""to"": ""a@example.org""}",' in lines[1]
