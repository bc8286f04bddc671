"""The supervisor pages over HTTP: the event log's filters and pages, one message's timeline, the
dashboard's figures and charts (test_browser.py shows them in chromium on the demo's data)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import update

from triage.domain import OutboxKind, OutboxStatus, Role
from triage.events import AcknowledgementSuppressed, ModelTrained, OutboxQueued, Sent
from triage.service import approve_item, change_route, route_book, send_outbox
from classifier.labels import Route
from triage.store import Store
from triage.store.report_records import LogQuery
from triage.store.tables import ClassificationRow
from triage.web.charts import Series, bars, heat_table, stacked_bars

from .webapp import add_item, add_user, make_app, signed_in

UTC = dt.timezone.utc


def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def web(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes, page_size=5)
    add_user(store, "casey")
    add_user(store, "robin")
    add_user(store, "sam", Role.SUPERVISOR)
    yield app, store, settings
    store.close()


@pytest.fixture
def clock(monkeypatch):
    """Set the moment the store stamps on events: clock(at(2)) and what follows happens on 2 November."""
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr("triage.store.database.now", lambda: moment)
    return set_to


def _item(web, **kw) -> int:
    _, store, settings = web
    return add_item(store, routes_file=settings.service.routes_file, **kw)


def _classified_by(store: Store, item_id: int, model_version: str) -> None:
    """Give an item's classification another model version (add_item always writes m-test)."""
    message = store.events.of_item(item_id)[0]["message"]
    with store.engine.begin() as conn:
        conn.execute(update(ClassificationRow).where(ClassificationRow.message_ref == message)
                     .values(model_version=model_version))


def _log(client, **params) -> list[tuple[str, str, int | None]]:
    """(who, what, item id) for each row of a log page."""
    response = client.get("/supervisor/log", query_string=params)
    assert response.status_code == 200
    body = response.get_data(as_text=True).split('<table class="table log">', 1)
    if len(body) == 1:
        return []
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*"
                      r"<td class=\"nowrap\">(?:<a href=\"/supervisor/items/(\d+)/timeline\">)?", body[1])
    return [(who, what, int(item) if item else None) for who, what, item in rows]


def _items(rows: list[tuple[str, str, int | None]]) -> set[int | None]:
    return {item for _, _, item in rows}


# -- the log -------------------------------------------------------------------------------------

@pytest.fixture
def three_items(web, clock):
    """a: mediation, kept, classified by m-old, received on 2 Nov; b: tribunal, safeguarding, on 5 Nov;
    c: mediation changed to tribunal by robin and claimed by casey, on 9 Nov."""
    _, store, settings = web
    clock(at(2))
    a = _item(web, route="mediation")
    _classified_by(store, a, "m-old")
    clock(at(5))
    b = _item(web, route="tribunal", safeguarding=True)
    clock(at(9))
    c = _item(web, route="mediation")
    change_route(store, route_book(settings), c, "tribunal", "robin")
    store.items.claim(c, "casey")
    return a, b, c


def test_the_log_lists_events_newest_first_each_linked_to_its_items_timeline(web, three_items):
    app, store, _ = web
    _, _, c = three_items
    client = signed_in(app, "sam")
    rows = _log(client)
    assert rows[:3] == [("sam", "logged in", None), ("casey", "claimed", c), ("robin", "route changed", c)]
    page = client.get("/supervisor/log").get_data(as_text=True)
    reference = store.items.detail(c).reference
    assert f'<a href="/supervisor/items/{c}/timeline">{reference}</a>' in page
    assert f"{len(store.events.all())} events; page 1 of" in page


