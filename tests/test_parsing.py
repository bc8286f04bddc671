"""The parser survives every real-world file in ../shared/corpus/mime and reads our own test mail right."""

from __future__ import annotations

from pathlib import Path

import pytest

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes
from triage.domain import FetchedMail
from triage.parsing import parse_message
from triage.pipeline import Triage, process, process_batch
from triage.domain import dedupe_key
from triage.store import Store

from .conftest import SHARED
from .factories import broken_message, make_email

MIME_CORPUS = SHARED / "corpus" / "mime"


def _corpus_files() -> list[Path]:
    files = sorted(MIME_CORPUS.glob("*.eml"))
    assert files, f"the shared MIME corpus is missing: expected .eml files in {MIME_CORPUS}"
    return files


def test_every_shared_corpus_file_parses_without_an_exception_escaping():
    results = {p.name: parse_message(p.read_bytes()) for p in _corpus_files()}
    assert len(results) >= 100
    # Most real mail parses cleanly; the few that cannot are flagged with a reason, not dropped.
    failed = {name: r.error for name, r in results.items() if not r.ok}
    assert len(failed) < len(results) * 0.1, failed
    assert all(reason for reason in failed.values())


def test_every_shared_corpus_file_goes_through_the_whole_pipeline_into_the_queue(tmp_path, model_dir):
    """Parsing is not enough: classify, draft, acknowledge and store each one, as a poll would."""
    store = Store(f"sqlite:///{tmp_path / 'corpus.db'}")
    store.migrate()
    triage = Triage(store, classifier.load(model_dir), load_routes(DEFAULT_ROUTES_FILE))
    files = _corpus_files()
    for uid, path in enumerate(files, start=1):
        report = process(FetchedMail("corpus", "INBOX", 1, uid, path.read_bytes(), None), triage)
        assert report.stored + report.duplicates == 1, path.name
    assert len(store.items.list_queue()) == len({dedupe_key(parse_message(p.read_bytes()).message_id, p.read_bytes())
                                          for p in files})
    assert [e for e in store.events.chain() if e.name == "triage_failed"] == []
    by_subject = {row.subject: row for row in store.items.list_queue()}
    assert "Säying Hello" in by_subject  # raw UTF-8 headers (RFC 6532) read as UTF-8
    assert any(subject.startswith("我把镜头拉近些") for subject in by_subject)  # a gb2312 word with a bad byte
    suppressed = [e.data["reason"] for e in store.events.chain() if e.name == "acknowledgement_suppressed"]
    assert any("not plain ASCII" in reason for reason in suppressed)  # jdöe@mächine.example: no SMTPUTF8


def test_an_outlook_msg_file_is_flagged_as_not_an_email():
    result = parse_message((MIME_CORPUS / "spamscope__mail_outlook_1.eml").read_bytes())
    assert not result.ok and "Outlook .msg" in result.error


def test_bounces_in_the_shared_corpus_are_recognised_as_automatic():
    bounces = [p for p in _corpus_files() if p.name.startswith("sisimai__")]
    automatic = [p.name for p in bounces if parse_message(p.read_bytes()).auto.is_automatic]
    assert len(automatic) >= len(bounces) - 1, automatic


def test_plain_message_fields():
    raw = make_email(subject="Re: Plan for Amir", body="We disagree with the final plan.",
                     sender="Lena Kowalska <Lena.K@Example.com>",
                     extra_headers={"In-Reply-To": "<a@x.example>", "References": "<z@x.example> <a@x.example>"})
    m = parse_message(raw)
    assert m.ok
    assert (m.from_name, m.from_address) == ("Lena Kowalska", "lena.k@example.com")
    assert m.subject == "Re: Plan for Amir"
    assert m.text.strip() == "We disagree with the final plan."
    assert m.in_reply_to == "<a@x.example>" and m.references == ("<z@x.example>", "<a@x.example>")
    assert m.date is not None and m.date.tzinfo is not None
    assert not m.auto.is_automatic


