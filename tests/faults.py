"""The fault-injection suite's machinery (tests/test_faults.py, tests/bench_faults.py): workers to kill,
mutated messages, and the tally every run reports.

What a run checks, from the outside: each message delivered to the mailbox is stored exactly once
(`lost`, `duplicated`), no outbox row reached the SMTP server twice and no message has two
acknowledgements (`double_acknowledged`), nothing is left half-done (`stuck`: a message not marked
on the server, an outbox row still pending or sending); `interrupted` counts the rows a kill left
`sending` that the outbox then failed for a person to check (it never resends those blindly: the SMTP
server may have taken them), and `slowest` is the longest one message took.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
MIME_CORPUS = ROOT.parent / "shared" / "corpus" / "mime"
CASE_HEADER = b"X-Fault-Case"
_CASE = re.compile(rb"^X-Fault-Case: (\S+)", re.MULTILINE)


def case_of(raw: bytes) -> str | None:
    """The test case a stored or sent message belongs to (the header put first in every delivery)."""
    found = _CASE.search(raw[:400])
    return found.group(1).decode() if found else None


def with_case(case: str, raw: bytes) -> bytes:
    return CASE_HEADER + b": " + case.encode() + b"\r\n" + raw


# -- workers ---------------------------------------------------------------------------------------

class Workers:
    """`ehc-triage run` workers forked from a warm parent (tests/fault_worker.py), started in
    milliseconds instead of seconds, so a test can kill twenty of them."""

    def __init__(self, env: dict[str, str]) -> None:
        self._parent = subprocess.Popen([sys.executable, "-m", "tests.fault_worker"], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self._parent.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise RuntimeError(f"the worker parent did not start (said {line!r})")

    def start(self, config: Path, log: Path) -> int:
        """A new `run` worker on this settings file; its pid."""
        self._parent.stdin.write(f"run {config} {log}\n")
        self._parent.stdin.flush()
        return int(self._parent.stdout.readline())

    def close(self) -> None:
        try:
            self._parent.stdin.write("quit\n")
            self._parent.stdin.flush()
            self._parent.wait(timeout=10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self._parent.kill()
            self._parent.wait()
        finally:
            for pipe in (self._parent.stdin, self._parent.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too (its parent ignores SIGCHLD, so it goes at once)
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def stop(pid: int, sig: int = signal.SIGKILL, timeout: float = 60.0) -> float:
    """Send `sig` to a worker and wait until it is gone; the seconds it took."""
    started = time.monotonic()
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return 0.0
    while alive(pid):
        if time.monotonic() - started > timeout:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    return time.monotonic() - started


def settings_file(root: Path, imap_port: int, user: str, smtp_port: int | None, database: str | None = None,
                  batch_size: int = 10, password_env: str = "EHC_FAULT_IMAP_PASSWORD") -> Path:
    """A settings file for a worker: the test Dovecot, the SMTP sink, short intervals, filled route facts."""
    routes = root / "routes.toml"
    routes.write_text((ROOT / "config" / "routes.toml").read_text().replace("[COUNCIL TO FILL IN:", "[filled:"))
    smtp = "" if smtp_port is None else f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
starttls = false
timeout_seconds = 5
from_address = "ehc.assessment@brackenford.example.gov.uk"
"""
    path = root / "settings.toml"
    path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {imap_port}
ssl = false
username = "{user}"
password_env = "{password_env}"
batch_size = {batch_size}
timeout_seconds = 5

[service]
data_dir = "{root / 'data'}"
poll_interval_seconds = 1
routes_file = "{routes}"
{f'[database]{chr(10)}url = "{database}"' if database else ''}
{smtp}
[outbox]
send_interval_seconds = 1
retry_base_seconds = 1
max_attempts = 10

[acknowledgement]
window_hours = 0
""")
    return path


# -- the tally -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    delivered: int
    stored: int
    lost: int
    duplicated: int
    double_acknowledged: int
    stuck: int
    interrupted: int
    stubs: int  # stored as a stub for review: storing them as they came failed
    flagged: int  # stored with a parse or storage error, queued for review
    acknowledged: int
    slowest: float  # seconds

    def line(self, label: str) -> str:
        return (f"{label}: delivered {self.delivered}, stored {self.stored}, lost {self.lost}, duplicated "
                f"{self.duplicated}, double-acknowledged {self.double_acknowledged}, stuck {self.stuck}, "
                f"interrupted {self.interrupted}, acknowledged {self.acknowledged}, flagged for review "
                f"{self.flagged} (stubs {self.stubs}), slowest message {self.slowest:.2f} s")


def tally(url: str, delivered: set[str], sent: list[str] = (), unmarked: int = 0, slowest: float = 0.0) -> Tally:
    """Count, from the database and what the SMTP server received (`sent`: the Message-ID of each message
    it took), what became of `delivered` (cases)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT id, raw, parse_error FROM messages")).all()
            outbox = c.execute(text("SELECT message_ref, kind, status, last_error, message_id_header FROM outbox")).all()
    finally:
        engine.dispose()
    cases = Counter(case_of(bytes(raw)) for _, raw, _ in rows)
    acks_per_message = Counter(ref for ref, kind, *_ in outbox if kind == "acknowledgement")
    sent_ids = Counter(sent)
    return Tally(
        delivered=len(delivered), stored=len(rows),
        lost=sum(1 for case in delivered if cases[case] == 0),
        duplicated=sum(n - 1 for case, n in cases.items() if n > 1),
        double_acknowledged=sum(n - 1 for n in sent_ids.values() if n > 1)
        + sum(n - 1 for n in acks_per_message.values() if n > 1),
        stuck=unmarked + sum(1 for _, _, status, _, _ in outbox if status in ("pending", "sending")),
        interrupted=sum(1 for _, _, status, error, _ in outbox if status == "failed" and "interrupted" in error),
        stubs=sum(1 for _, _, error in rows if error.startswith("storage failed")),
        flagged=sum(1 for _, _, error in rows if error),
        acknowledged=sum(1 for _, kind, status, _, _ in outbox if kind == "acknowledgement" and status == "sent"),
        slowest=slowest,
    )


def wait_until(condition, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def count(url: str, sql: str) -> int:
    """One number from the database, 0 while its schema does not exist yet (a worker is still migrating)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text(sql)).scalar() or 0)
    except Exception:  # the schema is not there yet, or the database is locked for a moment
        return 0
    finally:
        engine.dispose()
