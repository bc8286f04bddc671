"""Subject access: everything about a sender with three messages (and a message about their child from
someone else, included only once a person confirms it), readable, with the originals; the export is an
event; the one-month clock."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from click.testing import CliRunner

from triage.cli import cli
from triage.domain import Role
from triage.events import title_of
from triage.private_files import mode
from triage.privacy.subject_access import due_date

from .privacy_site import UTC, send_reply, store_item
from .webapp import PASSWORD, add_user, make_app, signed_in

ADDRESS = "ingrid.vasquez-holm@example.com"
SENDER = f"Ingrid Vasquez-Holm <{ADDRESS}>"
CHILD = "Lorcan Vasquez-Holm"


def _site(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    day = dt.datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    mine = [store_item(store, filled_routes, day + dt.timedelta(days=n), sender=SENDER, subject=subject,
                       body=f"{text} This is about my son {CHILD}.")
            for n, (subject, text) in enumerate((
                ("Refusal to assess", "You refused to assess him and I want mediation."),
                ("Mediation certificate", "We have our mediation certificate and will appeal."),
                ("Annual review date", "Could you move the annual review?")))]
    about = store_item(store, filled_routes, day, sender="Wrenfield School SENCO <senco@wrenfield.example.org>",
                       subject="Support plan", body=f"We are worried about {CHILD}'s support at school.")
    other = store_item(store, filled_routes, day, sender="Someone Else <someone@example.net>",
                       subject="Unrelated", body="A question about transport for my daughter.")
    send_reply(settings, store, mine[0])
    return app, store, settings, mine, about, other


def test_a_sar_export_holds_everything_about_a_sender_with_three_messages(tmp_path, filled_routes):
    app, store, settings, mine, about, other = _site(tmp_path, filled_routes)
    out = tmp_path / "sar.zip"
    result = CliRunner().invoke(cli, [
        "--config", str(settings.source_file), "sar", "export", "--address", ADDRESS.upper(), "--name", CHILD,
        "--received", "2026-01-31", "--out", str(out), "--as", "sam"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Include message" in result.output and "Wrenfield School SENCO" in result.output  # asked, and said yes
    assert "due by Monday 02 March 2026" in result.output  # 28 Feb 2026 is a Saturday
    assert mode(out) == 0o600

    z = zipfile.ZipFile(out)
    names = set(z.namelist())
    messages = {n for n in names if n.startswith("messages/")}
    assert len(messages) == 4 and "index.html" in names and "data.json" in names
    raws = {z.read(n) for n in messages}
    assert all(store.messages.raw(i) in raws for i in (*mine, about))  # the originals, byte for byte
    assert store.messages.raw(other) not in raws
    assert any(n.startswith("sent/") and n.endswith("-reply.eml") for n in names)  # the reply sent

    html = z.read("index.html").decode()
    for subject in ("Refusal to assess", "Mediation certificate", "Annual review date", "Support plan"):
        assert subject in html
    assert "Unrelated" not in html
    assert "You refused to assess Anya in your letter." in html  # the classification's reasons
    assert "Draft reply, version 1" in html and f"<td>{title_of('approved')}</td>" in html  # drafts, events
    data = json.loads(z.read("data.json"))
    assert len(data) == 4 and all(r["classification"]["label"] == "mediation" for r in data)
    assert all(r["events"] and r["drafts"] for r in data)

    exported = [e for e in store.events.all() if e["name"] == "subject_access_exported"]
    assert len(exported) == 1 and exported[0]["actor"] == "sam"
    assert len(exported[0]["data"]["messages"]) == 4 and exported[0]["data"]["due"] == "2026-03-02"
    store.close()


def test_without_confirmation_only_the_senders_own_messages_go_in(tmp_path, filled_routes):
    app, store, settings, mine, about, other = _site(tmp_path, filled_routes)
    out = tmp_path / "sar.zip"
    result = CliRunner().invoke(cli, [
        "--config", str(settings.source_file), "sar", "export", "--address", ADDRESS, "--name", CHILD,
        "--out", str(out)], input="n\n")
    assert result.exit_code == 0, result.output
    assert len([n for n in zipfile.ZipFile(out).namelist() if n.startswith("messages/")]) == 3
    bad = CliRunner().invoke(cli, ["--config", str(settings.source_file), "sar", "export", "--address", ADDRESS,
                                   "--out", str(tmp_path / "sar.txt")])
    assert bad.exit_code == 1 and "zip" in bad.output
    store.close()


def test_a_supervisor_exports_from_the_web_app(tmp_path, filled_routes):
    app, store, settings, mine, about, other = _site(tmp_path, filled_routes)
    add_user(store, "sam", Role.SUPERVISOR)
    add_user(store, "casey")
    assert signed_in(app, "casey", PASSWORD).get("/supervisor/privacy/").status_code == 403
    client = signed_in(app, "sam")
    page = client.get(f"/supervisor/privacy/?address={ADDRESS}&name={CHILD}").get_data(as_text=True)
    assert page.count('name="message"') == 4 and page.count(" checked>") == 3  # the candidate is not ticked
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    ids = [v.split('"')[0] for v in page.split('name="message" value="')[1:]]
    response = client.post("/supervisor/privacy/export", data={
        "csrf_token": token, "address": ADDRESS, "name": CHILD, "message": ids[:3], "received": "2026-11-25"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(response.data))
    assert len([n for n in z.namelist() if n.startswith("messages/")]) == 3
    exported = [e for e in store.events.all() if e["name"] == "subject_access_exported"]
    assert exported[-1]["actor"] == "sam" and exported[-1]["data"]["due"] == due_date(dt.date(2026, 11, 25)).isoformat()
    store.close()


def test_the_one_month_clock():
    assert due_date(dt.date(2026, 3, 10)) == dt.date(2026, 4, 10)  # same date next month (a Friday)
    assert due_date(dt.date(2026, 1, 31)) == dt.date(2026, 3, 2)  # no 31 February: 28th, a Saturday -> Monday
    assert due_date(dt.date(2026, 11, 25)) == dt.date(2026, 12, 29)  # Christmas Day, then Boxing Day moved to 28th
    assert due_date(dt.date(2026, 1, 31), months=3) == dt.date(2026, 4, 30)  # extended when complex
