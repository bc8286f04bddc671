"""The independent safeguarding detector: explicit-risk phrase rules OR a recall-tuned model.

A child at risk must reach a person at once whatever the route, so this detector is tuned
for recall: the rules (the table in classifier.risk_rules, compiled and scanned here) catch the
explicit phrases, the model catches the paraphrases.
"""

from __future__ import annotations

import re

from .patterns import PatternSet, alternatives, group_end
from .risk_rules import RISK_RULES
from .text import normalise

# --- Compiling the rules for speed -------------------------------------------------------------
# Every match starts at the start of a word (so "'ll" is written "\w+'ll"), and the alternatives of each rule are regrouped by
# their first letter (the same language, tested equal on the corpus), so that a word start is tried
# only against the few alternatives that could begin there.

def _word_led(pattern: str) -> tuple[list[str], list[str]]:
    """The pattern as alternatives: those that start with a plain letter, and the others."""
    if pattern.startswith(r"\b"):
        pattern = pattern[2:]
    if pattern.startswith("(?:"):
        end = group_end(pattern, 0)
        rest = pattern[end + 1:]
        if rest[:1] not in ("?", "*", "+", "{"):
            led, others = [], []
            for alternative in alternatives(pattern[3:end]):
                more_led, more_others = _word_led(alternative + rest)
                led += more_led
                others += more_others
            return led, others
    if pattern[:1].isalnum() and pattern[1:2] not in ("?", "*", "+", "{"):
        return [pattern], []
    return [], [pattern]


def _dispatched(pattern: str) -> str:
    """The same pattern, arranged so each word start is tried only against branches that begin with its letter.

    sre skips an alternative that begins with a literal character that is not the next one, without
    entering it; grouping the alternatives by first letter makes a failed position cost a few
    character comparisons rather than one attempt per alternative.
    """
    by_letter: dict[str, list[str]] = {}
    others = []
    for branch in alternatives(pattern):
        led, rest = _word_led(branch)
        others += rest
        for alternative in led:
            by_letter.setdefault(alternative[0], []).append(alternative[1:])
    groups = [f"{letter}(?:{'|'.join(rests)})" for letter, rests in sorted(by_letter.items())]
    return r"\b(?=\w)(?:" + "|".join(groups + others) + ")"


_COMPILED = tuple((name, re.compile(_dispatched(pattern))) for name, pattern in RISK_RULES)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_SENTENCE_END = re.compile(r"[.!?\n]+")
EVIDENCE_CHARS = 300


def _matchable(text: str) -> str:
    """Normalised text with typographic apostrophes made plain (the patterns use ')."""
    return text.translate(_APOSTROPHES)


_RULES = PatternSet(RISK_RULES, exact=dict(_COMPILED), combined=False)


def rule_hits(text: str) -> list[str]:
    """Names of the risk rules that match normalised text (one RE2 pass; `re` only to confirm a hit)."""
    return _RULES.names(_matchable(text))


def _sentences(text: str) -> list[str]:
    """The original text cut on . ! ? and newlines, stripped, empty pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _trim(sentence: str, at: int = 0) -> str:
    """One line of at most EVIDENCE_CHARS characters; a longer sentence is cut around position `at`."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= EVIDENCE_CHARS:
        return sentence
    start = min(max(0, at - 100), len(sentence) - (EVIDENCE_CHARS - 2))
    window = sentence[start: start + EVIDENCE_CHARS - 2]
    return ("\u2026" if start else "") + window + ("\u2026" if start + len(window) < len(sentence) else "")


def rule_evidence(text: str) -> list[tuple[str, str]]:
    """(rule name, the sentence of the original text that raised it) for each rule that fires.

    `text` is the writer's own text (any case); it is normalised here for matching, and the sentence
    is returned as written (cut on . ! ? and line breaks, at most 300 characters) so a caseworker
    reads the writer's words. The rules are the ones `rule_hits` gives for the same text.
    """
    whole = _matchable(normalise(text))
    fired = set(_RULES.names(whole))
    if not fired:
        return []
    pieces = [(s, _matchable(normalise(s))) for s in _sentences(text)]
    evidence = []
    for name, pattern in _COMPILED:
        found = pattern.search(whole) if name in fired else None
        if not found:
            continue
        shown = ""
        for original, flat in pieces:
            inside = pattern.search(flat)
            if inside:
                shown = _trim(original, inside.start())
                break
        if not shown:  # the match runs over a sentence end: show the sentence where it starts
            head = _SENTENCE_END.split(found.group(0))[0].strip()
            for original, flat in pieces:
                if head and head in flat:
                    shown = _trim(original, flat.index(head))
                    break
        evidence.append((name, shown or _trim(whole[found.start():])))
    return evidence
