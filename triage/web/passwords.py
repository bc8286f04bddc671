"""Password hashing and the password rule for web app accounts: argon2id (argon2-cffi), zxcvbn.

The rule is zxcvbn's estimate rather than a home-made list: it knows the common passwords, names
and words, and scores repeats ("aaaaaaaaaaaa"), sequences and keyboard runs as the guesses they are.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from ..errors import InvalidAction

MIN_LENGTH = 12
MAX_LENGTH = 1000  # far past any passphrase; keeps a pasted megabyte out of the hasher
MIN_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable: moderate protection from offline attack"
_CHECKED_LENGTH = 100  # zxcvbn's matching grows faster than linearly; the first 100 characters decide
_HASHER = PasswordHasher()
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not a real password, only here to spend the same time")


def check_password(password: str, username: str = "") -> None:
    """Refuse a password that is short, common, repeated or built from the username (InvalidAction says why)."""
    if len(password) < MIN_LENGTH:
        raise InvalidAction(f"the password is too short: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidAction(f"the password is too long: use at most {MAX_LENGTH} characters")
    result = zxcvbn(password[:_CHECKED_LENGTH], user_inputs=[username] if username else [])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        why = feedback.get("warning") or "It would be easy to guess."
        advice = " ".join(feedback.get("suggestions") or ["Use a few unrelated words."])
        raise InvalidAction(f"the password is too easy to guess. {why.rstrip('.')}. {advice}")


def hash_password(password: str, username: str = "") -> str:
    """An argon2id hash of a new password; refuses one that breaks the rule (check_password)."""
    check_password(password, username)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash (unknown user) it still spends the time and says no."""
    if len(password) > MAX_LENGTH:
        return False  # no stored password is this long: not worth an argon2 run
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
