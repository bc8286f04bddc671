"""Reply drafting for the EHC team: route facts, templates and deadlines. Knows nothing of triage/."""

from .drafting import (
    AcknowledgementContext,
    Draft,
    ReplyContext,
    greeting,
    render_acknowledgement,
    render_draft,
    render_safeguarding_alert,
    reply_subject,
)
from .deadline_rules import Deadlines, compute_deadlines
from .decision_dates import FoundDate, find_certificate_date, find_decision_date
from .facts import DEFAULT_ROUTES_FILE, PLACEHOLDER, FactsError, RouteBook, RouteFacts, load_routes

__all__ = [
    "AcknowledgementContext", "DEFAULT_ROUTES_FILE", "Deadlines", "Draft", "FoundDate", "FactsError", "PLACEHOLDER", "ReplyContext", "RouteBook", "RouteFacts",
    "compute_deadlines", "find_certificate_date", "find_decision_date", "greeting", "load_routes", "render_acknowledgement", "render_draft", "render_safeguarding_alert", "reply_subject",
]
