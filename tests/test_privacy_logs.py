"""Nothing personal in the log: a full run at -v (IMAP poll, acknowledgement over SMTP, approval, the reply
sent, retention, audit, status) writes not one of the test messages' personal details to stderr, although
IMAPClient would hand every FETCHed email to its logger at DEBUG."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from triage.logs import DropWireTraffic, MaskAddresses

from .factories import make_email

CHILD, PARENT = "Tamsin Okonkwo-Baird", "Marguerite Halloway"
ADDRESS = "marguerite.halloway@example.com"
PERSONAL = (CHILD, "Tamsin", "Okonkwo", PARENT, "Halloway", ADDRESS, "14/03/2015", "Ehlers-Danlos", "07700 900461",
            "Wrenfield Primary")


def _message() -> bytes:
    return make_email(
        subject=f"Mediation for {CHILD}",
        sender=f"{PARENT} <{ADDRESS}>",
        body=(f"We got your letter dated 3 September saying you will not assess {CHILD} (born 14/03/2015). "
              f"She has Ehlers-Danlos syndrome and struggles at Wrenfield Primary. I do not accept this decision "
              f"and want to speak to the mediation people. Please ring me on 07700 900461."))


def _run(config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage", "--config", str(config), "-v", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # eight CLI processes against Dovecot and an SMTP sink
def test_every_log_line_of_a_full_verbose_run_is_free_of_personal_details(service_config, mailbox, smtp):
    config = service_config
    config.write_text(config.read_text() + "\n[retention]\nclosed_months = 24\n")
    mailbox.append(_message())
    runs = [_run(config, "poll", "--once"), _run(config, "outbox", "send")]
    listed = _run(config, "queue", "list", "--format", "jsonl")
    item = json.loads(listed.stdout.splitlines()[0])["id"]
    runs += [listed, _run(config, "queue", "approve", str(item), "--as", "casey", "--confirm-deadlines"),
             _run(config, "outbox", "send"), _run(config, "retention", "run", "--dry-run"),
             _run(config, "audit", "verify"), _run(config, "status")]
    assert [r.returncode for r in runs[:-1]] == [0] * (len(runs) - 1), [r.stderr[-2000:] for r in runs]
    log = "\n".join(r.stderr for r in runs)

    # The run did what it should, and logged at DEBUG while it did (so the grep below reads a verbose log).
    assert any(CHILD in m["Subject"] for m in smtp.messages), "the reply went out"
    assert " DEBUG " in log and "1 fetched, 1 queued" in log
    leaks = [(detail, line) for line in log.splitlines() for detail in PERSONAL if detail.lower() in line.lower()]
    assert leaks == []


def test_the_mail_libraries_wire_trace_is_dropped_and_addresses_masked():
    trace = logging.LogRecord("imapclient.imaplib", logging.DEBUG, __file__, 1, "< * 1 FETCH %s", (
        f"(BODY[] {{120}} From: {PARENT} <{ADDRESS}>",), None)
    assert DropWireTraffic().filter(trace) is False
    warning = logging.LogRecord("imapclient", logging.WARNING, __file__, 1, "refused %s", (ADDRESS,), None)
    assert DropWireTraffic().filter(warning) and MaskAddresses().filter(warning)
    assert warning.getMessage() == "refused [address]"
    own = logging.LogRecord("triage.pipeline", logging.DEBUG, __file__, 1, "stored item %d", (7,), None)
    assert DropWireTraffic().filter(own)
