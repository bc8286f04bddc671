"""The web app in a real browser: Debian's chromium through Playwright, the app served from a subprocess.

The journey runs end to end: a message in a real Dovecot, a poll, a caseworker signing in, editing and
approving in the browser, and the reply arriving at a real SMTP server threaded to the original.
Hostile mail is opened in the browser and must stay inert: no script runs, no dialog opens and no
request leaves for a host other than the app's own. A supervisor sees the dashboard's charts, the
filtered log and a timeline on the demo's data.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.domain import Role
from triage.service import approve_item, change_route, install_demo_maildir, route_book
from classifier.labels import Route
from triage.settings import load_settings
from triage.store import Store

from .factories import make_email
from .servers import free_port
from .test_supervisor import CHART_TITLES
from .webapp import PASSWORD, add_item, add_user, hostile_email, write_settings

pytestmark = pytest.mark.browser

class Visit:
    """One browser context and page, recording every request it makes and every dialog it opens."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.context = browser.new_context(accept_downloads=True, locale="en-GB", timezone_id="Europe/London")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.page.goto(self.base + "/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/queue")

    def foreign_requests(self) -> list[str]:
        """Requests for anything but the app on loopback (inline data: and about: are not requests out)."""
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "about", "blob") and urlsplit(u).hostname != "127.0.0.1"]

    def close(self) -> None:
        self.context.close()


