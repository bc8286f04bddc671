"""The four route labels, spelt exactly as ../shared/LABELLING.md spells them."""

from enum import Enum


class Route(str, Enum):
    DISAGREEMENT_RESOLUTION = "disagreement_resolution"
    MEDIATION = "mediation"
    TRIBUNAL = "tribunal"
    OTHER = "other"


LABELS: tuple[str, ...] = tuple(r.value for r in Route)