def test_each_filter_narrows_the_log(web, three_items):
    app, _, _ = web
    a, b, c = three_items
    client = signed_in(app, "sam")
    tribunal = _all_pages(client, route="tribunal")
    assert _items(tribunal) == {b, c}
    assert ("system", "received", b) in tribunal  # events before the item existed are its message's
    assert _all_pages(client, user="robin") == [("robin", "route changed", c)]
    assert _items(_all_pages(client, model="m-old")) == {a}
    assert _items(_all_pages(client, overridden="yes")) == {c}
    assert _items(_all_pages(client, overridden="no")) == {a, b}
    assert _items(_all_pages(client, safeguarding="yes")) == {b}
    assert _items(_all_pages(client, safeguarding="no")) == {a, c}
    assert _all_pages(client, event="claimed") == [("casey", "claimed", c)]
    assert _items(_all_pages(client, **{"from": "2026-11-03", "to": "2026-11-05"})) == {b}
    assert _items(_all_pages(client, **{"from": "2026-11-02", "to": "2026-11-04"})) == {a}
    assert _items(_all_pages(client, **{"from": "2026-11-06"})) == {c, None}  # None: sam's sign-in, on the 9th too
    combined = _all_pages(client, route="tribunal", user="casey", overridden="yes", safeguarding="no")
    assert combined == [("casey", "claimed", c)]
    assert _log(client, route="tribunal", safeguarding="yes", overridden="yes") == []
    assert "No events match." in client.get("/supervisor/log?event=approved").get_data(as_text=True)


def _all_pages(client, **params) -> list[tuple[str, str, int | None]]:
    rows, page = [], 1
    while True:
        found = _log(client, page=page, **params)
        rows += found
        if len(found) < 5:
            return rows
        page += 1


def test_nonsense_filters_are_ignored_and_shown_as_none(web, three_items):
    app, _, _ = web
    client = signed_in(app, "sam")
    nonsense = {"route": "nowhere", "overridden": "maybe", "safeguarding": "1"}
    assert _all_pages(client, **nonsense) == _all_pages(client)
    page = client.get("/supervisor/log?route=nowhere").get_data(as_text=True)
    assert 'value="nowhere"' not in page


def test_a_date_that_is_not_one_is_named_in_an_error_summary_not_silently_ignored(web, three_items):
    app, _, _ = web
    client = signed_in(app, "sam")
    answer = client.get("/supervisor/log?from=yesterday")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "<title>Error: Event log" in page and "There is a problem" in page
    assert '<a href="#from">From must be a real date, like 2026-11-16</a>' in page
    assert 'value="yesterday"' not in page
    csv = client.get("/supervisor/log.csv?to=31/12/2026")
    assert csv.status_code == 400 and "To must be a real date" in csv.get_data(as_text=True)


