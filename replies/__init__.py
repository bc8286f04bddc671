"""Reply drafting for the EHC team: route facts, templates and deadlines. Knows nothing of triage/."""

from .drafting import Draft, ReplyContext, greeting, render_draft, reply_subject
from .facts import DEFAULT_ROUTES_FILE, PLACEHOLDER, FactsError, RouteBook, RouteFacts, load_routes

__all__ = [
    "DEFAULT_ROUTES_FILE", "Draft", "FactsError", "PLACEHOLDER", "ReplyContext", "RouteBook", "RouteFacts",
    "greeting", "load_routes", "render_draft", "reply_subject",
]
