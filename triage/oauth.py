"""OAuth2 access tokens for signing in to IMAP and SMTP: from Microsoft 365, Google or a command.

The only module that gets tokens. Each configured server has one TokenCache for the life of the
process (`tokens_for`): it keeps a token until five minutes before it expires, and the poll and
send threads share it safely. Every failure is one TokenError naming the setting to fix; no message
ever holds a token or a secret. Signing in with the token is the mail code's job (intake, outbox).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from .errors import TokenError
from .settings import OAuth2Settings

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
REFRESH_EARLY_SECONDS = 300.0
COMMAND_TIMEOUT_SECONDS = 60
# What msal raises when the tenant, network or credential fails: requests' errors are OSErrors, a bad
# tenant or key is a ValueError, and authority discovery ends in a RuntimeError when all else fails.
MSAL_ERRORS = (OSError, ValueError, RuntimeError)


@dataclass(frozen=True)
class Token:
    """An access token and how long it lasts from now (0 when unknown: it is used for one sign-in)."""

    value: str = field(repr=False)
    lifetime_seconds: float = 0.0


class TokenProvider(Protocol):
    def fetch(self) -> Token:
        """A new access token; raises TokenError naming the setting to fix."""


class TokenCache:
    """One provider's current token, fetched again `refresh_early` seconds before it expires.

    Thread-safe: callers that find the token stale wait for one fetch rather than each fetching.
    """

    def __init__(self, provider: TokenProvider, clock: Callable[[], float] = time.monotonic,
                 refresh_early: float = REFRESH_EARLY_SECONDS) -> None:
        self._provider = provider
        self._clock = clock
        self._refresh_early = refresh_early
        self._lock = threading.Lock()
        self._value = ""
        self._renew_at = 0.0

    def access_token(self) -> str:
        """The cached token while it has more than `refresh_early` seconds left, else a new one."""
        with self._lock:
            now = self._clock()
            if not self._value or now >= self._renew_at:
                token = self._provider.fetch()
                self._value = token.value
                self._renew_at = now + token.lifetime_seconds - self._refresh_early
            return self._value

    def forget(self) -> None:
        """Drop the token (the server refused it: revoked, say), so the next sign-in fetches a new one."""
        with self._lock:
            self._value = ""


class CommandTokens:
    """Runs `oauth2_token_command` (no shell); its output is the token, or JSON with access_token."""

    def __init__(self, settings: OAuth2Settings) -> None:
        self.settings = settings
        self._setting = f"[{settings.section}] oauth2_token_command"

    def fetch(self) -> Token:
        try:
            done = subprocess.run(self.settings.token_command, capture_output=True, text=True, errors="replace",
                                  timeout=COMMAND_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise TokenError(f"{self._setting} did not finish within {COMMAND_TIMEOUT_SECONDS} seconds") from None
        except OSError as exc:
            program = self.settings.token_command[0]
            raise TokenError(f"{self._setting} cannot be run: {exc.strerror}: {program}") from None
        if done.returncode != 0:
            raise TokenError(f"{self._setting} failed with exit status {done.returncode}: {_last_line(done.stderr)}")
        return self._parse(done.stdout.strip())

    def _parse(self, output: str) -> Token:
        """A bare token, or {"access_token": ..., "expires_in": seconds}; the output is never quoted back."""
        if not output:
            raise TokenError(f"{self._setting} printed no token")
        if not output.startswith("{"):
            if len(output.split()) != 1:
                raise TokenError(f'{self._setting} printed more than a token: print the token alone, or JSON '
                                 f'{{"access_token": "...", "expires_in": seconds}}')
            return Token(output)
        try:
            reply = json.loads(output)
        except ValueError:
            raise TokenError(f"{self._setting} printed something that is neither a token nor JSON") from None
        value, lifetime = reply.get("access_token"), reply.get("expires_in", 0)
        if not isinstance(value, str) or not value:
            raise TokenError(f"{self._setting} printed JSON without an access_token")
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)):
            raise TokenError(f"{self._setting} printed an expires_in that is not a number of seconds")
        return Token(value, float(lifetime))


class ConfidentialClient(Protocol):
    """The part of msal.ConfidentialClientApplication used here."""

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]: ...


class MicrosoftTokens:
    """Microsoft 365 by the client-credentials flow (msal): the app's own token for IMAP or SMTP."""

    def __init__(self, settings: OAuth2Settings,
                 application: Callable[..., ConfidentialClient] | None = None) -> None:
        self.settings = settings
        self._application_factory = application or _msal_application
        self._application: ConfidentialClient | None = None

    def fetch(self) -> Token:
        try:
            result = self._client().acquire_token_for_client(scopes=[MICROSOFT_SCOPE])
        except MSAL_ERRORS as exc:
            raise TokenError(f"[{self.settings.section}] cannot get a token from Microsoft 365 for oauth2_tenant "
                             f"{self.settings.tenant!r}: {_first_line(str(exc))}") from None
        if "access_token" not in result:
            reason = f"{result.get('error', 'no error code')}: {_first_line(result.get('error_description'))}"
            raise TokenError(f"[{self.settings.section}] Microsoft 365 refused the token request ({reason}); "
                             f"check oauth2_tenant, oauth2_client_id and {self._credential_setting()}")
        return Token(result["access_token"], float(result.get("expires_in", 0)))

    def _client(self) -> ConfidentialClient:
        if self._application is None:
            s = self.settings
            try:
                self._application = self._application_factory(
                    s.client_id, client_credential=self._credential(),
                    authority=f"https://login.microsoftonline.com/{s.tenant}")
            except MSAL_ERRORS as exc:
                raise TokenError(f"[{s.section}] cannot set up Microsoft 365 sign-in for oauth2_tenant {s.tenant!r} "
                                 f"and oauth2_client_id {s.client_id!r}: {_first_line(str(exc))}") from None
        return self._application

    def _credential(self) -> str | dict[str, str]:
        s = self.settings
        if s.certificate_file is None:
            return s.client_secret
        try:
            private_key = s.certificate_file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenError(f"[{s.section}] oauth2_certificate_file {s.certificate_file} cannot be read: "
                             f"{exc}") from None
        return {"private_key": private_key, "thumbprint": s.certificate_thumbprint}

    def _credential_setting(self) -> str:
        if self.settings.certificate_file is None:
            return f"the client secret in the environment variable {self.settings.client_secret_env}"
        return "oauth2_certificate_file and oauth2_certificate_thumbprint"


