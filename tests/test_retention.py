"""Retention on a fixed clock: closed items' personal data deleted after [retention] closed_months, items
never closed reported and kept, the purge an event, and `audit verify` still passing after it."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from triage.audit import verify
from triage.cli import cli
from triage.privacy.retention import apply_retention, report_lines
from triage.settings import load_settings

from .privacy_site import UTC, fix_clock, send_reply, store_item
from .webapp import make_app

RECEIVED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_a_purge_on_a_fixed_clock_deletes_closed_items_reports_open_ones_and_the_chain_verifies(
        tmp_path, filled_routes, monkeypatch):
    clock = fix_clock(monkeypatch, RECEIVED)
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    config = settings.source_file
    config.write_text(config.read_text() + "\n[retention]\nclosed_months = 24\nopen_report_months = 12\n")
    settings = load_settings(config, environ={})

    def item(word: str) -> int:
        return store_item(store, filled_routes, RECEIVED, subject=f"About {word}",
                          sender=f"{word} Parent <{word.lower()}@example.com>",
                          body=f"My daughter {word} needs mediation about the refusal to assess.")

    sent, rejected, elsewhere, still_open, recent = (item(w) for w in ("Quorra", "Bexleigh", "Ottoline", "Ysolde",
                                                                        "Perpetua"))
    send_reply(settings, store, sent)
    store.items.reject(rejected, "Sent to us by mistake", "casey")
    store.items.mark_handled_elsewhere(elsewhere, "Answered by phone", "casey")
    clock.at = dt.datetime(2028, 6, 1, tzinfo=UTC)  # closed 19 months later: inside the period at the purge
    store.items.reject(recent, "Duplicate", "casey")
    outbox_files = sorted(p.name for p in settings.outbox.directory.glob("*.eml"))
    assert outbox_files  # the reply (and acknowledgement, if any) written as files

    at = dt.datetime(2028, 12, 1, tzinfo=UTC)  # the cut-off is 2026-12-01
    clock.at = at
    dry = apply_retention(settings, store, at=at, dry_run=True)
    assert sorted(c.item_id for c in dry.due) == sorted([sent, rejected, elsewhere])
    assert [o.item_id for o in dry.still_open] == [still_open]
    text = "\n".join(report_lines(dry))
    assert text.startswith("would delete the personal data of 3 message(s) closed before 2026-12-01 (24 months)")
    assert f"item {still_open} (" in text and "not closed after 12 months" in text
    assert "Quorra" in store.items.detail(sent).message.text  # a dry run deletes nothing

    done = apply_retention(settings, store, at=at)
    assert len(done.due) == 3 and done.events > 0
    for purged in (sent, rejected, elsewhere):
        detail = store.items.detail(purged)
        assert detail.message.text == "" and detail.message.from_address == ""
        assert detail.status.value in ("sent", "rejected", "handled_elsewhere")  # the item's record stays
    for kept, word in ((still_open, "Ysolde"), (recent, "Perpetua")):
        assert word in store.items.detail(kept).message.text
    assert list(settings.outbox.directory.glob("*.eml")) == []  # the files of the purged messages are gone

    result = verify(store.events.chain())
    assert result.ok, result
    purge = [e for e in store.events.all() if e["name"] == "retention_purged"]
    assert len(purge) == 1 and sorted(purge[0]["data"]["items"]) == sorted([sent, rejected, elsewhere])
    assert purge[0]["data"]["cutoff"].startswith("2026-12-01") and purge[0]["data"]["months"] == 24
    about_sent = [e for e in store.events.all() if e["item"] == sent and e["name"] == "approved"]
    assert about_sent and about_sent[0]["data"]["to"] == "[erased]"
    assert CliRunner().invoke(cli, ["--config", str(config), "audit", "verify"]).exit_code == 0

    again = apply_retention(settings, store, at=at)
    assert again.due == ()  # nothing left to purge
    store.close()


def test_retention_is_off_until_the_council_sets_a_period(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    store_item(store, filled_routes, RECEIVED)
    result = CliRunner().invoke(cli, ["--config", str(settings.source_file), "retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("retention is off ([retention] closed_months = 0): nothing is deleted")
    store.close()


def test_run_applies_retention_on_its_cron_and_a_bad_expression_is_refused(tmp_path, filled_routes):
    from triage.errors import ConfigError
    from triage.privacy.retention import retention_job

    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    job = retention_job(settings, store)
    assert list(job) == ["retention"] and job["retention"][1] == "30 3 * * *"
    assert job["retention"][0]().months == 0  # off by default: it only reports
    config = settings.source_file
    config.write_text(config.read_text() + '\n[retention]\ncron = "every night"\n')
    with pytest.raises(ConfigError, match=r"\[retention\] cron"):
        load_settings(config, environ={})
    store.close()
