"""Parent-facing text reads at GOV.UK's target reading age of 9, measured with textstat 0.7.3.

Every variant a parent can get (acknowledgement with and without the safeguarding paragraph, each
route's draft with and without a decision date, with a passed deadline, with a certificate held) is
rendered, and its text part must have Flesch reading ease >= 60, Flesch-Kincaid grade <= 7 and no
sentence over 25 words; it must explain "EHC plan", "provision", "mediation certificate" and
"working days" where it first uses them, and state the deadline rule once. On failure the whole
figures table is printed (the README's copy comes from `python -m tests.readability`).
"""

from __future__ import annotations

import re

import pytest

from .readability import MAX_GRADE, MAX_WORDS, MIN_EASE, figures, filled_book, table, variants

TERMS = {"EHC plan": "ehc_plan", "provision": "provision", "mediation certificate": "mediation_certificate",
         "working day": "working_days"}
WITHIN = 400  # the explanation starts at most this many characters after the first use


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return filled_book(tmp_path_factory.mktemp("routes"))


@pytest.fixture(scope="module")
def rendered(book):
    return variants(book)


def test_every_variant_reads_at_a_reading_age_of_nine(rendered):
    rows = {name: figures(draft.text) for name, draft in rendered.items()}
    failing = [f"{name}: longest sentence ({f.longest} words): {f.longest_sentence}"
               for name, f in rows.items() if not f.ok()]
    assert not failing, (f"\nTargets: ease >= {MIN_EASE}, grade <= {MAX_GRADE}, sentences <= {MAX_WORDS} words\n"
                         + table(rows) + "\n" + "\n".join(failing))


def test_the_variants_cover_every_case(rendered):
    assert len(rendered) == 12
    assert "It has passed" in rendered["mediation, deadline passed"].text
    assert "to contact the mediation adviser" not in rendered["tribunal, certificate held"].text
    assert "danger" in rendered["acknowledgement, safeguarding flag"].text


def test_each_hard_term_is_explained_where_it_is_first_used(rendered, book):
    missing = []
    for name, draft in rendered.items():
        text = draft.text
        for term, key in TERMS.items():
            first = text.lower().find(term.lower())
            if first < 0:
                continue
            explanation = getattr(book.terms, key)
            at = text.find(explanation)
            inside = at >= 0 and at <= first < at + len(explanation)  # "An EHC plan is ..." explains itself
            if not (inside or 0 <= at - first <= WITHIN):
                missing.append(f"{name}: {term!r} first used at {first}, explained at {at}: "
                               f"...{text[max(0, first - 60):first + 80]!r}...")
    assert not missing, "\n".join(missing)


def test_the_deadline_rule_is_stated_once(rendered, book):
    for name, draft in rendered.items():
        if name.startswith(("mediation", "tribunal", "acknowledgement")):
            rules = book.deadlines
            for rule in (rules.adviser, rules.appeal, rules.appeal_later_of, rules.appeal_later_of_held, rules.moves):
                assert draft.text.count(rule) <= 1, (name, rule)
            assert draft.text.count("if that is later") + draft.text.count("whichever is later") <= 1, name


def test_drafts_say_what_we_think_the_email_is_about(rendered):
    for name, draft in rendered.items():
        assert "You told us" not in draft.text, name
        if not name.startswith(("acknowledgement", "other")):
            assert "We think your email is about" in draft.text, name


def test_dates_are_written_out_in_uk_style_with_no_utc_times(rendered):
    for name, draft in rendered.items():
        assert "UTC" not in draft.text, name
        assert not re.search(r"\d{4}-\d{2}-\d{2}", draft.text), name
