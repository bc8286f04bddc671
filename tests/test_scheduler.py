"""The scheduler's pieces that need no server: OnDemand's coalescing and the failure back-off."""

from __future__ import annotations

import threading
import time

from triage.scheduler import OnDemand, _Backoff


def test_a_request_while_running_runs_once_more_after_and_runs_never_overlap():
    started = threading.Event()
    release = threading.Event()
    runs: list[str] = []
    overlapping = []
    active = threading.Lock()

    def work() -> None:
        if not active.acquire(blocking=False):
            overlapping.append(True)
            return
        try:
            runs.append("run")
            started.set()
            release.wait(5)
        finally:
            active.release()

    job = OnDemand("poll test", work)
    first = threading.Thread(target=job)
    first.start()
    assert started.wait(5)
    for _ in range(5):  # five requests while the first run is busy: they coalesce into one more run
        job()
    release.set()
    first.join(5)
    assert runs == ["run", "run"] and not overlapping


def test_soon_runs_in_its_own_thread_and_logs_a_failure_instead_of_raising(caplog):
    done = threading.Event()
    calls = []

    def failing() -> None:
        calls.append(threading.current_thread().name)
        done.set()
        raise RuntimeError("server went away")

    OnDemand("poll flaky", failing).soon()
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "poll flaky failed unexpectedly" not in caplog.text:
        time.sleep(0.01)
    assert calls == ["poll flaky"] and "poll flaky failed unexpectedly" in caplog.text


def test_back_off_doubles_the_wait_after_each_failure_up_to_32_intervals_and_resets():
    backoff = _Backoff(60)
    assert [backoff.failed() for _ in range(7)] == [60, 120, 240, 480, 960, 1920, 1920]
    skipped = 0
    while not backoff.due():
        skipped += 1
    assert skipped == 31
    backoff.succeeded()
    assert backoff.due()


def test_join_waits_for_a_run_started_by_soon():
    finished = []

    def slow() -> None:
        time.sleep(0.3)
        finished.append(True)

    job = OnDemand("poll slow", slow)
    job.soon()
    job.join(timeout=5)
    assert finished == [True]
