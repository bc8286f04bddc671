"""Fault-injection benchmark (`make bench`): the scenarios of tests/test_faults.py, larger.

* 50 SIGKILLs of `ehc-triage run` on SQLite and 20 on PostgreSQL, at random moments during intake and
  sending (8 new messages a cycle), then one clean run;
* the IMAP server, then the SMTP server, stopped mid-batch and started again a second later;
* SQLite's write lock held by another writer for 10 s, a worker killed while it waits;
* 2,000 mutated messages from the shared MIME corpus on PostgreSQL, polled in batches of one (so the
  slowest message is timed on its own).

Prints a Markdown table: for each run what was lost, stored twice, acknowledged twice, left stuck, the
acknowledgements a kill left in doubt (failed for a person to check, never resent blindly), the
messages flagged for review (stubs: storing them as they came failed), and the slowest message
(kill, restart and lock runs: from delivery to its acknowledgement reaching the SMTP server, downtime
included). Exits non-zero if anything was lost, duplicated, acknowledged twice or left stuck.

    python -m tests.bench_faults [--kills 50] [--postgres-kills 20] [--mutations 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .fault_scenarios import PASSWORD, RESTART_BEFORE, Setup, kill_run, lock_run, mutation_run, restart_run
from .faults import Tally, Workers
from .postgres import Postgres
from .servers import Dovecot


def _row(label: str, t: Tally, seconds: float, note: str = "") -> str:
    return (f"| {label} | {t.delivered} | {t.lost} | {t.duplicated} | {t.double_acknowledged} | {t.stuck} | "
            f"{t.interrupted} | {t.flagged} ({t.stubs}) | {t.slowest:.2f} s | {seconds:.0f} s | {note} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--postgres-kills", type=int, default=20)
    parser.add_argument("--mutations", type=int, default=2000)
    args = parser.parse_args()

    os.environ["EHC_FAULT_IMAP_PASSWORD"] = PASSWORD
    root = Path(tempfile.mkdtemp(prefix="ehc-bench-faults-"))
    # Each server in a directory of its own: Dovecot's mail processes and PostgreSQL run as other users.
    dovecot_root = Path(tempfile.mkdtemp(prefix="ehc-bench-faults-dovecot-"))
    dovecot = Dovecot(dovecot_root, users={f"fault{n}": PASSWORD for n in range(1, 10)}).start()
    postgres = Postgres(Path(tempfile.mkdtemp(prefix="ehc-bench-faults-postgres-"))).start()
    workers = Workers(dict(os.environ))
    users = iter(f"fault{n}" for n in range(1, 10))
    rows: list[str] = []
    tallies: list[Tally] = []

    def setup(name: str, database: str | None = None) -> Setup:
        (root / name).mkdir()
        return Setup(dovecot, next(users), root / name, workers, database)

    def record(label: str, started: float, t: Tally, note: str = "") -> None:
        tallies.append(t)
        rows.append(_row(label, t, time.monotonic() - started, note))
        print(t.line(label), flush=True)

    try:
        started = time.monotonic()
        t, landed = kill_run(setup("kills"), args.kills)
        record(f"{args.kills} SIGKILLs of `run`, SQLite", started, t,
               f"kills caught intake {landed['intake']}, sending {landed['sending']}")
        started = time.monotonic()
        t, landed = kill_run(setup("pg-kills", postgres.create_database()), args.postgres_kills, seed=17)
        record(f"{args.postgres_kills} SIGKILLs of `run`, PostgreSQL", started, t,
               f"kills caught intake {landed['intake']}, sending {landed['sending']}")
        started = time.monotonic()
        t, seen = restart_run(setup("restarts"))
        record("IMAP, then SMTP, stopped mid-batch for 1 s", started, t,
               f"{seen['stored when IMAP stopped']} of {RESTART_BEFORE} stored when IMAP stopped, "
               f"{seen['unsent when SMTP stopped']} unsent when SMTP stopped")
        started = time.monotonic()
        t, held = lock_run(setup("lock"), hold=10.0)
        record(f"SQLite write lock held {held:.0f} s by another writer", started, t, "a worker killed while waiting")
        started = time.monotonic()
        t, _, outcomes, refused = mutation_run(setup("mutations", postgres.create_database()), args.mutations)
        stubs = sum(n for (_, kind), n in outcomes.items() if kind == "stub")
        record(f"{args.mutations:,} mutated corpus messages, PostgreSQL", started, t,
               f"{refused} refused by Dovecot; {stubs} stubs")
    finally:
        workers.close()
        postgres.stop()
        dovecot.stop()
        shutil.rmtree(dovecot_root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nFault injection ({os.cpu_count()} CPUs)\n")
    print("| run | messages | lost | duplicated | acknowledged twice | stuck | acknowledgements in doubt "
          "| flagged for review (stubs) | slowest message | wall time | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    bad = [t for t in tallies if (t.lost, t.duplicated, t.double_acknowledged, t.stuck) != (0, 0, 0, 0)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
