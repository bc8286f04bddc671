"""Bad input gets a clear answer, never a 500 (issue 14, finding 9 and deliverable 5).

Hypothesis throws text, numbers, control characters, invalid UTF-8 and the inputs that once broke the
app at every form and query string a user can reach: the sign-in form, the queue's filters, the
supervisor's log filters, the item forms (claim, draft, route, reject, handled) and the admin form.
The app runs with TESTING on, so an unhandled exception fails the example with its traceback rather
than hiding behind a 500 page. Examples are derandomised: CI runs the same ones every time.
"""

from __future__ import annotations

import itertools
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.domain import Role

from .webapp import PASSWORD, add_item, add_user, csrf, make_app, signed_in

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
KNOWN_BAD = [  # inputs that broke something once, or are built to
    "9999-12-31", "0001-01-01", "10000-01-01", "2026-02-30", "0000-00-00", "-1", "0", "1e309", "NaN", "inf",
    "99999999999999999999999999", "9" * 5000, "٣", "\x00", "\r\n", "\t", " ", "", "/%09/evil.example",
    "//evil.example", "a@b@evil.example", "<script>alert(1)</script>", "' OR 1=1 --", "%", "%ff", "\ud7ff",
    "\u202e", "x" * 20_000,
]
TEXT = st.one_of(st.sampled_from(KNOWN_BAD), st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
QUEUE_KEYS = ("status", "route", "age", "assignee", "q", "page", "sort")
LOG_KEYS = ("from", "to", "route", "user", "model", "overridden", "safeguarding", "event", "page")
_addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    app, store, _ = make_app(tmp_path_factory.mktemp("fuzz"))
    items = [add_item(store, subject=f"Appeal {n}") for n in range(3)]
    for name, role in (("casey", Role.CASEWORKER), ("sam", Role.SUPERVISOR), ("ada", Role.ADMIN)):
        add_user(store, name, role)
    yield app, store, items
    store.close()


@pytest.fixture(scope="module")
def admin(web):
    app, _, _ = web
    client = signed_in(app, "ada")
    return client, csrf(client, "/queue")


def _query(keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A query string: known keys with fuzzed values, sometimes raw bytes (invalid UTF-8 too) or odd keys."""
    value = st.one_of(TEXT.map(urllib.parse.quote), st.binary(max_size=60).map(urllib.parse.quote_from_bytes))
    key = st.one_of(st.sampled_from(keys), st.text(max_size=10).map(urllib.parse.quote))
    pair = st.tuples(key, value).map(lambda kv: f"{kv[0]}={kv[1]}")
    return st.lists(pair, max_size=len(keys) + 2).map("&".join)


def _clean_failure(response) -> None:
    """Not a 500; a refusal says why on a page of its own."""
    assert response.status_code < 500, response.status_code
    if response.status_code in (400, 409):
        assert "<h1>" in response.get_data(as_text=True)


@FUZZ
@given(username=TEXT, password=TEXT, target=TEXT)
def test_the_sign_in_form_never_fails(web, username, password, target):
    app, _, _ = web
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_addresses)  # each example reaches the password check
    response = client.post("/login", data={"username": username, "password": password, "next": target,
                                           "csrf_token": csrf(client)})
    assert response.status_code in (302, 401, 429)
    if response.status_code == 302:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//")
        assert not re.search(r"[\\\s\x00-\x1f\x7f]", location)


@FUZZ
@given(query=_query(QUEUE_KEYS))
def test_the_queue_filters_never_fail(web, admin, query):
    client, _ = admin
    response = client.get("/queue?" + query)
    _clean_failure(response)


@FUZZ
@given(query=_query(LOG_KEYS))
def test_the_supervisor_log_filters_never_fail(web, admin, query):
    client, _ = admin
    for path in ("/supervisor/log?", "/supervisor/log.csv?", "/supervisor/?weeks=1&"):
        response = client.get(path + query)
        _clean_failure(response)
        if response.status_code == 200 and path.startswith("/supervisor/log.csv"):
            response.get_data()  # the CSV is streamed: reading it runs the query


@FUZZ
@given(form=st.sampled_from(["claim", "draft", "route", "reject", "handled"]), version=st.one_of(
    TEXT, st.integers().map(str), st.just("current")), a=TEXT, b=TEXT, action=st.sampled_from(["", "release"]))
def test_the_item_forms_never_fail(web, admin, form, version, a, b, action):
    app, store, items = web
    client, token = admin
    item = items[hash((a, b)) % len(items)]
    if version == "current":
        version = str(store.items.detail(item).version)
    fields = {"claim": {"action": action}, "draft": {"subject": a, "text": b}, "route": {"route": a},
              "reject": {"reason": a}, "handled": {"note": a}}[form]
    response = client.post(f"/items/{item}/{form}", data={"csrf_token": token, "version": version, **fields})
    _clean_failure(response)


@FUZZ
@given(username=TEXT)
def test_the_admin_form_never_fails(web, admin, username):
    client, token = admin
    response = client.post("/admin/users/disable", data={"csrf_token": token, "username": username})
    _clean_failure(response)
    assert response.status_code == 303


# -- the known bad inputs, one by one --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/supervisor/log?to=9999-12-31", "/supervisor/log?from=0001-01-01",
                                  "/supervisor/log.csv?to=9999-12-31"])
def test_a_log_date_out_of_range_is_refused_with_a_message(web, admin, path):
    """Finding 9: /supervisor/log?to=9999-12-31 was an unhandled 500."""
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 400
    assert "dates must be between 1900-01-01 and 2999-12-31" in response.get_data(as_text=True)


@pytest.mark.parametrize("version", ["abc", "", "9" * 5000, str(10 ** 30), "-1"])
def test_a_form_with_a_bad_version_is_refused_with_a_message(web, admin, version):
    app, store, items = web
    client, token = admin
    before = store.items.detail(items[0]).version
    response = client.post(f"/items/{items[0]}/reject", data={"csrf_token": token, "version": version,
                                                               "reason": "spam"})
    assert response.status_code in (400, 409) and "<h1>" in response.get_data(as_text=True)
    assert store.items.detail(items[0]).version == before


def test_sign_in_with_the_right_password_still_works_after_the_fuzzing(web):
    app, _, _ = web
    assert signed_in(app, "casey", PASSWORD, address="192.0.2.200").get("/queue").status_code == 200
