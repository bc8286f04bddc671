"""Serving the web app: beside the scheduler under `run`, alone under `web`; the schema it needs."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from click.testing import CliRunner
from sqlalchemy import inspect

from triage.cli import cli
from triage.service import install_demo_maildir
from triage.settings import load_settings
from triage.store import QueueQuery, Store
from triage.store.tables import ItemRow

from .factories import store_at_revision
from .servers import free_port
from .webapp import add_item, make_app, write_settings


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
        while time.monotonic() < deadline and store.queue_page(QueueQuery()).total < 32:
            time.sleep(0.2)
        page = store.queue_page(QueueQuery(per_page=100))
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
    assert store.item_detail(item).due_at is None
    make_app(tmp_path)  # create_app fills what is missing
    assert store.item_detail(item).due_at == dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)


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
