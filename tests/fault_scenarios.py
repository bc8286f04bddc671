"""The fault-injection scenarios, sized by the caller: tests/test_faults.py runs them small in `make test`,
tests/bench_faults.py large in `make bench`. Each returns the Tally of tests/faults.py (and what it saw).

* kill_run: deliver a few messages, start `ehc-triage run`, SIGKILL it at a random moment while it takes
  them in or sends their acknowledgements; again and again; then one clean run finishes the work.
* restart_run: one worker; the IMAP server stopped and started again mid-batch, then the SMTP server.
* lock_run: one worker; another writer holds SQLite's write lock for a while (a worker killed meanwhile).
* mutation_run: mutated corpus messages delivered and polled (`poll --once`, batches of one).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from .conftest import Mailbox
from .factories import make_email
from .faults import Tally, Workers, alive, count, settings_file, stop, tally, wait_until, with_case
from .mutations import mutated
from .servers import Dovecot, SmtpSink

PASSWORD = "fault-s3cret"
_STORED = "SELECT count(*) FROM messages"
_UNSENT = "SELECT count(*) FROM outbox WHERE status = 'pending'"


@dataclass(frozen=True)
class Setup:
    """Where a scenario runs: a Dovecot user of its own, a directory, the worker parent, the database URL."""

    dovecot: Dovecot
    user: str
    root: Path
    workers: Workers
    database: str | None = None  # default: SQLite in root/data

    @property
    def url(self) -> str:
        return self.database or f"sqlite:///{self.root / 'data' / 'triage.db'}"

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.dovecot, self.user, PASSWORD)

    @property
    def log(self) -> Path:
        return self.root / "workers.log"


def _parent_mail(case: str, n: int) -> tuple[str, bytes]:
    message_id = f"<{case}@parents.example.org>"
    raw = make_email(subject=f"Request for mediation ({case})", message_id=message_id,
                     body=f"We disagree with the decision about our son and want mediation, please. Case {n}.",
                     sender=f"Parent {n} <parent.{case}@example.org>")
    return message_id, with_case(case, raw)


class _Deliveries:
    """What was delivered (case -> Message-ID, time) and when each acknowledgement reached a sink."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.ids: dict[str, str] = {}
        self.at: dict[str, float] = {}

    def deliver(self, prefix: str, n: int) -> None:
        mails = [(f"{prefix}.{i}", *_parent_mail(f"{prefix}.{i}", len(self.ids) + i)) for i in range(n)]
        self.setup.mailbox.append(*[raw for _, _, raw in mails])
        now = time.time()
        for case, message_id, _ in mails:
            self.ids[case], self.at[case] = message_id, now

    def slowest(self, sinks: list[SmtpSink]) -> float:
        """The longest a delivered message waited for its acknowledgement to reach the SMTP server."""
        case_of = {mid: case for case, mid in self.ids.items()}
        waits = [arrived - self.at[case_of[m["In-Reply-To"]]] for sink in sinks
                 for m, arrived in zip(sink.messages, sink.arrived_at) if m["In-Reply-To"] in case_of]
        return max(waits, default=0.0)

    def all_stored(self) -> bool:
        return count(self.setup.url, _STORED) >= len(self.ids)


def _drained(setup: Setup, deliveries: _Deliveries) -> bool:
    return deliveries.all_stored() and count(setup.url, _UNSENT) == 0


def finish(setup: Setup, config: Path, deliveries: _Deliveries, sinks: list[SmtpSink], timeout: float = 60) -> Tally:
    """One clean worker takes in and sends what is left and stops (SIGTERM); the rows killed workers left
    `sending` are then failed for a person to check, as the next send job does once they are
    [outbox] stale_sending_minutes old (an injected clock an hour on, instead of a wait); then the tally."""
    pid = setup.workers.start(config, setup.log)
    try:
        wait_until(lambda: _drained(setup, deliveries) or not alive(pid), timeout, "the last worker to drain")
        assert alive(pid), "the worker stopped by itself:\n" + setup.log.read_text()[-3000:]
    finally:
        stop(pid, signal.SIGTERM)
    recover_stale_sends(config)
    unmarked = sum(1 for flags in setup.mailbox.flags().values() if b"$EHCTriaged" not in flags)
    sent = [str(m["Message-ID"]) for sink in sinks for m in sink.messages]
    return tally(setup.url, set(deliveries.ids), sent, unmarked, deliveries.slowest(sinks))


