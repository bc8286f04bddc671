"""OAuth2 sign-in: tokens from a command, Microsoft 365 or Google, cached, and used over real SASL.

IMAP runs against a private Dovecot whose oauth2 passdb asks a loopback introspection endpoint
about each token; SMTP against an aiosmtpd sink that asks the same endpoint. Only the Microsoft and
Google clients are replaced, at their edge, by fakes: the tests cannot reach those providers.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from google.auth.exceptions import RefreshError

from triage.cli import cli
from triage.errors import ConfigError, LoginError, MailboxError, TokenError
from triage.intake import ImapSource
from triage.oauth import (GOOGLE_SCOPE, MICROSOFT_SCOPE, GoogleTokens, MicrosoftTokens, Token, TokenCache,
                          refusal_hint)
from triage.outbox import SmtpTransport, TemporaryFailure
from triage.settings import OAuth2Settings, Settings, load_settings

from .factories import make_email

SENDER = "Nadia Brook <nadia.brook@example.com>"


def _script(tmp_path: Path, name: str, body: str) -> str:
    """A tiny executable shell script in tmp_path, for oauth2_token_command."""
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _token_file_command(tmp_path: Path) -> tuple[str, Path]:
    """A command printing whatever JSON or token the returned file holds, counting its runs."""
    holder = tmp_path / "token.out"
    return _script(tmp_path, "token-from-file.sh", f'echo run >> "{tmp_path}/token.runs"\ncat "{holder}"\n'), holder


def _runs(tmp_path: Path) -> int:
    """How many times the token-file command ran."""
    path = tmp_path / "token.runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def _settings(tmp_path: Path, mailbox, command: str, mechanism: str = "xoauth2", smtp=None,
              routes: Path | None = None) -> Path:
    """Settings for `mailbox` (and `smtp`) signing in with `command`'s token over `mechanism`."""
    text = f"""
[imap]
host = "127.0.0.1"
port = {mailbox.server.port}
ssl = false
username = "{mailbox.user}"
auth = "oauth2"
oauth2_provider = "command"
oauth2_token_command = "{command}"
oauth2_mechanism = "{mechanism}"

[service]
data_dir = "{tmp_path / 'data'}"
"""
    if routes is not None:
        text += f'routes_file = "{routes}"\n'
    if smtp is not None:
        text += f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
