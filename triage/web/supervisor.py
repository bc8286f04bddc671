"""The supervisor pages: for now, the latest events across the service (the dashboard comes later)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..domain import Role
from .security import requires

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.route("/")
@requires(Role.SUPERVISOR)
def index() -> str:
    """The newest 100 events: who did what, to which item, when."""
    return render_template("supervisor/index.html", events=current_app.extensions["store"].recent_events(100))
