"""Web app benchmark (`make bench`): page latency with 10,000 queued items; figures for the README.

Builds a database of 10,000 items through store.messages.add_messages (real parsing, real rendered drafts,
synthetic classifications), signs a caseworker in, and times the queue page (first page, the last
page, a filter, a search) and the item page: in-process through Flask's test client, and over HTTP
from the waitress server `ehc-triage web` uses. Prints a Markdown table of median and p95 latency.
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from replies import load_routes
from triage.domain import Classification, FetchedMail, Role
from triage.parsing import parse_message
from triage.route_drafts import draft_for_route
from triage.triaging import case_reference, reply_due
from triage.domain import NewMessage, dedupe_key
from triage.store import QueueQuery, Store
from triage.web.serve import WebServer

from .factories import BODIES, make_email
from .webapp import add_user, make_app, signed_in

ITEMS = 10_000
ROUTES = tuple(BODIES)
NAMES = ["Priya Anand", "Tom Whitcombe", "Grace Oduya", "Samir Haddad", "Ellen Marsh", "Kofi Mensah", "Ola Berg",
         "Halima Yusuf", "Dev Mistry", "Rosa Lindqvist"]


def build_items(store: Store, count: int = ITEMS, seed: int = 5) -> float:
    """Store `count` varied items in bulk; returns the seconds it took."""
    rng = random.Random(seed)
    book = load_routes(Path(__file__).parents[1] / "config" / "routes.toml")
    now = dt.datetime.now(dt.timezone.utc)
    drafts: dict[str, object] = {}
    started = time.perf_counter()
    batch: list[NewMessage] = []
    for n in range(count):
        route = ROUTES[n % len(ROUTES)]
        name = NAMES[n % len(NAMES)]
        received = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
        raw = make_email(subject=f"{route.replace('_', ' ')} question {n}", sender=f"{name} <parent{n}@example.com>",
                         body=rng.choice(BODIES[route]) + f"\n\nThanks,\n{name}\n(case note {n})",
                         date=received)
        parsed = parse_message(raw)
        key = dedupe_key(parsed.message_id, raw)
        reference = case_reference(received, key)
        if route not in drafts:  # one real rendering per route, reused: drafting speed is not measured here
            drafts[route] = draft_for_route(parsed, route, reference, received, book)
        drafted = drafts[route]
        confidence = rng.uniform(0.3, 0.99)
        batch.append(NewMessage(
            fetched=FetchedMail("bench", "INBOX", 1, n + 1, raw, internal_date=received), parsed=parsed, key=key,
            reference=reference, recorded_only=False,
            classification=Classification(route, confidence, confidence < 0.5, rng.random() < 0.03,
                                          {route: confidence}, "m-bench", ("decision", "plan")),
            draft=drafted.draft, draft_meta=drafted.meta, flags=drafted.flags,  # type: ignore[attr-defined]
            due_at=reply_due(received, 10),
        ))
        if len(batch) == 1000:
            store.messages.add_messages(batch)
            batch = []
    if batch:
        store.messages.add_messages(batch)
    return time.perf_counter() - started


def _time(function: Callable[[], object], runs: int) -> tuple[float, float]:
    function()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]


def bench_web(runs: int = 100) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="ehc-bench-web-") as tmp:
        app, store, _ = make_app(Path(tmp))
        build_seconds = build_items(store)
        add_user(store, "bench", Role.CASEWORKER)
        client = signed_in(app, "bench")
        todo = store.items.queue_page(QueueQuery(statuses=("needs_review", "drafted", "failed"))).total
        last = -(-todo // 50)
        rng = random.Random(9)
        ids = [rng.randrange(1, ITEMS + 1) for _ in range(runs + 1)]
        item_ids = iter(ids * 2)

        def page(path: str) -> Callable[[], object]:
            def get() -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            return get

        cases = [
            ("queue, first page (50 of 10,000)", page("/queue")),
            (f"queue, last page ({last})", page(f"/queue?page={last}")),
            ("queue, route + age filter", page("/queue?route=tribunal&age=7")),
            ("queue, search matching 1,000 (sender name)", page("/queue?q=halima&status=all")),
            ("queue, search matching nothing (every message read)", page("/queue?q=zzzz-nowhere&status=all")),
            ("item page", lambda: page(f"/items/{next(item_ids)}")()),
        ]
        rows = [(f"[in-process] {name}", *(f"{v:.1f} ms" for v in _time(fn, runs))) for name, fn in cases]

        server = WebServer(app, "127.0.0.1", 0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert session_cookie is not None
        cookie = f"{session_cookie.key}={session_cookie.value}"
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

        def over_http(path: str) -> Callable[[], object]:
            def get() -> None:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                assert response.status == 200, (path, response.status)
            return get

        for name, path in (("queue, first page", "/queue"), ("item page", None)):
            fn = over_http(path) if path else (lambda: over_http(f"/items/{next(item_ids)}")())
            rows.append((f"[HTTP, waitress] {name}", *(f"{v:.1f} ms" for v in _time(fn, runs))))
        connection.close()
        server.close()
        thread.join(timeout=5)
        store.close()
    rows.insert(0, (f"build {ITEMS:,} items with store.messages.add_messages", f"{build_seconds:.1f} s", ""))
    return rows


def main() -> None:
    rows = bench_web()
    print(f"| web app, {ITEMS:,} queued items | median | p95 |\n|---|---|---|")
    for name, median, p95 in rows:
        print(f"| {name} | {median} | {p95} |")


if __name__ == "__main__":
    main()
