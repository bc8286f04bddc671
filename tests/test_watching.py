"""IMAP IDLE against the real test Dovecot: a watcher wakes its mailbox's poll when mail arrives,
re-issues IDLE on time, leaves a server without IDLE to the poll, and comes back after losing its
connection. The service-level push (delivery to acknowledgement without waiting for a poll) is in
test_mailboxes.py."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from triage.settings import ImapSettings
from triage.watching import Watcher

from .conftest import PASSWORD, Mailbox
from .factories import make_email
from .servers import Dovecot

# Dovecot's usual capabilities, less IDLE: a server that can only be polled.
NO_IDLE = "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UIDPLUS MOVE\n"


def _settings(mailbox: Mailbox, **overrides) -> ImapSettings:
    return ImapSettings(host="127.0.0.1", port=mailbox.server.port, username=mailbox.user, password=mailbox.password,
                        ssl=False, name=f"test:{mailbox.user}", **overrides)


class Wakes:
    """Counts the watcher's calls and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.count >= count, timeout)
            return self.count


def _wait(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_delivered_message_wakes_the_poll_and_idle_is_reissued_on_time(mailbox):
    wakes = Wakes()
    watcher = Watcher(_settings(mailbox, idle_renew_seconds=1), wakes)
    watcher.start()
    try:
        assert wakes.wait_for(1) == 1  # once on connecting: mail may have come while nobody watched
        assert watcher.supported is True
        assert _wait(lambda: watcher.idles >= 3)  # renewed every second while nothing arrives...
        assert wakes.count == 1  # ...and a renewal alone wakes nobody
        mailbox.append(make_email(subject="Mediation please"))
        assert wakes.wait_for(2) == 2
        idles = watcher.idles
        assert _wait(lambda: watcher.idles > idles)  # back in IDLE after the news
        mailbox.append(make_email(subject="And a second letter"))
        assert wakes.wait_for(3) == 3
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()


def test_flag_changes_by_the_poll_do_not_wake_it_again(mailbox):
    mailbox.append(make_email(subject="Already here"))
    wakes = Wakes()
    watcher = Watcher(_settings(mailbox), wakes)
    watcher.start()
    try:
        assert wakes.wait_for(1) == 1
        assert _wait(lambda: watcher.idles >= 1)
        client = mailbox.client()  # what the poll does after storing: add the triaged keyword
        client.select_folder("INBOX")
        client.add_flags(client.search(["ALL"]), [b"$EHCTriaged"], silent=True)
        client.logout()
        time.sleep(1.5)
        assert wakes.count == 1
    finally:
        watcher.stop()


@pytest.fixture(scope="module")
def dovecot_without_idle():
    root = Path(tempfile.mkdtemp(prefix="ehc-dovecot-noidle-"))
    server = Dovecot(root, users={"plain1": PASSWORD}, extra_config=NO_IDLE).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_a_server_without_idle_is_left_to_the_poll(dovecot_without_idle):
    wakes = Wakes()
    watcher = Watcher(_settings(Mailbox(dovecot_without_idle, "plain1", PASSWORD)), wakes)
    watcher.start()
    watcher._thread.join(timeout=20)
    assert not watcher._thread.is_alive()  # gave up at once, without an error loop
    assert watcher.supported is False and watcher.idles == 0 and wakes.count == 0


def test_a_lost_connection_is_reopened_and_catches_up(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="ehc-dovecot-restart-"))
    server = Dovecot(root, users={"restart1": PASSWORD}).start()
    box = Mailbox(server, "restart1", PASSWORD)
    wakes = Wakes()
    watcher = Watcher(_settings(box, timeout_seconds=5), wakes)
    watcher.start()
    try:
        assert wakes.wait_for(1) == 1
        server.stop()  # the server goes away mid-IDLE
        server.start()  # on the same port
        box.append(make_email(subject="Sent while the watcher was away"))
        # Reconnected after its back-off: the wake on connecting covers what came meanwhile.
        assert wakes.wait_for(2, timeout=30) >= 2
        assert watcher.supported is True
    finally:
        watcher.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
