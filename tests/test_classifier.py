"""The classifier: the `classify` command's JSON shape, text preparation, and the model card check."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

import classifier
from classifier.text import prepare, strip_quoted
from triage.cli import cli

from .factories import make_email

LABELS = {"disagreement_resolution", "mediation", "tribunal", "other"}


def test_classify_gives_one_json_object_per_path_for_eml_and_txt(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EHC_TRIAGE_CONFIG", raising=False)
    eml = tmp_path / "letter.eml"
    eml.write_bytes(make_email(subject="Appeal", body="We have our mediation certificate and are appealing "
                                                        "to the SEND tribunal against the refusal to assess."))
    txt = tmp_path / "note.txt"
    txt.write_text("Could you move Ruby's annual review meeting to the afternoon please?")

    result = CliRunner().invoke(cli, ["classify", str(eml), str(txt), "--format", "jsonl"])

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["path"] for r in rows] == [str(eml), str(txt)]
    for row in rows:
        assert set(row) == {"path", "label", "confidence", "needs_review", "safeguarding", "scores"}
        assert row["label"] in LABELS and set(row["scores"]) == LABELS
        assert abs(sum(row["scores"].values()) - 1) < 1e-3
        assert row["confidence"] == max(row["scores"].values())
    assert rows[0]["label"] == "tribunal"
    assert rows[1]["label"] == "other"
    assert not (tmp_path / "var").exists(), "classify must not need or create a database"


def test_classify_explain_gives_the_sentences_that_support_the_route(tmp_path, model_dir):
    txt = tmp_path / "m.txt"
    txt.write_text("My son is 9 and has autism. He moved to Year 5 in September and the class is very big. "
                   "We got the council's letter on Friday saying they will not carry out an EHC needs assessment. "
                   "I would like a mediation certificate from Prime Resolution please. Thank you.")
    result = CliRunner().invoke(cli, ["classify", "--explain", str(txt)])
    row = json.loads(result.output)
    assert row["label"] == "mediation"
    assert 1 <= len(row["explanation"]) <= 3
    assert "I would like a mediation certificate from Prime Resolution please." in row["explanation"]
    assert all(sentence in txt.read_text() for sentence in row["explanation"]), "evidence is the writer's own words"
    assert "runner_up" in row


def test_a_close_call_names_the_runner_up(loaded_model):
    p = loaded_model.predict("Help", "The school is not giving the support in his plan and the council refused "
                                     "to change the plan after the review. What can we do?")
    if p.runner_up is not None:
        label, score = p.runner_up
        assert label != p.label and 0 <= score <= p.confidence and p.confidence - score < 0.25
    clear = loaded_model.predict("Appeal", "We have our mediation certificate and we are appealing to the SEND "
                                           "tribunal against the refusal to assess. Please send the decision letter.")
    assert clear.label == "tribunal" and clear.runner_up is None


def test_names_are_not_what_the_model_learns_from(loaded_model):
    """Every capitalised word the corpus never writes in lower case is masked, so changing the names of
    people and places cannot change a prediction."""
    template = ("Dear {a},\n\nI am writing about my daughter {b}, who is at {c} Primary in {d}. The LA have refused "
                "to assess her and I would like to know what I can do now.\n\nRegards,\n{e} {f}")
    names = [("Mrs Okafor", "Zainab", "Hollins", "Tarnby", "Grace", "Adeyemi"),
             ("Mr Lindqvist", "Maisie", "Corrow", "Pellworth", "Siobhan", "McAteer"),
             ("Dr Nakamura", "Priya", "Ashdene", "Quarrowby", "Wojciech", "Zielinski")]
    predictions = [loaded_model.predict("Refusal", template.format(a=a, b=b, c=c, d=d, e=e, f=f))
                   for a, b, c, d, e, f in names]
    assert len({(p.label, round(p.confidence, 9)) for p in predictions}) == 1


def test_the_fast_scorer_gives_scikit_learns_numbers(loaded_model):
    import numpy as np

    from classifier.features import route_text
    from classifier.text import normalise, prepare_document

    docs = [prepare_document("Appeal", "We will appeal to the tribunal."), prepare_document("", "Thanks!"),
            prepare_document("Review", "The draft plan is wrong and the school is not delivering section F.")]
    texts = [route_text(d.text, loaded_model.lexicon) for d in docs]
    expected = loaded_model.calibrator.predict_proba(loaded_model.route_model.decision_function(texts))
    assert np.allclose(loaded_model.route_probabilities(texts), expected, atol=1e-6)
    full = [normalise(d.full_text) for d in docs]
    assert np.allclose(loaded_model.risk(full), loaded_model.safeguarding_model.predict_proba(full)[:, 1], atol=1e-6)
    # A batch large enough to take the pipeline's own sparse path gives the per-text numbers too.
    many = texts * 7
    assert np.allclose(loaded_model.route_probabilities(many), np.vstack([expected] * 7), atol=1e-6)
    assert np.allclose(loaded_model.risk(full * 7), np.tile(loaded_model.risk(full), 7), atol=1e-6)


def test_the_evidence_reads_each_sentence_as_route_text_does(loaded_model):
    """The evidence scores every sentence through sentence_route_text (route_text's work done once for a
    one-line sentence): the same model input for every sentence of the corpus and for awkward ones, so the
    sentences chosen as evidence are the ones route_text would choose."""
    from classifier.corpus import DATA_DIR, load_labels
    from classifier.features import HEAD_CHARS, route_text, sentence_route_text
    from classifier.model import _sentences_of
    from triage.parsing import classifiable_document, parse_message

    sentences = ["I want to appeal to the SEND Tribunal?", "  Mr O'Brien's EHCP. ", "x", "a\nb", "Ask: “Ruby”",
                 "word " * (HEAD_CHARS // 2), "We have our mediation certificate from Prime Resolution."]
    for record in load_labels(DATA_DIR / "labels.jsonl"):
        document = classifiable_document(parse_message((DATA_DIR / record["file"]).read_bytes()))
        sentences += _sentences_of(document.text)
    one_line = [s for s in sentences if "\n" not in s]
    assert len(one_line) > 1000 and len(sentences) > len(one_line)  # both paths are exercised
    for sentence in sentences:
        assert sentence_route_text(sentence, loaded_model.lexicon) == route_text(sentence, loaded_model.lexicon)
    p = loaded_model.predict("Plan", "The school is not delivering section F. I want mediation please.\n"
                                     "Thanks for your help.")
    assert "I want mediation please." in p.explanation


def test_classify_a_missing_file_is_an_error(tmp_path):
    result = CliRunner().invoke(cli, ["classify", str(tmp_path / "nope.eml")])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_new_text_excludes_quotes_and_signatures():
    body = ("We now want to appeal.\n\nSent from my iPhone\n\nOn 3 Mar 2026, EHC Team wrote:\n"
            "> Your annual review is on Monday.\n")
    assert strip_quoted(body) == "We now want to appeal."
    outlook = "Thanks, that date works.\n\nFrom: EHC Team\nSent: 01 March 2026\nTo: me\n\nWe refused to assess."
    assert strip_quoted(outlook) == "Thanks, that date works."
    assert prepare("RE: Fwd:  Plan", "Hello   THERE") == "plan\nhello there".replace("\n", " ")
    assert prepare("", "We have the certificate and will appeal.").endswith("cue_appeal cue_certificate cue_certificate_held cue_appeal_intent")


def test_a_model_file_that_does_not_match_its_card_is_refused(tmp_path, model_dir):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    route = classifier.Registry(copy).current_dir() / "route.skops"
    route.write_bytes(route.read_bytes() + b"\0")
    with pytest.raises(classifier.ModelCardMismatch, match="ehc-triage train"):
        classifier.load(copy)


def test_a_missing_model_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(classifier.ModelMissing, match="ehc-triage train"):
        classifier.load(tmp_path)


def test_the_card_records_version_threshold_and_test_metrics(model_dir):
    card = json.loads((classifier.Registry(model_dir).current_dir() / "card.json").read_text())
    assert card["version"].startswith("m-")
    assert 0 < card["threshold"] <= 1
    assert card["labels"] == ["disagreement_resolution", "mediation", "tribunal", "other"]
    assert card["test_metrics"]["n"] > 0


def test_evaluate_reports_the_metrics_for_a_labels_file(tmp_path, model_dir):
    (tmp_path / "a.txt").write_text("We have our mediation certificate and will appeal to the SEND tribunal.")
    (tmp_path / "b.txt").write_text("Please could you send me a copy of Ruby's EHC plan? Thanks.")
    (tmp_path / "labels.jsonl").write_text('{"file": "a.txt", "label": "tribunal", "safeguarding": false}\n'
                                           '{"file": "b.txt", "label": "other", "safeguarding": false}\n')
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "labels.jsonl"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 2 and report["macro_f1"] == 1.0
    assert report["per_label"]["tribunal"]["recall"] == 1.0
    assert report["confusion"]["labels"] == ["disagreement_resolution", "mediation", "tribunal", "other"]
    assert {"auto_coverage", "auto_accuracy", "safeguarding", "threshold", "model_version"} <= set(report)
    table = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "labels.jsonl")]).output
    assert "macro-F1 1.000" in table and "confusion matrix" in table


def test_evaluate_fails_naming_every_missing_file(tmp_path, model_dir):
    (tmp_path / "labels.jsonl").write_text('{"file": "gone1.eml", "label": "other"}\n'
                                           '{"file": "gone2.txt", "label": "tribunal"}\n')
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "labels.jsonl")])
    assert result.exit_code == 1
    assert "2 file(s)" in result.output and "gone1.eml" in result.output and "gone2.txt" in result.output


def test_a_forward_that_only_passes_a_message_on_keeps_the_forwarded_words():
    body = ("Please see my constituent's email below and reply to her directly.\n\nTom, casework manager\n\n"
            "---------- Forwarded message ---------\nFrom: Jade <jade@example.com>\nDate: 2 Mar 2026\n"
            "Subject: help\n\nI have the mediation certificate now and want to appeal.\n")
    text = prepare("Fwd: help", body)
    assert "want to appeal" in text and "cue_certificate_held" in text
    reply = "Thanks, that date works.\n\nOn 1 Mar 2026, EHC Team wrote:\n> You may appeal to the tribunal.\n"
    assert "appeal" not in prepare("Re: review", reply)