def test_the_log_pages_keep_the_filters(web, three_items):
    app, store, _ = web
    _, b, c = three_items
    client = signed_in(app, "sam")
    messages = {store.events.of_item(i)[0]["message"] for i in (b, c)}
    total = len([e for e in store.events.all() if e["message"] in messages])
    pages = -(-total // 5)
    first = client.get("/supervisor/log?route=tribunal").get_data(as_text=True)
    assert f"{total} events; page 1 of {pages}" in first
    assert 'href="/supervisor/log?page=2&amp;route=tribunal" rel="next"' in first
    second = client.get("/supervisor/log?route=tribunal&page=2").get_data(as_text=True)
    assert 'href="/supervisor/log?page=1&amp;route=tribunal" rel="prev"' in second
    rows = [_log(client, route="tribunal", page=n) for n in range(1, pages + 1)]
    assert [len(r) for r in rows] == [5] * (pages - 1) + [total - 5 * (pages - 1)]
    everything = [row for page in rows for row in page]
    assert everything[0] == ("casey", "claimed", c) and everything[-1] == ("system", "received", b)


def test_the_log_downloads_as_csv_with_the_same_filters(web, three_items):
    app, _, _ = web
    response = signed_in(app, "sam").get("/supervisor/log.csv?user=robin")
    assert response.headers["Content-Disposition"] == 'attachment; filename="event-log.csv"'
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "id,at,actor,event,item,reference,data"
    assert len(lines) == 2 and ",robin,route_changed," in lines[1] and '""to"": ""tribunal""' in lines[1]


def test_every_event_the_filters_keep_can_be_read_in_chunks(web, three_items):
    _, store, _ = web
    rows = list(store.reports.audit_log_rows(LogQuery(), chunk=3))
    assert [r.id for r in rows] == sorted((e["id"] for e in store.events.all()), reverse=True)
    safeguarding = list(store.reports.audit_log_rows(LogQuery(safeguarding=True), chunk=2))
    assert {r.item_id for r in safeguarding} == {three_items[1]}
    assert len(safeguarding) == store.reports.audit_log(LogQuery(safeguarding=True)).total


# -- the timeline --------------------------------------------------------------------------------

def test_the_timeline_shows_each_step_in_order_with_its_user_drafts_decisions_and_mail(web, clock):
    app, store, settings = web
    clock(at(2))
    item = _item(web, route="mediation", confidence=0.62)
    clock(at(2, 10))
    store.items.save_draft(item, "Your message", "Dear Rosa,\n<b>We will call you.</b>\n", "casey")
    clock(at(2, 11))
    change_route(store, route_book(settings), item, "tribunal", "robin")
    clock(at(2, 12))
    approve_item(settings, store, item, "casey")
    send_outbox(settings, store)

    page = signed_in(app, "sam").get(f"/supervisor/items/{item}/timeline").get_data(as_text=True)
    steps = re.findall(r'<strong class="timeline-what">([^<]+)</strong> by <span class="timeline-who">([^<]+)</span>',
                       page)
    assert steps == [("received", "system"), ("parsed", "system"), ("classified", "system"), ("drafted", "system"),
                     ("queued", "system"), ("draft edited", "casey"), ("route changed", "robin"),
                     ("approved", "casey"), ("reply queued", "system"), ("reply sent", "system")]
    assert "2 Nov 2026 10:00 UTC" in page and "2 Nov 2026 11:00 UTC" in page
    drafts = re.findall(r"<summary>Draft version (\d) \((\w+)\), by (\w+)</summary>", page)
    assert drafts == [("1", "mediation", "system"), ("2", "mediation", "casey"), ("3", "tribunal", "robin")]
    assert "+&lt;b&gt;We will call you.&lt;/b&gt;" in page and "<b>We will call" not in page  # the diff, escaped
    assert "overridden: the classifier said mediation" in page
    assert "<code>m-test</code>" in page and "62%" in page and "I want mediation." in page
    outbox = page.split('id="outbox"')[1]
    assert re.search(r"<td>reply</td>\s*<td>rosa.lindqvist@example.com</td>\s*<td>sent</td>", outbox)
    assert "2 Nov 2026 12:00 UTC" in outbox and "<td>1</td>" in outbox


def test_the_timeline_of_an_unknown_item_is_not_found(web):
    app, _, _ = web
    assert signed_in(app, "sam").get("/supervisor/items/999/timeline").status_code == 404


def test_caseworkers_cannot_open_the_supervisor_pages(web):
    app, _, _ = web
    item = _item(web)
    casey = signed_in(app, "casey")
    for path in ("/supervisor/", "/supervisor/?weeks=52", "/supervisor/log", "/supervisor/log?route=tribunal",
                 "/supervisor/log.csv", f"/supervisor/items/{item}/timeline"):
        response = casey.get(path)
        assert response.status_code == 403, path
        assert "EHC-" not in response.get_data(as_text=True)
    assert signed_in(app, "sam").get(f"/supervisor/items/{item}/timeline").status_code == 200


# -- the dashboard -------------------------------------------------------------------------------

@pytest.fixture
def decided(web, clock):
    """Eight items with known decisions, times and reply-by dates (see each line)."""
    _, store, settings = web
    book = route_book(settings)
    clock(at(2))
    a = _item(web, route="mediation", received=at(2))  # approved 2 hours after receipt, route kept
    clock(at(2, 11))
    approve_item(settings, store, a, "casey")
    b = _item(web, route="mediation", received=at(3))  # changed to tribunal, approved after 4 hours
    change_route(store, book, b, "tribunal", "robin")
    clock(at(3, 13))
    approve_item(settings, store, b, "robin")
    c = _item(web, route="tribunal", received=at(4))  # approved a day later
    clock(at(5))
    approve_item(settings, store, c, "casey")
    d = _item(web, route="other", received=at(9, 10))  # rejected
    store.items.reject(d, "a duplicate", "casey")
    e = _item(web, route="other", received=at(10))  # changed to mediation, then handled elsewhere
    change_route(store, book, e, "mediation", "robin")
    store.items.mark_handled_elsewhere(e, "answered by phone", "robin")
    f = _item(web, route="mediation", received=at(16))  # open; reply by 30 November
    g = _item(web, route="tribunal", safeguarding=True, received=at(1, month=10))  # open; reply by 15 October
    h = _item(web, route="disagreement_resolution", needs_review=True, confidence=0.4,
              received=at(20, month=10))  # open; reply by 3 November
    for item, event in ((a, Sent(OutboxKind.ACKNOWLEDGEMENT, 1, "parent@example.org", 1, "<ack@example.org>")),
                        (d, AcknowledgementSuppressed("automatic")),
                        (f, OutboxQueued(OutboxKind.ACKNOWLEDGEMENT, "parent@example.org", OutboxStatus.WOULD_SEND))):
        store.events.record(event, message=store.events.of_item(item)[0]["message"], item=item)
    store.events.record(ModelTrained(**RETRAINED), "sam")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h}


