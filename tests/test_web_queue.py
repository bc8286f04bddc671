"""The queue and item pages over HTTP: order, filters, search, paging; the item shown safely; every action."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from triage.domain import Role
from triage.web.display import download_type, safe_filename, sanitise_html

from .webapp import HOSTILE_HTML, add_item, add_user, form_fields, hostile_email, make_app, signed_in

UTC = dt.timezone.utc


@pytest.fixture
def web(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes, page_size=5)
    add_user(store, "casey")
    add_user(store, "robin")
    add_user(store, "sam", Role.SUPERVISOR)
    yield app, store, filled_routes
    store.close()


def _item(store, routes, **kw):
    return add_item(store, routes_file=routes, **kw)


def _rows(page: str) -> list[str]:
    """The case references in a queue page, in order."""
    return re.findall(r'<a href="/items/\d+">(EHC-[^<]+)</a>', page)


def _ref(store, item_id):
    return store.items.detail(item_id).reference


# -- the queue -------------------------------------------------------------------------------------

def test_the_queue_puts_safeguarding_first_then_needs_review_then_the_earliest_reply_by_date(web):
    app, store, routes = web
    day = lambda d: dt.datetime(2026, 11, d, 9, tzinfo=UTC)  # noqa: E731
    late = _item(store, routes, received=day(20), subject="late")
    early = _item(store, routes, received=day(2), subject="early")
    review = _item(store, routes, received=day(25), needs_review=True, confidence=0.4, subject="unsure")
    danger = _item(store, routes, received=day(26), safeguarding=True, subject="danger")
    page = signed_in(app, "casey").get("/queue").get_data(as_text=True)
    assert _rows(page) == [_ref(store, i) for i in (danger, review, early, late)]
    assert "Safeguarding" in page and "Needs review" in page and "40%" in page and "90%" in page
    assert "unclaimed" in page and "Mon 16 Nov 2026" in page  # 2 Nov + 10 working days


def test_each_row_shows_route_confidence_due_date_and_claimant(web):
    app, store, routes = web
    item = _item(store, routes, sender="Halima Yusuf <halima@example.com>", subject="Final plan", route="tribunal",
                 confidence=0.87)
    store.items.claim(item, "robin")
    page = signed_in(app, "casey").get("/queue").get_data(as_text=True)
    row = page.split(_ref(store, item))[1].split("</tr>")[0]
    for expected in ("Halima Yusuf", "halima@example.com", "Final plan", "tribunal", "87%", "Mon 16 Nov 2026",
                     "robin", "Drafted"):
        assert expected in row


def test_the_queue_filters_by_route_status_claimant_and_age(web):
    app, store, routes = web
    now = dt.datetime.now(UTC)
    old_mediation = _item(store, routes, route="mediation", received=now - dt.timedelta(days=10))
    new_tribunal = _item(store, routes, route="tribunal", received=now - dt.timedelta(hours=2))
    mine = _item(store, routes, route="other", received=now - dt.timedelta(days=4))
    done = _item(store, routes, route="other", received=now - dt.timedelta(days=4))
    store.items.claim(mine, "casey")
    store.items.reject(done, "duplicate", "robin")
    client = signed_in(app, "casey")

    def refs(query):
        return set(_rows(client.get("/queue?" + query).get_data(as_text=True)))

    ref = lambda i: _ref(store, i)  # noqa: E731
    assert refs("") == {ref(old_mediation), ref(new_tribunal), ref(mine)}  # "to do": not the rejected one
    assert refs("route=tribunal") == {ref(new_tribunal)}
    assert refs("status=rejected") == {ref(done)}
    assert refs("status=all") == {ref(i) for i in (old_mediation, new_tribunal, mine, done)}
    assert refs("assignee=me") == {ref(mine)}
    assert refs("assignee=unclaimed") == {ref(old_mediation), ref(new_tribunal)}
    assert refs("assignee=robin") == set()
    assert refs("age=3") == {ref(old_mediation), ref(mine)}
    assert refs("age=7") == {ref(old_mediation)}
    assert refs("route=nonsense&status=nonsense&age=nonsense") == refs("")  # unknown values are ignored


def test_search_finds_sender_reference_subject_and_text(web):
    app, store, routes = web
    a = _item(store, routes, sender="Ola Berg <ola.berg@example.net>", subject="Annual review date")
    b = _item(store, routes, subject="Transport", body="The taxi to Fernhill School has stopped coming.")
    c = _item(store, routes, subject="100% wrong_plan")
    client = signed_in(app, "casey")

    def refs(q):
        return _rows(client.get("/queue", query_string={"q": q}).get_data(as_text=True))

    assert refs("ola.berg") == [_ref(store, a)] and refs("OLA BERG") == [_ref(store, a)]
    assert refs(_ref(store, b).lower()) == [_ref(store, b)]
    assert refs("annual review") == [_ref(store, a)]
    assert refs("fernhill") == [_ref(store, b)]
    assert refs("100%") == [_ref(store, c)] and refs("g_p") == [_ref(store, c)]  # LIKE wildcards are literal
    assert refs("%") == [] or refs("%") == [_ref(store, c)]
    assert "No items match" in client.get("/queue?q=zzzz-nothing").get_data(as_text=True)


def test_the_queue_pages_through_many_items(web):
    app, store, routes = web
    ids = [_item(store, routes, subject=f"message {n}", received=dt.datetime(2026, 10, 1 + n, tzinfo=UTC))
           for n in range(12)]
    client = signed_in(app, "casey")
    first = client.get("/queue").get_data(as_text=True)
    assert "12 items; page 1 of 3" in first and 'rel="next"' in first and 'rel="prev"' not in first
    seen = []
    for page in (1, 2, 3):
        seen += _rows(client.get(f"/queue?page={page}").get_data(as_text=True))
    assert seen == [_ref(store, i) for i in ids]
    assert _rows(client.get("/queue?page=99").get_data(as_text=True)) == []
    assert client.get("/queue?page=abc").status_code == 200
    filtered = client.get("/queue?route=mediation&page=2").get_data(as_text=True)
    assert 'href="/queue?page=3&amp;route=mediation' in filtered or 'route=mediation' in filtered.split('rel="next"')[0]


# -- the item page ---------------------------------------------------------------------------------

def test_the_item_page_shows_message_classification_deadline_flags_draft_and_history(web):
    app, store, routes = web
    item = _item(store, routes, route="mediation", subject="Refusal to assess",
                 body="You refused to assess Anya in your letter dated 2 October 2026. I want mediation.")
    page = html.unescape(signed_in(app, "casey").get(f"/items/{item}").get_data(as_text=True))
    assert "Refusal to assess" in page and "letter dated 2 October 2026" in page
    assert "90%" in page and "m-test" in page  # confidence, model
    assert "I want mediation." in page and "a close call: tribunal 8%" in page  # the evidence and the runner-up
    assert "Fri 2 Oct 2026" in page and "letter dated 2 October 2026" in page  # the deadline's source
    assert "Appeal by" in page and "Contact a mediation adviser by" in page
    detail = store.items.detail(item)
    assert detail.draft.text.splitlines()[0] in page
    assert '<textarea id="text" name="text"' in page
    for event in ("received", "classified", "drafted", "queued"):
        assert f"<td>{event}</td>" in page


def test_a_flagged_item_explains_what_to_check(web):
    app, store, routes = web
    item = _item(store, routes, route="tribunal", body="We will appeal to the tribunal.")
    page = signed_in(app, "casey").get(f"/items/{item}").get_data(as_text=True)
    assert "Deadline unknown" in page and "No decision-letter date was found" in page


def test_an_unknown_item_is_a_404(web):
    app, _, _ = web
    client = signed_in(app, "casey")
    assert client.get("/items/424242").status_code == 404
    assert client.get("/items/abc").status_code == 404


def test_hostile_html_is_shown_inert(web):
    app, store, routes = web
    item = _item(store, routes, raw=hostile_email())
    page = signed_in(app, "casey").get(f"/items/{item}").get_data(as_text=True)
    assert "<script" not in page and "onerror" not in page.replace("onerror=alert(1)&gt;", "")
    assert "javascript:" not in page.lower() and "evil.example" not in page
    for banned in ("position:fixed", "<style", "<iframe", '<form action="http'):
        assert banned not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; Appeal" in page  # the subject, escaped


def test_the_sanitiser_keeps_plain_formatting_and_drops_everything_active():
    clean = sanitise_html(HOSTILE_HTML + '<p><b>bold</b> <a href="https://www.ipsea.org.uk">IPSEA</a>'
                          '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"></p>')
    assert "<b>bold</b>" in clean and 'href="https://www.ipsea.org.uk"' in clean and "noreferrer" in clean
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    for banned in ("<script", "onerror", "onload", "javascript", "style=", "<style", "evil.example", "<iframe", "<form",
                   "<input", "<svg", "<object", "<video", "<base", "<meta", "<link", "class=", 'href="/logout"',
                   "data:text"):
        assert banned not in clean.lower(), banned


@pytest.mark.parametrize("name, expected", [
    ("../../evil.html", "evil.html"),
    ("..\\..\\windows\\evil.bat", "evil.bat"),
    ("a.pdf.exe", "a.pdf.exe"),
    ('quote".pdf', "quote_.pdf"),
    ('new line"><b>bold.txt', "new line_b_bold.txt"),
    (".hidden", "hidden"),
    ("", "attachment-3"),
    ("évaluation.pdf", "évaluation.pdf"),
    ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override cannot disguise the extension
])
def test_attachment_names_are_made_safe(name, expected):
    assert safe_filename(name, 2) == expected


def test_attachment_types_are_only_passed_through_when_harmless_and_matching():
    assert download_type("application/pdf", "letter.pdf") == "application/pdf"
    assert download_type("application/pdf", "a.pdf.exe") == "application/octet-stream"
    assert download_type("text/html", "evil.html") == "application/octet-stream"
    assert download_type("image/svg+xml", "x.svg") == "application/octet-stream"


def test_attachments_download_as_attachments_with_safe_names_and_types(web):
    app, store, routes = web
    hostile = _item(store, routes, raw=hostile_email())
    letter = _item(store, routes, attachment=("decision letter.pdf", "application/pdf", b"%PDF-1.4\n%fictional\n"))
    client = signed_in(app, "casey")
    page = client.get(f"/items/{hostile}").get_data(as_text=True)
    for shown in ("evil.html", "a.pdf.exe", "quote_.pdf", "new line_b_bold.txt"):
        assert f"Download {shown}" in page
    assert "the sender named it “../../evil.html”" in page
    expected = ["evil.html", "a.pdf.exe", "quote_.pdf", "new line_b_bold.txt"]
    for index, name in enumerate(expected):
        r = client.get(f"/items/{hostile}/attachments/{index}")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Content-Disposition"].startswith(f'attachment; filename="{name}"')
        disposition = r.headers["Content-Disposition"]
        assert "\n" not in disposition and "/" not in disposition.split(";")[1]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"].startswith("sandbox")
        assert r.data == b"<script>window.__pwned='download'</script>"
    pdf = client.get(f"/items/{letter}/attachments/0")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith('attachment; filename="decision letter.pdf"')
    assert client.get(f"/items/{letter}/attachments/1").status_code == 404
    assert client.get("/items/99999/attachments/0").status_code == 404


# -- actions ---------------------------------------------------------------------------------------

def _form(client, item, action):
    # The route controls are buttons of the draft's form (formaction=.../route), so its text comes along.
    form = "draft" if action == "route" else action
    return form_fields(client.get(f"/items/{item}").get_data(as_text=True), f"/items/{item}/{form}")


def test_claim_take_over_and_release_are_recorded(web):
    app, store, routes = web
    item = _item(store, routes)
    casey, robin = signed_in(app, "casey"), signed_in(app, "robin")
    claimed = casey.post(f"/items/{item}/claim", data={**_form(casey, item, "claim"), "action": "claim"})
    assert claimed.status_code == 303
    assert "Take over from casey" in robin.get(f"/items/{item}").get_data(as_text=True)
    robin.post(f"/items/{item}/claim", data={**_form(robin, item, "claim"), "action": "claim"})
    robin.post(f"/items/{item}/claim", data={**_form(robin, item, "claim"), "action": "release"})
    events = [(e["name"], e["actor"], e["data"]) for e in store.events.of_item(item)
              if e["actor"] != "system" and e["name"] != "viewed"]
    assert events == [("claimed", "casey", {"from": None, "to": "casey"}),
                      ("claimed", "robin", {"from": "casey", "to": "robin"}),
                      ("released", "robin", {"from": "robin", "to": None})]
    assert store.items.detail(item).claimed_by is None


def test_editing_the_draft_keeps_every_version_and_logs_the_diff(web):
    app, store, routes = web
    item = _item(store, routes)
    client = signed_in(app, "casey")
    original = store.items.detail(item).draft
    edited = original.text.replace("Dear", "Dear dear", 1) + "\nWith a caseworker's note.\n"
    response = client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": "Re: edited",
                                                         "text": edited.replace("\n", "\r\n"), "action": "save"})
    assert response.status_code == 303 and response.headers["Location"] == f"/items/{item}#draft"
    detail = store.items.detail(item)
    assert [d.version for d in detail.drafts] == [1, 2]
    assert detail.draft.text == edited and detail.draft.subject == "Re: edited" and detail.draft.author == "casey"
    assert detail.drafts[0].text == original.text
    [event] = [e for e in store.events.of_item(item) if e["name"] == "draft_edited"]
    assert event["actor"] == "casey" and "+With a caseworker's note." in event["data"]["diff"]
    assert event["data"]["subject"] == {"from": original.subject, "to": "Re: edited"}
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "Version 2" in page and "Earlier versions of the draft" in page and "Draft saved (version 2)" in page
    # Saving the same text again adds nothing.
    client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": "Re: edited", "text": edited})
    assert len(store.items.detail(item).drafts) == 2


def test_an_empty_draft_is_refused_and_the_form_kept(web):
    app, store, routes = web
    item = _item(store, routes)
    client = signed_in(app, "casey")
    r = client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": "My subject",
                                                  "text": "   "})
    assert r.status_code == 400 and "cannot be empty" in r.get_data(as_text=True)
    assert 'value="My subject"' in r.get_data(as_text=True)


def test_changing_the_route_rewrites_the_draft_and_keeps_the_edit_history(web):
    app, store, routes = web
    item = _item(store, routes, route="other", needs_review=True, confidence=0.35,
                 body="We have our mediation certificate and will appeal to the tribunal.")
    client = signed_in(app, "casey")
    before = store.items.detail(item).draft
    client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": before.subject,
                                              "text": before.text + "\nMy own words.\n"})
    r = client.post(f"/items/{item}/route", data={**_form(client, item, "route"), "route": "tribunal"})
    assert r.status_code == 303
    detail = store.items.detail(item)
    assert detail.route == "tribunal" and detail.status.value == "drafted" and not detail.needs_review
    assert [(d.version, d.route, d.author) for d in detail.drafts] == [(1, "other", "system"), (2, "other", "casey"),
                                                                      (3, "tribunal", "casey")]
    assert "First-tier Tribunal" in detail.draft.text and "My own words." in detail.drafts[1].text
    assert "deadline_unknown" in detail.flags
    [event] = [e for e in store.events.of_item(item) if e["name"] == "route_changed"]
    assert event["actor"] == "casey" and event["data"]["from"] == "other" and event["data"]["to"] == "tribunal"
    r = client.post(f"/items/{item}/route", data={**_form(client, item, "route"), "route": "nonsense"})
    assert r.status_code == 400


def test_approving_queues_the_edited_reply_in_the_outbox_and_sends_nothing_itself(web):
    app, store, routes = web
    item = _item(store, routes, sender="Dev Mistry <dev.mistry@example.com>", message_id="<orig-9@example.com>")
    client = signed_in(app, "casey")
    draft = store.items.detail(item).draft
    r = client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": draft.subject,
                                                  "text": draft.text + "\nEDITED BY CASEY\n", "action": "approve"})
    assert r.status_code == 303 and r.headers["Location"] == "/queue"
    assert "Approved: the reply is in the outbox" in client.get("/queue").get_data(as_text=True)
    [reply] = [e for e in store.outbox.entries() if e.kind == "reply"]
    assert reply.status == "pending" and reply.attempts == 0 and reply.to_address == "dev.mistry@example.com"
    assert b"EDITED BY CASEY" in reply.raw and b"In-Reply-To: <orig-9@example.com>" in reply.raw
    assert store.items.detail(item).status.value == "approved"
    names = [(e["name"], e["actor"]) for e in store.events.of_item(item) if e["actor"] != "system"]
    assert names == [("viewed", "casey"), ("draft_edited", "casey"), ("approved", "casey")]
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "can no longer be changed" in page and 'name="text"' not in page


def test_a_draft_with_a_placeholder_cannot_be_approved_and_says_why(tmp_path):
    app, store, _ = make_app(tmp_path)  # the repository's routes.toml: placeholders still to fill in
    add_user(store, "casey")
    item = add_item(store)
    client = signed_in(app, "casey")
    draft = store.items.detail(item).draft
    assert "[COUNCIL TO FILL IN" in draft.text
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "It cannot be approved until the placeholder is replaced" in page
    r = client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": draft.subject,
                                                  "text": draft.text, "action": "approve"}, follow_redirects=True)
    text = html.unescape(r.get_data(as_text=True))
    # Said in the caseworker's terms: the whole placeholder, and no command-line advice.
    assert "Not approved: its draft still has a placeholder" in text and "check-config" not in text
    assert store.items.detail(item).status.value == "drafted" and store.outbox.entries() == []


def test_rejecting_needs_a_reason(web):
    app, store, routes = web
    item = _item(store, routes)
    client = signed_in(app, "casey")
    r = client.post(f"/items/{item}/reject", data={**_form(client, item, "reject"), "reason": "  "})
    assert r.status_code == 400 and "Give a reason" in r.get_data(as_text=True)
    r = client.post(f"/items/{item}/reject", data={**_form(client, item, "reject"), "reason": "Spam from a list"})
    assert r.status_code == 303
    assert store.items.detail(item).status.value == "rejected"
    [event] = [e for e in store.events.of_item(item) if e["name"] == "rejected"]
    assert event["actor"] == "casey" and event["data"]["reason"] == "Spam from a list"


def test_handled_elsewhere_closes_the_item(web):
    app, store, routes = web
    item = _item(store, routes)
    client = signed_in(app, "casey")
    r = client.post(f"/items/{item}/handled", data={**_form(client, item, "handled"), "note": "answered by phone"})
    assert r.status_code == 303
    assert store.items.detail(item).status.value == "handled_elsewhere"
    assert "Handled elsewhere" in client.get("/queue?status=handled_elsewhere").get_data(as_text=True)
    [event] = [e for e in store.events.of_item(item) if e["name"] == "handled_elsewhere"]
    assert (event["actor"], event["data"]["note"], event["data"]["from"]) == ("casey", "answered by phone", "drafted")
    # A closed item takes no more decisions.
    r = client.post(f"/items/{item}/reject", data={**_form(client, item, "claim"), "reason": "x"})
    assert r.status_code == 400 and "can no longer be changed" in r.get_data(as_text=True)


def test_two_caseworkers_editing_at_once_one_wins_and_the_other_keeps_their_text(web):
    app, store, routes = web
    item = _item(store, routes)
    casey, robin = signed_in(app, "casey"), signed_in(app, "robin")
    casey_form, robin_form = _form(casey, item, "draft"), _form(robin, item, "draft")  # both load version 1
    draft = store.items.detail(item).draft
    assert casey.post(f"/items/{item}/draft", data={**casey_form, "subject": draft.subject,
                                                    "text": "Casey's reply.\n"}).status_code == 303
    lost = robin.post(f"/items/{item}/draft", data={**robin_form, "subject": "Robin's subject",
                                                    "text": "Robin's careful reply,\nwith <b>two</b> lines.\n",
                                                    "action": "approve"})
    page = lost.get_data(as_text=True)
    assert lost.status_code == 409
    assert "Not saved: item" in page and "changed by casey (draft edited" in page
    assert "Robin&#39;s careful reply,\nwith &lt;b&gt;two&lt;/b&gt; lines." in page  # robin's text, still in the form
    assert 'value="Robin&#39;s subject"' in page
    assert "Casey&#39;s reply." in page  # and the draft as it is now, to compare
    detail = store.items.detail(item)
    assert detail.draft.text == "Casey's reply.\n" and detail.status.value == "drafted"
    assert store.outbox.entries() == []
    # Robin's form now carries the current version: sending it again wins.
    retry = form_fields(page, f"/items/{item}/draft")
    assert int(retry["version"]) == detail.version
    assert robin.post(f"/items/{item}/draft", data={**retry, "subject": "Robin's subject",
                                                    "text": "Robin's careful reply.\n"}).status_code == 303
    assert store.items.detail(item).draft.author == "robin"


def test_a_stale_reject_or_route_change_is_refused_and_keeps_the_reason(web):
    app, store, routes = web
    item = _item(store, routes)
    casey, robin = signed_in(app, "casey"), signed_in(app, "robin")
    stale = _form(robin, item, "reject")
    casey.post(f"/items/{item}/claim", data={**_form(casey, item, "claim"), "action": "claim"})
    r = robin.post(f"/items/{item}/reject", data={**stale, "reason": "Duplicate of EHC-1"})
    assert r.status_code == 409 and "Duplicate of EHC-1</textarea>" in r.get_data(as_text=True)
    assert "changed by casey (claimed" in r.get_data(as_text=True)
    r = robin.post(f"/items/{item}/route", data={**stale, "route": "tribunal"})
    assert r.status_code == 409
    assert store.items.detail(item).status.value == "drafted" and store.items.detail(item).route == "mediation"


def test_the_supervisor_page_lists_recent_events(web):
    app, store, routes = web
    item = _item(store, routes)
    store.items.claim(item, "casey")
    page = signed_in(app, "sam").get("/supervisor/").get_data(as_text=True)
    assert "Latest events" in page and "<td>claimed</td>" in page and f'href="/items/{item}"' in page


# -- deadlines judged on the day they are used ------------------------------------------------------

LETTER = "Your decision letter dated 14 September 2026 refused to assess Sam. I want mediation."
# Decision 14 Sep 2026: contact the adviser by Fri 13 Nov, appeal by 5pm Mon 16 Nov.


def _clocked(tmp_path, filled_routes, day):
    """The app on a clock that reads `day` at noon UTC, and a way to move it."""
    now = {"at": dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc)}
    app, store, settings = make_app(tmp_path, routes_file=filled_routes, clock=lambda: now["at"])
    add_user(store, "casey")
    return app, store, settings, now


def test_the_queue_shows_and_sorts_by_the_statutory_deadline_judged_today(tmp_path, filled_routes):
    app, store, _, now = _clocked(tmp_path, filled_routes, dt.date(2026, 11, 20))
    received = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
    late = add_item(store, routes_file=filled_routes, body=LETTER, received=received, today=dt.date(2026, 10, 1))
    soon = add_item(store, routes_file=filled_routes, received=received, today=dt.date(2026, 10, 1),
                    body="The final plan came with your letter dated 10 October 2026. We want to appeal.")
    none = add_item(store, routes_file=filled_routes, route="disagreement_resolution", received=received)
    assert store.items.detail(late).statutory_deadline == dt.date(2026, 11, 13)
    client = signed_in(app, "casey")
    page = client.get("/queue").get_data(as_text=True)
    assert "Statutory deadline" in page
    late_row = next(r for r in page.split("<tr")[1:] if _ref(store, late) in r)
    # The adviser's two months ended on 14 Nov: the deadline to act on is the appeal's (passed too), as
    # the item page says, not the adviser's 13 Nov stored when the draft was written.
    assert "deadline-passed" in late_row and "passed" in late_row and "Mon 16 Nov 2026" in late_row
    item_page = html.unescape(client.get(f"/items/{late}").get_data(as_text=True))
    assert "appeal by 5pm on Mon 16 Nov 2026" in item_page
    soon_row = next(r for r in page.split("<tr")[1:] if _ref(store, soon) in r)
    assert "in 20 days" in soon_row  # adviser by Thu 10 Dec 2026, judged on Fri 20 Nov
    sorted_page = client.get("/queue?sort=deadline").get_data(as_text=True)
    assert _rows(sorted_page) == [_ref(store, late), _ref(store, soon), _ref(store, none)]
    now["at"] = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)  # nine days later: near
    soon_row = next(r for r in client.get("/queue").get_data(as_text=True).split("<tr")[1:] if _ref(store, soon) in r)
    assert "in 9 days" in soon_row and "deadline-near" in soon_row


CERTIFICATE = ("Your decision letter dated 14 September 2026 refused to assess Sam. The mediation certificate "
               "was issued on 2 November 2026. We will appeal.")


def _queue_date(client, store, item) -> str:
    row = next(r for r in client.get("/queue").get_data(as_text=True).split("<tr")[1:] if _ref(store, item) in r)
    cell = row[row.index('class="statutory-deadline"'):]
    return re.search(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} \w{3} \d{4}", cell).group(0)


def _banner_date(client, item) -> str:
    page = html.unescape(client.get(f"/items/{item}").get_data(as_text=True))
    banner = page[page.index('id="statutory-deadline"'):]
    return re.search(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} \w{3} \d{4}", banner).group(0)


def test_the_queue_and_the_item_page_give_the_same_statutory_deadline_on_every_day(tmp_path, filled_routes):
    """Once the mediation adviser's two months are over (14 Nov here), the deadline to act on is the
    appeal's: the queue moves on with the item page, in what it shows and in how it sorts."""
    app, store, _, now = _clocked(tmp_path, filled_routes, dt.date(2026, 10, 1))
    received = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
    adviser = add_item(store, routes_file=filled_routes, body=LETTER, received=received, today=dt.date(2026, 10, 1))
    certificate = add_item(store, routes_file=filled_routes, body=CERTIFICATE, received=received,
                           today=dt.date(2026, 11, 3), route="tribunal")
    later = add_item(store, routes_file=filled_routes, received=received, today=dt.date(2026, 10, 1),
                     body="Your letter dated 15 September 2026 refused to assess Kai. I want mediation.")
    client = signed_in(app, "casey")
    seen = {}
    for day in range(12, 19):
        now["at"] = dt.datetime(2026, 11, day, 12, tzinfo=dt.timezone.utc)
        for item in (adviser, certificate, later):
            assert _queue_date(client, store, item) == _banner_date(client, item), (day, item)
        seen[day] = (_queue_date(client, store, adviser), _rows(client.get("/queue?sort=deadline")
                                                                 .get_data(as_text=True)))
    assert seen[14][0] == "Fri 13 Nov 2026"  # the adviser's date (advised: the 14th is a Saturday)
    assert seen[15][0] == "Mon 16 Nov 2026"  # the two months are over: the appeal's
    # Sorted by deadline: on the 14th both are at 13 Nov (the adviser's); on the 15th the first has moved
    # on to the appeal's 16 Nov while the other's adviser still counts (its two months end that day).
    refs = [_ref(store, i) for i in (adviser, later, certificate)]
    assert seen[14][1] == refs
    assert seen[15][1] == [refs[1], refs[0], refs[2]]
    assert seen[16][1] == refs  # both at the appeal's 16 Nov; the certificate's appeal is 2 Dec
    assert store.items.detail(adviser).statutory_deadline == dt.date(2026, 11, 13)  # as stored when drafted