def _msal_application(client_id: str, **kwargs: Any) -> ConfidentialClient:
    import msal  # imported only when Microsoft 365 sign-in is configured

    return msal.ConfidentialClientApplication(client_id, **kwargs)


class ServiceAccountCredentials(Protocol):
    """The part of google.oauth2.service_account.Credentials used here."""

    token: str | None
    expiry: dt.datetime | None  # naive UTC, as google-auth keeps it

    def refresh(self, request: Any) -> None: ...


class GoogleTokens:
    """Google Workspace by a service account with domain-wide delegation, acting as `oauth2_subject`."""

    def __init__(self, settings: OAuth2Settings,
                 credentials: Callable[[OAuth2Settings], ServiceAccountCredentials] | None = None) -> None:
        self.settings = settings
        self._credentials_factory = credentials or _service_account_credentials
        self._credentials: ServiceAccountCredentials | None = None

    def fetch(self) -> Token:
        from google.auth.exceptions import GoogleAuthError
        from google.auth.transport.requests import Request

        credentials = self._service_account()
        try:
            credentials.refresh(Request())
        except GoogleAuthError as exc:
            raise TokenError(f"[{self.settings.section}] Google refused the token request ({_google_reason(exc)}); "
                             f"check oauth2_subject ({self.settings.subject}), oauth2_service_account_file and the "
                             f"domain-wide delegation of {GOOGLE_SCOPE} to the service account") from None
        if not credentials.token:
            raise TokenError(f"[{self.settings.section}] Google returned no token for oauth2_subject "
                             f"{self.settings.subject}")
        return Token(credentials.token, _seconds_until(credentials.expiry))

    def _service_account(self) -> ServiceAccountCredentials:
        if self._credentials is None:
            try:
                self._credentials = self._credentials_factory(self.settings)
            except (OSError, ValueError) as exc:
                raise TokenError(f"[{self.settings.section}] oauth2_service_account_file "
                                 f"{self.settings.service_account_file} is not a usable service account key: "
                                 f"{exc}") from None
        return self._credentials


def _service_account_credentials(settings: OAuth2Settings) -> ServiceAccountCredentials:
    from google.oauth2 import service_account  # imported only when Google sign-in is configured

    return service_account.Credentials.from_service_account_file(
        str(settings.service_account_file), scopes=[GOOGLE_SCOPE], subject=settings.subject)


def _google_reason(exc: Exception) -> str:
    """google-auth puts the readable reason first and the raw response after it."""
    return _first_line(str(exc.args[0]) if exc.args else type(exc).__name__)


def _seconds_until(expiry: dt.datetime | None) -> float:
    if expiry is None:
        return 0.0
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return max(0.0, (expiry - now).total_seconds())


def _first_line(text: str | None) -> str:
    """A provider's error description starts with what went wrong (then trace IDs and times)."""
    return _shortened(_lines(text)[:1])


def _last_line(text: str | None) -> str:
    """A failing command's standard error ends with what went wrong (after any traceback)."""
    return _shortened(_lines(text)[-1:])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _shortened(lines: list[str], limit: int = 200) -> str:
    return lines[0][:limit] if lines else "no message"


_PROVIDERS: dict[str, Callable[[OAuth2Settings], TokenProvider]] = {
    "microsoft": MicrosoftTokens,
    "google": GoogleTokens,
    "command": CommandTokens,
}
_caches: dict[OAuth2Settings, TokenCache] = {}
_caches_lock = threading.Lock()


def tokens_for(settings: OAuth2Settings) -> TokenCache:
    """The process's one token cache for a server's settings, so every poll and send reuses its token."""
    with _caches_lock:
        if settings not in _caches:
            _caches[settings] = TokenCache(_PROVIDERS[settings.provider](settings))
        return _caches[settings]


def refusal_hint(settings: OAuth2Settings) -> str:
    """What to check when the mail server refuses a token it was given: the settings, then the grant."""
    section = f"[{settings.section}]"
    if settings.provider == "command":
        return f"check {section} auth and the token oauth2_token_command prints (expired or revoked?)"
    if settings.provider == "microsoft":
        grant = "IMAP.AccessAsApp" if settings.section == "imap" else "SMTP.SendAsApp"
        return (f"check {section} auth, username, oauth2_tenant and oauth2_client_id, the app's {grant} permission "
                f"and its access to the mailbox")
    return (f"check {section} auth, username and oauth2_subject, and the service account's domain-wide delegation "
            f"of {GOOGLE_SCOPE}")
