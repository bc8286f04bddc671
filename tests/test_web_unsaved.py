"""Nothing typed is lost (issue 15 item 2): a draft posted after the session ended comes back after signing in.

HTTP-level, on the Flask test client: the session still in the browser but past its idle limit (its
CSRF token proves the form was ours), the cookie already gone (only the browser's Sec-Fetch-Site
says the form was ours), and a form posted from another site (never kept). The browser walk in
test_browser_day.py covers the same with a real chromium.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from triage.domain import Role

from .webapp import PASSWORD, add_item, add_user, csrf, form_fields, make_app, signed_in


def _setup(tmp_path):
    app, store, _ = make_app(tmp_path)
    item = add_item(store)
    add_user(store, "casey", Role.CASEWORKER)
    return app, store, item


def _sign_in_again(app, next_path: str):
    client = app.test_client()
    response = client.post("/login", data={"username": "casey", "password": PASSWORD, "csrf_token": csrf(client),
                                           "next": next_path})
    assert response.status_code == 302
    return client, response.headers["Location"]


def test_a_save_after_the_idle_limit_keeps_the_text_and_returns_to_the_item(tmp_path):
    app, store, item = _setup(tmp_path)
    client = signed_in(app, "casey")
    fields = form_fields(client.get(f"/items/{item}").get_data(as_text=True), f"/items/{item}/draft")
    with client.session_transaction() as session:
        session["seen"] = 0  # idle for ever: the session has ended
    response = client.post(f"/items/{item}/draft", data={**fields, "subject": "Kept subject",
                                                         "text": "Typed slowly.\nStill here.", "action": "save"})
    assert response.status_code == 302
    login = urlsplit(response.headers["Location"])
    assert login.path == "/login"
    next_path = parse_qs(login.query)["next"][0]
    assert next_path.startswith(f"/items/{item}?restore=") and next_path.endswith("#draft")  # a GET, not the POST
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "what you typed is kept" in page and "session ended" in page.lower()
    assert store.items.detail(item).draft.version == 1  # nothing saved while signed out

    again, target = _sign_in_again(app, next_path)
    assert target == next_path
    page = again.get(target).get_data(as_text=True)
    assert "Typed slowly.\nStill here.</textarea>" in page and 'value="Kept subject"' in page
    assert 'id="restored"' in page
    # Taken once: opening the item again shows the saved draft, not the kept text.
    assert "Typed slowly." not in again.get(target).get_data(as_text=True)


def test_a_post_with_no_session_left_is_kept_only_when_the_browser_says_it_came_from_our_page(tmp_path):
    app, store, item = _setup(tmp_path)
    anonymous = app.test_client()
    ours = anonymous.post(f"/items/{item}/draft", data={"text": "From our page.", "subject": "S", "version": "1"},
                          headers={"Sec-Fetch-Site": "same-origin"})
    next_path = parse_qs(urlsplit(ours.headers["Location"]).query)["next"][0]
    assert "restore=" in next_path
    client, target = _sign_in_again(app, next_path)
    assert "From our page.</textarea>" in client.get(target).get_data(as_text=True)

    theirs = app.test_client().post(f"/items/{item}/draft", data={"text": "Planted text.", "version": "1"},
                                    headers={"Sec-Fetch-Site": "cross-site"})
    next_path = parse_qs(urlsplit(theirs.headers["Location"]).query)["next"][0]
    assert next_path == f"/items/{item}#draft"  # back to the item's page, with nothing planted in it
    client, target = _sign_in_again(app, f"/items/{item}?restore=guessed-token#draft")
    assert "Planted text." not in client.get(target).get_data(as_text=True)


def test_any_other_action_after_the_session_ended_returns_to_the_item_page_not_a_405(tmp_path):
    app, _, item = _setup(tmp_path)
    response = app.test_client().post(f"/items/{item}/claim", data={"version": "1", "action": "claim"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [f"/items/{item}#draft"]
    client, target = _sign_in_again(app, f"/items/{item}#draft")
    assert client.get(target).status_code == 200
