"""The CLI's plumbing: one place maps the service's errors to `Error: <line>` and exit 1, reports
show message-derived text with control characters escaped, and the account rules live outside it."""

from __future__ import annotations

import datetime as dt
import json

import click
import pytest
from click.testing import CliRunner

import classifier
from replies import FactsError
from triage import accounts
from triage.cli import cli
from triage.cli_errors import TriageGroup
from triage.domain import QueueEntry, Role, Status
from triage.errors import InvalidAction, NotFound, TriageError
from triage.reports import cut, json_line, queue_table, visible

from .webapp import add_item, make_app, write_settings

HOSTILE = "Refund \x1b[31mURGENT\x1b[0m\r\x9b2J \u202eevil"


def _group_raising(exc: Exception) -> click.Group:
    @click.group(cls=TriageGroup)
    def top() -> None:
        pass

    @top.group()
    def sub() -> None:
        pass

    @sub.command()
    def go() -> None:
        raise exc

    return top


@pytest.mark.parametrize("exc", [NotFound("no item 7"), InvalidAction("item 7 was sent"), TriageError("plain"),
                                 classifier.ModelMissing("no model: run train"), FactsError("routes.toml: no route"),
                                 PermissionError(13, "Permission denied", "/x/a.eml")])
def test_expected_errors_become_one_line_and_exit_1_from_any_depth(exc):
    result = CliRunner().invoke(_group_raising(exc), ["sub", "go"])
    assert result.exit_code == 1
    assert result.output == f"Error: {exc}\n"


def test_an_unexpected_error_keeps_its_traceback():
    result = CliRunner().invoke(_group_raising(KeyError("bug")), ["sub", "go"])
    assert isinstance(result.exception, KeyError)


def test_an_error_message_holding_an_escape_is_printed_escaped():
    result = CliRunner().invoke(_group_raising(NotFound("no user \x1b[2Jx")), ["sub", "go"])
    assert result.output == "Error: no user \\x1b[2Jx\n"


def test_a_service_error_from_a_real_command_keeps_its_message(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(write_settings(tmp_path)), "outbox", "retry", "999"])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and len(result.output.splitlines()) == 1


def test_visible_escapes_control_and_bidi_characters_and_keeps_ordinary_text():
    assert visible(HOSTILE) == "Refund \\x1b[31mURGENT\\x1b[0m\\r\\x9b2J \\u202eevil"
    assert visible("Siân – naïve café") == "Siân – naïve café"
    assert visible(visible(HOSTILE)) == visible(HOSTILE)
    assert cut("a\tb\nc \x1b[31m", 40) == "a b c \\x1b[31m"


def test_json_lines_keep_the_value_but_no_raw_control_characters():
    line = json_line({"subject": HOSTILE})
    assert json.loads(line)["subject"] == HOSTILE
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in line)


def test_queue_table_escapes_a_hostile_subject():
    entry = QueueEntry(id=1, message_id="<m@x>", from_address="a\x1b]0;owned\x07@example.com", from_name="",
                       subject="\x1b[31mred alert", received_at=dt.datetime(2026, 11, 2, 9, 30), route="other",
                       confidence=0.9, needs_review=False, safeguarding=False, status=Status.DRAFTED,
                       draft_subject="", draft_text="")
    text = queue_table([entry])
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[31mred alert" in text


def test_queue_list_prints_a_subject_holding_an_escape_sequence_escaped(tmp_path):
    _, store, _ = make_app(tmp_path)
    add_item(store, subject="Plan \x1b[31mnow")
    config = str(tmp_path / "settings.toml")
    table = CliRunner().invoke(cli, ["--config", config, "queue", "list"]).output
    assert "\x1b" not in table and "Plan \\x1b[31mnow" in table
    jsonl = CliRunner().invoke(cli, ["--config", config, "queue", "list", "--format", "jsonl"]).output
    assert "\x1b" not in jsonl and json.loads(jsonl)["subject"] == "Plan \x1b[31mnow"


@pytest.mark.parametrize("name", ["priya.k", "a@b-c_d", "x" * 100])
def test_the_username_rule_accepts(name):
    accounts.check_username(name)


@pytest.mark.parametrize("name", ["", "bad name", "x" * 101, "tab\tname", "ümlaut", "semi;colon"])
def test_the_username_rule_refuses(name):
    with pytest.raises(InvalidAction, match="a username is 1 to 100"):
        accounts.check_username(name)


def test_accounts_add_applies_the_rules_before_the_store(tmp_path):
    _, store, _ = make_app(tmp_path)
    with pytest.raises(InvalidAction, match="username"):
        accounts.add_account(store, "bad name", "a-long-enough-password", Role.CASEWORKER, "test")
    with pytest.raises(InvalidAction, match="too short"):
        accounts.add_account(store, "casey", "short", Role.CASEWORKER, "test")
    assert store.accounts.list_users() == []
    accounts.add_account(store, "casey", "a-long-enough-password", Role.CASEWORKER, "test")
    first = accounts.demo_login(store)
    second = accounts.demo_login(store)
    assert first != second and [u.username for u in store.accounts.list_users()] == ["casey", "demo"]
