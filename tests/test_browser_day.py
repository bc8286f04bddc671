"""A caseworker's day in a real browser (issue 15), at desktop and phone sizes, with axe-core on every page.

Debian's chromium through Playwright (the fixtures of test_browser.py), the app served in-thread on a
fixed clock so the deadlines are the same every run. The day: a wrong password, signing in, the queue
sorted for urgency, a needs-review item re-routed without losing the edit typed first, approving and
landing on the next item, and a session that ends while a reply is being typed, with the text kept.
Every page state is checked with axe-core (bundled by the axe-playwright-python package, injected from
disk: nothing is fetched from a CDN), and must have no serious or critical violation; each page must
reflow at 320 CSS px. Screenshots of the main pages are taken on the way (`make screenshots` keeps them
in docs/screenshots/ for the README).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import axe_playwright_python
import pytest

from triage.domain import Role
from triage.settings import load_settings
from triage.store import Store
from triage.web import create_app
from triage.web.serve import WebServer

from .test_browser import Visit
from .webapp import PASSWORD, add_item, add_user, write_settings

pytestmark = pytest.mark.browser

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
# `make screenshots` refreshes the README's pictures in docs/screenshots/; a plain test run writes them to a
# temporary directory, so `make test` never changes files in the repository.
SCREENSHOTS = Path(os.environ.get("EHC_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "ehc-triage-screenshots")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
RECEIVED = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)

NEEDS_REVIEW_BODY = """Dear SEN team,

Your decision letter dated 14 September 2026 refused to assess Sam. We are not happy with it and
want to know what we can do next. Sam's school says he is falling further behind every term.

Kind regards,
Priya Shah

