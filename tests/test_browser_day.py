"""A caseworker's day in a real browser (issue 15), at desktop and phone sizes, with axe-core on every page.

Debian's chromium through Playwright (the fixtures of test_browser.py), the app served in-thread on a
fixed clock (browser_day.py's queue). The day: a wrong password, signing in, the queue sorted for urgency,
a needs-review item re-routed without losing the edit typed first, approving and landing on the next item,
a safeguarding item (the duty alert's time shown, approval refused until an action is recorded, a referral
recorded with its note, then approved), a session that ends while a reply is being typed, with the text
kept, and a supervisor reading the safeguarding decisions. Every page state must pass axe-core with no
serious or critical violation and reflow at 320 CSS px (browser_checks.py). Screenshots of the main pages
are taken on the way (`make screenshots` keeps them in docs/screenshots/ for the README).
"""
from __future__ import annotations

import datetime as dt

import pytest

from .browser_checks import DESKTOP, NARROWEST, PHONE, check, overflow, shot
from .browser_day import day, visit_at  # noqa: F401  (day: a fixture)
from .webapp import PASSWORD

pytestmark = pytest.mark.browser


def test_a_caseworkers_day_at_desktop_size(browser, day):  # noqa: F811
    base, store = day["base"], day["store"]
    visit = visit_at(browser, base, DESKTOP)
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
        day["clock"]["now"] += dt.timedelta(seconds=2)  # past the 1 s delay after a failed sign-in
        visit.sign_in("casey")

        # The queue, for urgency: statutory deadline, reply-by, route and flags; the council's number shown.
        for column in ("Statutory deadline", "Reply by", "Route", "Flags", "Status"):
            assert page.get_by_role("columnheader", name=column).first.is_visible(), column
        review_row = page.get_by_role("row").filter(has_text="EHC/2026/0412")
        assert review_row.locator(".deadline-passed").inner_text() == "PASSED"  # upper-cased by CSS
        # The appeal's date (the adviser's two months are over), as the item page gives it.
        assert "Mon 16 Nov 2026" in review_row.inner_text() and "4 days ago" in review_row.inner_text()
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

        # The safeguarding item: what raised the flag, when the duty team was alerted, and no reply approved
        # until what was done is recorded.
        page.goto(f"{base}/items/{day['urgent']}")
        assert "She says she wants to die." in page.locator("#safeguarding-evidence").inner_text()
        assert "The duty team was alerted at 10 Nov 2026 09:01 UTC." in page.locator("#duty-alert").inner_text()
        assert "Record what was done before approving a reply." in page.locator("#safeguarding").inner_text()
        shot(page, "item-safeguarding-desktop.png")
        page.get_by_role("button", name="Approve and send").click()
        summary = page.locator(".error-summary")
        assert "flagged for safeguarding and no action is recorded yet" in summary.inner_text()
        assert summary.get_by_role("link").get_attribute("href") == "#safeguarding-referral_made"
        assert page.title().startswith("Error:") and store.items.detail(day["urgent"]).status.value == "drafted"
        check(page, "safeguarding item, approval refused")
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

        # The action: a referral needs a note (refused without one, the choice kept), then the reply goes.
        page.get_by_label("Referral made").check()
        page.get_by_role("button", name="Record the action").click()
        assert "Add a note" in page.locator("#safeguarding-note-error").inner_text()
        assert page.get_by_label("Referral made").is_checked()
        check(page, "safeguarding action refused without a note")
        page.get_by_label("Note: who was told").fill("MASH referral 4411; spoke to the duty social worker")
        page.get_by_role("button", name="Record the action").click()
        page.wait_for_url(f"**/items/{day['urgent']}#safeguarding")
        assert page.locator("#safeguarding-action").inner_text().startswith("Action recorded: Referral made by casey")
        check(page, "safeguarding action recorded")
        page.get_by_role("button", name="Approve and send").click()
        page.wait_for_url(f"**/items/{day['routine']}#glance")
        assert store.items.detail(day["urgent"]).status.value == "approved"

        # A refusal, said plainly beside the field and in the summary.
        page.locator("summary", has_text="Reject, or mark as handled elsewhere").click()
        page.get_by_label("Reason for rejecting (required)").fill("   ")
        page.get_by_role("button", name="Reject without replying").click()
        assert page.title().startswith("Error:") and page.locator(".error-summary").is_visible()
        check(page, "item, refused")
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()

    supervisor = visit_at(browser, base, DESKTOP)
    try:
        supervisor.sign_in("sam")
        supervisor.page.goto(base + "/supervisor/safeguarding")
        decision = supervisor.page.locator("#safeguarding-decisions tbody tr").first.inner_text()
        assert "casey" in decision and "Referral made" in decision and "MASH referral 4411" in decision
        check(supervisor.page, "/supervisor/safeguarding")
        for path in ("/supervisor/", "/supervisor/log", f"/supervisor/items/{day['review']}/timeline", "/logout"):
            supervisor.page.goto(base + path)
            check(supervisor.page, path)
        supervisor.page.goto(base + "/supervisor/#chart-messages")
        shot(supervisor.page, "dashboard-desktop.png")
    finally:
        supervisor.close()


def test_the_day_at_phone_size_reflows_to_320_px(browser, day):  # noqa: F811
    base = day["base"]
    visit = visit_at(browser, base, PHONE)
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

        # The safeguarding item on a phone: approval refused, an action recorded with its note.
        page.goto(f"{base}/items/{day['urgent']}")
        check(page, "safeguarding item on a phone")
        assert page.get_by_label("Referral made").bounding_box()["height"] >= 40  # a radio button big enough to hit
        page.get_by_role("button", name="Approve and send").click()
        assert "no action is recorded yet" in page.locator("#safeguarding-action-error").inner_text()
        check(page, "safeguarding approval refused on a phone")
        page.get_by_label("Already known to children's services").check()
        page.get_by_label("Note: who was told").fill("Open case with the children in need team")
        page.get_by_role("button", name="Record the action").click()
        page.wait_for_url(f"**/items/{day['urgent']}#safeguarding")
        check(page, "safeguarding action recorded on a phone")

        page.set_viewport_size(NARROWEST)
        check(page, "safeguarding action recorded at 320 px")
        for path in ("/queue", f"/items/{day['routine']}", "/queue?q=nothing+at+all", "/logout"):
            page.goto(base + path)
            assert overflow(page) <= 0, path
        # Scroll regions can be reached by keyboard (axe: scrollable-region-focusable).
        page.goto(f"{base}/items/{day['review']}")
        assert page.locator("#message-text").get_attribute("tabindex") == "0"
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()

    supervisor = visit_at(browser, base, NARROWEST)
    try:
        supervisor.sign_in("sam")
        for path in ("/supervisor/", "/supervisor/log", "/supervisor/safeguarding"):
            supervisor.page.goto(base + path)
            check(supervisor.page, path + " at 320 px")
        svg_text = supervisor.page.evaluate("""() => { const t = document.querySelector('.chart-svg text');
            return t ? t.getBoundingClientRect().height : 99; }""")
        assert svg_text >= 10  # chart labels stay readable (they scroll sideways in their own region)
    finally:
        supervisor.close()
