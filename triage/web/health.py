"""GET /healthz: 200 when the database answers, 503 when it does not; no sign-in needed."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from .security import public

bp = Blueprint("health", __name__)
log = logging.getLogger("triage.web")


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    try:
        current_app.extensions["store"].ping()
    except Exception as exc:  # any failure to answer is "unhealthy", whatever the driver raised
        log.error("health check: the database did not answer: %s", exc)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok"), 200