RETRAINED = {
    "candidate": {"version": "m-new", "frozen_test": {"macro_f1": 0.91, "safeguarding_recall": 0.95, "n": 200},
                  "holdout": {"macro_f1": 0.88, "n": 40}},
    "current": {"version": "m-test", "frozen_test": {"macro_f1": 0.93, "safeguarding_recall": 1.0, "n": 200},
                "holdout": {"macro_f1": 0.85, "n": 40}},
    "decision": "kept", "reasons": ["frozen test macro-F1 fell from 0.930 to 0.910"], "confirmed_labels": 120,
    "holdout": 40,
}


def test_the_dashboard_figures_from_known_items_and_decisions(web, decided):
    _, store, _ = web
    board = store.reports.dashboard(dt.date(2026, 11, 28), weeks=12)
    assert board.routes == tuple(Route)
    assert board.weeks[0] == dt.date(2026, 9, 7) and board.weeks[-1] == dt.date(2026, 11, 23)

    rates = {r.label: (r.decided, r.overridden) for r in board.override_rates}
    assert rates == {"disagreement_resolution": (0, 0), "mediation": (2, 1), "tribunal": (1, 0), "other": (2, 1)}
    assert [r.rate for r in board.override_rates] == [None, 0.5, 0.0, 0.5]
    assert (board.override_rate.decided, board.override_rate.overridden, board.override_rate.rate) == (5, 2, 0.4)
    cells = {(label, route): n for label, row in board.confusion.items() for route, n in row.items() if n}
    assert cells == {("mediation", "mediation"): 1, ("mediation", "tribunal"): 1, ("tribunal", "tribunal"): 1,
                     ("other", "other"): 1, ("other", "mediation"): 1}

    assert (board.approval_time.approved, board.approval_time.median_minutes) == (3, 240)  # of 120, 240, 1440
    by_route = {t.route: (t.approved, t.median_minutes) for t in board.approval_time_by_route}
    assert by_route == {"disagreement_resolution": (0, None), "mediation": (1, 120), "tribunal": (2, 840),
                        "other": (0, None)}

    assert board.past_due == 2  # g and h; f is due on the 30th, the rest are decided
    assert [(p.id, p.days_overdue) for p in board.oldest_past_due] == [(decided["g"], 44), (decided["h"], 25)]

    week = {monday: n for n, monday in enumerate(board.weeks)}
    assert board.messages_per_week["tribunal"][week[dt.date(2026, 11, 2)]] == 2  # b (changed) and c
    assert board.messages_per_week["mediation"][week[dt.date(2026, 11, 9)]] == 1  # e, changed from other
    assert board.messages_per_week["other"][week[dt.date(2026, 11, 9)]] == 1  # d
    assert sum(sum(counts) for counts in board.messages_per_week.values()) == 8
    assert board.safeguarding_per_week[week[dt.date(2026, 9, 28)]] == 1 and sum(board.safeguarding_per_week) == 1
    acks = {w.week: (w.sent, w.suppressed, w.would_send) for w in board.acknowledgements if (w.sent, w.suppressed,
                                                                                          w.would_send) != (0, 0, 0)}
    assert acks == {dt.date(2026, 11, 2): (1, 0, 0), dt.date(2026, 11, 9): (0, 1, 0), dt.date(2026, 11, 16): (0, 0, 1)}

    [run] = board.retraining
    assert (run.actor, run.decision, run.confirmed_labels) == ("sam", "kept", 120)
    assert (run.candidate.version, run.candidate.frozen_test.macro_f1, run.candidate.holdout.n) == ("m-new", 0.91, 40)
    assert run.current is not None and run.current.frozen_test.safeguarding_recall == 1.0


