"""Real servers on 127.0.0.1 for the tests: a private Dovecot IMAP server and an SMTP sink (aiosmtpd).

Each runs from its own temporary directory on a free high port, started and stopped by fixtures.
For OAuth2 sign-in, a small token-introspection endpoint (RFC 7662) stands in for the identity
provider: Dovecot's oauth2 passdb and the SMTP sink both ask it whether a token is active.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

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
{auth}
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
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

PASSWORD_AUTH = """\
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}"""

# Passwords still work (the tests fill mailboxes with them); tokens are checked by the oauth2 passdb.
# A refused token is answered at once and never slows the next sign-in (no failure delay or penalty).
OAUTH2_AUTH = """\
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/users
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}"""

OAUTH2_ARGS = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
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

    def __init__(self, root: Path, users: dict[str, str] | None = None, extra_config: str = "") -> None:
        self.root = root
        self.extra_config = extra_config  # appended to dovecot.conf, e.g. an imap_capability without IDLE
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
                                            gid=account.pw_gid, user=account.pw_name, auth=self.auth_config())
                        + self.extra_config)
        self.process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError("dovecot did not start:\n" + self.log())
        return self

    def auth_config(self) -> str:
        """The auth_mechanisms and passdb part of dovecot.conf: plaintext passwords from the users file."""
        return PASSWORD_AUTH.format(root=self.root)

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


class TokenIntrospection:
    """An OAuth2 token-introspection endpoint (RFC 7662) on loopback that knows the tokens it issued.

    POST /introspect with the form field `token` answers `{"active": true, "username": ...}` for a
    token issued and not revoked, and `{"active": false}` for anything else, as a provider would.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def issue(self, username: str) -> str:
        """A new active token for `username`."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = username
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def owner(self, token: str) -> str | None:
        """The username an active token was issued to; None for an unknown or revoked one."""
        with self._lock:
            return self._tokens.get(token)

    def answer(self, token: str) -> dict[str, object]:
        username = self.owner(token)
        return {"active": False} if username is None else {"active": True, "username": username}

    def start(self) -> "TokenIntrospection":
        introspection = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                if self.path != "/introspect":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode("ascii"))
                body = json.dumps(introspection.answer(form.get("token", [""])[0])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # tokens travel in request bodies, never in the log; keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class OAuthDovecot(Dovecot):
    """A Dovecot that also accepts XOAUTH2 and OAUTHBEARER, checking each token with `introspection`."""

    def __init__(self, root: Path, introspection: TokenIntrospection, users: dict[str, str] | None = None) -> None:
        super().__init__(root, users)
        self.introspection = introspection

    def auth_config(self) -> str:
        """Passwords plus the oauth2 passdb, whose settings file (pointing at the introspection URL) it writes."""
        args = self.root / "dovecot-oauth2.conf.ext"
        args.write_text(OAUTH2_ARGS.format(url=self.introspection.url))
        return OAUTH2_AUTH.format(root=self.root)


def bearer_token(mechanism: str, initial_response: bytes) -> tuple[str, str]:
    """The (user, token) in an XOAUTH2 or OAUTHBEARER initial response, as a server reads it."""
    fields = initial_response.decode().split("\x01")
    token = next(f.removeprefix("auth=Bearer ") for f in fields if f.startswith("auth=Bearer "))
    if mechanism == "XOAUTH2":
        return next(f.removeprefix("user=") for f in fields if f.startswith("user=")), token
    gs2_user = next(part for part in fields[0].split(",") if part.startswith("a="))
    return gs2_user.removeprefix("a=").replace("=2C", ",").replace("=3D", "="), token


@dataclass
class SmtpSink:
    """An aiosmtpd server on loopback that keeps every message it is given.

    `reply` can be set to an SMTP reply such as "451 4.3.0 try later" to refuse messages, and
    `refuse` to a set of recipients answered with 550. With `introspection`, the sink offers
    only XOAUTH2 and OAUTHBEARER, requires them before MAIL, and keeps who signed in, in `logins`.
    """

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    arrived_at: list[float] = field(default_factory=list)  # time.time() of each message's arrival
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reply: str = "250 OK"
    refuse: set[str] = field(default_factory=set)
    introspection: TokenIntrospection | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)

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
                    sink.arrived_at.append(time.time())
                return "250 OK"

        self._lock = threading.Lock()
        if self.introspection is None:
            self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        else:
            self._controller = Controller(self._bearer_handler(Handler)(), hostname="127.0.0.1", port=self.port,
                                          auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"])
        self._controller.start()
        return self

    def _bearer_handler(self, base: type) -> type:
        """`base` plus aiosmtpd auth hooks for XOAUTH2 and OAUTHBEARER, checking tokens by introspection."""
        from aiosmtpd.smtp import AuthResult

        sink = self

        async def bearer(server, args: list[str], mechanism: str) -> AuthResult:
            user, token = bearer_token(mechanism, base64.b64decode(args[1]) if len(args) > 1 else b"")
            if sink.introspection.owner(token) == user:
                with sink._lock:
                    sink.logins.append((mechanism, user))
                return AuthResult(success=True, auth_data=user)
            # As Gmail and Microsoft 365 do: an error challenge, the client's empty reply, then 535.
            await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
            return AuthResult(success=False, handled=False)

        class BearerHandler(base):
            async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
                if not session.authenticated:  # aiosmtpd's auth_required warns without TLS, so refuse here
                    return "530 5.7.0 Authentication required"
                envelope.mail_from = address
                return "250 OK"

            async def auth_XOAUTH2(self, server, args):  # noqa: N802 (aiosmtpd's naming: auth_<MECHANISM>)
                return await bearer(server, args, "XOAUTH2")

            async def auth_OAUTHBEARER(self, server, args):  # noqa: N802
                return await bearer(server, args, "OAUTHBEARER")

        return BearerHandler

    def stop(self) -> None:
        self._controller.stop()
