"""The web app's doors: accounts, sign-in and its rate limit, sessions, CSRF, roles on every route, headers."""

from __future__ import annotations

import os
import stat
import time

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.domain import Role
from triage.errors import ConfigError
from triage.settings import load_settings
from triage.web import create_app
from triage.web.security import CONTENT_SECURITY_POLICY

from .factories import make_email
from .webapp import PASSWORD, add_item, add_user, csrf, form_fields, make_app, signed_in, write_settings


@pytest.fixture
def web(tmp_path):
    app, store, settings = make_app(tmp_path)
    item = add_item(store, subject="Refusal to assess", attachment=("letter.pdf", "application/pdf", b"%PDF-1.4\n"))
    for name, role in (("casey", Role.CASEWORKER), ("sam", Role.SUPERVISOR), ("ada", Role.ADMIN),
                       ("dana", Role.CASEWORKER)):
        add_user(store, name, role)
    yield app, store, item
    store.close()


# -- the permission matrix -------------------------------------------------------------------------

PAGES = {  # path -> the least role that may open it (None: anyone)
    "/healthz": None,
    "/metrics": None,
    "/login": None,
    "/": Role.CASEWORKER,
    "/queue": Role.CASEWORKER,
    "/queue?status=all&route=mediation&q=refusal&assignee=me&age=3&page=2": Role.CASEWORKER,
    "/items/{item}": Role.CASEWORKER,
    "/items/{item}/attachments/0": Role.CASEWORKER,
    "/logout": Role.CASEWORKER,
    "/supervisor/": Role.SUPERVISOR,
    "/admin/users": Role.ADMIN,
}
USERS = {"anonymous": None, "caseworker": "casey", "supervisor": "sam", "admin": "ada", "disabled": "dana"}
ROLE_OF = {"caseworker": Role.CASEWORKER, "supervisor": Role.SUPERVISOR, "admin": Role.ADMIN}


@pytest.mark.parametrize("who", USERS)
def test_every_page_answers_each_kind_of_user_as_its_role_allows(web, who):
    app, store, item = web
    client = signed_in(app, USERS[who]) if USERS[who] else app.test_client()
    if who == "disabled":
        store.disable_user("dana", "test")  # while signed in: the session ends at the next request
    for template, least in PAGES.items():
        path = template.format(item=item)
        response = client.get(path)
        if least is None:
            expected = 302 if (path == "/login" and who in ROLE_OF) else 200
        elif who in ("anonymous", "disabled"):
            expected = 302
        else:
            expected = 200 if ROLE_OF[who].at_least(least) else 403
            if path == "/":
                expected = 302  # on to /queue
        assert response.status_code == expected, (who, path, response.status_code)
        if expected == 302 and least is not None:
            assert response.headers["Location"].startswith("/queue" if who in ROLE_OF else "/login?next=")


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("disabled", 302), ("caseworker", 303),
                                           ("supervisor", 303), ("admin", 303)])
def test_every_action_needs_a_signed_in_active_caseworker_or_above(web, who, expected):
    app, store, item = web
    client = signed_in(app, USERS[who]) if USERS[who] else app.test_client()
    token = csrf(client, "/login") if who == "anonymous" else form_fields(
        client.get(f"/items/{item}").get_data(as_text=True), f"/items/{item}/claim")["csrf_token"]
    if who == "disabled":
        store.disable_user("dana", "test")
    version = store.item_detail(item).version
    posts = [(f"/items/{item}/claim", {"action": "claim"}), (f"/items/{item}/draft", {"subject": "s", "text": "t"}),
             (f"/items/{item}/route", {"route": "tribunal"}), (f"/items/{item}/handled", {"note": "phone"})]
    for path, data in posts:
        if expected != 302:
            version = store.item_detail(item).version
        response = client.post(path, data={"csrf_token": token, "version": version, **data})
        assert response.status_code == expected, (who, path, response.get_data(as_text=True)[:300])
        if expected == 302:
            assert response.headers["Location"].startswith("/login")
    if expected == 302:  # nothing changed: at most the page view from before the account was disabled
        assert [e["name"] for e in store.events(item=item) if e["actor"] != "system"] in ([], ["viewed"])


def test_admin_page_actions_need_an_admin(web):
    app, store, _ = web
    supervisor = signed_in(app, "sam")
    token = csrf(supervisor, "/queue")
    assert supervisor.post("/admin/users/disable", data={"csrf_token": token, "username": "casey"}).status_code == 403
    admin = signed_in(app, "ada")
    page = admin.get("/admin/users").get_data(as_text=True)
    token = form_fields(page, "/admin/users/disable")["csrf_token"]
    assert admin.post("/admin/users/disable", data={"csrf_token": token, "username": "casey"}).status_code == 303
    assert store.get_user("casey").active is False
    assert [e["actor"] for e in store.events() if e["name"] == "user_disabled"] == ["ada"]


