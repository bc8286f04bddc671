"""The safeguarding phrase rules against a table of parents' and young people's own words.

`tests/data/safeguarding_phrases.tsv` holds the phrases the rules were written against;
`tests/data/safeguarding_phrases_fresh.tsv` holds phrases written afterwards, to check the rules
generalise. Each row: expected (1 = must flag, 0 = must not), category, phrase.
"""

from __future__ import annotations

from pathlib import Path

from classifier.safeguarding import rule_evidence, rule_hits
from classifier.text import normalise

DATA = Path(__file__).parent / "data"
TABLES = ("safeguarding_phrases.tsv", "safeguarding_phrases_fresh.tsv")
CATEGORIES = {"suicide", "self_harm", "abuse", "neglect", "missing", "exploitation", "violence",
              "cannot_keep_safe", "negative"}


def _rows(name: str) -> list[tuple[bool, str, str]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in ("0", "1"):
            continue  # the header, or a blank line
        expected, category, phrase = fields
        rows.append((expected == "1", category, phrase))
    return rows


def test_tables_are_well_formed():
    main, fresh = (_rows(name) for name in TABLES)
    assert len(main) >= 320 and len(fresh) >= 100
    for expected, category, phrase in main + fresh:
        assert category in CATEGORIES, category
        assert expected == (category != "negative"), phrase
        assert phrase.strip()
    positives = [c for e, c, _ in main if e]
    assert len(positives) >= 200 and len(main) - len(positives) >= 120
    assert all(positives.count(c) >= 15 for c in CATEGORIES - {"negative"})


def test_rules_recall_and_precision():
    rows = _rows(TABLES[0]) + _rows(TABLES[1])
    missed, false_alarms, caught = [], [], 0
    for expected, category, phrase in rows:
        fired = rule_hits(normalise(phrase))
        if expected and fired:
            caught += 1
        elif expected:
            missed.append(f"{category}: {phrase}")
        elif fired:
            false_alarms.append(f"{fired}: {phrase}")
    recall = caught / (caught + len(missed))
    precision = caught / max(caught + len(false_alarms), 1)
    report = (f"recall {recall:.3f}, precision {precision:.3f}\n"
              + "".join(f"  missed      {m}\n" for m in missed)
              + "".join(f"  false alarm {f}\n" for f in false_alarms))
    assert recall >= 0.97 and precision >= 0.9, report


def test_rule_evidence_shows_the_risky_sentence_in_the_writers_words():
    text = ("Dear EHC team,\nI am writing about Sam's annual review, which was due in March. "
            "The school is failing him and this is killing me!\n"
            "Last Friday Sam ran off from school and was found on the dual carriageway. "
            "Could you also tell me when the draft plan will be ready?")
    evidence = rule_evidence(text)
    assert evidence, "the missing-child sentence should raise a rule"
    names = [name for name, _ in evidence]
    assert "missing child" in names
    assert dict(evidence)["missing child"] == "Last Friday Sam ran off from school and was found on the dual carriageway"
    assert all(sentence and "killing me" not in sentence for _, sentence in evidence)
    assert names == rule_hits(normalise(text))  # the same rules, in the same order


def test_rule_evidence_trims_long_sentences_around_the_risk_and_is_empty_for_ordinary_mail():
    long_sentence = "Honestly " + "we have waited and waited for the plan " * 10 + "and she said she won't be around much longer"
    [(name, sentence)] = [pair for pair in rule_evidence(long_sentence) if pair[0] == "suicidal talk"]
    assert len(sentence) <= 300 and sentence.endswith("she said she won't be around much longer")
    assert rule_evidence("We are dying to hear back. The panel killed the request. I could murder a coffee!") == []


def test_the_compiled_rules_match_exactly_what_the_written_rules_say():
    """The rules are regrouped by first letter for speed: that must not change what they find."""
    import re

    from classifier.risk_rules import RISK_RULES
    from classifier.safeguarding import _COMPILED

    written = [(name, re.compile(pattern)) for name, pattern in RISK_RULES]
    phrases = [normalise(p) for name in TABLES for _, _, p in _rows(name)]
    phrases += ["he'll end it all tonight", "she'd kill him if she could", "hes gone missing again"]
    for phrase in phrases:
        expected = [(name, m.start()) for name, p in written if (m := p.search(phrase))]
        assert [(name, m.start()) for name, p in _COMPILED if (m := p.search(phrase))] == expected, phrase


def test_the_whole_detector_on_the_tables_and_the_real_derived_cases(loaded_model):
    """What the service flags (rules OR model) on every table phrase and every real-derived text:
    recall >= 0.97 and precision >= 0.5. The real-derived cases were also used to extend the rules and
    train the model, so this holds the detector to them; README gives the held-out figures."""
    from classifier.corpus import REAL_LABELS_FILE, load_corpus
    from classifier.text import prepare_document

    real = load_corpus(REAL_LABELS_FILE)
    phrases = [row for name in TABLES for row in _rows(name)]
    documents = [prepare_document("", phrase) for _, _, phrase in phrases] + [e.document for e in real]
    truth = [expected for expected, _, _ in phrases] + [e.safeguarding for e in real]
    flagged = [p.safeguarding for p in loaded_model.predict_documents(documents, explain=False)]
    caught = sum(t and f for t, f in zip(truth, flagged))
    recall, precision = caught / sum(truth), caught / max(1, sum(flagged))
    assert sum(e.safeguarding for e in real) >= 15
    missed = [d.text.strip()[:120] for d, t, f in zip(documents, truth, flagged) if t and not f]
    assert recall >= 0.97 and precision >= 0.5, (recall, precision, missed)