@contextlib.contextmanager
def serving(config: Path) -> Iterator[str]:
    """`python -m triage --config CONFIG web --port P` on a free loopback port, until the block ends."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "web", "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    raise RuntimeError("the web app did not start:\n" + output)
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _cli(config: Path, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_caseworker_signs_in_edits_approves_and_the_reply_reaches_smtp_threaded(
        browser, mailbox, service_config, smtp):
    mailbox.append(make_email(subject="Refusal to assess", message_id="<journey-1@example.com>",
                              sender="Dev Mistry <dev.mistry@example.com>",
                              body="You refused to assess Anya in your letter dated 2 October 2026. How do I "
                                   "challenge the decision?"))
    _cli(service_config, "poll", "--once")
    _cli(service_config, "outbox", "send")  # the acknowledgement
    service_config.write_text(service_config.read_text() + "\n[web]\nsecure_cookies = false\n")
    _cli(service_config, "users", "add", "casey", "--role", "caseworker", "--password-stdin", input=PASSWORD + "\n")

    with serving(service_config) as base:
        visit = Visit(browser, base)
        try:
            visit.sign_in("casey")
            page = visit.page
            page.get_by_role("link", name="EHC-").first.click()
            page.wait_for_url("**/items/*")
            assert page.get_by_role("heading", level=1).inner_text().startswith("Refusal to assess")
            page.get_by_role("button", name="Claim").click()
            page.wait_for_url("**/items/*")
            page.get_by_label("New route").select_option("tribunal")
            page.get_by_role("button", name="Change route").click()
            page.wait_for_url("**/items/*")
            page.get_by_label("New route").select_option("disagreement_resolution")
            page.get_by_role("button", name="Change route").click()
            page.wait_for_url("**/items/*")
            reply = page.get_by_label("Reply text")
            reply.fill(reply.input_value() + "\nWe will call you on Monday. EDITED IN THE BROWSER\n")
            page.get_by_role("button", name="Approve and send").click()
            page.wait_for_url("**/queue")
            assert "the reply is in the outbox" in page.get_by_role("status").first.inner_text()
            assert visit.foreign_requests() == [] and visit.dialogs == []
        finally:
            visit.close()

    assert smtp.messages and all(m["Auto-Submitted"] == "auto-replied" for m in smtp.messages)  # nothing sent yet
    _cli(service_config, "outbox", "send")
    [sent] = [m for m in smtp.messages if m["Auto-Submitted"] is None]
    assert sent["In-Reply-To"] == "<journey-1@example.com>"
    assert "<journey-1@example.com>" in sent["References"]
    assert sent["To"].addresses[0].addr_spec == "dev.mistry@example.com"
    text = sent.get_body(("plain",)).get_content()
    assert "We will call you on Monday. EDITED IN THE BROWSER" in text
    assert "Dear Dev Mistry" in text

    # Every step of the journey is in the event log, with who did it, in order, and the chain holds.
    log = [json.loads(line) for line in _cli(service_config, "audit", "export").splitlines()]
    steps = [(e["name"], e["actor"]) for e in log if e["name"] not in ("login_refused",)]
    journey = [("logged_in", "casey"), ("viewed", "casey"), ("claimed", "casey"), ("viewed", "casey"),
               ("route_changed", "casey"), ("viewed", "casey"), ("route_changed", "casey"), ("viewed", "casey"),
               ("draft_edited", "casey"), ("approved", "casey"), ("reply_queued", "system"),
               ("reply_sent", "system")]
    found = [step for step in steps if step in journey]
    assert found == journey, found
    changes = [e["data"] for e in log if e["name"] == "route_changed"]
    assert changes[0]["to"] == "tribunal" and (changes[1]["from"], changes[1]["to"]) == ("tribunal",
                                                                                          "disagreement_resolution")
    assert "EDITED IN THE BROWSER" in next(e["data"]["diff"] for e in log if e["name"] == "draft_edited")
    assert "event log intact" in _cli(service_config, "audit", "verify")


@pytest.fixture
def hostile_site(tmp_path, filled_routes):
    config = write_settings(tmp_path, routes_file=filled_routes)
    store = Store(load_settings(config, environ={}).database_url)
    store.migrate()
    item = add_item(store, raw=hostile_email(), routes_file=filled_routes)
    add_user(store, "casey", Role.CASEWORKER)
    store.close()
    with serving(config) as base:
        yield base, item


def test_hostile_mail_is_shown_inert_in_the_browser(browser, hostile_site):
    base, item = hostile_site
    visit = Visit(browser, base)
    try:
        visit.sign_in("casey")
        page = visit.page
        assert "<script>window.__pwned=1</script> Appeal" in page.locator("table.queue").inner_text()
        page.goto(f"{base}/items/{item}")
        page.get_by_text("Formatted version").click()  # open the sanitised HTML
        body = page.locator("#message-html")
        body.wait_for(state="visible")
        assert "Fake login" in body.inner_text() and "Approved by your supervisor" in body.inner_text()
        page.wait_for_load_state("networkidle")

        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert visit.dialogs == []
        assert visit.foreign_requests() == []
        assert any(u.endswith("/static/app.css") for u in visit.requests)  # the recording works
        # No CSS from the message applies: our page is still shown and nothing of theirs is fixed on top of it.
        assert page.locator("main").is_visible()
        fixed = page.evaluate("""() => [...document.querySelectorAll('#message-html *')]
            .filter(e => ['fixed', 'absolute', 'sticky'].includes(getComputedStyle(e).position)).length""")
        assert fixed == 0
        approve = page.get_by_role("button", name="Approve and send")
        approve.scroll_into_view_if_needed()
        box = approve.bounding_box()
        on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent.trim()",
                               [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert on_top == "Approve and send"
        assert page.locator("#message-html a[href^='javascript'], #message-html [onerror], #message-html img[src]"
                            ).count() == 0
        # Links from the message do nothing when followed (their javascript: targets were removed).
        page.locator("#message-html a", has_text="my letter").click()
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.url.endswith(f"/items/{item}")

        # The hostile attachment names are shown as text and download under safe names.
        names = page.locator(".attachments").inner_text()
        assert "Download evil.html" in names and "Download a.pdf.exe" in names and "the sender named it" in names
        with page.expect_download() as download:
            page.get_by_role("link", name="Download evil.html").click()
        assert download.value.suggested_filename == "evil.html"
        with page.expect_download() as download:
            page.get_by_role("link", name="Download new line_b_bold.txt").click()
        assert download.value.suggested_filename == "new line_b_bold.txt"
        assert page.evaluate("typeof window.__pwned") == "undefined" and visit.dialogs == []
        assert visit.foreign_requests() == []
    finally:
        visit.close()


def test_the_pages_work_by_keyboard_alone_with_a_visible_focus(browser, hostile_site):
    base, item = hostile_site
    visit = Visit(browser, base)
    page = visit.page
    try:
        page.goto(base + "/login")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0  # shown when focused
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "username"
        page.keyboard.type("casey")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/queue")
        for _ in range(3):  # skip link, then the navigation's Queue link
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Queue":
                break
        focus = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.backgroundColor, s.boxShadow]; }""")
        assert focus[0] == "rgb(255, 221, 0)" and "rgb(11, 12, 12)" in focus[1]
        search = page.get_by_label("Search sender, reference, subject or text")
        search.focus()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        page.keyboard.type("Mallory")
        page.keyboard.press("Enter")
        page.wait_for_url("**/queue?q=Mallory*")
        assert page.locator("table.queue tbody tr").count() == 1
    finally:
        visit.close()


CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                                                             if (c.length < 4 || c[3] > 0) return c; }
                            return [255, 255, 255]; };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.offsetParent && e.tagName !== 'BODY') continue;
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push([e.tagName + '.' + e.className, Math.round(ratio * 100) / 100]);
  }
  return out;
}"""


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"""


def test_every_page_has_labelled_fields_one_heading_and_aa_contrast(browser, hostile_site):
    base, item = hostile_site
    visit = Visit(browser, base)
    try:
        visit.page.goto(base + "/login")
        assert visit.page.evaluate(UNLABELLED) == []
        visit.sign_in("casey")
        for path in ("/queue", f"/items/{item}", "/logout"):
            visit.page.goto(base + path)
            assert visit.page.evaluate(UNLABELLED) == [], path
            assert visit.page.evaluate("document.documentElement.lang") == "en-GB"
            assert visit.page.locator("h1").count() == 1, path
            ratios = visit.page.evaluate(CONTRAST)
            assert len(ratios) > 5  # the check saw the page's text
            low = [(what, ratio) for what, ratio in ratios if ratio < 4.5]
            assert low == [], path
    finally:
        visit.close()


# -- the supervisor pages, on the demo's data ------------------------------------------------------

@pytest.fixture
def demo_site(tmp_path, filled_routes, model_dir):
    """The demo's mailbox read as `ehc-triage demo` reads it, then three decisions made by caseworkers."""
    config = write_settings(tmp_path, routes_file=filled_routes)
    settings = load_settings(config, environ={})
    install_demo_maildir(settings.maildir)
    result = CliRunner().invoke(cli, ["--config", str(config), "demo"])
    assert result.exit_code == 0, result.output
    store = Store(settings.database_url)
    # Not "other": its draft waits for the caseworker's own words, so it cannot be approved as written.
    # Not flagged for safeguarding either: those wait for a recorded action (tested in test_safeguarding_workflow).
    drafted = [e for e in store.items.list_queue(status="drafted")
               if e.route not in ("tribunal", "other") and not e.safeguarding]
    approved, changed, rejected = drafted[:3]
    approve_item(settings, store, approved.id, "casey")
    change_route(store, route_book(settings), changed.id, "tribunal", "robin")
    approve_item(settings, store, changed.id, "robin")
    store.items.reject(rejected.id, "a duplicate of another message", "casey")
    add_user(store, "sam", Role.SUPERVISOR)
    expected = {"items": len(store.items.list_queue()), "changed": changed}
    store.close()
    with serving(config) as base:
        yield base, expected