On 14 Sep 2026, at 10:02, SEN Team <ehc.assessment@brackenford.example.gov.uk> wrote:
> Dear Ms Shah,
> We have decided not to carry out an EHC needs assessment for Sam.
> Please see the enclosed letter.
"""


def axe_problems(page) -> list[tuple[str, str, list]]:
    """axe-core's serious and critical violations on the page as it is now: (rule, impact, where)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def overflow(page) -> int:
    """How many CSS px the page is wider than the viewport (0: it reflows)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


WIDE = """() => {
  const scrolls = e => { for (e = e.parentElement; e && e !== document.body; e = e.parentElement)
                           if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) return true;
                         return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !scrolls(e)
                 && getComputedStyle(e).position !== 'absolute')
    .map(e => e.tagName + '#' + e.id + '.' + e.getAttribute('class')).slice(0, 8); }"""


def check(page, what: str) -> None:
    assert axe_problems(page) == [], what
    assert overflow(page) <= 0, (what, page.evaluate(WIDE))


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)


@pytest.fixture
def day(tmp_path, filled_routes) -> Iterator[dict]:
    """A queue on 20 Nov 2026: a needs-review item quoting the council's case number, a routine one,
    a safeguarding one; a caseworker and a supervisor."""
    config = write_settings(tmp_path, routes_file=filled_routes)
    settings = load_settings(config, environ={})
    store = Store(settings.database_url)
    store.migrate()
    review = add_item(store, routes_file=filled_routes, confidence=0.45, needs_review=True,
                      received=RECEIVED, today=RECEIVED.date(), subject="Re: EHC/2026/0412 refusal to assess Sam",
                      sender="Priya Shah <priya.shah@example.com>", body=NEEDS_REVIEW_BODY)
    routine = add_item(store, routes_file=filled_routes, received=RECEIVED + dt.timedelta(days=20),
                       today=dt.date(2026, 10, 21), subject="Final plan for Ella", sender="Tom Okafor <tom@example.com>",
                       body="The final plan came with your letter dated 10 October 2026. We want mediation.")
    urgent = add_item(store, routes_file=filled_routes, safeguarding=True, received=RECEIVED + dt.timedelta(days=40),
                      today=dt.date(2026, 11, 10), subject="Please help", sender="Ana Costa <ana@example.com>",
                      body="I cannot cope. Nobody answers the phone about Leo's plan.")
    add_user(store, "casey", Role.CASEWORKER)
    add_user(store, "sam", Role.SUPERVISOR)
    server = WebServer(create_app(settings, store, clock=lambda: NOW), "127.0.0.1", 0, 4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.port}", "store": store, "review": review, "routine": routine,
               "urgent": urgent}
    finally:
        server.close()
        thread.join(timeout=10)
        store.close()


def _visit(browser, base: str, viewport: dict) -> Visit:  # noqa: F811  (a parameter, not the fixture)
    visit = Visit(browser, base)
    visit.page.set_viewport_size(viewport)
    visit.page.set_default_timeout(5_000)
    return visit


def test_a_caseworkers_day_at_desktop_size(browser, day):  # noqa: F811
    base, store = day["base"], day["store"]
    visit = _visit(browser, base, DESKTOP)
    page = visit.page
    try:
        # A wrong password: a GOV.UK error summary, linked to the field, and "Error:" in the title.
        page.goto(base + "/login")
        check(page, "sign in")
        shot(page, "sign-in.png")
        page.get_by_label("Username").fill("casey")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        summary = page.locator(".error-summary")
        assert summary.is_visible() and "There is a problem" in summary.inner_text()
        assert summary.get_by_role("link").get_attribute("href") == "#username"
        assert page.title().startswith("Error: Sign in")
        check(page, "sign in, refused")
        page.wait_for_timeout(1_100)  # the growing delay after a failed sign-in starts at 1 s
        visit.sign_in("casey")

        # The queue, for urgency: statutory deadline, reply-by, route and flags; the council's number shown.
        for column in ("Statutory deadline", "Reply by", "Route", "Flags", "Status"):
            assert page.get_by_role("columnheader", name=column).first.is_visible(), column
        review_row = page.get_by_role("row").filter(has_text="EHC/2026/0412")
        assert review_row.locator(".deadline-passed").inner_text() == "PASSED"  # upper-cased by CSS
        assert "Fri 13 Nov 2026" in review_row.inner_text() and "7 days ago" in review_row.inner_text()
        assert review_row.inner_text().count("Needs review") == 1  # the status, said once
        assert page.title() == "Queue: items to review and approve – EHC triage"
        check(page, "queue")
        shot(page, "queue-desktop.png")
        page.get_by_role("link", name="Statutory deadline").click()
        page.wait_for_url("**sort=deadline*")
        check(page, "queue sorted by deadline")

        # A search that finds nothing says so and offers the way back.
        page.get_by_label("Search sender, reference, subject or text").fill("no such words anywhere")
        page.get_by_role("button", name="Apply").click()
        assert "No items match these filters." in page.locator(".count").inner_text()
        check(page, "queue, nothing found")
        page.get_by_role("link", name="Clear the filters").click()
        page.wait_for_url(base + "/queue")

        # The needs-review item: the summary box first, the message beside the draft.
        page.get_by_role("link", name="EHC/2026/0412").click()
        page.wait_for_url(f"**/items/{day['review']}")
        shot(page, "item-desktop.png")
        glance = page.locator("#glance")
        assert "Statutory deadline" in glance.inner_text() and "passed" in glance.inner_text()
        message, draft = page.locator("#message-text").bounding_box(), page.locator("#text").bounding_box()
        assert message["x"] + message["width"] <= draft["x"]  # side by side
        assert message["y"] < DESKTOP["height"] and draft["y"] < DESKTOP["height"]  # both start on the screen
        assert "Sam's school says" in page.locator("#message-text").inner_text()
        assert "We have decided not to" not in page.locator("#message-text").inner_text()  # quoted: folded away
        assert not page.locator("details.history table").is_visible()  # the history is folded away too
        assert "EHC/2026/0412" in page.title()
        check(page, "item")

        page.get_by_role("button", name="Claim").click()
        page.wait_for_url(f"**/items/{day['review']}#glance")
        assert "The item is yours." in page.locator("#draft").inner_text()

        # An edit, then a route change: the edit is saved as a version first, never lost.
        reply = page.get_by_label("Reply text")
        reply.fill(reply.input_value() + "\nMY EDIT BEFORE THE ROUTE CHANGE\n")
        page.get_by_label("New route").select_option("tribunal")
        page.get_by_role("button", name="Change route").click()
        page.wait_for_url(f"**/items/{day['review']}#draft")
        notice = page.locator("#draft .banner-success").inner_text()
        assert notice.startswith("Your edit was saved as version 2.") and "Route changed to tribunal" in notice
        assert page.evaluate("window.scrollY") > 0 or page.locator("#draft").bounding_box()["y"] < 100
        drafts = store.items.detail(day["review"]).drafts
        assert "MY EDIT BEFORE THE ROUTE CHANGE" in drafts[1].text and drafts[2].route == "tribunal"
        page.locator("summary", has_text="Earlier versions of the draft").click()
        assert page.get_by_text("MY EDIT BEFORE THE ROUTE CHANGE").first.is_visible()
        check(page, "item after a route change")

        # Approve: on to the next item (safeguarding first), with the outcome said there.
        reply = page.get_by_label("Reply text")
        reply.fill(reply.input_value() + "\nWe will call you on Monday.\n")
        page.get_by_role("button", name="Approve and send").click()
        page.wait_for_url(f"**/items/{day['urgent']}#glance")
        assert "This is the next item in the queue." in page.get_by_role("status").first.inner_text()
        assert store.items.detail(day["review"]).status.value == "approved"
        check(page, "next item (safeguarding)")
        page.goto(f"{base}/items/{day['review']}")
        assert "the draft can no longer be changed" in page.locator("#draft").inner_text()
        check(page, "an approved item")
        page.goto(f"{base}/items/{day['urgent']}")

        # The session ends while a reply is typed: the text comes back after signing in.
        reply = page.get_by_label("Reply text")
        reply.fill(reply.input_value() + "\nTYPED AS THE SESSION ENDED\n")
        visit.context.clear_cookies()  # the idle timeout passed: the browser dropped the session cookie
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()
        assert "/login?next=" in page.url, page.url
        assert "what you typed is kept" in page.get_by_role("status").first.inner_text()
        check(page, "sign in after the session ended")
        page.get_by_label("Username").fill("casey")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/items/{day['urgent']}?restore=*#draft")
        assert "TYPED AS THE SESSION ENDED" in page.get_by_label("Reply text").input_value()
        assert page.locator("#restored").is_visible()
        check(page, "item with the text restored")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_url(f"**/items/{day['urgent']}#draft")
        assert "TYPED AS THE SESSION ENDED" in store.items.detail(day["urgent"]).draft.text

        # A refusal, said plainly beside the field and in the summary.
        page.locator("summary", has_text="Reject, or mark as handled elsewhere").click()
        page.get_by_label("Reason for rejecting (required)").fill("   ")
        page.get_by_role("button", name="Reject without replying").click()
        assert page.title().startswith("Error:") and page.locator(".error-summary").is_visible()
        check(page, "item, refused")
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()

    supervisor = _visit(browser, base, DESKTOP)
    try:
        supervisor.sign_in("sam")
        for path in ("/supervisor/", "/supervisor/log", f"/supervisor/items/{day['review']}/timeline", "/logout"):
            supervisor.page.goto(base + path)
            check(supervisor.page, path)
        supervisor.page.goto(base + "/supervisor/#chart-messages")
        shot(supervisor.page, "dashboard-desktop.png")
    finally:
        supervisor.close()


def test_the_day_at_phone_size_reflows_to_320_px(browser, day):  # noqa: F811
    base = day["base"]
    visit = _visit(browser, base, PHONE)
    page = visit.page
    try:
        visit.sign_in("casey")
        check(page, "queue on a phone")
        cards = page.locator("table.queue tbody tr")
        assert cards.count() == 3
        first = cards.nth(0).bounding_box()
        assert first["width"] <= PHONE["width"] and cards.nth(0).locator("td").nth(1).is_visible()
        label = cards.nth(1).locator("td.statutory-deadline").evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"Statutory deadline"'  # each cell says which column it is
        shot(page, "queue-phone.png")

        page.goto(f"{base}/items/{day['review']}")
        check(page, "item on a phone")
        message, draft = page.locator("#message-text").bounding_box(), page.locator("#text").bounding_box()
        assert message["y"] < draft["y"]  # one column: the parent's words first
        assert message["y"] < 2 * PHONE["height"]  # and near the top, not under the forms
        shot(page, "item-phone.png")

        page.set_viewport_size({"width": 320, "height": 640})
        for path in ("/queue", f"/items/{day['routine']}", "/queue?q=nothing+at+all", "/logout"):
            page.goto(base + path)
            assert overflow(page) <= 0, path
        # Scroll regions can be reached by keyboard (axe: scrollable-region-focusable).
        page.goto(f"{base}/items/{day['review']}")
        assert page.locator("#message-text").get_attribute("tabindex") == "0"
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()

    supervisor = _visit(browser, base, {"width": 320, "height": 640})
    try:
        supervisor.sign_in("sam")
        for path in ("/supervisor/", "/supervisor/log"):
            supervisor.page.goto(base + path)
            check(supervisor.page, path + " at 320 px")
        svg_text = supervisor.page.evaluate("""() => { const t = document.querySelector('.chart-svg text');
            return t ? t.getBoundingClientRect().height : 99; }""")
        assert svg_text >= 10  # chart labels stay readable (they scroll sideways in their own region)
    finally:
        supervisor.close()