def test_migration_0013_gives_items_stored_before_it_their_appeal_date_and_the_advisers_last_day(
        tmp_path, filled_routes):
    from sqlalchemy import text

    from triage.store import Store

    from .factories import store_at_revision

    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = Store(url)
    store.migrate()
    received = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
    adviser = add_item(store, routes_file=filled_routes, body=LETTER, received=received, today=dt.date(2026, 10, 1))
    certificate = add_item(store, routes_file=filled_routes, body=CERTIFICATE, received=received,
                           today=dt.date(2026, 11, 3), route="tribunal")
    plain = add_item(store, routes_file=filled_routes, route="disagreement_resolution", received=received)
    store.close()
    old = store_at_revision(url, "0012")  # as the service left it before this revision
    old.migrate()
    with old.engine.connect() as conn:
        rows = {r[0]: (r[1], r[2]) for r in conn.execute(text("SELECT id, appeal_deadline, adviser_until FROM items"))}
    assert rows[adviser] == ("2026-11-16", "2026-11-14")  # appeal Mon 16 Nov; the two months end Sat 14 Nov
    assert rows[certificate] == ("2026-12-02", None)  # a certificate: no adviser step
    assert rows[plain] == (None, None)  # no deadlines on this route
    old.close()


def test_deadline_on_moves_to_the_appeal_only_after_the_advisers_last_day():
    from triage.domain import deadline_on

    adviser, appeal, until = dt.date(2026, 11, 13), dt.date(2026, 11, 16), dt.date(2026, 11, 14)
    assert deadline_on(dt.date(2026, 11, 14), adviser, appeal, until) == adviser
    assert deadline_on(dt.date(2026, 11, 15), adviser, appeal, until) == appeal
    assert deadline_on(dt.date(2027, 1, 1), adviser, appeal, until) == appeal  # the last chance, even passed
    assert deadline_on(dt.date(2026, 11, 15), appeal, appeal, None) == appeal  # a certificate: no adviser step
    assert deadline_on(dt.date(2026, 11, 15), adviser, None, None) == adviser  # stored before migration 0013


