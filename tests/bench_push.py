"""Benchmark (`make bench`): how long a parent waits for the acknowledgement.

Runs `ehc-triage run` against the test Dovecot and an SMTP sink, delivers messages one at a time
(IMAP APPEND, at random gaps of 0.2-1 s, as mail trickles in) and times each one from the moment
its delivery completed to the moment its acknowledgement reached the SMTP server, i.e. left the
outbox. Twice: with IDLE (200 deliveries; the poll every 60 s is only the safety net) and polling
only (`idle = false`, a poll every 60 s; 30 deliveries), for comparison.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path

from .factories import make_email
from .servers import Dovecot, SmtpSink

PASSWORD = "bench-push"
ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = ("Request for mediation", "We want to appeal the decision", "Can we meet to talk about the plan",
            "Question about transport", "Disagree with section F", "Annual review paperwork")


@dataclass(frozen=True)
class Latencies:
    label: str
    seconds: list[float]
    delivered: int

    def row(self) -> tuple[str, str, str, str, str]:
        s = sorted(self.seconds)
        p95 = s[max(0, round(0.95 * len(s)) - 1)] if s else float("nan")
        return (self.label, f"{len(s)} of {self.delivered}", f"{statistics.median(s):.2f} s" if s else "-",
                f"{p95:.2f} s", f"{max(s):.2f} s" if s else "-")


def _config(root: Path, dovecot: Dovecot, user: str, smtp: SmtpSink, idle: bool) -> Path:
    routes = root / "routes.toml"
    routes.write_text((ROOT / "config" / "routes.toml").read_text().replace("[COUNCIL TO FILL IN:", "[filled:"))
    path = root / "settings.toml"
    path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {dovecot.port}
ssl = false
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
idle = {str(idle).lower()}

[smtp]
host = "127.0.0.1"
port = {smtp.port}
starttls = false

[service]
data_dir = "{root / 'data'}"
poll_interval_seconds = 60
routes_file = "{routes}"

[acknowledgement]
window_hours = 0
""")
    return path


def _first_poll_done(database: Path) -> bool:
    try:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT count(*) FROM poll_status WHERE last_success_at IS NOT NULL").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def measure(label: str, dovecot: Dovecot, user: str, deliveries: int, idle: bool) -> Latencies:
    root = Path(tempfile.mkdtemp(prefix="ehc-bench-push-"))
    smtp = SmtpSink().start()
    config = _config(root, dovecot, user, smtp, idle)
    env = {**os.environ, "BENCH_IMAP_PASSWORD": PASSWORD}
    process = subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "run"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    delivered: dict[str, float] = {}
    try:
        while not _first_poll_done(root / "data" / "triage.db"):
            if process.poll() is not None:
                raise RuntimeError(f"ehc-triage run exited with {process.returncode}")
            time.sleep(0.2)
        time.sleep(1)  # the watcher connects just after the first poll
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
        client.login(user, PASSWORD)
        rng = random.Random(label)
        for n in range(deliveries):
            message_id = make_msgid(domain="bench.example.org")
            raw = make_email(subject=f"{rng.choice(SUBJECTS)} ({n})", sender=f"Parent {n} <parent{n}@example.org>",
                             message_id=message_id)
            client.append("INBOX", raw)
            delivered[message_id] = time.time()
            time.sleep(rng.uniform(0.2, 1.0))
        client.logout()
        deadline = time.time() + (15 if idle else 75)
        while time.time() < deadline and len(smtp.messages) < deliveries:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        smtp.stop()
        shutil.rmtree(root, ignore_errors=True)
    seconds = [arrived - delivered[m["In-Reply-To"]]
               for m, arrived in zip(smtp.messages, smtp.arrived_at, strict=True) if m["In-Reply-To"] in delivered]
    return Latencies(label, seconds, deliveries)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="ehc-bench-dovecot-"))
    dovecot = Dovecot(root, users={"push1": PASSWORD, "push2": PASSWORD}).start()
    try:
        results = [measure("IDLE (poll every 60 s as safety net)", dovecot, "push1", 200, idle=True),
                   measure("polling only, every 60 s", dovecot, "push2", 30, idle=False)]
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nDelivery to acknowledgement leaving the outbox (SMTP server received it), {os.cpu_count()} CPUs\n")
    print("| mode | acknowledged | median | p95 | worst |")
    print("|---|---|---|---|---|")
    for result in results:
        print("| " + " | ".join(result.row()) + " |")


if __name__ == "__main__":
    main()
