"""Real servers on 127.0.0.1 for the tests: a private Dovecot IMAP server and an SMTP sink (aiosmtpd).

Each runs from its own temporary directory on a free high port, started and stopped by fixtures.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

DOVECOT_CONF = """\
# A private Dovecot for tests: own directories, loopback only, plaintext passwd-file users.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class Dovecot:
    """A Dovecot master process serving IMAP on a free loopback port from `root`."""

    def __init__(self, root: Path, users: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # Users are fixed at start: Dovecot may not notice a passwd-file changed within the same second.
        self.users: dict[str, str] = dict(users or {})

    def start(self) -> "Dovecot":
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            raise RuntimeError("dovecot is not installed: `make test` installs Debian's dovecot-imapd")
        if os.geteuid() == 0:
            # Dovecot never gives mail access to UID 0, so mail runs as `nobody` in a directory it owns.
            account = pwd.getpwnam("nobody")
        else:
            account = pwd.getpwuid(os.geteuid())
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        if os.geteuid() == 0:
            for path in (self.root / "mail", self.root / "home", self.root / "state"):
                os.chown(path, account.pw_uid, account.pw_gid)
            os.chmod(self.root, 0o755)
        conf = self.root / "dovecot.conf"
        conf.write_text(DOVECOT_CONF.format(root=self.root, port=self.port, uid=account.pw_uid,
                                            gid=account.pw_gid, user=account.pw_name))
        self.process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError("dovecot did not start:\n" + self.log())
        return self

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class SmtpSink:
    """An aiosmtpd server on loopback that keeps every message it is given.

    `reply` can be set to an SMTP reply such as "451 4.3.0 try later" to refuse messages, and
    `refuse` to a set of recipients answered with 550.
    """

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reply: str = "250 OK"
    refuse: set[str] = field(default_factory=set)

    def start(self) -> "SmtpSink":
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address in sink.refuse:
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                if not sink.reply.startswith("250"):
                    return sink.reply
                with sink._lock:
                    sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                    sink.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
                return "250 OK"

        self._lock = threading.Lock()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
