"""Every legal statement in the route facts is held to its source in the project's reference DOMAIN.md (../shared/DOMAIN.md, beside the checkout as in CI).

Each row names a statement in config/routes.toml, the DOMAIN.md words it rests on (an exact phrase
or number, whitespace aside), and the words the statement must say. When either side changes, the
row fails and names the statement to check. The templates hold no facts of their own: the names of
the provider and the team, and every time limit, come from the facts file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replies import load_routes
from replies.drafting import TEMPLATES

from .conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = " ".join((SHARED / "DOMAIN.md").read_text(encoding="utf-8").split())
BOOK = load_routes()

# (statement key in routes.toml, the DOMAIN.md phrase it rests on, what the statement must say)
SOURCES = [
    ("deadlines.adviser", "must contact the mediation adviser within 2 months after the written decision was sent",
     ["mediation adviser", "within 2 months", "decision letter"]),
    ("deadlines.adviser_dated", "must contact the mediation adviser within 2 months after the written decision was sent",
     ["2 months", "mediation adviser"]),
    ("deadlines.appeal", "received within 2 months after written notice of the decision was sent, or within 1 month "
                         "of the certificate's issue date if that is later",
     ["within 2 months", "decision letter", "within 1 month", "mediation certificate", "if that is later"]),
    ("deadlines.appeal_later_of", "or within 1 month of the certificate's issue date if that is later",
     ["1 month after the date on it", "if that is later"]),
    ("deadlines.appeal_later_of_held", "within 2 months after written notice of the decision was sent, or within 1 "
                                       "month of the certificate's issue date if that is later",
     ["2 months", "1 month", "whichever is later"]),
    ("deadlines.appeal_hour", "acts due by 5pm", ["5pm"]),
    ("deadlines.moves", "a deadline on a non-working day moves to the next working day",
     ["weekend or bank holiday", "next working day"]),
    ("deadlines.moves", "an appeal deadline falling 25 Dec-1 Jan or in August", ["August", "Christmas"]),
    ("deadlines.late", "Late: the tribunal may extend", ["tribunal can still accept a late appeal"]),
    ("deadlines.keep_running", "within 2 months after the written decision was sent", ["time limits keep running"]),
    ("routes.mediation.provider", "adviser is Prime Resolution", ["Prime Resolution"]),
    ("routes.mediation.certificate", "No mediation wanted: adviser must issue the certificate within 3 working days",
     ["do not want mediation", "mediation certificate", "within 3 working days"]),
    ("routes.mediation.steps[0]", 'Mediation wanted: parent tells the council and lists the "mediation issues"',
     ["If you want mediation, tell us", "what you want the mediation to cover"]),
    ("routes.mediation.steps[1]", "The council must arrange mediation within 30 days of being told",
     ["arrange the mediation within 30 days"]),
    ("routes.mediation.steps[2]", "After mediation: certificate within 3 working days of it ending",
     ["certificate within 3 working days after the mediation"]),
    ("routes.mediation.steps[3]", "Council cannot arrange within 30 days: it tells the adviser, who issues a "
                                  "certificate within 3 working days",
     ["cannot arrange mediation within 30 days", "certificate within 3 working days"]),
    ("routes.mediation.exception", "appeal only about section I (school named, type named, or none named)",
     ["only about the school or type of school named, or that no school is named"]),
    ("routes.tribunal.exception", "appeal only about section I (school named, type named, or none named)",
     ["only about the school or type of school named, or that no school is named"]),
    ("routes.mediation.covers", "refusal to amend after a review or reassessment",
     ["not to change a plan after a review or a new assessment"]),
    ("routes.mediation.covers", "decision to cease", ["decision to stop a plan"]),
    ("routes.mediation.covers", "Right to mediation after an appealable decision or when a plan is issued or amended",
     ["when it is issued or changed"]),
    ("routes.tribunal.covers", "refusal to amend after a review or reassessment",
     ["refusal to change a plan after a review or a new assessment"]),
    ("routes.tribunal.covers", "refusal to assess; refusal to issue a plan after assessment",
     ["refusal to assess", "refusal to issue an EHC plan"]),
    ("routes.tribunal.covers", "sections B (needs), F (provision), I (placement or none named)",
     ["sections B (needs), F (provision) or I (school)"]),
    ("routes.tribunal.covers", "decision to cease", ["decision to stop a plan"]),
    ("routes.tribunal.how", "Forms: SEND35; IASS pages say SEND35a for refusal to assess; online route exists",
     ["form SEND35", "If we refused to assess your child, use form SEND35a", "online"]),
    ("routes.tribunal.documents", "Attach the decision letter and (unless section I only) the mediation certificate",
     ["decision letter", "mediation certificate"]),
    ("routes.tribunal.certificate", "Before most appeals the parent/young person must contact the mediation adviser",
     ["Before most appeals", "mediation adviser", "mediation certificate"]),
    ("routes.tribunal.who", "the parent until the end of compulsory school age", ["parents of a child"]),
    ("routes.tribunal.who", "then the young person up to 25", ["over compulsory school age and under 25"]),
    ("routes.disagreement_resolution.voluntary", "Voluntary for everyone and needs all parties' agreement",
     ["voluntary", "Everyone involved must agree"]),
    ("routes.disagreement_resolution.time_limits", "Timescales: none in the Act or Regs",
     ["no time limit for disagreement resolution"]),
    ("routes.disagreement_resolution.time_limits", "Using or refusing DR does not affect appeal rights and it can "
                                                   "run while an appeal is pending",
     ["does not affect your right to mediation or to appeal", "same time as an appeal"]),
    ("routes.disagreement_resolution.time_limits", "within 2 months after the written decision was sent",
     ["time limits for mediation and appeals keep running while it happens"]),
    ("routes.disagreement_resolution.who", "with or without an EHC plan", ["does not need an EHC plan"]),
    ("routes.disagreement_resolution.provider", "the facilitator cannot be employed by the council",
     ["independent", "not run by the council"]),
    ("routes.disagreement_resolution.cost", "Seed council page: free, independent", ["free"]),
    ("routes.disagreement_resolution.covers", "health or social care provision during assessment",
     ["health or social care provision while your child has an EHC needs assessment"]),
]


def fact(key: str) -> str:
    """The statement at a dotted key ('routes.mediation.steps[1]'), lists joined."""
    value: object = BOOK
    for part in key.split("."):
        name, _, index = part.partition("[")
        value = value[name] if isinstance(value, dict) else getattr(value, name)
        if index:
            value = value[int(index.rstrip("]"))]  # type: ignore[index]
    return " | ".join(value) if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize("key, source, says", SOURCES, ids=[f"{k}: {s[:40]}" for k, s, _ in SOURCES])
def test_each_legal_statement_rests_on_its_source_and_says_it(key, source, says):
    assert " ".join(source.split()) in DOMAIN, f"DOMAIN.md no longer says {source!r}: check {key}"
    statement = fact(key)
    for words in says:
        assert words in statement, f"{key} should say {words!r} (source: {source!r}); it says {statement!r}"


def test_the_facts_file_names_every_fact_the_drafts_need():
    assert BOOK.routes["tribunal"].provider_contact and BOOK.routes["tribunal"].guidance
    assert BOOK.council.emergency_number == "999" and BOOK.council.children_services_contact
    assert BOOK.routes["mediation"].provider_contact
    assert all(vars(BOOK.terms).values())


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.j2")), ids=lambda p: p.name)
def test_templates_hold_no_fact_of_their_own(path):
    """Names and time limits come from the facts file, so the council changes them in one place."""
    text = path.read_text(encoding="utf-8")
    for name in ("Prime Resolution", "Brackenford", "EHC Assessment Team", "SENDIASS", "IPSEA", "999"):
        assert name not in text, f"{path.name} writes {name!r}: take it from config/routes.toml"
    assert not re.search(r"\b\d+ (?:working )?(?:days?|weeks?|months?)\b", text), \
        f"{path.name} states a time limit: take it from config/routes.toml"