username = "{mailbox.user}"
auth = "oauth2"
oauth2_provider = "command"
oauth2_token_command = "{command}"
oauth2_mechanism = "{mechanism}"
"""
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def _load_config(config: Path) -> Settings:
    return load_settings(config, environ={})


def _ok(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _one_error_line(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


# --- the real SASL exchange ------------------------------------------------------------------------


def test_a_command_token_signs_in_over_xoauth2_and_the_service_takes_in_and_acknowledges_the_message(
        tmp_path, oauth_mailbox, oauth_smtp, token_introspection, filled_routes, model_dir):
    command, holder = _token_file_command(tmp_path)
    holder.write_text(json.dumps({"access_token": token_introspection.issue(oauth_mailbox.user), "expires_in": 3600}))
    oauth_mailbox.append(make_email(subject="Mediation certificate please", sender=SENDER))
    config = _settings(tmp_path, oauth_mailbox, command, smtp=oauth_smtp, routes=filled_routes)

    assert "fetched 1, queued 1" in _ok(config, "poll", "--once")
    _ok(config, "outbox", "send")

    assert f"user=<{oauth_mailbox.user}>, method=XOAUTH2" in oauth_mailbox.server.log()
    assert oauth_smtp.logins == [("XOAUTH2", oauth_mailbox.user)]
    assert [rcpts for _, rcpts in oauth_smtp.envelopes] == [["nadia.brook@example.com"]]
    assert [b"$EHCTriaged" in flags for flags in oauth_mailbox.flags().values()] == [True]


def test_oauthbearer_signs_in_to_imap_and_smtp(tmp_path, oauth_mailbox, oauth_smtp, token_introspection):
    command, holder = _token_file_command(tmp_path)
    holder.write_text(token_introspection.issue(oauth_mailbox.user))
    settings = _load_config(_settings(tmp_path, oauth_mailbox, command, "oauthbearer", smtp=oauth_smtp))

    with ImapSource(settings.mailboxes[0]) as source:
        assert source.select() > 0
    with SmtpTransport(settings.smtp):
        pass

    assert f"user=<{oauth_mailbox.user}>, method=OAUTHBEARER" in oauth_mailbox.server.log()
    assert oauth_smtp.logins == [("OAUTHBEARER", oauth_mailbox.user)]


@pytest.mark.parametrize(("output", "runs"), [
    (lambda token: json.dumps({"access_token": token, "expires_in": 3600}), 1),
    (lambda token: token, 2),  # no lifetime given: fetched for every sign-in
], ids=["json-with-expires_in", "bare-token"])
def test_the_token_is_reused_across_sign_ins_only_while_its_lifetime_is_known(
        tmp_path, oauth_mailbox, token_introspection, output, runs):
    command, holder = _token_file_command(tmp_path)
    holder.write_text(output(token_introspection.issue(oauth_mailbox.user)))
    settings = _load_config(_settings(tmp_path, oauth_mailbox, command))

    for _ in range(2):
        with ImapSource(settings.mailboxes[0]) as source:
            source.select()

    assert _runs(tmp_path) == runs


def test_a_refused_token_gives_one_line_naming_the_setting_like_a_wrong_password(tmp_path, oauth_mailbox, model_dir):
    command = _script(tmp_path, "token.sh", "echo not-a-token-anyone-issued\n")
    config = _settings(tmp_path, oauth_mailbox, command)

    line = _one_error_line(config, "poll", "--once")

    assert "IMAP login refused the OAuth2 token" in line
    assert "[imap] auth" in line and "oauth2_token_command" in line
    assert "not-a-token-anyone-issued" not in line


def test_a_revoked_token_is_refused_and_the_next_sign_in_gets_a_new_one(tmp_path, oauth_mailbox, token_introspection):
    command, holder = _token_file_command(tmp_path)
    first = token_introspection.issue(oauth_mailbox.user)
    holder.write_text(json.dumps({"access_token": first, "expires_in": 3600}))
    settings = _load_config(_settings(tmp_path, oauth_mailbox, command))
    with ImapSource(settings.mailboxes[0]):
        pass

    token_introspection.revoke(first)
    holder.write_text(json.dumps({"access_token": token_introspection.issue(oauth_mailbox.user), "expires_in": 3600}))
    with pytest.raises(LoginError, match="IMAP login refused the OAuth2 token") as refused:
        with ImapSource(settings.mailboxes[0]):
            pass
    assert first not in str(refused.value)

    with ImapSource(settings.mailboxes[0]) as source:
        assert source.select() > 0
    assert _runs(tmp_path) == 2


@pytest.mark.parametrize(("body", "expected"), [
    ("echo 'vault is sealed' >&2\nexit 3\n", "[imap] oauth2_token_command failed with exit status 3: vault is sealed"),
    ("exit 0\n", "[imap] oauth2_token_command printed no token"),
    ("echo usage: get-token MAILBOX\n", "[imap] oauth2_token_command printed more than a token"),
    ('echo \'{"token": "secret-looking-value"}\'\n',
     "[imap] oauth2_token_command printed JSON without an access_token"),
], ids=["fails", "prints-nothing", "prints-words", "json-without-token"])
def test_a_token_command_that_fails_or_prints_no_token_gives_one_clear_line(tmp_path, oauth_mailbox, body, expected):
    settings = _load_config(_settings(tmp_path, oauth_mailbox, _script(tmp_path, "token.sh", body)))

    with pytest.raises(TokenError) as failed:
        with ImapSource(settings.mailboxes[0]):
            pass

    message = str(failed.value)
    assert message.startswith(expected) and "\n" not in message
    assert "usage" not in message and "secret-looking-value" not in message  # what the command printed stays out


def test_a_token_command_that_cannot_be_run_is_named(tmp_path, oauth_mailbox):
    settings = _load_config(_settings(tmp_path, oauth_mailbox, str(tmp_path / "no-such-command")))
    with pytest.raises(TokenError, match=r"^\[imap\] oauth2_token_command cannot be run: .*no-such-command"):
        with ImapSource(settings.mailboxes[0]):
            pass


def test_a_server_without_the_mechanism_is_named_before_any_token_is_fetched(tmp_path, mailbox):
    command, _ = _token_file_command(tmp_path)
    settings = _load_config(_settings(tmp_path, mailbox, command))  # the password-only Dovecot

    with pytest.raises(MailboxError, match=r"does not offer XOAUTH2 sign-in; set \[imap\] oauth2_mechanism .*PLAIN"):
        with ImapSource(settings.mailboxes[0]):
            pass
    assert _runs(tmp_path) == 0


def test_smtp_refuses_a_wrong_token_naming_the_setting(tmp_path, oauth_mailbox, oauth_smtp):
    wrong = _script(tmp_path, "smtp-token.sh", "echo expired-smtp-token\n")
    settings = _load_config(_settings(tmp_path, oauth_mailbox, wrong, smtp=oauth_smtp))

    with pytest.raises(TemporaryFailure) as refused:
        with SmtpTransport(settings.smtp):
            pass

    message = str(refused.value)
    assert message.startswith("SMTP login refused the OAuth2 token") and message.endswith("(535)")
    assert "[smtp] auth" in message and "oauth2_token_command" in message and "expired-smtp-token" not in message
    assert oauth_smtp.logins == []


# --- the cache ----------------------------------------------------------------------------------------


class CountingProvider:
    """A provider at the cache's edge: hands out numbered tokens of a fixed lifetime, counting fetches."""

    def __init__(self, lifetime: float, pause: float = 0.0) -> None:
        self.lifetime, self.pause, self.fetches = lifetime, pause, 0
        self._lock = threading.Lock()

    def fetch(self) -> Token:
        time.sleep(self.pause)
        with self._lock:
            self.fetches += 1
            return Token(f"token-{self.fetches}", self.lifetime)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_keeps_a_token_until_five_minutes_before_it_expires():
    clock, provider = Clock(), CountingProvider(lifetime=3600)
    cache = TokenCache(provider, clock=clock)

    assert cache.access_token() == "token-1"
    clock.now += 3600 - 300 - 1
    assert cache.access_token() == "token-1"
    clock.now += 1
    assert cache.access_token() == "token-2"
    assert provider.fetches == 2


