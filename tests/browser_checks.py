"""What every page state in the browser tests must pass: axe-core with no serious or critical violation,
and reflow (nothing wider than the viewport, WCAG 1.4.10); and `shot()` for the README's screenshots.

axe-core comes bundled with the axe-playwright-python package and is injected from disk: nothing is
fetched from a CDN. Used by test_browser_day.py (a caseworker's day) and test_browser_pages.py (the
supervisor's, data-protection and admin pages).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import axe_playwright_python

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
# `make screenshots` refreshes the README's pictures in docs/screenshots/; a plain test run writes them to a
# temporary directory, so `make test` never changes files in the repository.
SCREENSHOTS = Path(os.environ.get("EHC_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "ehc-triage-screenshots")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NARROWEST = {"width": 320, "height": 640}  # WCAG 1.4.10: 1280 px at 400% zoom


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


# The elements sticking out past the viewport (outside a region that scrolls on its own): said when reflow fails.
WIDE = """() => {
  const scrolls = e => { for (e = e.parentElement; e && e !== document.body; e = e.parentElement)
                           if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) return true;
                         return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !scrolls(e)
                 && getComputedStyle(e).position !== 'absolute')
    .map(e => e.tagName + '#' + e.id + '.' + e.getAttribute('class')).slice(0, 8); }"""


def check(page, what: str) -> None:
    """axe-core and reflow at the page's current viewport."""
    assert axe_problems(page) == [], what
    assert overflow(page) <= 0, (what, page.evaluate(WIDE))


def check_wide_and_narrow(page, what: str) -> None:
    """The same page state at desktop size and at 320 CSS px (resizing keeps the state: no second request)."""
    for viewport in (DESKTOP, NARROWEST):
        page.set_viewport_size(viewport)
        check(page, f"{what} at {viewport['width']} px")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)
