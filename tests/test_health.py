"""Health: `status`, /healthz and /metrics from recorded polls and the database's counts; alerts to the
admin address at most once per condition per hour, each one in the log; JSON logs without addresses."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys

import pytest
from click.testing import CliRunner

from triage import health
from triage.cli import cli
from triage.domain import OutboxKind, Role
from triage.logs import JsonLines, MaskAddresses
from triage.settings import load_settings
from triage.domain import OutgoingMail, now
from triage.domain.decision_records import Approval
from triage.store import Store
from triage.service import mail_sources
from triage.web import create_app

from .factories import broken_message, make_email
from .webapp import add_item, add_user, signed_in

SOURCE = "imap://ehc@mail.example:993"


@pytest.fixture
def site(tmp_path, smtp):
    config = tmp_path / "settings.toml"
    config.write_text(f"""
[service]
data_dir = "{tmp_path / 'data'}"
[maildir]
path = "{tmp_path / 'mail'}"
[smtp]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
from_address = "ehc.assessment@brackenford.example.gov.uk"
[health]
admin_address = "triage.admin@brackenford.example.gov.uk"
poll_stale_minutes = 30
parse_failure_limit = 3
[web]
secure_cookies = false
""")
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    settings = load_settings(config, environ={})
    store = Store(settings.database_url)
    store.migrate()
    yield config, settings, store
    store.close()


def status(config) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--format", "json"])
    return result.exit_code, json.loads(result.output)


def failed_reply(store: Store) -> None:
    item = add_item(store, sender="Ola Bright <ola.bright@example.com>")
    reply = OutgoingMail(OutboxKind.REPLY, "ola.bright@example.com", "Re: plan", b"x")
    store.items.approve(item, "cw1", lambda _: Approval(reply))  # the reply as given, not composed from the draft
    [entry] = store.outbox.claim_due(now())
    store.outbox.mark_unsent(entry.id, "550 5.1.1 <ola.bright@example.com>: no such user", None)


def test_a_real_poll_is_recorded_and_status_reports_it_healthy(site):
    config, settings, store = site
    (settings.maildir / "new" / "1.eml").write_bytes(make_email(subject="Plan review"))
    assert status(config)[0] == 1  # nothing has polled yet: the silent failure this guards against
    assert CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"]).exit_code == 0
    code, report = status(config)
    assert code == 0 and report["healthy"] and report["problems"] == []
    [mailbox] = report["mailboxes"]
    assert mailbox["source"] == _source_name(settings) and mailbox["consecutive_failures"] == 0
    assert report["items_waiting"] == 1 and report["outbox_pending"] == 1  # the acknowledgement
    assert report["model_version"].startswith("m-")
    text = CliRunner().invoke(cli, ["--config", str(config), "status"]).output
    assert text.startswith("healthy") and f"mailbox {_source_name(settings)}: last successful poll" in text


def test_failed_polls_are_counted_and_a_stale_mailbox_is_unhealthy_everywhere(site):
    config, settings, store = site
    store.health.record_poll(SOURCE, now() - dt.timedelta(hours=2))

    def broken_poll() -> None:
        raise ConnectionRefusedError("connection refused")

    for _ in range(3):
        with pytest.raises(ConnectionRefusedError):
            health.recorded(store, SOURCE, broken_poll)()
    code, report = status(config)
    assert code == 1 and not report["healthy"]
    assert report["mailboxes"][0]["consecutive_failures"] == 3
    assert any("no successful poll since" in p and "connection refused" in p for p in report["problems"])

    app = create_app(settings, store)
    client = app.test_client()
    response = client.get("/healthz")  # anyone: the status only, no mailbox names or server errors
    assert response.status_code == 503 and response.get_json() == {"status": "error"}
    add_user(store, "ada", Role.ADMIN)
    response = signed_in(app, "ada").get("/healthz")  # a signed-in admin: the details
    assert response.status_code == 503
    assert response.get_json()["last_successful_poll"][SOURCE].startswith(str((now() - dt.timedelta(hours=2)).date()))
    assert any("connection refused" in p for p in response.get_json()["problems"])
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'ehc_poll_consecutive_failures{{mailbox="{SOURCE}"}} 3.0' in metrics
    assert "ehc_healthy 0.0" in metrics and "ehc_last_successful_poll_timestamp_seconds{" in metrics

    health.recorded(store, SOURCE, lambda: None)()  # it recovers
    assert client.get("/healthz").status_code == 200
    assert f'ehc_poll_consecutive_failures{{mailbox="{SOURCE}"}} 0.0' in client.get("/metrics").get_data(as_text=True)


def test_outbox_failures_alert_the_admin_once_an_hour_without_personal_data(site, smtp):
    config, settings, store = site
    store.health.record_poll(_source_name(settings), now())
    failed_reply(store)
    report = health.check(settings, store)
    assert [p.condition for p in report.problems] == ["outbox_failures"]
    assert health.alert(settings, store, report) == ["outbox_failures"]
    assert health.alert(settings, store, health.check(settings, store)) == []  # not again within the hour
    an_hour_on = now() + dt.timedelta(minutes=61)
    store.health.record_poll(_source_name(settings), an_hour_on)
    later = health.check(settings, store, an_hour_on)
    assert health.alert(settings, store, later) == ["outbox_failures"]
    alerts = [e for e in store.events.all() if e["name"] == "health_alert"]
    assert [e["data"]["condition"] for e in alerts] == ["outbox_failures", "outbox_failures"]

    assert CliRunner().invoke(cli, ["--config", str(config), "outbox", "send"]).exit_code == 0
    sent = [m for m in smtp.messages if m["To"] == "triage.admin@brackenford.example.gov.uk"]
    assert len(sent) == 2
    body = sent[0].get_body(("plain",)).get_content()
    assert "1 outgoing email(s) failed" in body and "ehc-triage outbox list --status failed" in body
    assert "ola.bright" not in body and "Ola" not in body
    assert "ehc_outbox_messages{status=\"failed\"} 1.0" in create_app(settings, store).test_client().get(
        "/metrics").get_data(as_text=True)


def test_a_spike_of_unparseable_mail_is_a_problem(site):
    config, settings, store = site
    store.health.record_poll(_source_name(settings), now())
    (settings.maildir / "new" / "ok.eml").write_bytes(make_email())
    for n in range(3):
        (settings.maildir / "new" / f"broken{n}.eml").write_bytes(broken_message() + f"\n{n}".encode())
    assert CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"]).exit_code == 0
    code, report = status(config)
    assert code == 1 and report["parse_failures_last_hour"] == 3
    assert report["problems"] == ["3 message(s) could not be parsed in the last hour (limit 3)"]


def test_without_an_admin_address_problems_are_only_logged(site, caplog):
    _, settings, store = site
    quiet = load_settings(settings.source_file, environ={})
    quiet = type(quiet)(**{**quiet.__dict__, "health": type(quiet.health)()})
    with caplog.at_level(logging.ERROR, logger="triage.health"):
        assert health.alert(quiet, store, health.check(quiet, store)) == []
    assert "no poll has been recorded" in caplog.text
    assert store.outbox.entries() == []


def test_json_logs_are_one_object_per_line_and_mask_addresses(site):
    config, settings, store = site
    config.write_text(config.read_text().replace("[service]\n", '[service]\nlog_format = "json"\n'))
    (settings.maildir / "new" / "1.eml").write_bytes(make_email(subject="Plan review"))
    result = subprocess.run([sys.executable, "-m", "triage", "--config", str(config), "poll", "--once"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert entries and {"at", "level", "logger", "message"} <= set(entries[0])
    assert any(e["logger"] == "triage.pipeline" and "1 fetched, 1 queued" in e["message"] for e in entries)

    record = logging.LogRecord("triage.outbox", logging.WARNING, __file__, 1, "outbox: %s", (
        "550 <sam.parent@example.com> refused",), None)
    MaskAddresses().filter(record)
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "outbox: 550 <[address]> refused"


def _source_name(settings) -> str:
    """The name the site's one mailbox (a Maildir) records its polls under."""
    [source] = mail_sources(settings)
    return source.name
