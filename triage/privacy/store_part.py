"""The Store's privacy part and the account checks the privacy commands make."""

from __future__ import annotations

from typing import Any

from ..domain import Role
from ..store.privacy import Privacy


def privacy_part(store: Any) -> Privacy:
    """store.privacy (triage/store/privacy.py)."""
    part: Privacy = store.privacy
    return part


def user_role(store: Any, name: str) -> Role | None:
    """The named account's role, or None when there is no such active account."""
    user = store.accounts.get_user(name)
    return Role(user.role) if user is not None and user.active else None
