"""The queue page: what is waiting, most urgent first, with filters, search and pages."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from replies.deadline_rules import NEAR_DAYS

from ..domain import Role, Status
from classifier.labels import Route, is_route
from replies.drafting import london_today

from ..store import QueueQuery
from .display import council_case_number, days_from, iso_day
from .security import requires

bp = Blueprint("queue", __name__)
bp.add_app_template_filter(council_case_number, "case_number")
bp.add_app_template_filter(days_from, "days_from")
bp.add_app_template_filter(iso_day, "iso_day")

# "to do" is what a caseworker works through: open items and replies that failed to send.
TODO = (Status.NEEDS_REVIEW.value, Status.DRAFTED.value, Status.FAILED.value)
STATUS_CHOICES = {"todo": "To do (open or failed)", "all": "Any status",
                  **{s.value: s.value.replace("_", " ").capitalize() for s in Status}}
SORTS = ("urgency", "deadline")
AGE_CHOICES = {"": "Any age", "1": "Received over 1 day ago", "3": "Received over 3 days ago",
               "7": "Received over 7 days ago", "14": "Received over 14 days ago"}


@bp.route("/")
@requires(Role.CASEWORKER)
def home() -> Response:
    return redirect(url_for("queue.index"))


@bp.route("/queue")
@requires(Role.CASEWORKER)
def index() -> str:
    """The queue: safeguarding first, then needs review, then the earliest reply-by date."""
    store, web = current_app.extensions["store"], current_app.extensions["web"]
    args = request.args
    route = args.get("route", "") if is_route(args.get("route", "")) else ""
    status = args.get("status", "todo") if args.get("status", "todo") in STATUS_CHOICES else "todo"
    age = args.get("age", "") if args.get("age", "") in AGE_CHOICES else ""
    assignee = args.get("assignee", "")[:100]
    search = " ".join(args.get("q", "").split())[:200]
    page = _page(args.get("page", "1"))
    sort = args.get("sort", "") if args.get("sort", "") in SORTS else ""
    moment = current_app.extensions["clock"]()

    statuses = TODO if status == "todo" else () if status == "all" else (status,)
    claimed_by = g.user.username if assignee == "me" else (assignee or None)
    received_before = (moment - dt.timedelta(days=int(age))) if age else None
    result = store.items.queue_page(QueueQuery(
        statuses=statuses, route=route or None, claimed_by=None if assignee == "unclaimed" else claimed_by,
        unclaimed=assignee == "unclaimed", received_before=received_before, search=search, page=page,
        per_page=web.page_size, sort=sort or "urgency", today=london_today(moment)))
    filters = {"route": route, "status": status, "age": age, "assignee": assignee, "q": search, "sort": sort}
    return render_template(
        "queue/index.html", result=result, filters=filters, routes=tuple(Route), statuses=STATUS_CHOICES,
        ages=AGE_CHOICES, users=[u.username for u in store.accounts.list_users() if u.active],
        page_url=lambda n: url_for("queue.index", page=n, **{k: v for k, v in filters.items() if v}),
        today=moment.date(), deadline_today=london_today(moment), near_days=NEAR_DAYS,
        filtered=status != "todo" or any(filters[k] for k in ("route", "age", "assignee", "q")),
        sort_url=lambda value: url_for("queue.index", **{k: v for k, v in {**filters, "sort": value}.items() if v}),
    )


def _page(value: str) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except ValueError:
        return 1
