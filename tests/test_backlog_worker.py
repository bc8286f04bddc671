"""The backlog worker: a large poll parsed and classified in a second process gives exactly the queue one
process gives, and a worker that dies mid-poll loses nothing and reads nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes
from triage import backlog_worker, pipeline
from triage.audit import verify
from triage.intake import MaildirSource
from triage.pipeline import Triage, poll_once
from triage.settings_types import ServiceSettings
from triage.store import Store

from .factories import make_email, varied_messages
from .test_attachment_text import make_pdf

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
BATCH = 4


def _messages() -> list[bytes]:
    letter = make_pdf([["Brackenford Council", "12 November 2026", "Dear Ms Marsh,",
                        "We have decided not to issue an EHC plan for Lily."]])
    return [*varied_messages(),
            make_email(subject="Our appeal", body="We will appeal the decision in the attached letter.",
                       attachment=("decision.pdf", "application/pdf", letter)),
            make_email(subject="Old mail", body="Can we talk about mediation?",
                       date=dt.datetime(2026, 8, 1, 9, 0, tzinfo=dt.timezone.utc)),
            make_email(subject="I am scared", body="My son says he wants to hurt himself and I am frightened."),
            *[make_email(subject=f"Mediation please {n}", body="I would like mediation about the final plan.")
              for n in range(5)]]


@pytest.fixture(scope="module")
def maildir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("backlog") / "maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for n, raw in enumerate(_messages()):
        path = root / "new" / f"{n:04d}.test"
        path.write_bytes(raw)
        os.utime(path, ns=(n * 1_000_000_000, n * 1_000_000_000))  # UID order = the order written
    return root


@pytest.fixture(scope="module")
def model(loaded_model) -> classifier.Classifier:
    return loaded_model


class _Waiting(backlog_worker.BacklogWorker):
    """The real worker, except that the poll waits until it has started (a short poll would otherwise
    finish before it is ready) and records what it did."""

    made: list["_Waiting"] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert self.started(60), "the backlog worker did not start"
        _Waiting.made.append(self)


@pytest.fixture
def waiting_worker(monkeypatch):
    monkeypatch.setattr(backlog_worker, "BACKLOG_FROM", 10)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # a one-core runner uses it here too
    monkeypatch.setattr(pipeline, "BacklogWorker", _Waiting)
    _Waiting.made = []
    return _Waiting


def _poll(tmp_path: Path, name: str, maildir: Path, model, worker: bool):
    copy = tmp_path / name
    shutil.copytree(maildir, copy)
    store = Store(f"sqlite:///{tmp_path / (name + '.db')}")
    store.migrate()
    triage = Triage(store, model, load_routes(DEFAULT_ROUTES_FILE), clock=lambda: NOW,
                    service=ServiceSettings(backlog_worker=worker, since=dt.date(2026, 10, 1)))
    return store, poll_once(MaildirSource(copy, batch_size=BATCH), triage)


def _queue(store: Store) -> dict[str, tuple]:
    """Each message's item as a caseworker sees it: route, confidence, flags, evidence, draft."""
    out = {}
    for entry in store.items.list_queue():
        detail = store.items.detail(entry.id)
        c = detail.classification
        out[entry.message_id] = (entry.subject, entry.route, round(entry.confidence, 9), entry.needs_review,
                                 entry.safeguarding, entry.flags, entry.parse_error, entry.reference,
                                 entry.draft_subject, entry.draft_text,
                                 c and (c.terms, c.safeguarding_reasons, c.safeguarding_evidence, c.scores, c.runner_up))
    return out


def _event_names(store: Store) -> list[str]:
    return [e.name for e in store.events.chain()]


def test_a_backlog_read_by_the_worker_gives_the_queue_one_process_gives(tmp_path, maildir, model, waiting_worker,
                                                                        caplog):
    alone, alone_report = _poll(tmp_path, "alone", maildir, model, worker=False)
    assert waiting_worker.made == []  # turned off: no second process

    with caplog.at_level(logging.INFO, logger="triage.pipeline"):
        shared, shared_report = _poll(tmp_path, "shared", maildir, model, worker=True)

    [worker] = waiting_worker.made
    assert worker.batches >= 5  # it read most of the poll's 10 batches, not just one
    assert worker.peak_kib and worker.peak_kib > 10_000
    assert "the backlog worker read" in caplog.text and "stopped" not in caplog.text
    assert shared_report == alone_report
    assert (shared_report.fetched, shared_report.stored, shared_report.recorded_only) == (38, 38, 1)
    assert _queue(shared) == _queue(alone)
    assert _event_names(shared) == _event_names(alone)
    queue = _queue(shared).values()
    assert any(row[0] == "I am scared" and row[4] for row in queue)  # the safeguarding flag came back too
    assert any(row[0] == "Our appeal" and row[1] == "tribunal" for row in queue)
    assert verify(shared.events.chain()).ok