def test_a_shorter_period_leaves_older_weeks_out(web, decided):
    _, store, _ = web
    board = store.reports.dashboard(dt.date(2026, 11, 28), weeks=4)
    assert board.weeks == (dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23))
    assert sum(sum(counts) for counts in board.messages_per_week.values()) == 6  # not g and h, in October
    assert sum(board.safeguarding_per_week) == 0
    assert board.override_rate.decided == 5  # decisions are counted whenever the item arrived


@pytest.fixture
def today(monkeypatch):
    """The dashboard page's today: 28 November 2026, whatever the date the tests run."""
    monkeypatch.setattr("triage.web.supervisor._today", lambda: dt.date(2026, 11, 28))


def test_the_dashboard_page_shows_every_chart_and_the_figures(web, decided, today):
    app, store, _ = web
    page = signed_in(app, "sam").get("/supervisor/?weeks=52").get_data(as_text=True)
    for chart, title in CHART_TITLES.items():
        svg = page.split(f'id="{chart}"')[1].split("</figure>")[0]
        assert f'<svg class="chart-svg" viewBox="0 0 720 300" role="img" aria-labelledby="{chart}-title {chart}-desc">' \
               in svg
        assert f'<title id="{chart}-title">{html.escape(title, quote=True)}</title>' in svg
        assert '<rect class="bar ' in svg and "<table" in svg
    assert "<script" not in page and " style=" not in page

    def figure(name: str) -> str:
        return re.sub(r"\s+", " ", page.split(f'id="figure-{name}"')[1].split("</li>")[0])

    assert '<span class="key-figure-value">2</span> items past the reply-by date' in figure("past-due")
    assert '<span class="key-figure-value">40%</span> of 5 decided items' in figure("override")
    assert '<span class="key-figure-value">4 hours</span> median from receipt to approval (3 approved)' \
        in figure("approval")
    assert '<span class="key-figure-value">1</span> safeguarding flag in the last 52 weeks' in figure("safeguarding")
    # The override chart: a 50% bar for mediation and for other, 0% for tribunal, none for disagreement resolution.
    overrides = page.split('id="chart-overrides"')[1].split("</figure>")[0]
    assert "<title>mediation: 50%</title>" in overrides and "<title>other: 50%</title>" in overrides
    assert re.search(r"<th scope=\"row\">disagreement resolution</th><td>none</td><td>0 of 0 decided</td>", overrides)
    assert "<title>tribunal: 14</title>" in page.split('id="chart-approval"')[1]  # hours: median of 4 and 24
    confusion = page.split('id="confusion"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]+)</th>(.*?)</tr>", confusion, re.S)
    counts = {label: [int(n) for n in re.findall(r"<td class=\"heat-\d[^\"]*\">(\d+)", cells)] for label, cells in rows}
    assert counts == {"disagreement resolution": [0, 0, 0, 0], "mediation": [0, 1, 1, 0], "tribunal": [0, 0, 1, 0],
                      "other": [0, 1, 0, 1]}
    past_due = page.split('id="past-due"')[1].split("</table>")[0]
    assert past_due.index(store.items.detail(decided["g"]).reference) < past_due.index(
        store.items.detail(decided["h"]).reference)
    retraining = re.sub(r"\s+", " ", page.split('id="retraining"')[1].split("</table>")[0])
    assert "Candidate <code>m-new</code></td> <td>0.910" in retraining and "Current <code>m-test</code></td> <td>0.930" \
        in retraining
    assert "kept</strong>" in retraining and "frozen test macro-F1 fell from 0.930 to 0.910" in retraining


CHART_TITLES = {
    "chart-messages": "Messages per route per week",
    "chart-acknowledgements": "Acknowledgements sent and suppressed per week",
    "chart-safeguarding": "Safeguarding flags per week",
    "chart-overrides": "Override rate by route",
    "chart-approval": "Median time from receipt to approval, by route",
}


def test_the_dashboard_keeps_the_latest_events(web, decided, today):
    app, _, _ = web
    page = signed_in(app, "sam").get("/supervisor/").get_data(as_text=True)
    latest = page.split("<h2>Latest events</h2>")[1]
    assert "<td>model trained</td>" in latest and f'href="/supervisor/items/{decided["f"]}/timeline"' in latest


# -- the charts ----------------------------------------------------------------------------------

def test_stacked_bars_stack_each_series_on_the_one_before_within_the_plot():
    chart = stacked_bars("Messages", "", "Week", ["1 Nov", "8 Nov"],
                         [Series("mediation", "fill-mediation", (2, 0)), Series("tribunal", "fill-tribunal", (1, 3))],
                         unit="messages")
    first = [b for b in chart.bars if b.title.endswith("1 Nov: 2") or b.title.endswith("1 Nov: 1")]
    assert [b.css_class for b in first] == ["fill-mediation", "fill-tribunal"]
    assert first[1].y + first[1].height == pytest.approx(first[0].y, abs=0.11)  # tribunal sits on mediation
    assert len(chart.bars) == 3  # a zero draws nothing
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert chart.y_ticks[0].at == chart.bottom and chart.y_ticks[-1].at == chart.top
    assert [v.text for v in chart.value_labels] == ["3", "3"]
    assert chart.table.rows == (("1 Nov", "2", "1", "3"), ("8 Nov", "0", "3", "3"))
    assert all(chart.left <= b.x and b.x + b.width <= chart.right for b in chart.bars)


def test_bars_scale_to_a_round_top_and_say_none_where_there_is_no_figure():
    chart = bars("Rate", "", "Route", ["a", "b", "c"], [None, 37.5, 80], ["x", "y", "z"], unit="overridden (%)",
                 fmt=lambda v: f"{v:.0f}%", top=100, details=["0 of 0", "3 of 8", "4 of 5"], details_name="Items")
    assert [t.label for t in chart.y_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert [b.title for b in chart.bars] == ["b: 38%", "c: 80%"]
    assert chart.table.rows[0] == ("a", "none", "0 of 0")
    assert chart.table.headers == ("Route", "Overridden (%)", "Items")


def test_heat_table_shades_by_share_of_the_largest_count():
    table = heat_table("t", "rows", "columns", ["a", "b"], ["a", "b"], {"a": {"a": 8, "b": 1}, "b": {"b": 4}})
    assert [[(c.count, c.shade, c.diagonal) for c in row] for row in table.cells] == [
        [(8, 4, True), (1, 1, False)], [(0, 0, False), (4, 2, True)]]
