"""Web app accounts as people manage them: the rules a new name and password must meet, then the Store.

The Store records accounts (triage.store.accounts); the rules live here so every way in (the `users`
commands, the demo's login, any admin page that adds accounts) refuses the same names the same way.
"""

from __future__ import annotations

import re
import secrets

from .domain import Role
from .errors import InvalidAction
from .store import Store
from .store.records import User

USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
DEMO_USER = "demo"


def check_username(name: str) -> None:
    """Refuse a name that would be awkward in logs, URLs and the event log."""
    if not USERNAME.fullmatch(name):
        raise InvalidAction("a username is 1 to 100 letters, digits, dots, hyphens, underscores or @")


def _hash(password: str, name: str) -> str:
    # Imported when needed: argon2 (and triage.web's Flask) are not wanted for every command.
    from .web.passwords import hash_password

    return hash_password(password, name)  # refuses a short, common or repeated password (passwords.check_password)


def add_account(store: Store, name: str, password: str, role: Role, actor: str) -> User:
    check_username(name)
    return store.accounts.add_user(name, _hash(password, name), role, actor)


def change_password(store: Store, name: str, password: str, actor: str) -> None:
    """A new password; every session the account has open ends (its session version moves on)."""
    store.accounts.set_password(name, _hash(password, name), actor)


def demo_login(store: Store) -> str:
    """The demo's supervisor account with a new random password each run; returns the password."""
    password = secrets.token_urlsafe(12)
    if store.accounts.get_user(DEMO_USER) is None:
        add_account(store, DEMO_USER, password, Role.SUPERVISOR, DEMO_USER)
    else:
        change_password(store, DEMO_USER, password, DEMO_USER)
    return password
