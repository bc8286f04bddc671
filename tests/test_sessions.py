"""Sessions that really end (issue 14, findings 6 and 7): a session version per account in the signed
cookie, bumped by signing out, a new password and disabling; an absolute lifetime; `next=` that only
ever leads to a page of this site."""

from __future__ import annotations

import time

import pytest

from triage import accounts
from triage.domain import Role

from .webapp import PASSWORD, add_user, csrf, form_fields, make_app, signed_in

COOKIE = "ehc_session"  # secure_cookies = false in the tests' settings


@pytest.fixture
def web(tmp_path):
    app, store, _ = make_app(tmp_path, session_absolute_hours=2)
    add_user(store, "casey")
    add_user(store, "ada", Role.ADMIN)
    yield app, store
    store.close()


def _copy(app, client):
    """Another browser holding a copy of this client's session cookie (as a thief or a second tab would)."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def _signed_out(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _sign_out(client) -> None:
    page = client.get("/logout").get_data(as_text=True)
    assert client.post("/logout", data=form_fields(page, "/logout")).status_code == 302


def test_signing_out_ends_every_copy_of_the_session(web):
    """Finding 7: the cookie alone was the session, so a copy of it outlived signing out."""
    app, store = web
    client = signed_in(app, "casey")
    copy = _copy(app, client)
    elsewhere = signed_in(app, "casey", address="192.0.2.20")  # the same account on another computer
    assert copy.get("/queue").status_code == 200 and elsewhere.get("/queue").status_code == 200
    _sign_out(client)
    assert _signed_out(copy.get("/queue"))
    assert _signed_out(elsewhere.get("/queue"))
    assert "Your session has ended" in copy.get("/login").get_data(as_text=True)
    assert store.accounts.get_user("casey").session_version == 2
    assert signed_in(app, "casey").get("/queue").status_code == 200  # signing in again works


def test_a_new_password_ends_every_session(web):
    app, store = web
    client = signed_in(app, "casey")
    copy = _copy(app, client)
    accounts.change_password(store, "casey", "heron-lantern-quarry-41", "ada")
    assert _signed_out(client.get("/queue")) and _signed_out(copy.get("/queue"))
    assert signed_in(app, "casey", password="heron-lantern-quarry-41").get("/queue").status_code == 200


def test_disabling_an_account_ends_its_sessions(web):
    app, store = web
    client = signed_in(app, "casey")
    copy = _copy(app, client)
    admin = signed_in(app, "ada")
    token = form_fields(admin.get("/admin/users").get_data(as_text=True), "/admin/users/disable")["csrf_token"]
    assert admin.post("/admin/users/disable", data={"csrf_token": token, "username": "casey"}).status_code == 303
    assert _signed_out(client.get("/queue")) and _signed_out(copy.get("/queue"))
    assert store.accounts.get_user("casey").session_version == 2


def test_a_session_ends_at_its_absolute_lifetime_however_active(web):
    app, _ = web
    client = signed_in(app, "casey")
    with client.session_transaction() as session:
        session["started"] = int(time.time()) - 2 * 3600 + 60  # a minute before the limit
    assert client.get("/queue").status_code == 200
    with client.session_transaction() as session:
        session["started"] = int(time.time()) - 2 * 3600 - 1
        session["seen"] = int(time.time())  # active a moment ago
    assert _signed_out(client.get("/queue"))
    assert "time limit" in client.get("/login").get_data(as_text=True)


def test_a_cookie_from_before_session_versions_is_not_a_session(web):
    app, _ = web
    client = signed_in(app, "casey")
    with client.session_transaction() as session:
        del session["version"]
    assert _signed_out(client.get("/queue"))


def test_a_forged_cookie_is_not_a_session(web):
    app, _ = web
    client = app.test_client()
    client.set_cookie(COOKIE, "eyJ1c2VyIjoiYWRhIiwidmVyc2lvbiI6MX0.forged.signature")
    assert _signed_out(client.get("/queue"))


# -- next= ---------------------------------------------------------------------------------------------

OFF_SITE = [
    "/\t/evil.example",  # finding 6: next=/%09/evil.example became Location: //evil.example
    "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/\x00/evil.example", "/\x0b/evil.example",
    "/\u3000/evil.example", "/\u200b/evil.example", "/\u2028/evil.example", "/\x7f/evil.example",
    "//evil.example/x", "///evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
    "https:/evil.example", "http:evil.example", "javascript:alert(1)", "evil.example", "", "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_goes_only_to_a_page_of_this_site(web, target):
    app, _ = web
    client = app.test_client()
    response = client.post("/login", data={"username": "casey", "password": PASSWORD, "csrf_token": csrf(client),
                                           "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/queue"


def test_the_original_open_redirect_url_is_closed(web):
    """The finding as reported: the percent-encoded tab in the query string of the sign-in page."""
    app, _ = web
    client = app.test_client()
    page = client.get("/login?next=/%09/evil.example").get_data(as_text=True)
    assert 'name="next" value="/queue"' in page
    response = client.post("/login?next=/%09/evil.example",
                           data={"username": "casey", "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.headers["Location"] == "/queue"
    signed = signed_in(app, "casey")
    assert signed.get("/login?next=/%09/evil.example").headers["Location"] == "/queue"


@pytest.mark.parametrize("target", ["/items/12", "/queue?status=all&q=tribunal+appeal&page=2", "/supervisor/log",
                                    "/items/3#draft"])
def test_sign_in_returns_to_the_page_asked_for(web, target):
    app, _ = web
    client = app.test_client()
    response = client.post("/login", data={"username": "casey", "password": PASSWORD, "csrf_token": csrf(client),
                                           "next": target})
    assert response.headers["Location"] == target
