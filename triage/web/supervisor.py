"""The supervisor pages: the dashboard, the event log with filters, and one message's timeline.

Views only read query arguments, call Store methods and turn the figures into charts
(triage.web.charts); every filter is a GET argument, so a filtered page can be bookmarked or shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from ..domain import Role
from ..errors import NotFound
from ..event_export import LOG_FIELDS, log_rows, to_csv
from classifier.labels import Route, is_route
from ..store import Store
from ..store.report_records import Dashboard, LogQuery
from . import charts
from .charts import BarChart, HeatTable, Series
from .security import requires

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")

WEEK_CHOICES = (4, 12, 26, 52)
DEFAULT_WEEKS = 12
LATEST_EVENTS = 10
YES_NO = {"yes": True, "no": False}
LOG_FILTERS = ("from", "to", "route", "user", "model", "overridden", "safeguarding", "event")
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)  # the dates a log filter may name
ACKNOWLEDGEMENT_SERIES = (("sent", "Sent", "fill-sent"), ("suppressed", "Suppressed", "fill-suppressed"),
                          ("would_send", "Would have been sent (shadow mode)", "fill-would-send"))
# (minutes in the unit, its name): the largest unit in which the longest median is still over 2.
TIME_UNITS = ((24 * 60, "days"), (60, "hours"), (1, "minutes"))


@bp.route("/")
@requires(Role.SUPERVISOR)
def index() -> str:
    """The dashboard: what arrived, how caseworkers overrode the classifier, how fast, what is overdue."""
    weeks = _int_choice(request.args.get("weeks", ""), WEEK_CHOICES, DEFAULT_WEEKS)
    board = _store().reports.dashboard(_today(), weeks)
    return render_template("supervisor/index.html", board=board, charts=dashboard_charts(board),
                           confusion=confusion_table(board), weeks=weeks, week_choices=WEEK_CHOICES,
                           latest=_store().reports.audit_log(LogQuery(per_page=LATEST_EVENTS)).rows,
                           duration=duration, percent=percent, score=score)


@bp.route("/log")
@requires(Role.SUPERVISOR)
def log() -> str | tuple[str, int]:
    """The event log, newest first, narrowed by the filters in the query string."""
    store, web = _store(), current_app.extensions["web"]
    errors: list[tuple[str, str]] = []
    filters = log_filters(request.args, errors)
    result = store.reports.audit_log(log_query(filters, _page(request.args.get("page", "1")), web.page_size))
    kept = {k: v for k, v in filters.items() if v}
    page = render_template("supervisor/log.html", result=result, filters=filters, choices=store.reports.log_choices(),
                           routes=tuple(Route), page_url=lambda n: url_for("supervisor.log", page=n, **kept),
                           csv_url=url_for("supervisor.log_csv", **kept), errors=errors)
    return (page, 400) if errors else page


@bp.route("/log.csv")
@requires(Role.SUPERVISOR)
def log_csv() -> Response:
    """Every event the filters keep, as CSV (the data column holds each event's data as JSON)."""
    query = log_query(log_filters(request.args))
    return Response(to_csv(log_rows(_store().reports.audit_log_rows(query)), LOG_FIELDS), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="event-log.csv"'})


@bp.route("/items/<int:item_id>/timeline")
@requires(Role.SUPERVISOR)
def timeline(item_id: int) -> str:
    """One message from arrival to the last thing done with it."""
    try:
        found = _store().reports.timeline(item_id)
    except NotFound:
        abort(404)
    return render_template("supervisor/timeline.html", t=found)


# -- the log's filters ---------------------------------------------------------------------------

def log_filters(args: Mapping[str, str], errors: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """The filters from the query string, each cleaned to a value the form can show again ('' for none).

    A date that is not one is left out of the search and, when `errors` is given, named there as
    (field anchor, message) for the page's error summary; without `errors` (the CSV) it is a 400."""
    filters = {name: " ".join(args.get(name, "").split())[:100] for name in LOG_FILTERS}
    for name, label in (("from", "From"), ("to", "To")):
        day = _date(filters[name])
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:  # a real date, but the search would overflow
            abort(400, description=f"The log's dates must be between {FIRST_DAY} and {LAST_DAY}; "
                                   f"{filters[name]} is not.")
        if filters[name] and day is None:
            problem = f"{label} must be a real date, like 2026-11-16"
            if errors is None:
                abort(400, description=f"{problem}.")
            errors.append((f"#{name}", problem))
        filters[name] = filters[name] if day else ""
    if not is_route(filters["route"]):
        filters["route"] = ""
    for name in ("overridden", "safeguarding"):
        if filters[name] not in YES_NO:
            filters[name] = ""
    return filters


def log_query(filters: Mapping[str, str], page: int = 1, per_page: int = 50) -> LogQuery:
    return LogQuery(
        start=_date(filters["from"]), end=_date(filters["to"]), route=filters["route"] or None,
        actor=filters["user"] or None, model_version=filters["model"] or None,
        overridden=YES_NO.get(filters["overridden"]), safeguarding=YES_NO.get(filters["safeguarding"]),
        name=filters["event"] or None, page=page, per_page=per_page,
    )


# -- the dashboard's charts ----------------------------------------------------------------------

def dashboard_charts(board: Dashboard) -> dict[str, BarChart]:
    """Every chart of the dashboard, by name."""
    return {"messages": _messages_chart(board), "acknowledgements": _acknowledgements_chart(board),
            "safeguarding": _safeguarding_chart(board), "overrides": _overrides_chart(board),
            "approval": _approval_chart(board)}


def _messages_chart(board: Dashboard) -> BarChart:
    total = sum(sum(counts) for counts in board.messages_per_week.values())
    return charts.stacked_bars(
        "Messages per route per week",
        f"{total} messages received in the {len(board.weeks)} weeks starting {_week(board.weeks[0])}, "
        f"by the route each has now; the table below gives every figure.",
        "Week starting", [_week(m) for m in board.weeks],
        [Series(_name(route), f"fill-{route}", board.messages_per_week[route]) for route in board.routes],
        unit="messages", fmt=_count)


def _acknowledgements_chart(board: Dashboard) -> BarChart:
    weeks = board.acknowledgements
    series = [Series(name, css, tuple(getattr(w, field) for w in weeks)) for field, name, css in ACKNOWLEDGEMENT_SERIES]
    sent, suppressed = (sum(s.values) for s in series[:2])
    return charts.stacked_bars(
        "Acknowledgements sent and suppressed per week",
        f"For the messages received each week: {sent} acknowledgements sent and {suppressed} suppressed "
        f"(automatic mail, our own addresses, one per sender per window); the table below gives every figure.",
        "Week starting", [_week(w.week) for w in weeks], series, unit="acknowledgements", fmt=_count)


def _safeguarding_chart(board: Dashboard) -> BarChart:
    counts = board.safeguarding_per_week
    return charts.bars(
        "Safeguarding flags per week",
        f"{sum(counts)} messages flagged for safeguarding in the {len(board.weeks)} weeks starting "
        f"{_week(board.weeks[0])}.",
        "Week starting", [_week(m) for m in board.weeks], counts, ["fill-safeguarding"] * len(counts),
        unit="flagged messages", fmt=_count)


def _overrides_chart(board: Dashboard) -> BarChart:
    rates = board.override_rates
    overall = board.override_rate
    return charts.bars(
        "Override rate by route",
        f"Of {overall.decided} decided items, caseworkers gave {overall.overridden} a route other than the "
        f"classifier's ({percent(overall.rate)}); each bar is the share for one classifier route.",
        "Classifier's route", [_name(r.label) for r in rates],
        [None if r.rate is None else r.rate * 100 for r in rates], [f"fill-{r.label}" for r in rates],
        unit="overridden (%)", fmt=lambda v: f"{v:.0f}%", top=100,
        details=[f"{r.overridden} of {r.decided} decided" for r in rates], details_name="Items")


def _approval_chart(board: Dashboard) -> BarChart:
    times = board.approval_time_by_route
    minutes, unit = _time_unit(max((t.median_minutes or 0) for t in times))
    return charts.bars(
        "Median time from receipt to approval, by route",
        f"Over {board.approval_time.approved} approved items the median is "
        f"{duration(board.approval_time.median_minutes)}; each bar is one route's median.",
        "Route", [_name(t.route) for t in times],
        [None if t.median_minutes is None else t.median_minutes / minutes for t in times],
        [f"fill-{t.route}" for t in times], unit=unit, fmt=lambda v: f"{v:.1f}".removesuffix(".0"),
        details=[f"{t.approved} approved" for t in times], details_name="Items")


def confusion_table(board: Dashboard) -> HeatTable:
    return charts.heat_table("Classifier's route against the caseworker's final route (decided items)",
                             "Classifier said", "Caseworker's final route", board.routes, board.routes,
                             board.confusion)


# -- words and numbers ---------------------------------------------------------------------------

def percent(share: float | None) -> str:
    return "no decided items" if share is None else f"{share * 100:.0f}%"


def score(value: float | None) -> str:
    """A model's figure (macro-F1, recall) to three places, or a dash where it was not measured."""
    return "–" if value is None else f"{value:.3f}"


def duration(minutes: float | None) -> str:
    """A span in words: '45 minutes', '3 hours 20 minutes', '2 days 4 hours'."""
    if minutes is None:
        return "none approved"
    whole = round(minutes)
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _plural(days, "day") + (f" {_plural(hours, 'hour')}" if hours else "")
    if hours:
        return _plural(hours, "hour") + (f" {_plural(mins, 'minute')}" if mins else "")
    return _plural(mins, "minute")


def _time_unit(longest_minutes: float) -> tuple[int, str]:
    return next(((size, name) for size, name in TIME_UNITS if longest_minutes / size > 2), TIME_UNITS[-1])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _count(value: float) -> str:
    return f"{value:.0f}"


def _week(monday: dt.date) -> str:
    return f"{monday.day} {monday:%b}"


def _name(route: str | None) -> str:
    return (route or "every route").replace("_", " ")


# -- small helpers -------------------------------------------------------------------------------

def _store() -> Store:
    return current_app.extensions["store"]  # type: ignore[no-any-return]


def _today() -> dt.date:
    """The dashboard's last day: today by the app's clock (injected in tests), in UTC like the log."""
    return current_app.extensions["clock"]().astimezone(dt.timezone.utc).date()


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _int_choice(text: str, choices: tuple[int, ...], default: int) -> int:
    return int(text) if text.isdigit() and int(text) in choices else default


def _page(value: str) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except ValueError:
        return 1
