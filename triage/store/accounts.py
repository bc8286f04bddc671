"""The Store's accounts side: web app users and the failed sign-ins the rate limit counts.

Passwords arrive here already hashed (argon2, by triage.web.passwords); adding or disabling a
user and every failed sign-in are events in the log, like any other change.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..domain import Role
from ..errors import InvalidAction, NotFound
from .records import User
from .tables import LoginFailureRow, UserRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class AccountsMixin:
    """Users and sign-in failures; mixed into Store, which provides _session and _event."""

    if TYPE_CHECKING:
        def _session(self) -> AbstractContextManager[Session]: ...
        def _reading(self) -> AbstractContextManager[Session]: ...
        def _event(self, s: Session, name: str, actor: str, message: int | None = None, item: int | None = None,
                   data: dict[str, Any] | None = None) -> None: ...

    def add_user(self, username: str, password_hash: str, role: Role, actor: str) -> User:
        """Create an account; refused when the name is taken (even by a disabled account)."""
        with self._session() as s:
            if s.scalar(select(UserRow.id).where(func.lower(UserRow.username) == username.lower())) is not None:
                raise InvalidAction(f"user {username} already exists")
            row = UserRow(username=username, password_hash=password_hash, role=role.value, active=True,
                          created_at=_now(), disabled_at=None)
            s.add(row)
            s.flush()
            self._event(s, "user_added", actor, data={"username": username, "role": role.value})
            return _user(row)

    def get_user(self, username: str) -> User | None:
        with self._reading() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            return _user(row) if row else None

    def list_users(self) -> list[User]:
        with self._reading() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def disable_user(self, username: str, actor: str) -> None:
        """Stop an account signing in; its sessions end at their next request."""
        with self._session() as s:
            row = _one(s, username)
            if not row.active:
                raise InvalidAction(f"user {username} is already disabled")
            row.active, row.disabled_at = False, _now()
            self._event(s, "user_disabled", actor, data={"username": username})

    def set_password(self, username: str, password_hash: str, actor: str) -> None:
        with self._session() as s:
            row = _one(s, username)
            row.password_hash = password_hash
            self._event(s, "password_changed", actor, data={"username": username})

    def login_failures(self, username: str, address: str, since: dt.datetime) -> int:
        """Failed sign-ins for this username from this address since then."""
        with self._reading() as s:
            return s.scalar(select(func.count()).select_from(LoginFailureRow).where(
                LoginFailureRow.username == username[:100], LoginFailureRow.address == address[:64],
                LoginFailureRow.at >= since)) or 0

    def record_login_failure(self, username: str, address: str, reason: str, forget_before: dt.datetime) -> None:
        """Count a failed sign-in (and log it); rows older than `forget_before` are no longer needed."""
        with self._session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at < forget_before))
            s.add(LoginFailureRow(username=username[:100], address=address[:64], at=_now()))
            # The actor is "anonymous": the name was typed by whoever tried, so it is data, not identity.
            self._event(s, "login_failed", "anonymous",
                        data={"username": username[:100], "address": address[:64], "reason": reason})

    def record_login(self, username: str, address: str) -> None:
        """A successful sign-in: logged, and the failures it follows forgotten."""
        with self._session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username,
                                                    LoginFailureRow.address == address[:64]))
            self._event(s, "logged_in", username, data={"address": address[:64]})


def _one(s: Session, username: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFound(f"no user {username}")
    return row


def _user(row: UserRow) -> User:
    return User(id=row.id, username=row.username, role=Role(row.role), active=row.active, created_at=row.created_at,
                disabled_at=row.disabled_at, password_hash=row.password_hash)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