def test_a_worker_killed_mid_poll_loses_nothing_and_reads_nothing_twice(tmp_path, maildir, model, waiting_worker,
                                                                         monkeypatch, caplog):
    alone, _ = _poll(tmp_path, "alone", maildir, model, worker=False)
    submit = backlog_worker.BacklogWorker.submit

    def killed_after_two(self, batch, now):
        if self.batches == 2:  # two batches given to it: the third finds it dead
            os.kill(self.pid, signal.SIGKILL)
        return submit(self, batch, now)

    monkeypatch.setattr(backlog_worker.BacklogWorker, "submit", killed_after_two)
    with caplog.at_level(logging.INFO, logger="triage.pipeline"):
        shared, report = _poll(tmp_path, "shared", maildir, model, worker=True)

    assert "the backlog worker stopped (BrokenProcessPool)" in caplog.text
    assert (report.fetched, report.stored, report.duplicates, report.marked) == (38, 38, 0, 38)
    assert _queue(shared) == _queue(alone)
    assert _event_names(shared) == _event_names(alone)


def test_a_classifier_the_worker_cannot_take_leaves_the_poll_to_this_process(tmp_path, maildir, model,
                                                                           monkeypatch, caplog):
    class Unpicklable(classifier.Classifier):
        def __reduce__(self):
            raise TypeError("not for another process")

    monkeypatch.setattr(backlog_worker, "BACKLOG_FROM", 10)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    odd = Unpicklable(model.parts(), model.card)
    alone, _ = _poll(tmp_path, "alone", maildir, model, worker=False)
    with caplog.at_level(logging.WARNING, logger="triage.pipeline"):
        shared, report = _poll(tmp_path, "shared", maildir, odd, worker=True)
    assert "the backlog worker stopped (TypeError)" in caplog.text
    assert report.stored == 38
    assert _queue(shared) == _queue(alone)


def test_a_worker_found_dead_refuses_new_batches_at_once_and_says_so(caplog):
    from concurrent.futures.process import BrokenProcessPool

    worker = backlog_worker.BacklogWorker(None, 25_000_000, None)  # no batch is read: no model needed
    try:
        assert worker.started(60)
        os.kill(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        with caplog.at_level(logging.WARNING, logger="triage.pipeline"):
            # A batch taken before the pool has noticed fails (the poll reads it again); once it has
            # noticed, a batch is refused at once (None: the poll reads it itself).
            while (sent := worker.submit([], NOW)) is not None:
                with pytest.raises(BrokenProcessPool):
                    sent.result(timeout=30)
                assert time.monotonic() < deadline
        assert not worker.ready()
        assert "the backlog worker stopped (BrokenProcessPool)" in caplog.text
    finally:
        worker.close()


def test_the_worker_is_started_only_for_a_backlog_on_two_cores_when_on(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert backlog_worker.worth_starting(backlog_worker.BACKLOG_FROM, enabled=True)
    assert not backlog_worker.worth_starting(backlog_worker.BACKLOG_FROM - 1, enabled=True)
    assert not backlog_worker.worth_starting(10_000, enabled=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not backlog_worker.worth_starting(10_000, enabled=True)


_SERVICE = """
import time
from triage.backlog_worker import BacklogWorker

worker = BacklogWorker(None, 25_000_000, None)  # no model needed to start it: it is never given a batch
assert worker.started(60)
print(worker.pid, flush=True)
time.sleep(120)
"""


def test_a_worker_whose_service_is_killed_outright_exits_by_itself():
    service = subprocess.Popen([sys.executable, "-c", _SERVICE], stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.DEVNULL,  # its resource tracker reports what the kill left
                               cwd=Path(__file__).resolve().parents[1])
    try:
        worker_pid = int(service.stdout.readline())
        assert _alive(worker_pid)
        service.kill()  # SIGKILL: no atexit, no executor shutdown
        service.wait()
        deadline = time.monotonic() + 10
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker_pid)
    finally:
        service.kill()
        service.wait()
        service.stdout.close()


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its (dead) parent to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
