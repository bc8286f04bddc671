"""Logging set-up: text or JSON lines on stderr, with email addresses masked in every record.

Log lines are for operators and collectors, not for case data: the code logs IDs and counts, and
the mask catches the address an SMTP or IMAP error message may quote back. The mail libraries log
whole protocol exchanges at DEBUG (IMAPClient hands imaplib's trace, every FETCHed email with a
child's name, date of birth and diagnosis, to its logger), so their loggers stay at WARNING even
with -v and the service's handler drops anything quieter from them should someone lower that.
smtplib only traces with set_debuglevel, which the service never calls.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskAddresses(logging.Filter):
    """Replaces email addresses in a record's message (and its exception text) with [address]."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = ADDRESS.sub("[address]", record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = ADDRESS.sub("[address]", logging.Formatter().formatException(record.exc_info))
        return True


# Loggers that carry mail on the wire at DEBUG/INFO: never below WARNING into the service's log.
WIRE_LOGGERS = ("imapclient", "imaplib", "smtplib", "mail.log", "aiosmtpd")


class DropWireTraffic(logging.Filter):
    """Drops records below WARNING from the mail libraries' loggers (their trace of the protocol)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(record.name == n or record.name.startswith(n + ".") for n in WIRE_LOGGERS)


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The service's own stderr handler (use_format switches only this one)."""


def configure(verbose: bool = False) -> None:
    """Text on stderr until the settings say otherwise (use_format). Like logging.basicConfig, it leaves
    alone a process whose logging is already set up (a test runner, an application embedding us)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in WIRE_LOGGERS:  # -v is for the service's own steps, never the mail on the wire
        logging.getLogger(name).setLevel(logging.WARNING)
    if root.handlers:
        return
    handler = _Handler(sys.stderr)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(DropWireTraffic())
    handler.addFilter(MaskAddresses())
    root.addHandler(handler)


def use_format(name: str) -> None:
    """Switch the service's handler to "text" or "json"."""
    formatter = JsonLines() if name == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            handler.setFormatter(formatter)