def recover_stale_sends(config: Path) -> None:
    """`ehc-triage outbox send` with the outbox's clock an hour on: stale `sending` rows are failed."""
    from triage import outbox, service
    from triage.cli import cli

    real = service.send_due
    later = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)  # noqa: E731
    service.send_due = functools.partial(outbox.send_due, clock=later)
    try:
        result = CliRunner().invoke(cli, ["--config", str(config), "outbox", "send"])
        assert result.exit_code == 0, result.output
    finally:
        service.send_due = real


def kill_run(setup: Setup, kills: int, per_cycle: int = 8, seed: int = 14) -> tuple[Tally, Counter]:
    """`kills` cycles: deliver `per_cycle` messages, start a worker, SIGKILL it at a random moment once it is
    taking mail in or sending; the Counter says where each kill landed."""
    rng = random.Random(seed)
    sink = SmtpSink().start()
    try:
        config = settings_file(setup.root, setup.dovecot.port, setup.user, sink.port, setup.database, batch_size=2)
        deliveries = _Deliveries(setup)
        landed: Counter = Counter()
        for cycle in range(kills):
            deliveries.deliver(f"k{cycle}", per_cycle)
            stored, sent = count(setup.url, _STORED), len(sink.messages)
            pid = setup.workers.start(config, setup.log)
            if rng.random() < 0.5:  # within a few batches of intake's first commit (batches of two)
                wait_until(lambda: count(setup.url, _STORED) > stored or not alive(pid), 30, "intake", 0.005)
                time.sleep(rng.uniform(0.0, 0.04))
            else:  # within a few messages of the first acknowledgement reaching the SMTP server
                wait_until(lambda: len(sink.messages) > sent or not alive(pid), 30, "sending", 0.005)
                time.sleep(rng.uniform(0.0, 0.1))
            assert alive(pid), "a worker stopped by itself:\n" + setup.log.read_text()[-3000:]
            stop(pid)
            landed.update(_caught(setup, deliveries, landed["rows in doubt"]))
        return finish(setup, config, deliveries, [sink]), landed
    finally:
        sink.stop()


def _caught(setup: Setup, deliveries: _Deliveries, in_doubt_before: int) -> Counter:
    """What a kill caught: intake unfinished (messages delivered, not yet stored), and sending (rows its
    send job had claimed, left `sending`: in doubt, the SMTP server may or may not have taken them)."""
    in_doubt = count(setup.url, "SELECT count(*) FROM outbox WHERE status = 'sending'")
    return Counter({"intake": int(not deliveries.all_stored()), "sending": int(in_doubt > in_doubt_before),
                    "rows in doubt": in_doubt - in_doubt_before})


# Enough mail that stopping Dovecot (which takes a moment) still lands mid-intake on a fast machine.
RESTART_BEFORE = 240


def restart_run(setup: Setup, before: int = RESTART_BEFORE, after: int = 20) -> tuple[Tally, dict[str, int]]:
    """One worker; Dovecot stopped just after intake's first commit (batches of two) and started again
    1 s later; then the SMTP server stopped just after the first acknowledgement reached it, likewise."""
    sinks = [SmtpSink().start()]
    seen: dict[str, int] = {}
    try:
        config = settings_file(setup.root, setup.dovecot.port, setup.user, sinks[0].port, setup.database, batch_size=2)
        deliveries = _Deliveries(setup)
        deliveries.deliver("r", before)
        pid = setup.workers.start(config, setup.log)
        try:
            wait_until(lambda: count(setup.url, _STORED) >= 2, 30, "intake to begin", 0.005)
            setup.dovecot.stop()
            seen["stored when IMAP stopped"] = count(setup.url, _STORED)
            time.sleep(1.0)
            setup.dovecot.start()
            wait_until(lambda: len(sinks[0].messages) >= 1, 30, "sending to begin", 0.005)
            sinks[0].stop()
            seen["unsent when SMTP stopped"] = count(setup.url, "SELECT count(*) FROM outbox WHERE status <> 'sent'")
            time.sleep(1.0)
            sinks.append(SmtpSink(port=sinks[0].port).start())
            deliveries.deliver("s", after)
            wait_until(lambda: _drained(setup, deliveries) or not alive(pid), 60, "intake and sending to finish")
            assert alive(pid), "the worker stopped by itself:\n" + setup.log.read_text()[-3000:]
        finally:
            stop(pid, signal.SIGTERM)
        return finish(setup, config, deliveries, sinks), seen
    finally:
        for sink in sinks[1:]:
            sink.stop()


