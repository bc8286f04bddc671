"""The supervisors' and administrators' pages in a real browser (issue 15): axe-core and reflow on every
state of the data-protection page (a search, what it found, nothing found, an erasure asked for, refused,
then confirmed by a second person), the account list, and the safeguarding decisions, each at desktop
size and at 320 CSS px, signed in as the role each page is for.

The queue is browser_day.py's, as in test_browser_day.py; the checks are browser_checks.py's.
"""

from __future__ import annotations

import pytest

from triage import decisions

from .browser_checks import DESKTOP, check_wide_and_narrow
from .browser_day import day, visit_at  # noqa: F401  (day: a fixture)
from .webapp import add_user

pytestmark = pytest.mark.browser


def test_the_data_protection_admin_and_safeguarding_pages_pass_axe_and_reflow(browser, day):  # noqa: F811
    base, store, routine = day["base"], day["store"], day["routine"]
    add_user(store, "lee")  # an account for the admin to disable
    sam = visit_at(browser, base, DESKTOP)
    page = sam.page
    try:
        sam.sign_in("sam")
        page.goto(base + "/supervisor/safeguarding")
        assert "No safeguarding decisions are recorded yet." in page.locator("main").inner_text()
        check_wide_and_narrow(page, "safeguarding decisions, none yet")
        decisions.record_safeguarding_action(store, day["urgent"], "already_known", "Open case with the CIN team",
                                             "casey")
        page.reload()
        assert "Open case with the CIN team" in page.locator("#safeguarding-decisions").inner_text()
        check_wide_and_narrow(page, "safeguarding decisions")

        # Subject access: the search, what it found (the sender's messages ticked), and nothing found.
        page.goto(base + "/supervisor/privacy/")
        check_wide_and_narrow(page, "data protection")
        page.get_by_label("Their email address").fill("tom@example.com")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/supervisor/privacy/?address=tom*")
        found = page.get_by_role("row").filter(has_text="Final plan for Ella")
        assert found.get_by_role("checkbox").is_checked()
        check_wide_and_narrow(page, "data protection, found")
        page.get_by_label("Their email address").fill("nobody@example.org")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**address=nobody*")
        assert page.get_by_text("Nothing held matches.").is_visible()
        check_wide_and_narrow(page, "data protection, nothing found")

        # Erasure: a number that is not one is refused; then asked for, waiting for a second person.
        page.get_by_label("Queue item number").fill("the one from Tom")
        page.get_by_label("Reason: who asked").fill("Tom Okafor asked by phone on 19 Nov 2026 (Art. 17)")
        page.get_by_role("button", name="Ask for erasure").click()
        assert "Give the queue item's number" in page.locator(".error-summary").inner_text()
        assert page.title().startswith("Error:")
        check_wide_and_narrow(page, "erasure refused")
        page.get_by_label("Queue item number").fill(str(routine))
        page.get_by_label("Reason: who asked").fill("Tom Okafor asked by phone on 19 Nov 2026 (Art. 17)")
        page.get_by_role("button", name="Ask for erasure").click()
        assert "another supervisor or admin must confirm it" in page.get_by_role("status").inner_text()
        assert page.get_by_text("Another person must confirm").is_visible()
        check_wide_and_narrow(page, "erasure asked for")
    finally:
        sam.close()

    ada = visit_at(browser, base, DESKTOP)
    page = ada.page
    try:
        ada.sign_in("ada")
        page.goto(base + "/admin/users")
        check_wide_and_narrow(page, "users")
        page.get_by_role("button", name="Disable lee").click()
        assert "lee can no longer sign in." in page.get_by_role("status").inner_text()
        check_wide_and_narrow(page, "users, one disabled")

        # The second person confirms the erasure.
        page.goto(base + "/supervisor/privacy/")
        check_wide_and_narrow(page, "data protection, an erasure to confirm")
        page.get_by_role("button", name="Confirm erasure").click()
        assert "personal data was erased" in page.get_by_role("status").inner_text()
        assert "erased by ada" in page.locator("main").inner_text()
        check_wide_and_narrow(page, "data protection, erasure confirmed")
        assert ada.foreign_requests() == [] and ada.dialogs == []
    finally:
        ada.close()
    assert store.items.detail(routine).message.from_address != "tom@example.com"
