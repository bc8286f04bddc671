"""Fixtures: a private Dovecot per session, a fresh mailbox and database per test, the built model."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from imapclient import IMAPClient

import classifier

from .servers import Dovecot, OAuthDovecot, SmtpSink, TokenIntrospection

SHARED = Path(__file__).resolve().parents[2] / "shared"
_users = itertools.count(1)
_oauth_users = itertools.count(1)
PASSWORD = "s3cret-test"

# The longest test files (seconds on the 2-core machine, 3 December 2026), handed out first: with each
# file kept on one pytest-xdist worker (`--dist loadfile`), a long file started last would leave the
# other worker idle at the end. The rest keep their order.
LONGEST_FIRST = ("test_faults.py", "test_browser.py", "test_postgres.py", "test_browser_day.py",
                 "test_learning.py", "test_web_serve.py", "test_privacy_logs.py", "test_browser_pages.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: within a file, as written


@pytest.fixture(scope="session", autouse=True)
def built_model_loaded_once():
    """The built model's files are read once per test session, not once per `poll --once` a test runs.

    A saved version's files never change (classifier.registry), so a version directory loaded before is
    given back as the same Classifier (the session fixture `loaded_model` shares one the same way). Only
    the built model's directory is cached: tests that save, tamper with or retrain models in a directory
    of their own still read their files.
    """
    from classifier import persistence

    load_files, loaded = persistence.load_files, {}
    built = classifier.DEFAULT_MODEL_DIR.resolve()

    def load_once(model_dir: Path) -> classifier.Classifier:
        path = Path(model_dir).resolve()
        if built not in path.parents:
            return load_files(model_dir)
        if path not in loaded:
            loaded[path] = load_files(model_dir)
        return loaded[path]

    patch = pytest.MonkeyPatch()
    patch.setattr(persistence, "load_files", load_once)
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2id with the least memory and time: the web tests hash and check hundreds of passwords, at
    about 0.16 s each with the service's parameters. Hashes still start `$argon2id$`, and the dummy hash
    for unknown usernames costs what a real one does, as in the service. (Only when a collected test
    module imported the web app: a run of other tests does not pay for importing it.)"""
    from argon2 import PasswordHasher

    passwords = sys.modules.get("triage.web.passwords")
    if passwords is None:
        yield
        return
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    patch = pytest.MonkeyPatch()
    patch.setattr(passwords, "_HASHER", cheap)
    patch.setattr(passwords, "_DUMMY", cheap.hash("not a real password, only here to spend the same time"))
    yield
    patch.undo()


class Clock:
    """A clock that tests move forward instead of sleeping: the real time plus the time skipped."""

    def __init__(self) -> None:
        self.skipped = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.skipped

    def advance(self, seconds: float) -> None:
        self.skipped += dt.timedelta(seconds=seconds)


@pytest.fixture
def outbox_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock the outbox job reads (when a row is due, when to retry) when a test sends through the
    CLI: waiting for a retry is `outbox_clock.advance(seconds)`, not a sleep."""
    from triage import outbox, service

    clock = Clock()
    monkeypatch.setattr(service, "send_due", functools.partial(outbox.send_due, clock=clock))
    return clock


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The model `make test` built (trained here if it is missing)."""
    classifier.load_or_train()
    return classifier.DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def loaded_model(model_dir) -> classifier.Classifier:
    """The built model, loaded once for the whole session."""
    return classifier.load(model_dir)


@pytest.fixture(scope="session")
def dovecot():
    # Not under pytest's tmp tree: that is private to root, and Dovecot's mail processes run as nobody.
    root = Path(tempfile.mkdtemp(prefix="ehc-dovecot-"))
    server = Dovecot(root, users={f"team{n}": PASSWORD for n in range(1, 400)}).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


class Mailbox:
    """One IMAP user on the test Dovecot, with helpers to fill and inspect its INBOX."""

    def __init__(self, server: Dovecot, user: str, password: str) -> None:
        self.server, self.user, self.password = server, user, password

    def client(self) -> IMAPClient:
        c = IMAPClient("127.0.0.1", port=self.server.port, ssl=False, timeout=10)
        c.login(self.user, self.password)
        return c

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        c = self.client()
        try:
            for raw in messages:
                c.append(folder, raw)
        finally:
            c.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        c = self.client()
        try:
            c.select_folder(folder, readonly=True)
            return {uid: tuple(f) for uid, f in c.get_flags(c.search(["ALL"])).items()}
        finally:
            c.logout()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    return Mailbox(dovecot, f"team{next(_users)}", PASSWORD)


@pytest.fixture(scope="session")
def token_introspection():
    """The stand-in identity provider's token-introspection endpoint on loopback."""
    server = TokenIntrospection().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_dovecot(token_introspection: TokenIntrospection):
    """A second private Dovecot whose oauth2 passdb checks XOAUTH2 and OAUTHBEARER tokens by introspection."""
    root = Path(tempfile.mkdtemp(prefix="ehc-oauth-dovecot-"))
    server = OAuthDovecot(root, token_introspection, users={f"oauth{n}": PASSWORD for n in range(1, 100)}).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def oauth_mailbox(oauth_dovecot: OAuthDovecot) -> Mailbox:
    """A fresh user on the OAuth2 Dovecot: the test fills it with the password, the service reads it with tokens."""
    return Mailbox(oauth_dovecot, f"oauth{next(_oauth_users)}", PASSWORD)


@pytest.fixture
def imap_config(tmp_path: Path, mailbox: Mailbox, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file for the test mailbox, a private database and outbox; the password in the env."""
    monkeypatch.setenv("EHC_TEST_IMAP_PASSWORD", mailbox.password)
    path = tmp_path / "settings.toml"
    path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {mailbox.server.port}
username = "{mailbox.user}"
password_env = "EHC_TEST_IMAP_PASSWORD"
ssl = false
batch_size = 7

[service]
data_dir = "{tmp_path / 'data'}"
poll_interval_seconds = 1
""")
    return path


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def oauth_smtp(token_introspection: TokenIntrospection):
    """An SMTP sink that takes mail only after XOAUTH2 or OAUTHBEARER with an active token."""
    sink = SmtpSink(introspection=token_introspection).start()
    yield sink
    sink.stop()


@pytest.fixture
def filled_routes(tmp_path: Path) -> Path:
    """config/routes.toml with every council placeholder filled in (fictional details)."""
    text = (ROOT / "config" / "routes.toml").read_text()
    import re

    path = tmp_path / "routes.toml"
    path.write_text(re.sub(r"\[COUNCIL TO FILL IN: ([^\]]*)\]", r"01632 960000 (\1, fictional)", text))
    return path


@pytest.fixture
def service_config(imap_config: Path, smtp: SmtpSink, filled_routes: Path) -> Path:
    """The IMAP settings plus SMTP to the sink, filled route facts, and a duty address."""
    text = imap_config.read_text().replace("[service]", f'[service]\nroutes_file = "{filled_routes}"')
    text += f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
from_address = "ehc.assessment@brackenford.example.gov.uk"

[outbox]
retry_base_seconds = 1
max_attempts = 3

[safeguarding]
duty_address = "duty.safeguarding@brackenford.example.gov.uk"
"""
    imap_config.write_text(text)
    return imap_config


# -- the browser --------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium: Playwright's own browser download is never used
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """One chromium for the whole session, shared by every browser test module (here, not in a test module:
    a second sync Playwright started in the same thread while the first runs is refused)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