def test_every_route_declares_who_may_use_it(web):
    app, _, _ = web
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "_public", False) or getattr(view, "_required_role", None), rule.rule


def test_a_view_that_forgot_its_role_is_refused_to_everyone(tmp_path):
    app, store, _ = make_app(tmp_path)
    add_user(store, "ada", Role.ADMIN)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert signed_in(app, "ada").get("/forgotten").status_code == 403


# -- sign-in, rate limit, sessions ------------------------------------------------------------------

def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})


def test_signing_in_and_out_are_logged_and_the_session_is_renewed(web):
    app, store, _ = web
    client = app.test_client()
    before = csrf(client)
    response = client.post("/login", data={"username": "casey", "password": PASSWORD, "csrf_token": before,
                                           "next": "/items/1"})
    assert response.status_code == 302 and response.headers["Location"] == "/items/1"
    assert csrf(client, "/queue") != before  # a fresh session after signing in
    page = client.get("/logout").get_data(as_text=True)
    assert client.post("/logout", data=form_fields(page, "/logout")).status_code == 302
    assert client.get("/queue").status_code == 302
    assert [e["name"] for e in store.events() if e["actor"] == "casey"] == ["logged_in", "logged_out"]


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_site(web, target):
    app, _, _ = web
    client = app.test_client()
    response = client.post("/login", data={"username": "casey", "password": PASSWORD, "csrf_token": csrf(client),
                                           "next": target})
    assert response.headers["Location"] == "/queue"


def test_failed_sign_ins_are_events_without_the_password(web):
    app, store, _ = web
    client = app.test_client()
    assert _login(client, "casey", "wrong-password-1").status_code == 401
    assert _login(client, "nobody", "wrong-password-2").status_code == 401
    failures = [e for e in store.events() if e["name"] == "login_failed"]
    assert [(e["data"]["username"], e["data"]["reason"]) for e in failures] == [
        ("casey", "wrong password"), ("nobody", "unknown user")]
    assert all("wrong-password" not in str(e) for e in store.events())
    assert "username or password is wrong" in _login(client, "casey", "x").get_data(as_text=True)


def test_five_failures_lock_that_username_from_that_address_only(web):
    app, store, _ = web
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    for n in range(5):
        assert _login(client, "casey", f"guess-{n}").status_code == 401
    locked = _login(client, "casey", PASSWORD)  # even the right password, now
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.get_data(as_text=True)
    other_address = app.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.11"
    assert _login(other_address, "casey", PASSWORD).status_code == 302
    assert _login(client, "sam", PASSWORD).status_code == 302  # another username from the same address
    assert [e["data"]["reason"] for e in store.events() if e["name"] == "login_refused"] == ["too many failed attempts"]


def test_the_lock_lifts_after_the_window(tmp_path):
    app, store, _ = make_app(tmp_path, login_attempts=2, login_window_minutes=1)
    add_user(store, "casey")
    client = app.test_client()
    for _ in range(2):
        _login(client, "casey", "nope-nope-nope")
    assert _login(client, "casey", PASSWORD).status_code == 429
    with store.engine.begin() as conn:  # the failures age past the window
        from sqlalchemy import text
        conn.execute(text("UPDATE login_failures SET at = datetime(at, '-2 minutes')"))
    assert _login(client, "casey", PASSWORD).status_code == 302


def test_a_session_ends_after_the_idle_time(tmp_path):
    app, store, _ = make_app(tmp_path, session_minutes=5)
    add_user(store, "casey")
    client = signed_in(app, "casey")
    assert client.get("/queue").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 6 * 60
    response = client.get("/queue")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "session ended" in client.get("/login").get_data(as_text=True)


def test_session_cookie_is_secure_httponly_and_samesite_by_default(tmp_path):
    settings = load_settings(write_settings(tmp_path, secure_cookies=True), environ={})
    app = create_app(settings)
    cookie = app.test_client().get("/login", base_url="https://localhost").headers["Set-Cookie"]
    assert cookie.startswith("__Host-ehc_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_security_headers_are_on_every_response(web):
    app, _, item = web
    client = signed_in(app, "casey")
    anonymous = app.test_client()
    responses = [client.get("/queue"), client.get(f"/items/{item}"), client.get("/items/999999"),
                 client.get("/supervisor/"), anonymous.get("/healthz"), anonymous.get("/login"),
                 anonymous.get("/queue"), client.get("/static/app.css"), client.post("/items/1/claim")]
    for r in responses:
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'"), r
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert responses[0].headers["Cache-Control"] == "no-store"
    for page in (responses[0], responses[1]):
        assert "<script" not in page.get_data(as_text=True) and " style=" not in page.get_data(as_text=True)


# -- CSRF --------------------------------------------------------------------------------------------

def test_forms_without_the_sessions_csrf_token_are_refused(web):
    app, store, item = web
    client = signed_in(app, "casey")
    version = store.item_detail(item).version
    other = signed_in(app, "sam")
    someone_elses = form_fields(other.get(f"/items/{item}").get_data(as_text=True), f"/items/{item}/claim")
    for data in ({"version": version}, {"version": version, "csrf_token": ""},
                 {"version": version, "csrf_token": "forged"}, {"version": version, **someone_elses}):
        response = client.post(f"/items/{item}/reject", data={"reason": "spam", **data})
        assert response.status_code == 400 and "form has expired" in response.get_data(as_text=True)
    assert store.item_detail(item).status.value == "drafted"
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "casey", "password": PASSWORD}).status_code == 400