def test_an_item_waiting_in_the_queue_gets_its_deadline_flags_judged_today(tmp_path, filled_routes):
    app, store, _, now = _clocked(tmp_path, filled_routes, dt.date(2026, 10, 1))
    item = add_item(store, routes_file=filled_routes, body=LETTER, today=dt.date(2026, 10, 1),
                    received=dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc))
    assert "deadline_passed" not in store.items.detail(item).flags
    client = signed_in(app, "casey")
    page = html.unescape(client.get(f"/items/{item}").get_data(as_text=True))
    assert "Deadline passed" not in page and "in 43 days" in page
    now["at"] = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
    page = html.unescape(client.get(f"/items/{item}").get_data(as_text=True))
    assert "Deadline passed" in page and "has passed since the draft was written" in page
    assert "Statutory deadline:" in page and "passed" in page


def test_approving_a_draft_whose_deadline_passed_since_is_refused_until_redrafted_or_confirmed(
        tmp_path, filled_routes):
    app, store, _, now = _clocked(tmp_path, filled_routes, dt.date(2026, 10, 1))
    first = add_item(store, routes_file=filled_routes, body=LETTER, today=dt.date(2026, 10, 1))
    second = add_item(store, routes_file=filled_routes, body=LETTER, today=dt.date(2026, 10, 1))
    now["at"] = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
    client = signed_in(app, "casey")
    draft = store.items.detail(first).draft
    fields = {**_form(client, first, "draft"), "subject": draft.subject, "text": draft.text, "action": "approve"}
    r = client.post(f"/items/{first}/draft", data=fields, follow_redirects=True)
    text = html.unescape(r.get_data(as_text=True))
    assert "Not approved: the appeal deadline (16 November 2026) has passed since the draft was written" in text
    assert store.items.detail(first).status.value == "drafted"
    # Re-drafting writes the passed-deadline wording with today's dates; then approval goes through.
    client.post(f"/items/{first}/route", data={**_form(client, first, "route"), "route": "mediation"})
    redrafted = store.items.detail(first).draft
    assert "It has passed" in redrafted.text and "late appeal" in redrafted.text
    fields = {**_form(client, first, "draft"), "subject": redrafted.subject, "text": redrafted.text,
              "action": "approve"}
    client.post(f"/items/{first}/draft", data=fields)
    assert store.items.detail(first).status.value == "approved"
    # Or the caseworker confirms they checked the deadlines, and that is in the approval's event.
    draft = store.items.detail(second).draft
    fields = {**_form(client, second, "draft"), "subject": draft.subject, "text": draft.text, "action": "approve",
              "confirm_deadlines": "yes"}
    client.post(f"/items/{second}/draft", data=fields)
    detail = store.items.detail(second)
    assert detail.status.value == "approved"
    assert "has passed" in next(e for e in detail.events if e["name"] == "approved")["data"]["deadlines_confirmed"]


def test_the_caseworkers_placeholder_blocks_approval_like_the_councils(web):
    app, store, routes = web
    item = _item(store, routes, route="other")
    client = signed_in(app, "casey")
    draft = store.items.detail(item).draft
    assert "[Caseworker: write your reply here.]" in draft.text and "placeholder" in store.items.detail(item).flags
    r = client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": draft.subject,
                                                  "text": draft.text, "action": "approve"}, follow_redirects=True)
    text = html.unescape(r.get_data(as_text=True))
    assert "Not approved: its draft still has a placeholder to fill in ([Caseworker: write your reply here.])" in text
    assert store.items.detail(item).status.value == "drafted"
    written = draft.text.replace("[Caseworker: write your reply here.]", "We have added the letter to the file.")
    client.post(f"/items/{item}/draft", data={**_form(client, item, "draft"), "subject": draft.subject,
                                              "text": written, "action": "approve"})
    assert store.items.detail(item).status.value == "approved"
