"""config/routes.toml -> RouteBook: the council's facts about each route, as plain dataclasses."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from classifier.labels import Route

PLACEHOLDER = "[COUNCIL TO FILL IN"
# What a template leaves for the caseworker to write; like the council's, it blocks approval.
CASEWORKER_PLACEHOLDER = "[Caseworker:"
PLACEHOLDERS = (PLACEHOLDER, CASEWORKER_PLACEHOLDER)
# A whole placeholder as a template renders it.
PLACEHOLDER_PATTERN = re.compile(r"\[(?:COUNCIL TO FILL IN|Caseworker)[^\]]*\]")
DEFAULT_ROUTES_FILE = Path(__file__).resolve().parent.parent / "config" / "routes.toml"


class FactsError(Exception):
    """Raised when routes.toml is missing, not TOML, or lacks a route or field."""


@dataclass(frozen=True)
class Council:
    name: str
    team_name: str
    team_email: str
    team_phone: str
    signature: str
    emergency_number: str = "999"
    children_services_contact: str = ""


@dataclass(frozen=True)
class Terms:
    """Plain-English explanations the drafts give the first time they use each word."""

    ehc_plan: str
    provision: str
    mediation_certificate: str
    working_days: str


@dataclass(frozen=True)
class DeadlineFacts:
    """The mediation and appeal time limits in words, for drafts and acknowledgements."""

    adviser: str
    adviser_dated: str
    appeal: str
    appeal_later_of: str
    appeal_later_of_held: str
    appeal_hour: str
    moves: str
    late: str
    keep_running: str


@dataclass(frozen=True)
class Advice:
    name: str
    what: str
    contact: str


@dataclass(frozen=True)
class RouteFacts:
    route: Route
    title: str
    purpose: str
    who: str
    covers: tuple[str, ...]
    how: str
    provider: str
    cost: str
    time_limits: str
    next_step: str
    provider_contact: str = ""
    certificate: str = ""
    about: str = ""  # "We think your email is about ..."
    voluntary: str = ""
    steps: tuple[str, ...] = ()
    exception: str = ""
    guidance: str = ""
    documents: str = ""


@dataclass(frozen=True)
class RouteBook:
    council: Council
    advice: tuple[Advice, ...]
    routes: dict[Route, RouteFacts] = field(default_factory=dict)
    terms: Terms | None = None
    deadlines: DeadlineFacts | None = None

    def placeholders(self) -> list[str]:
        """Dotted names of every value still holding a placeholder for the council to fill in."""
        found = []
        for name, value in vars(self.council).items():
            if PLACEHOLDER in value:
                found.append(f"council.{name}")
        for section in ("terms", "deadlines"):
            for name, value in (vars(getattr(self, section)) if getattr(self, section) else {}).items():
                if PLACEHOLDER in value:
                    found.append(f"{section}.{name}")
        for index, advice in enumerate(self.advice):
            for name, value in vars(advice).items():
                if PLACEHOLDER in value:
                    found.append(f"advice[{index}].{name}")
        for route, facts in self.routes.items():
            for name, value in vars(facts).items():
                values = value if isinstance(value, tuple) else (value,)
                if any(isinstance(v, str) and PLACEHOLDER in v for v in values):
                    found.append(f"routes.{route}.{name}")
        return found


def load_routes(path: Path = DEFAULT_ROUTES_FILE) -> RouteBook:
    """Read and check routes.toml."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FactsError(f"route facts file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FactsError(f"{path} is not valid TOML: {exc}") from None
    try:
        council = Council(**raw["council"])
        advice = tuple(Advice(**a) for a in raw.get("advice", []))
        terms = Terms(**raw["terms"])
        deadlines = DeadlineFacts(**raw["deadlines"])
        routes = {}
        for route in Route:
            data = dict(raw["routes"][route.value])
            data["covers"] = tuple(data.get("covers", ()))
            data["steps"] = tuple(data.get("steps", ()))
            routes[route] = RouteFacts(route=route, **data)
    except KeyError as exc:
        raise FactsError(f"{path} is missing {exc.args[0]!r}") from None
    except TypeError as exc:
        raise FactsError(f"{path}: {exc}") from None
    return RouteBook(council=council, advice=advice, routes=routes, terms=terms, deadlines=deadlines)


def placeholder_line(text: str) -> str:
    """The first placeholder in `text` (the council's or the caseworker's), else the first line holding
    the start of one (the rest edited away), or ''."""
    found = PLACEHOLDER_PATTERN.search(text)
    if found:
        return found.group(0)
    return next((line.strip() for line in text.splitlines() if any(p in line for p in PLACEHOLDERS)), "")
