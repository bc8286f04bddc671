"""Serving the web app: beside the scheduler under `run`, alone under `web`; the schema it needs."""

from __future__ import annotations

import datetime as dt
import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from triage.cli import cli
from triage.serving import web_server
from triage.service import install_demo_maildir
from triage.settings import load_settings
from triage.store import QueueQuery, Store
from triage.store.tables import ItemRow

from .factories import store_at_revision
from .servers import free_port
from .webapp import PASSWORD, add_item, add_user, make_app, write_settings


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except OSError:
        return 0


def test_run_serves_the_web_app_beside_the_scheduler_and_stops_cleanly(tmp_path, model_dir):
    port = free_port()
    config = tmp_path / "settings.toml"
    config.write_text(f'[service]\npoll_interval_seconds = 1\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[maildir]\npath = "{tmp_path / "mail"}"\n'
                      f'[web]\nport = {port}\nsecure_cookies = false\n')
    install_demo_maildir(tmp_path / "mail")
    process = subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _get(f"http://127.0.0.1:{port}/healthz") != 200:
            time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        assert _get(f"http://127.0.0.1:{port}/login") == 200
        store = Store(load_settings(config, environ={}).database_url)
        while time.monotonic() < deadline and store.items.queue_page(QueueQuery()).total < 32:
            time.sleep(0.2)
        page = store.items.queue_page(QueueQuery(per_page=100))
        assert page.total == 32 and all(row.due_at is not None for row in page.rows)  # set at intake
        store.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert f"web app listening on http://127.0.0.1:{port}/" in stderr
    assert stderr.strip().splitlines()[-1].endswith("service stopped cleanly")
    assert _get(f"http://127.0.0.1:{port}/healthz") == 0


def test_web_says_clearly_when_its_port_is_taken(tmp_path):
    config = write_settings(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["--config", str(config), "web", "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_migration_0003_adds_users_and_queue_indexes_to_an_existing_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = store_at_revision(url, "0002")
    assert "users" not in inspect(store.engine).get_table_names()
    store.migrate()
    inspector = inspect(store.engine)
    assert {"users", "login_failures"} <= set(inspector.get_table_names())
    assert {"ix_items_queue_order", "ix_items_claimed_by"} <= {i["name"] for i in inspector.get_indexes("items")}
    store.close()


def test_items_stored_without_a_reply_by_date_get_one_when_the_app_starts(tmp_path):
    app, store, _ = make_app(tmp_path)
    item = add_item(store, received=dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone.utc))
    with store.engine.begin() as conn:
        conn.execute(ItemRow.__table__.update().values(due_at=None))
    assert store.items.detail(item).due_at is None
    make_app(tmp_path)  # create_app fills what is missing
    assert store.items.detail(item).due_at == dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)


def test_demo_serve_opens_the_web_app_on_the_demo_data_with_a_demo_login(tmp_path, model_dir):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("EHC_TRIAGE_CONFIG", "EHC_TRIAGE_DATA")}
    process = subprocess.Popen([sys.executable, "-m", "triage", "demo", "--serve", "--port", str(port)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**env, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Demo login:"):
                break
        assert f"Web app:         http://127.0.0.1:{port}/\n" in lines, "".join(lines)
        user, password = lines[-1].split(":", 1)[1].split("(")[0].strip().split(" / ")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          opener.open(f"http://127.0.0.1:{port}/login").read().decode()).group(1)
        queue = opener.open(f"http://127.0.0.1:{port}/login", urllib.parse.urlencode(
            {"username": user, "password": password, "csrf_token": token}).encode())
        assert queue.url.endswith("/queue") and "32 items" in queue.read().decode()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()  # type: ignore[union-attr]


# -- behind a reverse proxy (issue 14, finding 8) ------------------------------------------------------

PROXY, STRANGER = "127.0.0.3", "127.0.0.2"  # loopback addresses a connection can come from


class _Browser:
    """A browser that connects from one loopback address (as the proxy, or as a client that goes round
    it) and may send its own X-Forwarded-For."""

    def __init__(self, port: int, source: str, forwarded_for: str | None = None) -> None:
        self.port, self.source, self.cookie = port, source, ""
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(self.source, 0))
        headers = {**self.headers, **({"Cookie": self.cookie} if self.cookie else {})}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            if response.getheader("Set-Cookie"):
                self.cookie = response.getheader("Set-Cookie").split(";", 1)[0]
            return response.status, response.read().decode()
        finally:
            connection.close()

    def sign_in(self, username: str, password: str) -> int:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.request("POST", "/login", {"username": username, "password": password, "csrf_token": token})[0]


@pytest.fixture
def served(tmp_path):
    """The app served by waitress as `web` serves it, behind one proxy that connects from PROXY."""
    app, store, settings = make_app(tmp_path, proxy_count=1, trusted_proxy=PROXY)
    add_user(store, "casey")
    server = web_server(app, "127.0.0.1", 0, 2, settings.web)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.port, store
    server.close()
    thread.join(timeout=10)
    store.close()


def _failed_addresses(store: Store) -> list[str]:
    return [e["data"]["address"] for e in store.events.all() if e["name"] == "login_failed"]


def test_behind_the_proxy_each_client_has_its_own_address(served):
    port, store = served
    assert _Browser(port, PROXY, "198.51.100.7").sign_in("casey", "wrong-guess-1") == 401
    # Only the last hop is the proxy's to vouch for: what the client put before it is not believed.
    assert _Browser(port, PROXY, "203.0.113.1, 198.51.100.8").sign_in("casey", "wrong-guess-2") == 401
    assert _failed_addresses(store) == ["198.51.100.7", "198.51.100.8"]


def test_a_forwarded_for_header_from_anyone_but_the_proxy_is_ignored(served):
    port, store = served
    assert _Browser(port, STRANGER, "198.51.100.9").sign_in("casey", "wrong-guess") == 401
    assert _failed_addresses(store) == [STRANGER]


def test_behind_the_proxy_a_stranger_cannot_lock_the_owner_out(served):
    """Finding 8: every client was the proxy, so five failures from anyone locked the account for everyone."""
    port, store = served
    attacker = _Browser(port, PROXY, "198.51.100.66")
    assert attacker.sign_in("casey", "guess-0") == 401
    assert [attacker.sign_in("casey", f"guess-{n}") for n in range(1, 6)] == [429] * 5
    assert _Browser(port, PROXY, "192.0.2.10").sign_in("casey", PASSWORD) == 302


def test_without_a_proxy_count_no_forwarded_header_is_believed(tmp_path):
    app, store, settings = make_app(tmp_path, trusted_proxy=PROXY)  # proxy_count = 0
    add_user(store, "casey")
    server = web_server(app, "127.0.0.1", 0, 2, settings.web)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert _Browser(server.port, PROXY, "198.51.100.7").sign_in("casey", "wrong-guess") == 401
    finally:
        server.close()
        thread.join(timeout=10)
    assert _failed_addresses(store) == [PROXY]
    store.close()


def test_migration_0008_gives_existing_accounts_a_session_version(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = store_at_revision(url, "0007")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (username, password_hash, role, active, created_at) "
                             "VALUES ('casey', 'x', 'caseworker', 1, '2026-11-02 09:00:00')")
    store.migrate()
    assert store.accounts.get_user("casey").session_version == 1
    assert "ix_login_failures_address" in {i["name"] for i in inspect(store.engine).get_indexes("login_failures")}
    store.accounts.set_password("casey", "y", "test")
    assert store.accounts.get_user("casey").session_version == 2
    store.close()