# -- health, secret key, settings -------------------------------------------------------------------

def test_healthz_needs_no_sign_in_and_says_when_the_database_is_down(web, monkeypatch):
    app, store, _ = web
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "last_successful_poll": {}}

    def down():
        raise OSError("database is gone")
    monkeypatch.setattr(store, "ping", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "error"


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    settings = load_settings(write_settings(tmp_path), environ={})
    first = create_app(settings).config["SECRET_KEY"]
    key_file = tmp_path / "data" / "web-secret-key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert create_app(settings).config["SECRET_KEY"] == first and len(first) >= 48


def test_the_secret_key_can_come_from_the_environment(tmp_path):
    path = write_settings(tmp_path, secret_key_env="EHC_WEB_KEY")
    settings = load_settings(path, environ={"EHC_WEB_KEY": "k" * 40})
    assert create_app(settings).config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "data" / "web-secret-key").exists()
    assert "kkkk" not in repr(settings)
    with pytest.raises(ConfigError, match="EHC_WEB_KEY, which is not set"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="too short"):
        load_settings(path, environ={"EHC_WEB_KEY": "short"})


def test_web_settings_are_read_and_checked(tmp_path):
    settings = load_settings(write_settings(tmp_path, host="0.0.0.0", port=8123, session_minutes=30, threads=4,
                                            page_size=25, login_attempts=3, login_window_minutes=10,
                                            proxy_count=1), environ={})
    w = settings.web
    assert (w.host, w.port, w.session_minutes, w.secure_cookies, w.threads, w.page_size, w.login_attempts,
            w.login_window_minutes, w.proxy_count) == ("0.0.0.0", 8123, 30, False, 4, 25, 3, 10, 1)
    assert load_settings(None, environ={}).web is None
    with pytest.raises(ConfigError, match="session_minutes"):
        load_settings(write_settings(tmp_path, session_minutes=0), environ={})
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(write_settings(tmp_path, colour="blue"), environ={})


# -- the users command -------------------------------------------------------------------------------

def test_users_add_list_disable_from_the_command_line(tmp_path):
    config = write_settings(tmp_path)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(cli, ["--config", str(config), "users", *args], input=input)

    added = run("add", "priya.k", "--role", "supervisor", "--password-stdin", input="a-very-long-password\n")
    assert added.exit_code == 0 and "user priya.k added as supervisor" in added.output
    assert run("add", "priya.k", "--role", "admin", "--password-stdin", input="another-long-one\n").exit_code == 1
    short = run("add", "tom", "--role", "caseworker", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "too short" in short.output
    assert run("add", "bad name", "--role", "caseworker", "--password-stdin", input="x" * 20 + "\n").exit_code == 1
    assert run("add", "tom", "--role", "boss", "--password-stdin", input="x" * 20 + "\n").exit_code == 2
    listed = run("list").output.splitlines()
    assert listed[0].split() == ["USERNAME", "ROLE", "STATUS", "CREATED"]
    assert listed[1].split()[:3] == ["priya.k", "supervisor", "active"]
    assert run("disable", "priya.k").exit_code == 0
    assert "disabled" in run("list").output
    assert run("disable", "priya.k").exit_code == 1
    assert run("disable", "nobody").exit_code == 1
    assert run("password", "priya.k", "--password-stdin", input="a-new-long-password\n").exit_code == 0

    app, store, _ = make_app(tmp_path)
    stored = store.get_user("priya.k")
    assert stored.password_hash.startswith("$argon2id$") and "a-new-long-password" not in stored.password_hash
    names = [(e["name"], e["data"].get("username")) for e in store.events()]
    assert names == [("user_added", "priya.k"), ("user_disabled", "priya.k"), ("password_changed", "priya.k")]
    client = app.test_client()
    assert _login(client, "priya.k", "a-new-long-password").status_code == 401  # disabled


def test_the_queue_page_is_reached_after_signing_in_with_a_new_account(tmp_path):
    app, store, _ = make_app(tmp_path)
    add_item(store, raw=make_email(subject="First message"))
    CliRunner().invoke(cli, ["--config", str(tmp_path / "settings.toml"), "users", "add", "casey", "--role",
                             "caseworker", "--password-stdin"], input=PASSWORD + "\n")
    page = signed_in(app, "casey").get("/queue").get_data(as_text=True)
    assert "First message" in page and "1 item;" in page
