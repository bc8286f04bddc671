"""Reading-age figures for parent-facing text (textstat 0.7.3, offline), shared by the readability test
and the README table.

Text is measured as a parent reads it: each line that does not end a sentence (a heading, a list
item, a line ending in a colon) counts as a sentence of its own, list marks are dropped, and web and
email addresses count as one word each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import textstat

MIN_EASE = 60.0
MAX_GRADE = 7.0
MAX_WORDS = 25

_ADDRESS = re.compile(r"\S+@\S+|\bwww\.\S+|https?://\S+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """The text's sentences, as a reader meets them."""
    found = []
    for line in text.splitlines():
        line = _ADDRESS.sub("address", line.strip().removeprefix("- ").strip())
        if not line:
            continue
        found.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return found


def prepared(text: str) -> str:
    """The text with every sentence ended by a full stop, for textstat's sentence counting."""
    return "\n".join(s if s[-1] in ".!?" else s.rstrip(":") + "." for s in sentences(text))


@dataclass(frozen=True)
class Figures:
    ease: float
    grade: float
    longest: int
    longest_sentence: str

    def ok(self) -> bool:
        return self.ease >= MIN_EASE and self.grade <= MAX_GRADE and self.longest <= MAX_WORDS


def figures(text: str) -> Figures:
    ready = prepared(text)
    counts = [(len(s.split()), s) for s in sentences(text)]
    longest, sentence = max(counts)
    return Figures(textstat.flesch_reading_ease(ready), textstat.flesch_kincaid_grade(ready), longest, sentence)


def table(rows: dict[str, Figures]) -> str:
    """A Markdown table of the figures, one variant a row."""
    lines = ["| Variant | Flesch reading ease (>= 60) | Flesch-Kincaid grade (<= 7) | Longest sentence, words (<= 25) |",
             "|---|---|---|---|"]
    for name, f in rows.items():
        lines.append(f"| {name} | {f.ease:.1f} | {f.grade:.1f} | {f.longest} |")
    return "\n".join(lines)


def filled_book(directory):
    """config/routes.toml with the council's placeholders filled in as a council would (fictional)."""
    from pathlib import Path

    from replies import load_routes

    text = (Path(__file__).resolve().parents[1] / "config" / "routes.toml").read_text(encoding="utf-8")
    path = Path(directory) / "routes-filled.toml"
    path.write_text(re.sub(r"\[COUNCIL TO FILL IN: [^\]]*\]", "01632 960000", text), encoding="utf-8")
    return load_routes(path)


def variants(book) -> dict:
    """Every parent-facing text a parent can get (name -> Draft), with the caseworker's part written."""
    import datetime as dt
    from dataclasses import replace

    from replies import AcknowledgementContext, ReplyContext, compute_deadlines, render_acknowledgement, render_draft
    from replies.decision_dates import FoundDate

    decision = FoundDate(dt.date(2026, 9, 14), "your letter dated 14 September 2026", False, "dated")
    base = ReplyContext(route="other", reference="EHC-261102-ABCDE", sender_name="Rosa Lindqvist",
                        original_subject="About my son", received_on=dt.date(2026, 10, 1), book=book)
    found: dict = {}
    ack = AcknowledgementContext("EHC-261102-ABCDE", "Rosa Lindqvist", "About my son", dt.date(2026, 10, 15), book)
    found["acknowledgement"] = render_acknowledgement(ack)
    found["acknowledgement, safeguarding flag"] = render_acknowledgement(replace(ack, safeguarding=True))
    found["disagreement resolution"] = render_draft(replace(base, route="disagreement_resolution"))
    other = render_draft(base)
    written = "Thank you for telling us about Sam's new school. We have added the letter to his file."
    found["other (caseworker's part written)"] = replace(
        other, text=other.text.replace("[Caseworker: write your reply here.]", written))
    for route in ("mediation", "tribunal"):
        cases = {
            "decision date found": (decision, compute_deadlines(decision.date, today=dt.date(2026, 10, 1))),
            "no date found": (None, compute_deadlines(None, today=dt.date(2026, 10, 1))),
            "deadline passed": (decision, compute_deadlines(decision.date, today=dt.date(2026, 11, 20))),
            "certificate held": (decision, compute_deadlines(decision.date, dt.date(2026, 11, 2),
                                                             today=dt.date(2026, 10, 1))),
        }
        for case, (letter, deadlines) in cases.items():
            found[f"{route}, {case}"] = render_draft(replace(base, route=route, decision=letter, deadlines=deadlines))
    return found


if __name__ == "__main__":  # the README's table: python -m tests.readability
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(table({name: figures(d.text) for name, d in variants(filled_book(tmp)).items()}))
