"""Password hashing for web app accounts: argon2id, through argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InvalidAction

MIN_LENGTH = 12
_HASHER = PasswordHasher()
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not a real password, only here to spend the same time")


def hash_password(password: str) -> str:
    """An argon2id hash of a new password; refuses one too short to be safe."""
    if len(password) < MIN_LENGTH:
        raise InvalidAction(f"the password is too short: use at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash (unknown user) it still spends the time and says no."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