def test_html_only_message_becomes_text_without_scripts():
    m = parse_message(make_email(body=None, html="<p>The school <b>still</b> waits</p><script>evil()</script>"))
    assert "The school still waits" in m.text
    assert "evil" not in m.text


def test_non_utf8_charsets_are_decoded():
    m = parse_message(make_email(body="Coût £40, élève", charset="iso-8859-1"))
    assert "Coût £40, élève" in m.text
    m = parse_message(make_email(body="the school’s “support”", charset="cp1252"))
    assert "school’s “support”" in m.text


def test_encoded_word_subject_is_decoded():
    m = parse_message(make_email(subject="=?utf-8?q?Zo=C3=AB=E2=80=99s_plan?="))
    assert m.subject == "Zoë’s plan"


def test_attachments_are_listed_with_type_and_size():
    m = parse_message(make_email(attachment=("decision letter.pdf", "application/pdf", b"%PDF-1.4 fictional")))
    assert [(a.filename, a.content_type, a.size) for a in m.attachments] == [
        ("decision letter.pdf", "application/pdf", 18)]


@pytest.mark.parametrize("headers, sender", [
    ({"Auto-Submitted": "auto-replied"}, "Dr Neema Achieng <n.achieng@example.org>"),
    ({"Precedence": "bulk"}, "News <news@example.org>"),
    ({"List-Id": "<list.example.org>"}, "News <news@example.org>"),
    ({"List-Unsubscribe": "<mailto:u@example.org>"}, "News <news@example.org>"),
    ({}, "MAILER-DAEMON@mx.example.net"),
    ({}, "no-reply@portal.example.com"),
    ({}, "Postmaster <postmaster@example.net>"),
])
def test_automatic_mail_markers(headers, sender):
    assert parse_message(make_email(sender=sender, extra_headers=headers)).auto.is_automatic


def test_auto_submitted_no_is_a_person():
    assert not parse_message(make_email(extra_headers={"Auto-Submitted": "no"})).auto.is_automatic


def test_the_broken_test_message_is_flagged_with_a_reason():
    m = parse_message(broken_message())
    assert not m.ok and "MIME structure is broken" in m.error


def test_garbage_bytes_do_not_raise():
    for raw in (b"", b"\x00\xff" * 100, b"From: \r\n\r\n", b"Subject: =?bogus?x?abc?=\r\n\r\nbody"):
        parse_message(raw)  # must return, whatever it makes of it


class _Breaks:
    """The real classifier, except that a batch holding the word 'kaboom' makes it raise."""

    def __init__(self, model: classifier.Classifier) -> None:
        self._model = model
        self.version, self.threshold, self.batches = model.version, model.threshold, []

    def predict_documents(self, documents, explain=True):
        self.batches.append(len(documents))
        if any("kaboom" in d.full_text for d in documents):
            raise ValueError("the model choked")
        return self._model.predict_documents(documents, explain=explain)


def test_a_batch_is_classified_in_one_call_and_a_message_that_breaks_it_costs_only_itself(tmp_path, model_dir):
    store = Store(f"sqlite:///{tmp_path / 'batch.db'}")
    store.migrate()
    model = _Breaks(classifier.load(model_dir))
    triage = Triage(store, model, load_routes(DEFAULT_ROUTES_FILE))
    subjects = ["Request for mediation", "kaboom", "We will appeal to the tribunal"]
    batch = [FetchedMail("test", "INBOX", 1, uid, make_email(subject=subject), None)
             for uid, subject in enumerate(subjects, start=1)]
    report = process_batch(batch, triage)
    assert (report.stored, report.queued) == (3, 3)
    assert model.batches == [3, 1, 1, 1]  # the batch, then one at a time after it failed
    items = {row.subject: row for row in store.items.list_queue()}
    assert items["kaboom"].needs_review and items["kaboom"].confidence == 0.0
    assert items["Request for mediation"].route == "mediation"
    failed = [e for e in store.events.chain() if e.name == "classification_failed"]
    assert [e.data["error"] for e in failed] == ["ValueError: the model choked"]
    assert process_batch(batch, triage).duplicates == 3 and model.batches == [3, 1, 1, 1, 0]
