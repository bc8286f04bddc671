"""A mail server's `auth` and oauth2_* keys into OAuth2Settings, with the rules between the keys:
which provider needs which keys, a client secret or a certificate, files that must exist.

Which key belongs to which provider comes from the key declarations (Key.provider).
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .settings_keys import AUTH_KEYS
from .settings_reading import path
from .settings_types import OAuth2Settings

_COMMON_KEYS = {key.name for key in AUTH_KEYS if key.name.startswith("oauth2_") and not key.provider}
PROVIDER_KEYS = {provider: {key.name for key in AUTH_KEYS if key.provider == provider}
                 for provider in next(key.choices for key in AUTH_KEYS if key.name == "oauth2_provider")}
_MECHANISMS = next(key.choices for key in AUTH_KEYS if key.name == "oauth2_mechanism")


def oauth2(section: Mapping[str, Any], name: str, env: Mapping[str, str], base: Path) -> OAuth2Settings | None:
    """The server's `auth`: None for a password, else where its OAuth2 tokens come from."""
    auth = section.get("auth", "password")
    if auth not in ("password", "oauth2"):
        raise ConfigError(f'[{name}] auth must be "password" or "oauth2", got {auth!r}')
    oauth2_keys = sorted(key for key in section if key.startswith("oauth2_"))
    if auth == "password":
        if oauth2_keys:
            raise ConfigError(f'[{name}] {oauth2_keys[0]} is set but auth is "password": set auth = "oauth2" '
                              f"or remove the oauth2_ keys")
        return None
    if "password_env" in section:
        raise ConfigError(f'[{name}] password_env is not used with auth = "oauth2": remove it')
    if not section.get("username"):
        raise ConfigError(f'[{name}] username is required with auth = "oauth2": the mailbox that signs in')
    provider = section.get("oauth2_provider")
    if not isinstance(provider, str) or provider not in PROVIDER_KEYS:
        raise ConfigError(f'[{name}] oauth2_provider must be "microsoft", "google" or "command" with '
                          f'auth = "oauth2", got {provider!r}')
    stray = [key for key in oauth2_keys if key not in _COMMON_KEYS | PROVIDER_KEYS[provider]]
    if stray:
        raise ConfigError(f'[{name}] {stray[0]} does not apply to oauth2_provider = "{provider}": remove it')
    mechanism = section.get("oauth2_mechanism", OAuth2Settings.mechanism)
    if mechanism not in _MECHANISMS:
        raise ConfigError(f'[{name}] oauth2_mechanism must be "xoauth2" or "oauthbearer", got {mechanism!r}')
    common = OAuth2Settings(section=name, provider=provider, mechanism=mechanism)
    if provider == "microsoft":
        return _microsoft(section, common, env, base)
    if provider == "google":
        key_file = _existing_file(section, common, "oauth2_service_account_file", base)
        subject = section.get("oauth2_subject") or section["username"]
        return replace(common, service_account_file=key_file, subject=subject)
    return replace(common, token_command=_command(section, common))


def _microsoft(section: Mapping[str, Any], common: OAuth2Settings, env: Mapping[str, str],
               base: Path) -> OAuth2Settings:
    """Client credentials for Microsoft 365: a client secret from the environment, or a certificate."""
    name = common.section
    tenant = _required_for(section, common, "oauth2_tenant")
    client_id = _required_for(section, common, "oauth2_client_id")
    if ("oauth2_client_secret_env" in section) == ("oauth2_certificate_file" in section):
        raise ConfigError(f"[{name}] set one of oauth2_client_secret_env or oauth2_certificate_file "
                          f'for oauth2_provider = "microsoft"')
    if "oauth2_certificate_file" in section:
        return replace(common, tenant=tenant, client_id=client_id,
                       certificate_file=_existing_file(section, common, "oauth2_certificate_file", base),
                       certificate_thumbprint=_required_for(section, common, "oauth2_certificate_thumbprint"))
    var = section["oauth2_client_secret_env"]
    if not env.get(var):
        raise ConfigError(f"[{name}] oauth2_client_secret_env names {var}, which is not set in the environment")
    return replace(common, tenant=tenant, client_id=client_id, client_secret_env=var, client_secret=env[var])


def _command(section: Mapping[str, Any], common: OAuth2Settings) -> tuple[str, ...]:
    """The token command's argv, split as a shell would but never run through one."""
    text = _required_for(section, common, "oauth2_token_command")
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"[{common.section}] oauth2_token_command cannot be split into words: {exc}") from None


def _required_for(section: Mapping[str, Any], common: OAuth2Settings, key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'[{common.section}] {key} is required with oauth2_provider = "{common.provider}"')
    return value


def _existing_file(section: Mapping[str, Any], common: OAuth2Settings, key: str, base: Path) -> Path:
    file = path(_required_for(section, common, key), base)
    if not file.is_file():
        raise ConfigError(f"[{common.section}] {key}: no file at {file}")
    return file