def lock_run(setup: Setup, hold: float = 4.0) -> tuple[Tally, float]:
    """One worker takes mail in while another writer holds SQLite's write lock for `hold` seconds; meanwhile
    the worker is killed and a second one started. Returns the tally and how long the lock was held."""
    sink = SmtpSink().start()
    try:
        config = settings_file(setup.root, setup.dovecot.port, setup.user, sink.port, batch_size=2)
        deliveries = _Deliveries(setup)
        deliveries.deliver("a", 10)
        pid = setup.workers.start(config, setup.log)
        wait_until(deliveries.all_stored, 30, "the first messages to be stored")
        database = Path(setup.url.removeprefix("sqlite:///"))
        blocker = sqlite3.connect(database, timeout=30, isolation_level=None)
        started = time.monotonic()
        try:
            blocker.execute("BEGIN IMMEDIATE")  # the write lock, held by another writer
            blocker.execute("UPDATE poll_status SET consecutive_failures = consecutive_failures")
            deliveries.deliver("b", 10)
            time.sleep(hold / 2)
            stop(pid)  # killed while it waits for the lock
            pid = setup.workers.start(config, setup.log)
            deliveries.deliver("c", 10)
            time.sleep(hold / 2)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        held = time.monotonic() - started
        try:
            wait_until(lambda: _drained(setup, deliveries) or not alive(pid), 40, "intake after the lock")
            assert alive(pid), "the worker stopped by itself:\n" + setup.log.read_text()[-3000:]
        finally:
            stop(pid, signal.SIGTERM)
        return finish(setup, config, deliveries, [sink]), held
    finally:
        sink.stop()


def mutation_run(setup: Setup, how_many: int, batch_size: int = 1, seed: int = 14) -> tuple[Tally, Counter, Counter, int]:
    """Deliver `how_many` mutated corpus messages, `poll --once` and send the acknowledgements (as files).
    `slowest` is the longest gap between one batch's stored time and the next's: with batches of one
    message, each message's own time; with larger batches, a bound on it. Returns the tally, the
    mutations made, the outcome of each kind (ok / flagged / stub) and how many the IMAP server refused."""
    from triage.cli import cli

    config = settings_file(setup.root, setup.dovecot.port, setup.user, None, setup.database, batch_size=batch_size)
    cases: dict[str, str] = {}
    refused = 0
    started = time.monotonic()
    client = setup.mailbox.client()
    try:
        made = list(mutated(how_many, seed))
        for start in range(0, len(made), 50):
            chunk = made[start: start + 50]
            try:
                client.multiappend("INBOX", [raw for _, _, raw in chunk])
                cases.update((case, done) for case, done, _ in chunk)
                continue
            except Exception:  # one of them was refused: append them one by one
                pass
            for case, done, raw in chunk:
                try:
                    client.append("INBOX", raw)
                    cases[case] = done
                except Exception:  # the IMAP server itself refused it: never in the mailbox, not ours to read
                    refused += 1
    finally:
        client.logout()
    appended = time.monotonic()
    runner = CliRunner()
    for attempt in range(2):  # the second poll finds nothing left behind
        result = runner.invoke(cli, ["--config", str(config), "poll", "--once"])
        assert result.exit_code == 0, f"poll {attempt + 1} aborted:\n{result.output}"
    assert "fetched 0" in result.output, result.output
    for _ in range(how_many // 100 + 2):  # acknowledgements, as files (the job sends 100 at a time)
        sent = runner.invoke(cli, ["--config", str(config), "outbox", "send"])
        assert sent.exit_code == 0, sent.output
        if count(setup.url, _UNSENT) == 0:
            break
    print(f"mutation run: appended in {appended - started:.1f} s, polled and sent in {time.monotonic() - appended:.1f} s")
    unmarked = sum(1 for flags in setup.mailbox.flags().values() if b"$EHCTriaged" not in flags)
    result = tally(setup.url, set(cases), (), unmarked, _slowest_gap(setup.url))
    return result, Counter(cases.values()), _outcomes(setup.url, cases), refused


def _slowest_gap(url: str) -> float:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            times = [at for (at,) in c.execute(text("SELECT at FROM events WHERE name = 'received' ORDER BY id"))]
    finally:
        engine.dispose()
    parsed = [t if isinstance(t, dt.datetime) else dt.datetime.fromisoformat(str(t)) for t in times]
    return max(((b - a).total_seconds() for a, b in zip(parsed, parsed[1:])), default=0.0)


def _outcomes(url: str, cases: dict[str, str]) -> Counter:
    """Per kind of mutation: stored as it came (ok), stored flagged for review, or stored as a stub."""
    from sqlalchemy import create_engine, text

    from .faults import case_of

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT raw, parse_error FROM messages")).all()
    finally:
        engine.dispose()
    outcome: Counter = Counter()
    for raw, error in rows:
        done = cases.get(case_of(bytes(raw)) or "", "?")
        kind = "stub" if error.startswith("storage failed") else "flagged" if error else "ok"
        outcome[(done.split("+")[0], kind)] += 1
    return outcome
