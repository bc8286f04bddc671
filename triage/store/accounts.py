"""The Store's accounts side: web app users and the failed sign-ins the rate limit counts.

Passwords arrive here already hashed (argon2, by triage.web.passwords); adding or disabling a
user and every failed sign-in are events in the log, like any other change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..domain import Role
from ..errors import InvalidAction, NotFound
from ..events import LoggedIn, LoggedOut, LoginFailed, PasswordChanged, UserAdded, UserDisabled
from .database import Database
from .records import User
from .tables import LoginFailureRow, UserRow


@dataclass(frozen=True)
class LoginFailures:
    """Recent failed sign-ins as the sign-in delays (triage.web.throttle) weigh them."""

    address_count: int  # from this address, any username
    address_last: dt.datetime | None
    account_count: int  # for this username, from any address
    account_last: dt.datetime | None
    pair_count: int  # for this username from this address


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_user(self, username: str, password_hash: str, role: Role, actor: str) -> User:
        """Create an account; refused when the name is taken (even by a disabled account)."""
        with self.db.writing() as s:
            if s.scalar(select(UserRow.id).where(func.lower(UserRow.username) == username.lower())) is not None:
                raise InvalidAction(f"user {username} already exists")
            row = UserRow(username=username, password_hash=password_hash, role=role.value, active=True,
                          created_at=self.db.now(), disabled_at=None)
            s.add(row)
            s.flush()
            self.db.append(s, UserAdded(username, role.value), actor)
            return _user(row)

    def get_user(self, username: str) -> User | None:
        with self.db.reading() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            return _user(row) if row else None

    def list_users(self) -> list[User]:
        with self.db.reading() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def disable_user(self, username: str, actor: str) -> None:
        """Stop an account signing in; its sessions end at their next request."""
        with self.db.writing() as s:
            row = _one(s, username)
            if not row.active:
                raise InvalidAction(f"user {username} is already disabled")
            row.active, row.disabled_at = False, self.db.now()
            row.session_version += 1
            self.db.append(s, UserDisabled(username), actor)

    def set_password(self, username: str, password_hash: str, actor: str) -> None:
        with self.db.writing() as s:
            row = _one(s, username)
            row.password_hash = password_hash
            row.session_version += 1  # every session signed in with the old password ends
            self.db.append(s, PasswordChanged(username), actor)

    def login_failures(self, username: str, address: str, since: dt.datetime) -> LoginFailures:
        """Failed sign-ins since then: from this address, for this username, and both at once."""
        username, address = username[:100], address[:64]
        with self.db.reading() as s:
            def counted(*where: object) -> tuple[int, dt.datetime | None]:
                found = s.execute(select(func.count(), func.max(LoginFailureRow.at)).where(
                    LoginFailureRow.at >= since, *where)).one()
                return found[0] or 0, found[1]
            by_address = counted(LoginFailureRow.address == address)
            by_account = counted(LoginFailureRow.username == username)
            pair = counted(LoginFailureRow.username == username, LoginFailureRow.address == address)
        return LoginFailures(by_address[0], _utc(by_address[1]), by_account[0], _utc(by_account[1]), pair[0])

    def record_login_failure(self, username: str, address: str, reason: str, at: dt.datetime,
                             forget_before: dt.datetime) -> None:
        """Count a failed sign-in made `at` (the web app's clock, the one its delays are judged on) and log
        it; rows older than `forget_before` are no longer needed."""
        with self.db.writing() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at < forget_before))
            s.add(LoginFailureRow(username=username[:100], address=address[:64], at=at))
            # The actor is "anonymous": the name was typed by whoever tried, so it is data, not identity.
            self.db.append(s, LoginFailed(username[:100], address[:64], reason), "anonymous")

    def record_login(self, username: str, address: str) -> None:
        """A successful sign-in: logged, and the failures it follows forgotten."""
        with self.db.writing() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username,
                                                    LoginFailureRow.address == address[:64]))
            self.db.append(s, LoggedIn(address[:64]), username)

    def record_logout(self, username: str) -> None:
        """Signing out: logged, and every session of the account ended (its session version moves on)."""
        with self.db.writing() as s:
            _one(s, username).session_version += 1
            self.db.append(s, LoggedOut(), username)


def _one(s: Session, username: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFound(f"no user {username}")
    return row


def _user(row: UserRow) -> User:
    return User(id=row.id, username=row.username, role=Role(row.role), active=row.active, created_at=row.created_at,
                disabled_at=row.disabled_at, password_hash=row.password_hash, session_version=row.session_version)



def _utc(at: dt.datetime | None) -> dt.datetime | None:
    """max() over a column can come back without its time zone (SQLite): the store keeps UTC."""
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at