def test_a_supervisor_sees_the_dashboard_log_and_timeline_on_the_demo_data(browser, demo_site):
    base, expected = demo_site
    changed = expected["changed"]
    visit = Visit(browser, base)
    page = visit.page
    try:
        visit.sign_in("sam")
        page.get_by_role("link", name="Supervisor").click()
        page.get_by_label("Weekly charts cover").select_option("52")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/supervisor/?weeks=52")
        for chart, title in CHART_TITLES.items():
            svg = page.locator(f"#{chart} svg.chart-svg")
            assert svg.get_attribute("role") == "img"
            assert svg.locator("title").first.text_content() == title
            assert svg.locator("rect.bar").count() > 0, chart
            assert svg.bounding_box()["width"] > 300  # drawn, at a readable size
            page.locator(f"#{chart} summary").click()
            assert page.locator(f"#{chart} table").is_visible()
        messages = page.locator("#chart-messages-desc").text_content()
        assert messages.startswith(f"{expected['items']} messages received")
        assert page.locator("#figure-override").inner_text().split() == [
            "33%", "of", "3", "decided", "items", "given", "another", "route", "than", "the", "classifier's"]
        confusion = page.locator("#confusion")
        row = confusion.locator("tr", has=page.get_by_role("rowheader", name=changed.route.replace("_", " ")))
        assert row.locator("td").nth(tuple(Route).index(Route.TRIBUNAL)).inner_text().startswith("1")
        assert page.locator("#chart-approval svg title", has_text="tribunal:").count() == 1

        page.get_by_role("link", name="Event log").first.click()
        page.get_by_label("User").select_option("robin")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/supervisor/log?*user=robin*")
        whats = page.locator("table.log tbody tr td:nth-child(3)").all_inner_texts()
        assert sorted(whats) == ["approved", "route changed"]
        assert set(page.locator("table.log tbody tr td:nth-child(2)").all_inner_texts()) == {"robin"}

        page.locator("table.log tbody tr", has_text="route changed").get_by_role("link", name="EHC-").click()
        page.wait_for_url(f"**/supervisor/items/{changed.id}/timeline")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Timeline")
        steps = page.locator(".timeline-head").all_inner_texts()
        assert steps[0].startswith("received by system")
        assert any(s.startswith("route changed by robin") for s in steps)
        assert any(s.startswith("approved by robin") for s in steps)
        assert page.get_by_text(f"overridden: the classifier said {changed.route.replace('_', ' ')}").is_visible()
        mails = [r.split("\t") for r in page.locator("#outbox tbody tr").all_inner_texts()]
        assert [(m[0], m[2]) for m in mails if m[0] == "reply"] == [("reply", "pending")]

        for path in ("/supervisor/?weeks=52", "/supervisor/log", f"/supervisor/items/{changed.id}/timeline"):
            page.goto(base + path)
            assert page.evaluate(UNLABELLED) == [], path
            assert page.locator("h1").count() == 1, path
            low = [(what, ratio) for what, ratio in page.evaluate(CONTRAST) if ratio < 4.5]
            assert low == [], path
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()


# -- deadlines on a fixed clock -------------------------------------------------------------------


def test_the_queue_shows_the_statutory_deadline_column_and_a_passed_deadline_on_a_fixed_clock(
        browser, tmp_path, filled_routes):
    import datetime as dt
    import threading

    from triage.web import create_app
    from triage.web.serve import WebServer

    config = write_settings(tmp_path, routes_file=filled_routes)
    settings = load_settings(config, environ={})
    store = Store(settings.database_url)
    store.migrate()
    received = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
    late = add_item(store, routes_file=filled_routes, received=received, today=dt.date(2026, 10, 1),
                    body="Your decision letter dated 14 September 2026 refused to assess Sam. I want mediation.")
    soon = add_item(store, routes_file=filled_routes, received=received, today=dt.date(2026, 10, 1),
                    body="The final plan came with your letter dated 10 October 2026. We want to appeal.")
    add_user(store, "casey", Role.CASEWORKER)
    fixed = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)  # `late`: adviser 13 Nov, appeal 16 Nov, passed
    server = WebServer(create_app(settings, store, clock=lambda: fixed), "127.0.0.1", 0, 2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    visit = Visit(browser, f"http://127.0.0.1:{server.port}")
    try:
        visit.sign_in("casey")
        page = visit.page
        header = page.get_by_role("columnheader", name="Statutory deadline")
        assert header.is_visible()
        late_ref, soon_ref = store.items.detail(late).reference, store.items.detail(soon).reference
        late_row = page.get_by_role("row").filter(has_text=late_ref)
        passed = late_row.locator(".deadline-passed")
        # The adviser's two months are over, so the deadline to act on is the appeal's: the same date the
        # item page gives below, not the adviser's 13 Nov stored when the draft was written.
        assert passed.inner_text().lower() == "passed" and "Mon 16 Nov 2026" in late_row.inner_text()
        assert "4 days ago" in late_row.inner_text()
        assert passed.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(246, 215, 210)"  # red tag
        assert "in 20 days" in page.get_by_role("row").filter(has_text=soon_ref).inner_text()
        header.get_by_role("link").click()
        page.wait_for_url("**/queue?*sort=deadline*")
        cells = page.locator("tbody tr td:first-child a").all_inner_texts()
        assert cells == [late_ref, soon_ref]
        page.get_by_role("link", name=late_ref).click()
        page.wait_for_url("**/items/*")
        banner = page.locator("#statutory-deadline").inner_text()
        assert "appeal by 5pm on Mon 16 Nov 2026: passed 4 days ago (judged Fri 20 Nov 2026)" in banner
        assert "deadline passed" in page.locator(".flags").inner_text().lower()
        assert visit.foreign_requests() == [] and visit.dialogs == []
    finally:
        visit.close()
        server.close()
        thread.join(timeout=10)
        store.close()
