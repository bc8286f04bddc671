"""The four routes, declared once: the classifier says which one a message takes, and the drafts,
the settings, the store and the web app all use this enum (spelt exactly as ../shared/LABELLING.md
spells them).

A StrEnum, so a route is also its plain string: it is stored, compared, put in JSON and shown in
templates as 'mediation', never as 'Route.MEDIATION'.
"""

from enum import StrEnum


class Route(StrEnum):
    DISAGREEMENT_RESOLUTION = "disagreement_resolution"
    MEDIATION = "mediation"
    TRIBUNAL = "tribunal"
    OTHER = "other"


# The route names as plain strings, in order: what the training code, the model card and sklearn use.
LABELS: tuple[str, ...] = tuple(r.value for r in Route)


def is_route(value: object) -> bool:
    """Whether `value` names a route (a Route, or its string)."""
    return value in LABELS
