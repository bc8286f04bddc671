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


def test_classify_explain_names_the_terms(tmp_path, model_dir):
    txt = tmp_path / "m.txt"
    txt.write_text("I want to ask Prime Resolution for a mediation certificate after the decision letter.")
    result = CliRunner().invoke(cli, ["classify", "--explain", str(txt)])
    row = json.loads(result.output)
    assert row["label"] == "mediation"
    assert any("mediation" in term or "certificate" in term for term in row["explanation"])


def test_classify_a_missing_file_is_an_error(tmp_path):
    result = CliRunner().invoke(cli, ["classify", str(tmp_path / "nope.eml")])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_new_text_excludes_quotes_and_signatures():
    body = ("We now want to appeal.\n\nSent from my iPhone\n\nOn 3 Mar 2026, EHC Team wrote:\n"
            "> Your annual review is on Monday.\n")
    assert strip_quoted(body) == "We now want to appeal."
    outlook = "Thanks, that date works.\n\nFrom: EHC Team\nSent: 01 March 2026\nTo: me\n\nWe refused to assess."
    assert strip_quoted(outlook) == "Thanks, that date works."
    assert prepare("RE: Fwd:  Plan", "Hello   THERE") == "plan hello there"
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
