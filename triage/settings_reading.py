"""Read TOML tables by their key declarations: refuse what is not declared, check each value's kind,
fill the declared defaults. Rules that one key's declaration cannot say stay with the section's code
in settings.py and settings_oauth2.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .settings_keys import SECTION, SECTIONS, Key, Section, known_keys

KNOWN = {section.name: known_keys(section) for section in SECTIONS}


def refuse_undeclared(raw: Mapping[str, Any]) -> None:
    """Unknown sections and keys (a typo would otherwise be a setting silently not applied)."""
    for name, value in raw.items():
        if name not in KNOWN:
            raise ConfigError(f"unknown config section [{name}]; known: {', '.join(sorted(KNOWN))}")
        if SECTION[name].array and not (isinstance(value, list) and all(isinstance(t, dict) for t in value)):
            raise ConfigError(f"{name} must be written as [[{name}]] tables, one per mailbox or folder")
        for table in value if SECTION[name].array else [value]:
            unknown = set(table) - KNOWN[name]
            if unknown:
                raise ConfigError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")


def read_table(table: Mapping[str, Any], section: Section, where: str = "") -> dict[str, Any]:
    """Every declared key of `section` (not those it takes from another): the checked value, or its default.

    `where` names the table in errors (e.g. "mailbox complaints"); paths stay strings, for the caller
    knows what they are relative to.
    """
    return {key.name: read_key(table, key, where or section.name) for key in section.keys}


def read_key(table: Mapping[str, Any], key: Key, where: str) -> Any:
    value = table.get(key.name)
    if key.required and value in ("", None):
        raise ConfigError(f"[{where}] {key.name} is required")
    if value is None or (value == "" and key.kind in ("path", "date")):
        return key.default
    return _CHECKS[key.kind](value, key, where)


def _str(value: Any, key: Key, where: str) -> str:
    if key.choices and value not in key.choices:
        quoted = [f'"{choice}"' for choice in key.choices]
        raise ConfigError(f"[{where}] {key.name} must be {', '.join(quoted[:-1])} or {quoted[-1]}, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"[{where}] {key.name} must be a string, got {value!r}")
    return value


def _int(value: Any, key: Key, where: str) -> int:
    minimum = key.minimum or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"[{where}] {key.name} must be a whole number >= {minimum}, got {value!r}")
    return value


def _float(value: Any, key: Key, where: str) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key.between:
        low, high = key.between
        if not number or not low < value < high:
            raise ConfigError(f"[{where}] {key.name} must be a number between {low:g} and {high:g}, not {value!r}")
    elif not number:
        raise ConfigError(f"[{where}] {key.name} must be a number, got {value!r}")
    return float(value)


def _bool(value: Any, key: Key, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"[{where}] {key.name} must be true or false, got {value!r}")
    return value


def _strings(value: Any, key: Key, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[{where}] {key.name} must be a list of strings, got {value!r}")
    return tuple(value)


def _date(value: Any, key: Key, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"[{where}] {key.name} must be an ISO date such as 2026-09-01, got {value!r}") from None


_CHECKS = {"str": _str, "env": _str, "path": _str, "int": _int, "float": _float, "bool": _bool,
           "strings": _strings, "date": _date}


def path(value: str | Path, base: Path) -> Path:
    """A path from the file: `~` expanded, a relative one taken from `base`."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def secret(table: Mapping[str, Any], where: str, env: Mapping[str, str]) -> str:
    """The password from the environment variable `password_env` names; a password in the file is refused."""
    if "password" in table:
        raise ConfigError(f"[{where}] put the password in an environment variable and name it with password_env")
    var = table.get("password_env")
    if not var:
        return ""
    if var not in env:
        raise ConfigError(f"[{where}] password_env names {var}, which is not set in the environment")
    return env[var]