def test_the_cache_fetches_again_after_forget_and_for_tokens_without_a_lifetime():
    forgetful = TokenCache(CountingProvider(lifetime=3600), clock=Clock())
    forgetful.access_token()
    forgetful.forget()
    assert forgetful.access_token() == "token-2"

    no_lifetime = TokenCache(CountingProvider(lifetime=0), clock=Clock())
    assert [no_lifetime.access_token() for _ in range(3)] == ["token-1", "token-2", "token-3"]


def test_threads_asking_at_once_share_one_fetch():
    provider = CountingProvider(lifetime=3600, pause=0.05)
    cache = TokenCache(provider)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(cache.access_token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.fetches == 1 and tokens == ["token-1"] * 8


# --- Microsoft 365 and Google, at their client libraries' edge ---------------------------------------


MS_SECRET = "fictional-client-secret-value"


def _microsoft(**overrides) -> OAuth2Settings:
    fields = dict(section="imap", provider="microsoft", tenant="brackenford.example.gov.uk",
                  client_id="00000000-0000-4000-8000-000000000001", client_secret_env="EHC_OAUTH2_SECRET",
                  client_secret=MS_SECRET)
    return OAuth2Settings(**{**fields, **overrides})


class FakeConfidentialClient:
    """Stands in for msal.ConfidentialClientApplication: records how it was built, answers with `reply`."""

    def __init__(self, reply: dict) -> None:
        self.reply, self.built_with, self.scopes = reply, None, None

    def __call__(self, client_id: str, **kwargs) -> "FakeConfidentialClient":
        self.built_with = {"client_id": client_id, **kwargs}
        return self

    def acquire_token_for_client(self, scopes: list[str]) -> dict:
        self.scopes = scopes
        return self.reply


def test_microsoft_client_credentials_give_a_token_for_outlook_with_its_lifetime():
    app = FakeConfidentialClient({"access_token": "ms-token", "expires_in": 3599, "token_type": "Bearer"})

    token = MicrosoftTokens(_microsoft(), application=app).fetch()

    assert (token.value, token.lifetime_seconds) == ("ms-token", 3599)
    assert app.scopes == [MICROSOFT_SCOPE]
    assert app.built_with == {"client_id": "00000000-0000-4000-8000-000000000001", "client_credential": MS_SECRET,
                              "authority": "https://login.microsoftonline.com/brackenford.example.gov.uk"}


def test_microsoft_with_a_certificate_signs_with_its_private_key_and_thumbprint(tmp_path):
    key = tmp_path / "ehc-triage-app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nfictional\n-----END PRIVATE KEY-----\n")
    app = FakeConfidentialClient({"access_token": "ms-token", "expires_in": 3599})
    settings = _microsoft(client_secret_env="", client_secret="", certificate_file=key,
                          certificate_thumbprint="A1B2C3D4E5F60718293A4B5C6D7E8F9012345678")

    MicrosoftTokens(settings, application=app).fetch()

    assert app.built_with["client_credential"] == {"private_key": key.read_text(),
                                                   "thumbprint": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"}


def test_microsoft_refusal_names_the_settings_and_never_the_secret():
    app = FakeConfidentialClient({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0000\r\nTimestamp: 2026",
    })

    with pytest.raises(TokenError) as refused:
        MicrosoftTokens(_microsoft(), application=app).fetch()

    message = str(refused.value)
    assert message.startswith("[imap] Microsoft 365 refused the token request (invalid_client: AADSTS7000215")
    assert "oauth2_tenant" in message and "oauth2_client_id" in message and "EHC_OAUTH2_SECRET" in message
    assert "Trace ID" not in message and MS_SECRET not in message


def test_microsoft_unreachable_or_unknown_tenant_is_named():
    def unreachable(client_id: str, **kwargs):
        raise ValueError("Unable to get authority configuration for https://login.microsoftonline.com/x")

    with pytest.raises(TokenError, match=r"^\[smtp\] cannot set up Microsoft 365 sign-in for oauth2_tenant"):
        MicrosoftTokens(_microsoft(section="smtp"), application=unreachable).fetch()


def _google(tmp_path: Path) -> OAuth2Settings:
    return OAuth2Settings(section="smtp", provider="google", service_account_file=tmp_path / "service-account.json",
                          subject="ehc.assessment@brackenford.example.gov.uk")


class FakeServiceAccount:
    """Stands in for google-auth's service account credentials: refresh() sets a token or raises `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.token, self.expiry = error, None, None

    def refresh(self, request) -> None:
        if self.error is not None:
            raise self.error
        self.token = "google-token"
        self.expiry = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=1)


def test_google_service_account_gives_a_token_with_its_lifetime(tmp_path):
    token = GoogleTokens(_google(tmp_path), credentials=lambda settings: FakeServiceAccount()).fetch()
    assert token.value == "google-token" and 3590 < token.lifetime_seconds <= 3600


def test_google_refusal_names_the_subject_the_key_file_and_the_delegation(tmp_path):
    refusal = RefreshError("unauthorized_client: Client is unauthorized to retrieve access tokens using this method.",
                           {"error": "unauthorized_client"})

    with pytest.raises(TokenError) as refused:
        GoogleTokens(_google(tmp_path), credentials=lambda settings: FakeServiceAccount(refusal)).fetch()

    message = str(refused.value)
    assert message.startswith("[smtp] Google refused the token request (unauthorized_client: Client is unauthorized")
    assert "oauth2_subject" in message and "oauth2_service_account_file" in message
    assert f"domain-wide delegation of {GOOGLE_SCOPE}" in message


def test_google_with_a_key_file_that_is_not_a_service_account_names_the_file(tmp_path):
    settings = _google(tmp_path)
    settings.service_account_file.write_text('{"type": "service_account"}')  # read by the real google-auth

    with pytest.raises(TokenError, match=r"^\[smtp\] oauth2_service_account_file .* is not a usable service account"):
        GoogleTokens(settings).fetch()


@pytest.mark.parametrize(("settings", "named"), [
    (OAuth2Settings(section="imap", provider="microsoft"), ["[imap] auth", "oauth2_tenant", "IMAP.AccessAsApp"]),
    (OAuth2Settings(section="smtp", provider="microsoft"), ["[smtp] auth", "oauth2_client_id", "SMTP.SendAsApp"]),
    (OAuth2Settings(section="imap", provider="google"), ["[imap] auth", "oauth2_subject", GOOGLE_SCOPE]),
    (OAuth2Settings(section="smtp", provider="command"), ["[smtp] auth", "oauth2_token_command"]),
], ids=["microsoft-imap", "microsoft-smtp", "google", "command"])
def test_a_refused_token_points_at_the_settings_and_the_grant_of_its_provider(settings, named):
    hint = refusal_hint(settings)
    assert all(name in hint for name in named), hint


# --- settings -------------------------------------------------------------------------------------------


def _load(tmp_path: Path, imap: str, environ: dict[str, str] | None = None):
    path = tmp_path / "settings.toml"
    path.write_text(f'[imap]\nhost = "outlook.office365.com"\nusername = "ehc.assessment@brackenford.example.gov.uk"\n'
                    f"{imap}\n")
    return load_settings(path, environ=environ or {})


def test_microsoft_settings_take_the_secret_from_the_environment_and_never_show_it(tmp_path):
    s = _load(tmp_path, 'auth = "oauth2"\noauth2_provider = "microsoft"\noauth2_tenant = "brackenford.example.gov.uk"\n'
                        'oauth2_client_id = "app-1"\noauth2_client_secret_env = "EHC_OAUTH2_SECRET"',
              environ={"EHC_OAUTH2_SECRET": MS_SECRET})
    assert s.mailboxes[0].oauth2 == _microsoft(client_id="app-1")
    assert MS_SECRET not in repr(s)


def test_google_and_command_settings(tmp_path):
    (tmp_path / "sa.json").write_text("{}")
    google = _load(tmp_path, 'auth = "oauth2"\noauth2_provider = "google"\noauth2_service_account_file = "sa.json"\n'
                             'oauth2_mechanism = "oauthbearer"')
    assert (google.mailboxes[0].oauth2.service_account_file, google.mailboxes[0].oauth2.subject, google.mailboxes[0].oauth2.mechanism) == (
        tmp_path / "sa.json", "ehc.assessment@brackenford.example.gov.uk", "oauthbearer")
    command = _load(tmp_path, 'auth = "oauth2"\noauth2_provider = "command"\n'
                              "oauth2_token_command = \"/usr/local/bin/get-token --mailbox 'EHC team'\"")
    assert command.mailboxes[0].oauth2.token_command == ("/usr/local/bin/get-token", "--mailbox", "EHC team")


@pytest.mark.parametrize(("imap", "message"), [
    ('auth = "kerberos"', '[imap] auth must be "password" or "oauth2"'),
    ('oauth2_provider = "microsoft"', '[imap] oauth2_provider is set but auth is "password"'),
    ('auth = "oauth2"', "[imap] oauth2_provider must be"),
    ('auth = "oauth2"\npassword_env = "PW"\noauth2_provider = "command"', "[imap] password_env is not used"),
    ('auth = "oauth2"\noauth2_provider = "command"', "[imap] oauth2_token_command is required"),
    ('auth = "oauth2"\noauth2_provider = "command"\noauth2_token_command = "get-token"\noauth2_tenant = "x"',
     '[imap] oauth2_tenant does not apply to oauth2_provider = "command"'),
    ('auth = "oauth2"\noauth2_provider = "command"\noauth2_token_command = "get-token"\noauth2_mechanism = "plain"',
     "[imap] oauth2_mechanism must be"),
    ('auth = "oauth2"\noauth2_provider = "microsoft"\noauth2_client_id = "app-1"', "[imap] oauth2_tenant is required"),
    ('auth = "oauth2"\noauth2_provider = "microsoft"\noauth2_tenant = "t"\noauth2_client_id = "app-1"',
     "[imap] set one of oauth2_client_secret_env or oauth2_certificate_file"),
    ('auth = "oauth2"\noauth2_provider = "microsoft"\noauth2_tenant = "t"\noauth2_client_id = "app-1"\n'
     'oauth2_client_secret_env = "EHC_UNSET"', "[imap] oauth2_client_secret_env names EHC_UNSET, which is not set"),
    ('auth = "oauth2"\noauth2_provider = "microsoft"\noauth2_tenant = "t"\noauth2_client_id = "app-1"\n'
     'oauth2_certificate_file = "missing.pem"\noauth2_certificate_thumbprint = "AB"',
     "[imap] oauth2_certificate_file: no file at"),
    ('auth = "oauth2"\noauth2_provider = "google"', "[imap] oauth2_service_account_file is required"),
])
def test_bad_oauth2_settings_name_the_key_to_fix(tmp_path, imap, message):
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, imap)
    assert message in str(refused.value)


def test_oauth2_needs_the_mailbox_username(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[smtp]\nhost = "smtp.office365.com"\nauth = "oauth2"\noauth2_provider = "command"\n'
                    'oauth2_token_command = "get-token"\n')
    with pytest.raises(ConfigError, match=r'^\[smtp\] username is required with auth = "oauth2"'):
        load_settings(path, environ={})
